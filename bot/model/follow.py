"""What one person follows: an author's name or a word, matched in any new paper."""

from __future__ import annotations

from dataclasses import dataclass

from bot.model.paper import Paper
from bot.model.subscription import mentions

KINDS = ("author", "keyword")
MAX_VALUE_CHARS = 100


class FollowError(ValueError):
    pass


@dataclass(frozen=True)
class Follow:
    kind: str  # "author" | "keyword"
    value: str

    def matches(self, paper: Paper) -> bool:
        """Whole words, case-insensitively, as subscription filters match."""
        if self.kind == "author":
            return any(mentions(self.value, name) for name in paper.authors)
        return mentions(self.value, f"{paper.title}\n{paper.abstract}")

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def parse_follow(text: str) -> Follow:
    """``author:NAME`` or ``keyword:WORD`` (a phrase too); raises ``FollowError``."""
    kind, colon, value = text.strip().partition(":")
    kind, value = kind.strip().lower(), " ".join(value.split())
    if not colon or kind not in KINDS:
        raise FollowError("Follow `author:NAME` or `keyword:WORD`.")
    if not value:
        raise FollowError(f"`{kind}:` needs a {'name' if kind == 'author' else 'word'} after it.")
    if len(value) > MAX_VALUE_CHARS:
        raise FollowError(f"A {kind} to follow is at most {MAX_VALUE_CHARS} characters.")
    return Follow(kind, value)
