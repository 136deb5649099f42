"""Platform-neutral events: what adapters hand to the core."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.replies import Reply


@dataclass(frozen=True)
class ChannelRef:
    platform: str  # a platform's name, e.g. "console", "memory"
    workspace: str  # the platform's team, server or guild id
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}/{self.workspace}/{self.channel}"


@dataclass(frozen=True)
class MessageRef:
    channel: ChannelRef
    message: str  # the platform's message id


@dataclass(frozen=True)
class User:
    platform: str
    id: str
    name: str = ""
    is_admin: bool = False  # as the platform sees it; PAPERBOY_ADMINS is checked by the core
    is_bot: bool = False


# Asks the platform, only when a command needs it, whether the user may change subscriptions
# (asking may cost an API call; most commands never need to know).
AdminCheck = Callable[[], Awaitable[bool]]

# How the core answers a command: the adapter decides where the answer goes
# (a reply URL, an interaction follow-up, the terminal).
Responder = Callable[["Reply"], Awaitable[None]]


@dataclass(frozen=True)
class CommandInvoked:
    channel: ChannelRef
    user: User
    text: str  # everything after "/papers", e.g. "search diffusion author:ho"
    respond: Responder
    check_admin: AdminCheck | None = None


@dataclass(frozen=True)
class ReactionChanged:
    target: MessageRef
    user: User
    emoji: str  # a short name ("+1", "thumbsup::skin-tone-2") or unicode ("👍")
    added: bool
    # The platform's id of this delivery, where it re-sends events (Slack's event_id): a
    # re-sent one is applied once, checked in the vote's own transaction.
    delivery: str | None = None


@dataclass(frozen=True)
class ShareRequested:
    """Someone pressed "Share" on a paper in a private answer: post its card in ``channel``.

    The paper id travels in the button itself (Slack ``value``, Discord ``custom_id``), so a
    button keeps working after a restart. ``user.name`` is what the card credits, as text.
    """

    channel: ChannelRef
    user: User
    paper_id: str
    respond: Responder  # a private answer to the one who pressed it


@dataclass(frozen=True)
class PaperLinksPosted:
    """Someone posted links to papers in a channel: answer with each paper's card.

    Slack sends ``link_shared`` (answered with ``chat.unfurl``, never a post of its own);
    on Discord someone runs the "Paper card" context menu on a message. ``message`` is the
    person's message (None for a Slack preview still in the composer): when it links exactly
    one paper, reactions on it count as votes on that paper.
    """

    channel: ChannelRef
    user: User  # who posted the links
    links: tuple[str, ...]  # URLs as the platform gave them (or as found in the text)
    message: MessageRef | None
    respond: Responder


@dataclass(frozen=True)
class VotePressed:
    """A 👍 / 👎 button on a linked paper's card (the paper id travels in the button).

    Pressing the same button again takes that vote back.
    """

    channel: ChannelRef
    user: User
    paper_id: str
    value: int  # +1 or -1
    respond: Responder  # a private answer to the one who pressed it


Event = CommandInvoked | ReactionChanged | ShareRequested | PaperLinksPosted | VotePressed
