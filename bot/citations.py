"""Citations of papers: BibTeX in arXiv's own conventions, and APA as text.

Pure functions over ``Paper``. A paper cites with whatever fields it has: a missing author
list, date or category leaves that field out, never a placeholder a reference manager would
take for data.

arXiv papers are ``@misc`` entries with ``eprint`` / ``archivePrefix`` / ``primaryClass``, as
arXiv's own "Export BibTeX citation" writes them. A paper whose id is a DOI (``10.…``, the
bioRxiv / medRxiv preprints) is an ``@article`` with ``doi=``; ``_journal`` names the server.

Keys are ``<first author's last name><year><first significant title word>``, ASCII only, so
the same paper gets the same key in every answer; papers that would share a key in one file
get ``a``, ``b``, … suffixes in id order (``unique_keys``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence

from bot.model.ids import is_doi
from bot.model.paper import Paper
from bot.text_safety import clean

# LaTeX's special characters, and what stands for each one in a BibTeX field. A backslash
# must become a command, not "\\" (a line break); braces stay balanced by being escaped.
# The backtick is escaped too: it is LaTeX's opening quote, and in chat a run of three would
# end the code block the citation is shown in.
_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "`": r"\textasciigrave{}",
}
_LATEX_SPECIAL = re.compile("[" + re.escape("".join(_LATEX)) + "]")
_NEW_STYLE_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_OLD_STYLE_ID = re.compile(r"^[a-z-]+/(\d{2})\d{5}$")

# Words a key skips to reach the first one that says what the paper is about.
_STOP_WORDS = frozenset(
    (  # noqa: SIM905 (a list of 47 quoted words would fill a screen)
        "a an the on of in for to and or with without via from by at as into onto over under "
        "is are be do does can how what why when which who towards toward we our your its "
        "not no all any beyond through using about"
    ).split()
)

STYLES = ("bibtex", "apa")
APA_MAX_AUTHORS = 20  # APA 7: up to 20 names; past that, 19, an ellipsis, and the last


# -- keys -----------------------------------------------------------------------------------


def citation_key(paper: Paper) -> str:
    """``lastname2026word``: stable for a paper, ASCII letters and digits only."""
    last = _ascii_word(_last_name(paper.authors[0])) if paper.authors else ""
    word = next(
        (w for w in map(_ascii_word, _text(paper.title).split()) if w and w not in _STOP_WORDS),
        "",
    )
    key = f"{last or 'anon'}{year_of(paper)}{word}"
    return key[:60]


def unique_keys(papers: Sequence[Paper]) -> list[str]:
    """One key per paper, in order; papers that share a key get a, b, … in id order."""
    keys = [citation_key(p) for p in papers]
    groups: dict[str, list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        groups[key].append(index)
    taken = set(keys)
    for key, indexes in groups.items():
        if len(indexes) < 2:
            continue
        suffixes = _suffixes()
        for index in sorted(indexes, key=lambda i: papers[i].id):
            candidate = key + next(suffixes)
            while candidate in taken:  # e.g. another paper's word already ends that way
                candidate = key + next(suffixes)
            taken.add(candidate)
            keys[index] = candidate
    return keys


def _suffixes() -> Iterable[str]:
    """a, b, …, z, aa, ab, …"""
    n = 0
    while True:
        n += 1
        out, m = "", n
        while m:
            m, r = divmod(m - 1, 26)
            out = chr(ord("a") + r) + out
        yield out


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", folded.lower())


# -- fields ---------------------------------------------------------------------------------


def year_of(paper: Paper) -> str:
    """The year published, or the year an arXiv id encodes (2401.12345 → 2024)."""
    if paper.published[:4].isdigit():
        return paper.published[:4]
    match = _NEW_STYLE_ID.match(paper.id)
    if match:
        return f"20{match.group(1)}"
    match = _OLD_STYLE_ID.match(paper.id)
    if match:
        yy = int(match.group(1))
        return f"{1900 + yy if yy >= 91 else 2000 + yy}"  # arXiv began in 1991
    return ""


def _text(value: str) -> str:
    """One line, without the characters that hide or reorder text (``bot.text_safety``)."""
    return clean(value)


def _last_name(name: str) -> str:
    name = _text(name)
    if "," in name:
        return name.split(",", 1)[0].strip()
    return name.rsplit(" ", 1)[-1] if name else ""


def _given_names(name: str) -> str:
    name = _text(name)
    if "," in name:
        return name.split(",", 1)[1].strip()
    return name.rsplit(" ", 1)[0] if " " in name else ""


def _primary_class(paper: Paper) -> str:
    return paper.categories[0] if paper.categories else ""


def _journal(paper: Paper) -> str:
    for source, name in (("biorxiv", "bioRxiv"), ("medrxiv", "medRxiv")):
        if source in paper.sources:
            return name
    return ""


def _url(paper: Paper) -> str:
    return f"https://doi.org/{paper.id}" if is_doi(paper.id) else paper.abstract_url


# -- BibTeX ---------------------------------------------------------------------------------


def escape_bibtex(text: str) -> str:
    """``text`` as literal characters inside a braced BibTeX field."""
    return _LATEX_SPECIAL.sub(lambda m: _LATEX[m.group()], _text(text))


def _bibtex_name(name: str) -> str:
    last, given = _last_name(name), _given_names(name)
    written = f"{escape_bibtex(last)}, {escape_bibtex(given)}" if given else escape_bibtex(last)
    # "and" separates names in BibTeX: a name containing it (a collaboration) is one unit.
    if re.search(r"\band\b", written, re.IGNORECASE):
        return "{" + escape_bibtex(_text(name)) + "}"
    return written


def bibtex(paper: Paper, key: str | None = None) -> str:
    """One entry, in arXiv's layout (``@misc`` with eprint), or ``@article`` for a DOI."""
    doi = is_doi(paper.id)
    fields: list[tuple[str, str]] = [("title", escape_bibtex(paper.title))]
    authors = [_bibtex_name(a) for a in paper.authors if _text(a)]
    if authors:
        fields.append(("author", " and ".join(authors)))
    fields.append(("year", year_of(paper)))
    if doi:
        fields += [("journal", _journal(paper)), ("doi", escape_bibtex(paper.id))]
    else:
        fields += [
            ("eprint", paper.id),
            ("archivePrefix", "arXiv"),
            ("primaryClass", escape_bibtex(_primary_class(paper))),
        ]
    fields.append(("url", escape_bibtex(_url(paper))))
    body = ",\n".join(f"      {name}={{{value}}}" for name, value in fields if value)
    kind = "article" if doi else "misc"
    return f"@{kind}{{{key or citation_key(paper)},\n{body},\n}}"


def bibtex_file(papers: Sequence[Paper]) -> str:
    """A whole ``.bib`` file: one entry per paper, keys unique within it."""
    entries = [bibtex(p, k) for p, k in zip(papers, unique_keys(papers), strict=True)]
    return "\n\n".join(entries) + "\n"


# -- APA ------------------------------------------------------------------------------------


def _apa_name(name: str) -> str:
    if re.search(r"\band\b", name, re.IGNORECASE):  # a group, not a person: as written
        return _text(name)
    last, given = _last_name(name), _given_names(name)
    initials = " ".join(_initials(part) for part in given.split())
    return f"{last}, {initials}" if initials else last


def _initials(given: str) -> str:
    # "Jean-Pierre" → "J.-P."; an initial already written ("A.") stays as it is.
    return "-".join(f"{piece[0]}." for piece in given.split("-") if piece)


def _apa_authors(authors: Sequence[str]) -> str:
    names = [_apa_name(a) for a in authors if _text(a)]
    if len(names) > APA_MAX_AUTHORS:
        return ", ".join(names[: APA_MAX_AUTHORS - 1]) + ", … " + names[-1]
    if len(names) > 1:
        return ", ".join(names[:-1]) + ", & " + names[-1]
    return names[0] if names else ""


def apa(paper: Paper) -> str:
    """APA 7 for a preprint: Authors. (Year). Title (arXiv:id). arXiv. URL"""
    year = f"({year_of(paper) or 'n.d.'})"
    title = _text(paper.title).rstrip(".")
    if is_doi(paper.id):
        work, server = title, _journal(paper)
    else:
        work, server = f"{title} (arXiv:{paper.id})", "arXiv"
    authors = _apa_authors(paper.authors)
    # Without authors APA moves the title to the front.
    lead = (
        [f"{authors.rstrip('.')}.", f"{year}.", f"{work}."]
        if authors
        else [
            f"{work}.",
            f"{year}.",
        ]
    )
    parts = [*lead, *([f"{server}."] if server else []), _url(paper)]
    return " ".join(parts)
