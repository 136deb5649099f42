"""Platform-neutral replies: data only, no markup. Each adapter renders them its own way."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.model.paper import Paper
from bot.model.subscription import Subscription


@dataclass(frozen=True)
class ScoredPaper:
    paper: Paper
    votes: int = 0  # this workspace's net team votes
    why: str = ""  # why it is listed, e.g. "like <a title the channel voted up>"


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
    """One paper as a rich card: posts in a channel (public) and ``show`` (private).

    A public card is a live one: it shows the team's count (``votes`` net, ``ups``,
    ``downs``) and is edited when that or the paper's HF upvotes change. A private card
    offers a Share button instead.
    """

    paper: Paper
    votes: int = 0
    public: bool = False
    ups: int = 0
    downs: int = 0
    shared_by: str = ""  # a display name, shown as text ("shared by Ada"), never a mention
    votable: bool = False  # carries 👍 / 👎 buttons (the card of a paper someone linked)

    @property
    def shareable(self) -> bool:
        return not self.public

    def count_text(self) -> str:
        """The live count as every platform words it: "+2 (3 up, 1 down)"."""
        return f"{self.votes:+,} ({self.ups:,} up, {self.downs:,} down)"


@dataclass(frozen=True)
class LinkedCard:
    """The card of one paper someone linked, and the link as they wrote it (a Slack unfurl
    is keyed by the URL it replaces)."""

    url: str
    card: PaperCard


@dataclass(frozen=True)
class LinkedPapers:
    """Cards for the papers a message links, shown in its channel, each with vote buttons.

    ``left_out`` counts paper links past the limit; ``not_found`` names ids no source knows,
    ``unreachable`` ids that could not be looked up right now.
    """

    cards: tuple[LinkedCard, ...]
    left_out: int = 0
    not_found: tuple[str, ...] = ()
    unreachable: tuple[str, ...] = ()
    public: bool = True

    def note(self) -> str:
        """What the cards leave out, in words ("" when nothing)."""
        parts = []
        if self.left_out:
            more = "link" if self.left_out == 1 else "links"
            parts.append(f"{self.left_out} more paper {more} in that message not shown")
        if self.not_found:
            parts.append(f"not found: {', '.join(self.not_found)}")
        if self.unreachable:
            parts.append(f"couldn't be looked up right now: {', '.join(self.unreachable)}")
        return "; ".join(parts)


@dataclass(frozen=True)
class PaperList:
    """Search results and ``today``: a titled, ranked list."""

    title: str
    papers: tuple[ScoredPaper, ...]
    note: str = ""  # e.g. "Hugging Face search was unreachable; local results only"
    public: bool = False

    @property
    def shareable(self) -> bool:
        """A private answer offers to share each paper with the channel."""
        return not self.public


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

    @property
    def shareable(self) -> bool:
        return not self.public


@dataclass(frozen=True)
class DigestEntry:
    paper: Paper
    votes: int = 0  # net team votes (the workspace's; the channel's in a team top)
    ups: int = 0
    downs: int = 0


@dataclass(frozen=True)
class Digest:
    """One message per period: a subscription's best papers, or the channel's team top.

    ``title`` names what it digests ("Hugging Face Daily Papers", "Team top"), ``period``
    which period in words ("Wednesday 13 May 2026", "week 20 of 2026"). Team-top entries show
    the channel's count; paper entries HF upvotes first, then the team's net votes.

    ``votable``: each entry carries 👍 / 👎 buttons, votes in the same ledger as reactions
    (as many entries as the platform has room for: Slack 24, Discord 12).
    """

    title: str
    period: str
    entries: tuple[DigestEntry, ...]
    team_top: bool = False
    public: bool = True
    votable: bool = True

    def count_text(self, entry: DigestEntry) -> str:
        """A team-top entry's count as every platform words it: "+2 (3 up, 1 down)"."""
        return f"{entry.votes:+,} ({entry.ups:,} up, {entry.downs:,} down)"


@dataclass(frozen=True)
class SubscriptionList:
    subscriptions: tuple[Subscription, ...]
    descriptions: tuple[str, ...] = ()  # one per subscription: its feed and filters, in words
    public: bool = False

    def described(self) -> list[tuple[Subscription, str]]:
        return list(zip(self.subscriptions, self.descriptions, strict=True))


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
    | LinkedPapers
    | PaperList
    | Leaderboard
    | Digest
    | SubscriptionList
    | Citation
    | FileReply
    | Help
)
