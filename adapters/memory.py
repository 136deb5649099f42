"""An in-process adapter: the core's tests talk to paperboy through it, as a platform would."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core import Bot
from bot.events import (
    ChannelRef,
    CommandInvoked,
    MessageRef,
    PaperLinksPosted,
    ReactionChanged,
    ShareRequested,
    User,
    VotePressed,
)
from bot.outbox import DirectMessageClosed, SendError, ShownReactions
from bot.replies import PaperCard, Reply


@dataclass(frozen=True)
class Sent:
    ref: MessageRef
    reply: Reply


class MemoryAdapter:
    platform = "memory"

    def __init__(self, bot: Bot, workspace: str = "W1") -> None:
        self.bot = bot
        self.workspace = workspace
        self.sent: list[Sent] = []  # visible channel messages, in order
        self.responses: list[Reply] = []  # answers to commands
        self.failures: list[Exception] = []  # raised by the next sends, one each
        self.edits: list[Sent] = []  # every edit, in order
        self.edit_failures: list[Exception] = []  # raised by the next edits, one each
        self._ids = itertools.count(1)
        # What the "platform" shows on each message: reactions made with react(), delivered
        # to the bot or not (deliver=False: made while the bot was not listening).
        self.reactions_on: dict[MessageRef, set[tuple[str, str]]] = {}  # what each message shows
        self.partial: dict[MessageRef, set[str]] = {}  # emoji whose user list is cut short
        self.unreadable: set[MessageRef] = set()
        self.reaction_reads: list[MessageRef] = []
        self.dms: list[tuple[str, Reply]] = []  # (user id, message) direct messages, in order
        self.closed_dms: set[str] = set()  # users whose direct messages are closed
        bot.attach(self)

    def channel(self, name: str = "C1") -> ChannelRef:
        return ChannelRef(self.platform, self.workspace, name)

    # -- what users do ------------------------------------------------------------------

    async def command(
        self, text: str, *, channel: str = "C1", user: str = "U1", admin: bool = False
    ) -> Reply:
        """Run ``/papers <text>`` and return the bot's answer."""
        answers: list[Reply] = []

        async def respond(reply: Reply) -> None:
            answers.append(reply)
            self.responses.append(reply)

        await self.bot.handle(
            CommandInvoked(
                channel=self.channel(channel),
                user=User(self.platform, user, is_admin=admin),
                text=text,
                respond=respond,
            )
        )
        assert len(answers) == 1, f"expected one answer, got {answers!r}"
        return answers[0]

    async def react(
        self,
        ref: MessageRef,
        emoji: str,
        *,
        user: str = "U1",
        added: bool = True,
        bot_user: bool = False,
        deliver: bool = True,
    ) -> None:
        if not bot_user:
            shown = self.reactions_on.setdefault(ref, set())
            if added:
                shown.add((user, emoji))
            else:
                shown.discard((user, emoji))
        if not deliver:
            return
        await self.bot.handle(
            ReactionChanged(ref, User(self.platform, user, is_bot=bot_user), emoji, added)
        )

    async def share(
        self, paper_id: str, *, channel: str = "C1", user: str = "U1", name: str = "Ada"
    ) -> Reply:
        """Press "Share" on ``paper_id`` in a private answer; returns the private answer."""
        answers: list[Reply] = []

        async def respond(reply: Reply) -> None:
            answers.append(reply)

        await self.bot.handle(
            ShareRequested(
                self.channel(channel), User(self.platform, user, name), paper_id, respond
            )
        )
        assert len(answers) == 1, f"expected one answer, got {answers!r}"
        return answers[0]

    async def post_links(
        self, *links: str, channel: str = "C1", user: str = "U1", message: str | None = None
    ) -> Reply:
        """Someone posts a message (id ``message``) linking ``links``; the cards for it."""
        answers: list[Reply] = []

        async def respond(reply: Reply) -> None:
            answers.append(reply)

        ref = MessageRef(self.channel(channel), message) if message else None
        await self.bot.handle(
            PaperLinksPosted(self.channel(channel), User(self.platform, user), links, ref, respond)
        )
        assert len(answers) == 1, f"expected one answer, got {answers!r}"
        return answers[0]

    async def press_vote(
        self, paper_id: str, value: int, *, channel: str = "C1", user: str = "U1"
    ) -> Reply:
        """Press 👍 (``value`` 1) or 👎 (-1) on a linked paper's card; the private answer."""
        answers: list[Reply] = []

        async def respond(reply: Reply) -> None:
            answers.append(reply)

        await self.bot.handle(
            VotePressed(self.channel(channel), User(self.platform, user), paper_id, value, respond)
        )
        assert len(answers) == 1, f"expected one answer, got {answers!r}"
        return answers[0]

    # -- Outbox -------------------------------------------------------------------------

    async def send(self, channel: ChannelRef, reply: Reply) -> MessageRef:
        if self.failures:
            raise self.failures.pop(0)
        ref = MessageRef(channel, str(next(self._ids)))
        self.sent.append(Sent(ref, reply))
        return ref

    async def send_dm(self, workspace: str, user_id: str, reply: Reply) -> None:
        if user_id in self.closed_dms:
            raise DirectMessageClosed(user_id)
        if self.failures:
            raise self.failures.pop(0)
        self.dms.append((user_id, reply))

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        if self.edit_failures:
            raise self.edit_failures.pop(0)
        index = next(i for i, s in enumerate(self.sent) if s.ref == ref)
        self.sent[index] = Sent(ref, reply)
        self.edits.append(Sent(ref, reply))

    async def link(self, ref: MessageRef) -> str:
        return f"memory://{ref.channel.channel}/{ref.message}"

    async def reactions(self, ref: MessageRef) -> ShownReactions | None:
        self.reaction_reads.append(ref)
        if ref in self.unreadable:
            return None
        return ShownReactions(
            frozenset(self.reactions_on.get(ref, ())), frozenset(self.partial.get(ref, ()))
        )

    async def find_card(
        self, channel: ChannelRef, paper_id: str, claimed_at: float
    ) -> MessageRef | None:
        for sent in reversed(self.sent):
            card = sent.reply
            if (
                sent.ref.channel == channel
                and isinstance(card, PaperCard)
                and card.paper.id == paper_id
            ):
                return sent.ref
        return None

    # -- for tests ----------------------------------------------------------------------

    def cards(self, channel: str | None = None) -> list[Sent]:
        return [
            s
            for s in self.sent
            if isinstance(s.reply, PaperCard)
            and (channel is None or s.ref.channel.channel == channel)
        ]

    def shown(self, ref: MessageRef) -> Reply:
        """What message ``ref`` shows now (after any edits)."""
        return next(s.reply for s in self.sent if s.ref == ref)

    def card_ids(self, channel: str | None = None) -> list[str]:
        return [s.reply.paper.id for s in self.cards(channel)]  # type: ignore[union-attr]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.01)


__all__ = ["MemoryAdapter", "SendError", "Sent"]
