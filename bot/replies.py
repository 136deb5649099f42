"""Platform-neutral replies: data only, no markup. Each adapter renders them its own way."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.papers import Paper


@dataclass(frozen=True)
class ScoredPaper:
    paper: Paper
    votes: int = 0  # this workspace's net team votes


@dataclass(frozen=True)
class Text:
    text: str
    public: bool = False


@dataclass(frozen=True)
class Error:
    """Something the user asked for could not be done; ``hint`` says what to try instead."""

    message: str
    hint: str = ""
    public: bool = False


@dataclass(frozen=True)
class PaperCard:
    """One paper as a rich card: auto-posts and ``show``."""

    paper: Paper
    votes: int = 0
    public: bool = False


@dataclass(frozen=True)
class PaperList:
    """Search results and ``today``: a titled, ranked list."""

    title: str
    papers: tuple[ScoredPaper, ...]
    note: str = ""  # e.g. "Hugging Face search was unreachable; local results only"
    public: bool = False


@dataclass(frozen=True)
class LeaderboardEntry:
    paper: Paper
    score: int
    ups: int
    downs: int


@dataclass(frozen=True)
class Leaderboard:
    period: str  # "day", "week", "month", "all"
    entries: tuple[LeaderboardEntry, ...]
    public: bool = False


@dataclass(frozen=True)
class SubscriptionInfo:
    id: int
    source: str  # "hf" or "arxiv"
    category: str = ""
    min_upvotes: int = 0
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = ["Hugging Face Daily Papers" if self.source == "hf" else f"arXiv {self.category}"]
        if self.min_upvotes:
            parts.append(f"min_upvotes={self.min_upvotes}")
        if self.keywords:
            parts.append("keywords=" + ",".join(self.keywords))
        if self.authors:
            parts.append("authors=" + ",".join(self.authors))
        return " ".join(parts)


@dataclass(frozen=True)
class SubscriptionList:
    subscriptions: tuple[SubscriptionInfo, ...]
    public: bool = False


@dataclass(frozen=True)
class Citation:
    """One paper's citation, ready to copy: ``style`` is "bibtex" or "apa"."""

    paper_id: str
    style: str
    text: str
    public: bool = False


@dataclass(frozen=True)
class FileReply:
    """A file for the requester alone (a ``.bib``), with a short message to go with it.

    Slack sends it to the requester's direct message with paperboy, Discord attaches it to
    the private answer, the console writes it to disk. Never posted in a channel.
    """

    name: str  # e.g. "paperboy-top-month-2026-12-01.bib"
    data: bytes
    message: str
    public: bool = False


@dataclass(frozen=True)
class Help:
    commands: tuple[tuple[str, str], ...] = field(default=())  # (usage, what it does)
    public: bool = False


Reply = (
    Text
    | Error
    | PaperCard
    | PaperList
    | Leaderboard
    | SubscriptionList
    | Citation
    | FileReply
    | Help
)
