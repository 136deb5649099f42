"""Canonical arXiv ids: every way people write a paper reference maps to one key.

The key is the version-less id: ``2401.12345`` (new style, 4 or 5 digits after the dot)
or ``hep-th/9901001`` / ``math/0309136`` (old style; the subject class such as ``.GT``
in ``math.GT/0309136`` is not part of the identifier, so it is dropped).
"""

from __future__ import annotations

import re

_NEW = r"(?P<new>\d{4}\.\d{4,5})"
_OLD = r"(?P<archive>[a-z][a-z-]*)(?:\.[A-Za-z]{2})?/(?P<number>\d{7})"
_VERSION = r"(?:v\d+)?"
_ID = rf"(?:{_NEW}|{_OLD}){_VERSION}"

# Hosts and paths that carry an id: arxiv.org/abs|pdf|html/..., export.arxiv.org,
# huggingface.co/papers/..., and bare ids with or without an "arXiv:" prefix.
_URL_PREFIX = (
    r"(?:https?://)?(?:www\.|export\.)?"
    r"(?:arxiv\.org/(?:abs|pdf|html|format)/|huggingface\.co/papers/|hf\.co/papers/)"
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
