"""Turn what a user types after ``/papers search`` into a safe SQLite FTS5 query.

User text never reaches FTS5 as syntax: every word becomes a quoted string token, so quotes,
``AND``, ``-``, ``:``, ``*``, ``NEAR(`` and emoji are searched for (or dropped), never parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bot.model.arxiv_taxonomy import UnknownCategory, arxiv_category

MAX_QUERY_CHARS = 500
MAX_TERMS = 16

_FILTER = re.compile(r'(?i)\b(author|cat|since):(?:"([^"]*)"|(\S*))')
_PHRASE = re.compile(r'"([^"]*)"')
_WORD = re.compile(r"\w+", re.UNICODE)


class QueryError(ValueError):
    """The query cannot be run; the message says why in words a user understands."""


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[str, ...] = ()  # single words
    phrases: tuple[tuple[str, ...], ...] = ()  # each a run of words that must be adjacent
    authors: tuple[str, ...] = ()  # words of the author filter
    category: str = ""
    since: str = ""  # YYYY-MM-DD
    text: str = field(default="", compare=False)  # free text, for asking HF search

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.phrases or self.authors)

    @property
    def is_empty(self) -> bool:
        return not (self.has_text or self.category or self.since)

    def fts_match(self) -> str:
        """The FTS5 MATCH expression: every word quoted, all of them required."""
        parts = [_quote(t) for t in self.terms]
        parts += [_quote(" ".join(p)) for p in self.phrases]
        if self.authors:
            parts.append("authors : " + _quote(" ".join(self.authors)))
        return " AND ".join(parts)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.strip("_")]


def parse_search(text: str) -> SearchQuery:
    """Parse ``text``; raise QueryError with a friendly message when it cannot be searched."""
    text = text[:MAX_QUERY_CHARS]
    authors: list[str] = []
    category = ""
    since = ""
    given: set[str] = set()
    for match in _FILTER.finditer(text):
        key, value = match.group(1).lower(), (match.group(2) or match.group(3) or "").strip()
        if key in given and key != "author":  # one category, one date: a second can't apply
            raise QueryError(f"`{key}:` is given twice; give it once")
        given.add(key)
        if key == "author":
            authors += _words(value)
        elif key == "cat":
            try:
                # Papers carry single categories, so a whole archive (`cs`) matches nothing.
                category = arxiv_category(value, archives=False)
            except UnknownCategory as exc:
                example = "" if exc.suggestions else " Categories look like `cat:cs.CL`."
                raise QueryError(f"{exc}{example}") from None
        else:
            try:
                since = date.fromisoformat(value).isoformat()
            except ValueError:
                raise QueryError(
                    f"`since:{value[:20]}` is not a date (use `since:YYYY-MM-DD`)"
                ) from None
    rest = _FILTER.sub(" ", text)

    phrases = []
    for match in _PHRASE.finditer(rest):
        words = _words(match.group(1))
        if len(words) > 1:
            phrases.append(tuple(words))
        elif words:
            rest += " " + words[0]
    rest = _PHRASE.sub(" ", rest)
    # Bare operators mean nothing here: every word is required anyway.
    terms = [w for w in _words(rest) if w not in ("AND", "OR", "NOT", "NEAR")]
    seen: set[str] = set()
    unique_terms = tuple(t for t in terms if not (t.lower() in seen or seen.add(t.lower())))
    free_text = " ".join([*unique_terms, *(" ".join(p) for p in phrases)])
    return SearchQuery(
        terms=unique_terms[:MAX_TERMS],
        phrases=tuple(phrases[:MAX_TERMS]),
        authors=tuple(authors[:MAX_TERMS]),
        category=category,
        since=since,
        text=free_text,
    )
