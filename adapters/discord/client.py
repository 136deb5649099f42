"""paperboy on Discord: a discord.py ``Client`` with the ``/papers`` tree, on the core's loop.

``DiscordAdapter`` is both the way in (slash commands and raw reaction events become core
events) and the way out (``send`` / ``find_card``, the core's ``Outbox`` for auto-posts).
It runs on whatever event loop calls ``start()``, so Slack and Discord can share one process,
one database and one core.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import math
import secrets
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord import translate
from adapters.discord.commands import build_group
from adapters.discord.render import (
    SHARE_PREFIX,
    VOTE_PREFIX,
    Rendered,
    card_paper_id,
    render,
    render_linked,
)
from adapters.discord.settings import DiscordSettings
from adapters.platform import PlatformStartError
from bot.events import (
    ChannelRef,
    CommandInvoked,
    Event,
    MessageRef,
    PaperLinksPosted,
    ShareRequested,
    User,
    VotePressed,
)
from bot.linked_papers import links_in
from bot.outbox import DirectMessageClosed, SendError, ShownReactions
from bot.rate_gate import SharedRateGate
from bot.replies import Digest, Error, FileReply, LinkedPapers, PaperCard, Reply, Text

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)

CANNOT_DM_USER = 50007  # Discord: "Cannot send messages to this user"

# Discord wants an interaction answered within 3 s; past this, say "thinking…" first.
DEFER_AFTER = 2.0
# find_card reads the history since a card's claim, less this much for clocks that disagree.
CLOCK_MARGIN = 300.0
# Re-reading reactions takes at most this many requests a second: a fifth of Discord's
# global 50/s, leaving the rest to commands and posts (discord.py also waits out each
# route's bucket as Discord's headers say).
REACTION_READS_PER_SECOND = 10.0
START_TIMEOUT = 60.0
# Discord lets a bot start max_concurrency sessions (IDENTIFYs) per this many seconds: one per
# bucket, the bucket of shard s being s % max_concurrency.
IDENTIFY_INTERVAL = 5.0
# Interaction answers and follow-ups do not count against Discord's global limit, and someone
# waits for them: they never queue behind posts for the shared budget.
EXEMPT_FROM_GLOBAL_LIMIT = ("/interactions/", "/webhooks/")
# A slot of the shared REST budget is used within this much of its time or given up.
REQUEST_SLOT_GRACE = 0.05
DISCORD_EPOCH_MS = 1420070400000  # Discord ids count milliseconds from here
# How long stop() lets commands and votes in progress finish before disconnecting.
DRAIN_TIMEOUT = 5.0
# The message context-menu command (right-click a message -> Apps -> Paper card).
PAPER_CARD_MENU = "Paper card"


def use_endpoints(api_url: str, gateway_url: str) -> None:
    """Point discord.py at another REST base and gateway (a proxy, or a fake in tests).

    discord.py keeps both in class attributes, so this applies to every client in the
    process. The sharded client is given its shard count before it connects, so it does not
    take the gateway from ``/gateway/bot`` but uses this one; on resume it uses the
    ``resume_gateway_url`` the gateway itself gave in READY.
    """
    discord.http.Route.BASE = api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def intents() -> discord.Intents:
    # Slash commands arrive as interactions whatever the intents; reactions need
    # guild_reactions, and guilds keeps channel and permission state. Nothing privileged.
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_reactions = True
    return wanted


def _start_error(exc: BaseException, settings: DiscordSettings) -> BaseException:
    """What failed at start, and what to check, for the errors a user can fix."""
    if isinstance(exc, discord.LoginFailure):
        why = f"Discord refused DISCORD_TOKEN ({exc})"
        return PlatformStartError(f"{why}; check the token (Developer Portal → your app → Bot)")
    if isinstance(exc, discord.HTTPException):
        return PlatformStartError(
            f"Discord answered {exc.status} at log-in; check DISCORD_TOKEN and DISCORD_API_URL"
        )
    if isinstance(exc, aiohttp.ClientError | OSError):
        return PlatformStartError(
            f"could not reach Discord at {settings.api_url} ({exc or type(exc).__name__}); "
            "check the network connection and DISCORD_API_URL"
        )
    if isinstance(exc, TimeoutError | discord.ConnectionClosed | discord.GatewayNotFound):
        return PlatformStartError(
            f"Discord's gateway at {settings.gateway_url} did not get ready ({exc}); "
            "check the network connection and DISCORD_GATEWAY_URL"
        )
    return exc


class _Client(discord.AutoShardedClient):
    """The shards of ``DISCORD_SHARD_IDS`` (all by default) in one client; the shard count and
    ids are set by ``DiscordAdapter`` once Discord said how many it recommends."""

    def __init__(self, adapter: DiscordAdapter, *, guild_ready_timeout: float) -> None:
        # paperboy never joins voice: the warnings that voice libraries are missing are noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=intents(),
            http_trace=adapter.request_gate(),
            guild_ready_timeout=guild_ready_timeout,
            max_messages=None,  # reactions come as raw events; no message cache needed
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(build_group(adapter.run_command, adapter.bot.commands))
        self.tree.add_command(paper_card_menu(adapter))
        self.tree.on_error = adapter.on_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        await self.adapter.sync_commands()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        # Slash commands go to the tree; a Share button click comes here, by its custom_id.
        if interaction.type is discord.InteractionType.component:
            await self.adapter.on_component(interaction)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_reaction(payload)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_reaction(payload)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Instead of discord.py's 5 s before every IDENTIFY but a process's first: the slot of
        # the shard's bucket, shared with every process of the bot through the database.
        await self.adapter.before_identify(shard_id or 0)

    async def on_shard_ready(self, shard_id: int) -> None:
        # After every READY of a shard, the first and any new session that could not resume
        # (a RESUME replays what was missed; a new session replays nothing): re-read reactions.
        self.adapter.bot.reactions_may_be_missed(self.adapter.platform)


def paper_card_menu(adapter: DiscordAdapter) -> app_commands.ContextMenu:
    """ "Paper card" on a message: the cards of the papers it links, in the channel. The
    resolved message carries its content, so this needs no message-content intent."""

    async def paper_card(interaction: discord.Interaction, message: discord.Message) -> None:
        await adapter.run_paper_card(interaction, message)

    return app_commands.ContextMenu(
        name=PAPER_CARD_MENU,
        callback=paper_card,
        type=discord.AppCommandType.message,
        # Like /papers: votes belong to a server's channels.
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )


def post_nonce(channel: ChannelRef, reply: Reply) -> str:
    """A nonce that lets Discord drop a repeat of this post (``enforce_nonce``).

    discord.py resends after a 5xx, which Discord may have committed anyway; a card's nonce
    is the same for every attempt to post that paper in that channel, so a repeat within
    Discord's nonce window returns the first message instead of a second card.
    """
    if isinstance(reply, PaperCard):
        key = f"card/{channel}/{reply.paper.id}"
    elif isinstance(reply, Digest):  # one digest per period, so its nonce is as stable
        key = f"digest/{channel}/{reply.title}/{reply.period}"
    else:
        key = f"{channel}/{secrets.token_hex(8)}"
    return hashlib.sha256(key.encode()).hexdigest()[:25]  # Discord allows 25 characters


class DiscordAdapter:
    platform = "discord"
    # What a user does when a Share cannot post in a channel.
    cant_post_hint = (
        "Let paperboy view this channel and send messages and embeds there, then press Share again."
    )

    def __init__(
        self,
        bot: Bot,
        settings: DiscordSettings,
        *,
        guild_ready_timeout: float = 2.0,
        defer_after: float = DEFER_AFTER,
        reaction_reads_per_second: float = REACTION_READS_PER_SECOND,
        start_timeout: float = START_TIMEOUT,
        drain_timeout: float = DRAIN_TIMEOUT,
        identify_interval: float = IDENTIFY_INTERVAL,
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.identify_interval = identify_interval
        self.max_concurrency = 1  # IDENTIFY buckets, as /gateway/bot says
        self._identify_gates: dict[int, SharedRateGate] = {}
        self._requests: SharedRateGate | None = None
        if settings.requests_per_second:
            self._requests = SharedRateGate(
                bot.store,
                "discord:requests",
                interval=1.0 / settings.requests_per_second,
                grace=REQUEST_SLOT_GRACE,
            )
        self.defer_after = defer_after
        self._read_pace = Pace(1.0 / reaction_reads_per_second)
        self.start_timeout = start_timeout
        self.drain_timeout = drain_timeout
        self.client = _Client(self, guild_ready_timeout=guild_ready_timeout)
        self.synced: list[app_commands.AppCommand] = []
        self._gateway: asyncio.Task | None = None
        self._inflight: set[asyncio.Task] = set()

    @property
    def shard_count(self) -> int:
        return self.client.shard_count or 1

    @property
    def shard_ids(self) -> list[int]:
        """The shards this process connects (set at start)."""
        return list(self.client.shard_ids or range(self.shard_count))

    def hears(self, workspace: str) -> bool:
        """Whether this process's shards receive the events of guild ``workspace`` (Discord
        sends a guild's events on shard ``(guild_id >> 22) % shard_count`` only; DMs on 0)."""
        guild = int(workspace) if workspace.isascii() and workspace.isdigit() else 0
        return (guild >> 22) % self.shard_count in self.shard_ids

    def request_gate(self) -> aiohttp.TraceConfig:
        """Every REST request (and retry) to Discord waits for its slot of the bot's shared
        budget first, but interaction answers, which Discord does not count."""
        trace = aiohttp.TraceConfig()
        api = yarl.URL(self.settings.api_url.rstrip("/")).path

        async def on_request_start(
            session: aiohttp.ClientSession,
            context: object,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            path = params.url.path
            if self._requests is None or not path.startswith(api + "/"):
                return  # the gateway's websocket, or no shared budget
            if not path.removeprefix(api).startswith(EXEMPT_FROM_GLOBAL_LIMIT):
                await self._requests.wait()

        trace.on_request_start.append(on_request_start)
        return trace

    async def before_identify(self, shard_id: int) -> None:
        """Wait for a slot of the shard's IDENTIFY bucket, shared by all processes of the bot:
        one start per bucket per ``identify_interval`` (plus a margin for clock error)."""
        bucket = shard_id % max(1, self.max_concurrency)
        gate = self._identify_gates.get(bucket)
        if gate is None:
            margin = self.identify_interval * 0.05
            gate = self._identify_gates[bucket] = SharedRateGate(
                self.bot.store,
                f"discord:identify:{bucket}",
                interval=self.identify_interval + margin,
                grace=margin,
                batch=1,
            )
        await gate.wait()

    @property
    def connected(self) -> bool:
        """The gateway session is up (for health checks)."""
        return self.client.is_ready() and not self.client.is_closed()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync commands, connect the gateway; return once Discord says READY."""
        use_endpoints(self.settings.api_url, self.settings.gateway_url)
        try:
            await self._connect()
        except BaseException as exc:
            await self.stop()
            error = _start_error(exc, self.settings)
            if error is exc:
                raise
            raise error from exc
        log.info(
            "discord: connected as %s to %d server(s)", self.client.user, len(self.client.guilds)
        )

    async def _connect(self) -> None:
        await self.client.login(self.settings.token)
        await self._choose_shards()
        # Starts wait their turn in their IDENTIFY bucket (with every process's shards at
        # worst): that much longer before giving up.
        turns = math.ceil(self.shard_count / self.max_concurrency)
        timeout = self.start_timeout + turns * self.identify_interval * 1.05
        self._gateway = asyncio.create_task(self.client.connect(), name="discord-gateway")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._gateway},
            timeout=timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        ready.cancel()
        if ready not in done:
            if self._gateway in done:
                self._gateway.result()  # raises why the gateway gave up
            raise TimeoutError(f"not ready after {timeout:.0f}s")

    async def _choose_shards(self) -> None:
        """The shard count (DISCORD_SHARD_COUNT, or Discord's recommendation), this process's
        shards (DISCORD_SHARD_IDS, or all), and how many IDENTIFY buckets Discord allows."""
        recommended, _url, limits = await self.client.http.get_bot_gateway()
        count, ids = self.settings.shards(recommended)
        remaining = int(limits.get("remaining", len(ids)))
        if remaining < len(ids):
            reset = float(limits.get("reset_after", 0)) / 1000
            raise PlatformStartError(
                f"Discord allows {remaining} more gateway session start(s) for now, and this "
                f"process needs {len(ids)}; the limit resets in {reset / 3600:.1f} h"
            )
        self.max_concurrency = max(1, int(limits.get("max_concurrency", 1)))
        # The gateway stays DISCORD_GATEWAY_URL, as for one shard (use_endpoints).
        self.client.shard_count = count
        self.client.shard_ids = ids
        log.info(
            "discord: shard(s) %s of %d (%d IDENTIFY bucket(s))",
            ",".join(map(str, ids)),
            count,
            self.max_concurrency,
        )

    async def stop(self) -> None:
        """Let commands and votes in progress finish (a while at most), then disconnect."""
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=self.drain_timeout)
        await self.client.close()
        if self._gateway is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._gateway
            self._gateway = None

    async def sync_commands(self) -> None:
        """Register ``/papers`` globally, or only in DISCORD_GUILD_ID (instant, for development)."""
        tree = self.client.tree
        try:
            if self.settings.guild_id:
                guild = discord.Object(id=int(self.settings.guild_id))
                tree.copy_global_to(guild=guild)
                self.synced = await tree.sync(guild=guild)
            else:
                self.synced = await tree.sync()
        except discord.HTTPException:
            # Old commands stay registered and keep working; not worth refusing to start.
            log.exception("discord: could not sync slash commands")
            return
        scope = self.settings.guild_id or "all servers"
        log.info("discord: synced %d command(s) for %s", len(self.synced), scope)

    # -- commands -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        # discord.py runs each event in its own task; stop() waits for these.
        task = asyncio.current_task()
        assert task is not None  # always inside a task on a running loop
        self._inflight.add(task)
        try:
            yield
        finally:
            self._inflight.discard(task)

    async def run_command(self, interaction: discord.Interaction, text: str) -> None:
        """Hand one slash command to the core, and its answers back to Discord."""
        with self._tracked():
            await self._run_command(interaction, text)

    async def _run_command(self, interaction: discord.Interaction, text: str) -> None:
        answer = InteractionAnswer(interaction)
        event = CommandInvoked(
            channel=translate.channel_ref(interaction.guild_id, interaction.channel_id or 0),
            user=translate.interaction_user(interaction),
            text=text,
            respond=answer.send,
        )
        handling = asyncio.create_task(self.bot.handle(event))
        await asyncio.wait({handling}, timeout=self.defer_after)
        if not handling.done():
            try:
                await answer.defer()
            except discord.HTTPException as exc:
                # Too late to answer (Discord gives 3 s); the command itself still completes.
                log.warning("discord: could not defer %r: %s", text, exc)
        try:
            await handling
        except Exception:
            log.exception("discord: command %r failed", text)
            await answer.send(Error("Something went wrong on my side.", "Try again in a minute."))
        await answer.finish()

    async def on_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        # Reached for failures before our callback runs: an unknown or outdated command.
        log.warning("discord: slash command failed: %s", error)
        with contextlib.suppress(discord.HTTPException):
            await InteractionAnswer(interaction).send(
                Error("That command is out of date.", "Try again in a minute, or use /papers help.")
            )

    async def run_paper_card(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """The "Paper card" context menu on ``message``: its papers' cards in the channel."""
        with self._tracked():
            answer = InteractionAnswer(interaction)
            channel = translate.channel_ref(interaction.guild_id, interaction.channel_id or 0)
            author = message.author
            event = PaperLinksPosted(
                channel=channel,
                # Whose links they are: a bot's message never becomes votable.
                user=User(
                    translate.PLATFORM, str(author.id), author.display_name, is_bot=author.bot
                ),
                links=links_in(message.content or ""),
                message=MessageRef(channel, str(message.id)),
                respond=answer.send,
            )
            await self._answer_in_time(answer, event)

    async def _answer_in_time(self, answer: InteractionAnswer, event: Event) -> None:
        """Hand ``event`` to the core; say "thinking…" if it takes longer than Discord waits."""
        handling = asyncio.create_task(self.bot.handle(event))
        await asyncio.wait({handling}, timeout=self.defer_after)
        if not handling.done():
            with contextlib.suppress(discord.HTTPException):
                await answer.defer()
        await handling
        await answer.finish()

    # -- buttons ------------------------------------------------------------------------

    async def on_component(self, interaction: discord.Interaction) -> None:
        custom_id = str((interaction.data or {}).get("custom_id") or "")
        if custom_id.startswith(VOTE_PREFIX):
            await self._on_vote(interaction, custom_id.removeprefix(VOTE_PREFIX))
            return
        if not custom_id.startswith(SHARE_PREFIX):
            return  # not ours (or from an older version): Discord shows its own failure
        with self._tracked():
            answer = InteractionAnswer(interaction)
            event = ShareRequested(
                channel=translate.channel_ref(interaction.guild_id, interaction.channel_id or 0),
                user=translate.interaction_user(interaction),
                paper_id=custom_id.removeprefix(SHARE_PREFIX),
                respond=answer.send,
            )
            await self._answer_in_time(answer, event)

    async def _on_vote(self, interaction: discord.Interaction, pressed: str) -> None:
        """A 👍 / 👎 on a linked paper's card (custom_id ``paperboy_vote:up:<id>``)."""
        direction, _, paper_id = pressed.partition(":")
        value = {"up": 1, "down": -1}.get(direction)
        with self._tracked():
            answer = InteractionAnswer(interaction)
            if value is None or not paper_id:
                await answer.send(Error("That vote button is out of date."))
                return
            event = VotePressed(
                channel=translate.channel_ref(interaction.guild_id, interaction.channel_id or 0),
                user=translate.interaction_user(interaction),
                paper_id=paper_id,
                value=value,
                respond=answer.send,
            )
            await self._answer_in_time(answer, event)

    # -- reactions ----------------------------------------------------------------------

    async def on_reaction(self, payload: discord.RawReactionActionEvent) -> None:
        own_id = self.client.user.id if self.client.user else None
        event = translate.reaction_event(payload, own_id)
        if event is not None:
            with self._tracked():
                await self.bot.handle(event)

    # -- Outbox -------------------------------------------------------------------------

    def _messageable(self, channel: ChannelRef) -> discord.PartialMessageable:
        guild_id = int(channel.workspace) if channel.workspace.isdigit() else None
        return self.client.get_partial_messageable(int(channel.channel), guild_id=guild_id)

    async def send(self, channel: ChannelRef, reply: Reply) -> MessageRef:
        """Post ``reply`` in ``channel``; SendError when Discord certainly posted nothing."""
        if self.client.is_closed() or self.client.user is None:
            raise SendError("Discord is not connected")
        try:
            message = await self._messageable(channel).send(
                **render(reply).kwargs(), nonce=post_nonce(channel, reply)
            )
        except discord.HTTPException as exc:
            # 4xx (403 no access, 404 gone, 400 refused, a 429 that outlived discord.py's
            # retries): nothing was posted. 5xx after retries: it may have been.
            if 400 <= exc.status < 500:
                raise SendError(f"Discord refused a post in {channel}: {exc}") from exc
            raise
        except aiohttp.ClientConnectorError as exc:
            raise SendError(f"Discord unreachable: {exc}") from exc
        return MessageRef(channel, str(message.id))

    async def send_dm(self, workspace: str, user_id: str, reply: Reply) -> None:
        """The user's DM channel (opened by discord.py), then the message; Discord answers
        50007 for a person who accepts no DMs from server members."""
        if self.client.is_closed() or self.client.user is None:
            raise SendError("Discord is not connected")
        try:
            user = self.client.get_user(int(user_id)) or await self.client.fetch_user(int(user_id))
            await user.send(**render(reply).kwargs())
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM_USER:
                raise DirectMessageClosed(str(exc)) from exc
            raise

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        """PATCH the message (a live card's new counts); discord.py waits out 429s per route."""
        message = self._messageable(ref.channel).get_partial_message(int(ref.message))
        await message.edit(**render(reply).kwargs())

    async def link(self, ref: MessageRef) -> str:
        """The message's jump URL (built here: a partial channel may not know its server)."""
        ch = ref.channel
        return f"https://discord.com/channels/{ch.workspace or '@me'}/{ch.channel}/{ref.message}"

    async def find_card(
        self, channel: ChannelRef, paper_id: str, claimed_at: float
    ) -> MessageRef | None:
        """The bot's card for ``paper_id`` among the messages since its claim, if any (known
        by the paper id in its footer, whatever server the paper is on).

        Read oldest first from just before the claim, so a card that exists is found on the
        first page or so however busy the channel has been since; nothing older is read.
        """
        own_id = self.client.user.id if self.client.user else None
        after = discord.Object(id=snowflake_at(claimed_at - CLOCK_MARGIN))
        try:
            history = self._messageable(channel).history(limit=None, after=after)
            async for message in history:
                ours = message.author.id == own_id
                if ours and any(card_paper_id(e) == paper_id for e in message.embeds):
                    return MessageRef(channel, str(message.id))
        except discord.NotFound:
            return None  # the channel is gone; so is any card in it
        return None

    async def reactions(self, ref: MessageRef) -> ShownReactions | None:
        """The vote candidates on ``ref`` now: each reaction's users, paged 100 at a time,
        bots (paperboy too) left out; None when the message or channel is gone."""
        try:
            await self._read_pace.wait()
            message = await self._messageable(ref.channel).fetch_message(int(ref.message))
            present: set[tuple[str, str]] = set()
            partial: set[str] = set()
            for reaction in message.reactions:
                name = reaction.emoji if isinstance(reaction.emoji, str) else reaction.emoji.name
                if not name:
                    continue
                await self._read_pace.wait()
                users = [u async for u in reaction.users(type=discord.ReactionType.normal)]
                # Super reactions are listed apart; a list shorter than its count is not all.
                if reaction.burst_count or len(users) < reaction.normal_count:
                    partial.add(name)
                present.update((str(u.id), name) for u in users if not u.bot)
        except discord.NotFound:
            return None
        return ShownReactions(frozenset(present), frozenset(partial))


class Pace:
    """Lets callers through at most once per ``interval`` seconds, in turn."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = asyncio.Lock()
        self._next = 0.0

    async def wait(self) -> None:
        async with self._lock:
            delay = self._next - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = time.monotonic() + self.interval


def snowflake_at(unix_seconds: float) -> int:
    """The smallest Discord id of a message created at ``unix_seconds`` (ids are times)."""
    ms = max(0, int(unix_seconds * 1000) - DISCORD_EPOCH_MS)
    return ms << 22


class InteractionAnswer:
    """Delivers the core's replies to one interaction, whatever its state.

    Not yet answered: the reply is the interaction's response (ephemeral unless public).
    Deferred: the first reply completes the "thinking…" message (a public reply goes out as
    a follow-up, since a deferral's visibility is fixed). Later replies are follow-ups.
    A ``FileReply`` is attached to the (private) answer, whichever of these it is.
    """

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.asked = False  # the core tried to answer
        self.answered = False  # and the answer reached Discord
        self._lock = asyncio.Lock()

    async def defer(self) -> None:
        async with self._lock:
            if not self.interaction.response.is_done():
                await self.interaction.response.defer(ephemeral=True, thinking=True)

    async def send(self, reply: Reply) -> None:
        self.asked = True
        if isinstance(reply, LinkedPapers):  # one message per card
            for part in render_linked(reply):
                await self._send(part, reply, {})
            return
        await self._send(render(reply), reply, _attachments(reply))

    async def _send(
        self, rendered: Rendered, reply: Reply, files: dict[str, list[discord.File]]
    ) -> None:
        kwargs = rendered.kwargs()
        ephemeral = not reply.public
        async with self._lock:
            response = self.interaction.response
            if not response.is_done():
                await response.send_message(**kwargs, **files, ephemeral=ephemeral)
            elif self.answered:
                await self.interaction.followup.send(**kwargs, **files, ephemeral=ephemeral)
            elif ephemeral:
                edit = {"attachments": files["files"]} if files else {}
                await self.interaction.edit_original_response(**kwargs, **edit)
            else:
                await self.interaction.edit_original_response(
                    **render(Text("Done; posted in the channel.")).kwargs()
                )
                await self.interaction.followup.send(**kwargs, ephemeral=False)
            self.answered = True

    async def finish(self) -> None:
        """Never leave a user looking at "thinking…" when the core said nothing."""
        if not self.asked:
            with contextlib.suppress(discord.HTTPException):
                await self.send(Text("Done."))


def _attachments(reply: Reply) -> dict[str, list[discord.File]]:
    """``{"files": [...]}`` for a reply that carries a file, else nothing to add."""
    if isinstance(reply, FileReply):
        return {"files": [discord.File(io.BytesIO(reply.data), filename=reply.name)]}
    return {}
