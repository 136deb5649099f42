"""Paper ids: every way people write a paper reference maps to one key.

Two kinds of key, which never collide:

- arXiv papers keep their version-less arXiv id: ``2401.12345`` (new style, 4 or 5 digits
  after the dot) or ``hep-th/9901001`` / ``math/0309136`` (old style; the subject class such
  as ``.GT`` in ``math.GT/0309136`` is not part of the identifier, so it is dropped).
- Every other paper is keyed by its DOI, lower-cased (DOIs are case-insensitive):
  ``10.1101/2024.01.01.123456``. A DOI starts with ``10.``, which no arXiv id does.
"""

from __future__ import annotations

import re

_NEW = r"(?P<new>\d{4}\.\d{4,5})"
_OLD = r"(?P<archive>[a-z][a-z-]*)(?:\.[A-Za-z]{2})?/(?P<number>\d{7})"
_VERSION = r"(?:v\d+)?"
_ID = rf"(?:{_NEW}|{_OLD}){_VERSION}"

# Hosts and paths that carry an id: arxiv.org/abs|pdf|html/..., export.arxiv.org,
# huggingface.co/papers/..., alphaxiv.org/abs|pdf|overview/... (a reading site over arXiv),
# and bare ids with or without an "arXiv:" prefix.
_URL_PREFIX = (
    r"(?:https?://)?(?:www\.|export\.)?"
    r"(?:arxiv\.org/(?:abs|pdf|html|format)/|huggingface\.co/papers/|hf\.co/papers/"
    r"|alphaxiv\.org/(?:abs|pdf|overview)/)"
)
_PATTERN = re.compile(
    rf"^\s*<?(?:{_URL_PREFIX}|arxiv:\s*)?{_ID}(?:\.pdf)?/?(?:[?#].*)?>?\s*$",
    re.IGNORECASE,
)


def canonical_id(text: str) -> str | None:
    """The version-less arXiv id named by ``text``, or None if it names none."""
    if not text or len(text) > 300:
        return None
    # Chat platforms may send links as <url> or <url|label>.
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    match = _PATTERN.match(text)
    if not match:
        return None
    if match.group("new"):
        return match.group("new")
    return f"{match.group('archive').lower()}/{match.group('number')}"


def is_canonical(text: str) -> bool:
    return canonical_id(text) == text


# A DOI: "10.", a registrant code, "/", then any printable characters (the suffix is free-form).
_DOI_PATTERN = re.compile(
    r"^\s*<?(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)?"
    r"(?P<doi>10\.\d{4,9}/[^\s<>|]+?)/?(?:[?#][^\s]*)?>?\s*$",
    re.IGNORECASE,
)
MAX_DOI_CHARS = 200


def canonical_doi(text: str) -> str | None:
    """The DOI ``text`` names (bare, ``doi:…`` or a doi.org link), lower-cased, or None."""
    if not text or len(text) > 300:
        return None
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].split("|", 1)[0]
    match = _DOI_PATTERN.match(text)
    if not match or len(match.group("doi")) > MAX_DOI_CHARS:
        return None
    return match.group("doi").lower()


def is_doi(paper_id: str) -> bool:
    """Whether a paper key is a DOI (else it is an arXiv id)."""
    return paper_id.startswith("10.")


def id_label(paper_id: str) -> str:
    """The key as people cite it: ``arXiv 2401.12345``, ``DOI 10.1101/…``. Its last word is
    always the key itself, so a card's footer says which paper it shows."""
    if is_doi(paper_id):
        return f"DOI {paper_id}"
    return f"arXiv {paper_id}" if is_canonical(paper_id) else paper_id
