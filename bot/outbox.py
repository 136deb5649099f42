"""What the core needs from a platform to post on its own (auto-posts, notices)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.events import ChannelRef, MessageRef
from bot.replies import Reply


class SendError(Exception):
    """A send failed for certain (nothing was posted): the core may try again later.

    Adapters raise it after their own retries (429 Retry-After, 5xx) are spent. Any other
    exception means the outcome is unknown, and the post is settled by ``find_card`` later.
    """


class CheckLater(Exception):
    """``find_card`` cannot read the channel now (the platform's rate limit for history reads
    is spent, or a long history is read a page at a time): the outcome stays unknown, the
    post stays pending, and a later round asks again."""


class DirectMessageClosed(Exception):
    """The person cannot be sent a direct message (they closed DMs from server members, left,
    or are a bot): trying again will not help."""


@dataclass(frozen=True)
class ShownReactions:
    """The reactions a platform shows on one message right now.

    ``present`` holds (user id, emoji) pairs, emoji as the platform names them (as in
    ``ReactionChanged``), without the bot's own. ``partial`` names the emoji whose user list
    the platform cut short (fewer users than its count): for those, only additions are known.
    """

    present: frozenset[tuple[str, str]]
    partial: frozenset[str] = frozenset()


class Outbox(Protocol):
    platform: str

    async def send(self, channel: ChannelRef, reply: Reply) -> MessageRef:
        """Post ``reply`` as a new, visible message in ``channel``."""
        ...

    async def send_dm(self, workspace: str, user_id: str, reply: Reply) -> None:
        """Send ``reply`` to one person as a direct message (Slack ``conversations.open`` +
        ``chat.postMessage``, Discord the user's DM channel, the console a "DM" line).

        Raises ``DirectMessageClosed`` when the platform refuses to reach that person, and
        anything else when the outcome is unknown."""
        ...

    async def find_card(
        self, channel: ChannelRef, paper_id: str, claimed_at: float
    ) -> MessageRef | None:
        """The bot's card of ``paper_id`` in the channel, posted since ``claimed_at`` (Unix
        seconds, when the post was claimed: a card cannot be older), if any.

        Used at start to settle posts whose outcome a crash left unknown. Raises
        ``CheckLater`` when it cannot tell yet.
        """
        ...

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        """Replace the content of the bot's message ``ref`` (a live card's new counts).

        Raises on failure; the caller retries (with backoff) on its own schedule.
        """
        ...

    async def link(self, ref: MessageRef) -> str:
        """How a person gets to message ``ref``: a permalink, or where the console shows it."""
        ...

    async def reactions(self, ref: MessageRef) -> ShownReactions | None:
        """What reactions ``ref`` shows now; None when the platform cannot say (the message
        or channel is gone, or out of reach). Adapters pace these reads themselves."""
        ...
