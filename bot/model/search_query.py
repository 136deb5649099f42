"""Turn what a user types after ``/papers search`` into a SearchQuery.

User text is never handed to a query language: it is read here into words, phrases and
filters, and the index builds its query from those. Supported forms:

- ``memory agents``: every word is required (in the title, abstract or authors);
- ``"exact phrase"``: the words next to each other;
- ``a OR b`` (capitals): either; ``OR`` joins words and phrases, and binds tighter than the
  implicit AND (``memory agents OR robots`` is memory AND (agents OR robots));
- ``-word``, ``-"a phrase"``, ``NOT word`` (capitals): papers with it are left out;
- ``author:NAME`` (``author:"Jonathan Ho"``): each filter must match one author's name on its
  own, so ``author:zhao author:chen`` finds papers listing both; ``-author:NAME`` leaves out;
- ``cat:cs.CL``, ``since:YYYY-MM-DD``: at most one each.

What cannot be honoured (``OR`` with nothing beside it, ``-cat:``, only exclusions) is
refused with a hint, never silently searched some other way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from bot.model.arxiv_taxonomy import UnknownCategory, arxiv_category

_T = TypeVar("_T")

MAX_QUERY_CHARS = 500
MAX_TERMS = 16

# One piece of the query, at the start of the text or after whitespace: a filter, a quoted
# phrase, or a run of other characters. A leading "-" excludes it.
_PIECE = re.compile(
    r"""(?<!\S)(?P<minus>-)?(?:
        (?P<key>author|cat|since):(?:"(?P<quoted>[^"]*)"|(?P<value>\S*))
      | "(?P<phrase>[^"]*)"
      | (?P<chunk>\S+)
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
_DROPPED = ("AND", "NEAR")  # AND is what words mean anyway; NEAR means nothing here
_OPERATORS = ("AND", "OR", "NOT", "NEAR")

OR_HINT = "For example `diffusion OR flow`, `memory -privacy`, `memory NOT privacy`."


class QueryError(ValueError):
    """The query cannot be run; the message says why in words a user understands."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


Words = tuple[str, ...]  # one word, or the words of a phrase


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[str, ...] = ()  # single words, each required
    phrases: tuple[Words, ...] = ()  # each a run of words that must be adjacent
    any_of: tuple[tuple[Words, ...], ...] = ()  # each group: one of its words/phrases required
    authors: tuple[Words, ...] = ()  # each author filter: its words, within one author's name
    excluded: tuple[Words, ...] = ()  # words/phrases a paper must not have
    excluded_authors: tuple[Words, ...] = ()
    category: str = ""
    since: str = ""  # YYYY-MM-DD
    text: str = field(default="", compare=False)  # the wanted words, for asking HF search

    @property
    def has_text(self) -> bool:
        """Whether anything scores the hits (else they come newest first)."""
        return bool(self.terms or self.phrases or self.any_of or self.authors)

    @property
    def is_empty(self) -> bool:
        return not (self.has_text or self.category or self.since)

    def fts_match(self) -> str:
        """The same query as an SQLite FTS5 MATCH expression (the benchmarks' reference);
        needs ``has_text``."""
        parts = [_quote(t) for t in self.terms]
        parts += [_quote(" ".join(p)) for p in self.phrases]
        parts += ["(" + " OR ".join(_quote(" ".join(w)) for w in g) + ")" for g in self.any_of]
        parts += ["authors : " + _quote(" ".join(a)) for a in self.authors]
        match = " AND ".join(parts)
        nots = [_quote(" ".join(w)) for w in self.excluded]
        nots += ["authors : " + _quote(" ".join(a)) for a in self.excluded_authors]
        return f"({match})" + "".join(f" NOT {n}" for n in nots) if nots else match


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.strip("_")]


@dataclass
class _Unit:
    """A word, phrase or author filter as typed, before grouping."""

    kind: str  # "text" | "author"
    words: Words
    negated: bool
    chunk: bool = False  # typed without quotes: several words are separate terms


@dataclass
class _Parts:
    units: list[list[_Unit]] = field(default_factory=list)  # OR groups, in order
    category: str = ""
    since: str = ""


def parse_search(text: str) -> SearchQuery:
    """Parse ``text``; raise QueryError with a friendly message when it cannot be searched."""
    parts = _read(text[:MAX_QUERY_CHARS])
    terms: list[str] = []
    phrases: list[Words] = []
    any_of: list[tuple[Words, ...]] = []
    authors: list[Words] = []
    excluded: list[Words] = []
    excluded_authors: list[Words] = []
    for group in parts.units:
        if len(group) > 1:
            any_of.append(tuple(u.words for u in group))
            continue
        (unit,) = group
        if unit.kind == "author":
            (excluded_authors if unit.negated else authors).append(unit.words)
        elif unit.negated:
            excluded.append(unit.words)
        elif unit.chunk or len(unit.words) == 1:
            terms += unit.words
        else:
            phrases.append(unit.words)

    terms = _unique(terms)
    wanted = {t.lower() for t in terms}
    for words in excluded:
        if len(words) == 1 and words[0].lower() in wanted:
            raise QueryError(
                f"`{words[0][:40]}` is both wanted and left out; keep one of them.", OR_HINT
            )
    query = SearchQuery(
        terms=tuple(terms[:MAX_TERMS]),
        phrases=tuple(_unique(phrases)[:MAX_TERMS]),
        any_of=tuple(_unique(any_of)[:MAX_TERMS]),
        authors=tuple(_unique(authors)[:MAX_TERMS]),
        excluded=tuple(_unique(excluded)[:MAX_TERMS]),
        excluded_authors=tuple(_unique(excluded_authors)[:MAX_TERMS]),
        category=parts.category,
        since=parts.since,
        text=" ".join(
            [*terms, *(" ".join(p) for p in phrases), *(" ".join(w) for g in any_of for w in g)]
        ),
    )
    if query.is_empty and (query.excluded or query.excluded_authors):
        raise QueryError(
            "Say what to look for as well as what to leave out.",
            "For example `memory -privacy`, or `cat:cs.CL -privacy` for the newest of a category.",
        )
    return query


def _read(text: str) -> _Parts:
    """The pieces of ``text`` in order, with ``NOT``/``-`` and ``OR`` applied."""
    parts = _Parts()
    negate_next = False  # after NOT
    join_next = False  # after OR
    for match in _PIECE.finditer(text):
        chunk = match.group("chunk")
        if chunk in ("OR", "NOT") and not match.group("minus"):
            if chunk == "OR":
                if not parts.units or join_next or negate_next:
                    raise QueryError("`OR` needs a word or phrase on each side.", OR_HINT)
                join_next = True
            else:
                if negate_next or join_next:
                    raise QueryError("`NOT` needs a word after it.", OR_HINT)
                negate_next = True
            continue
        if chunk in _DROPPED:
            continue
        unit = _unit(match, parts)
        if unit is None:  # a filter (applied) or nothing searchable
            if join_next and match.group("key"):
                raise QueryError("`OR` joins words or phrases, not filters.", OR_HINT)
            if negate_next and match.group("key"):
                _refuse_negated_filter(match.group("key").lower())
            continue
        unit.negated = unit.negated or negate_next
        negate_next = False
        if join_next:
            previous = parts.units[-1]
            if any(u.negated or u.kind != "text" for u in [*previous, unit]):
                raise QueryError(
                    "`OR` joins words or phrases; it can't join `-`, `NOT` or filters.", OR_HINT
                )
            previous.append(unit)
            join_next = False
        else:
            parts.units.append([unit])
    if negate_next:
        raise QueryError("`NOT` needs a word after it.", OR_HINT)
    if join_next:
        raise QueryError("`OR` needs a word or phrase on each side.", OR_HINT)
    return parts


def _unit(match: re.Match, parts: _Parts) -> _Unit | None:
    negated = bool(match.group("minus"))
    key = match.group("key")
    if key is None:
        phrase = match.group("phrase")
        if phrase is not None:
            words = _words(phrase)
        else:  # operators inside a run ("a-OR-b") mean nothing; quoted, they are words
            words = [w for w in _words(match.group("chunk")) if w not in _OPERATORS]
        if not words:
            return None
        # An unquoted run like "state-of-the-art" keeps its words separate terms, as it
        # always has; left out, though, it is the run that goes, not every paper with "of".
        return _Unit("text", tuple(words), negated, chunk=phrase is None and not negated)
    key = key.lower()
    value = (match.group("quoted") or match.group("value") or "").strip()
    if key == "author":
        words = _words(value)
        return _Unit("author", tuple(words), negated) if words else None
    if negated:
        _refuse_negated_filter(key)
    if key == "cat":
        if parts.category:
            raise QueryError("`cat:` is given twice; give it once")
        try:
            # Papers carry single categories, so a whole archive (`cs`) matches nothing.
            parts.category = arxiv_category(value, archives=False)
        except UnknownCategory as exc:
            example = "" if exc.suggestions else " Categories look like `cat:cs.CL`."
            raise QueryError(f"{exc}{example}") from None
    else:
        if parts.since:
            raise QueryError("`since:` is given twice; give it once")
        try:
            parts.since = date.fromisoformat(value).isoformat()
        except ValueError:
            raise QueryError(
                f"`since:{value[:20]}` is not a date (use `since:YYYY-MM-DD`)"
            ) from None
    return None


def _refuse_negated_filter(key: str) -> None:
    raise QueryError(
        f"`{key}:` can't be left out, only asked for.",
        "Give the one you want, e.g. `cat:cs.CL` or `since:2024-01-01`; "
        "`-author:NAME` does leave an author out.",
    )


def _unique(items: list[_T]) -> list[_T]:
    seen: set = set()
    out = []
    for item in items:
        key = item.lower() if isinstance(item, str) else repr(item).lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
