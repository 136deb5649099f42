"""A fake Discord on 127.0.0.1: REST under ``/api/v10`` and a gateway websocket.

It speaks enough of the real protocol for an unmodified discord.py ``Client`` to log in,
connect, sync app commands, receive slash commands and reactions, answer interactions and
post messages. Nothing here reaches beyond the loopback interface.

Use::

    async with FakeDiscord() as fake:
        settings = fake.settings()                  # DISCORD_* pointing at the fake
        ...start a client with those settings...
        interaction = await fake.inject_interaction("search", {"query": "diffusion"})
        await wait_until(lambda: interaction.replies)
        await fake.inject_reaction(message_id, "👍")
        fake.messages(FakeDiscord.CHANNEL_ID)       # what the channel shows, oldest first

Test controls:

* ``fail_next(route, status=429, retry_after=..., times=1, commit=False)``: the next matching
  requests fail (a 429 with the headers discord.py needs to retry; ``commit=True`` performs
  the request and then answers with the error, an "unknown outcome").
* ``rate_limit(route, limit, per)``: a per-path bucket with real ``X-RateLimit-*`` headers.
* ``forbid(channel_id)``: posting there answers 403 Missing Permissions.
* ``seed_message(...)``: channel history for ``GET /channels/{id}/messages`` (``before``;
  ``after`` gives the ``limit`` messages right after it, newest first, as Discord does).
* ``react(message_id, emoji, user_id=..., added=True)``: a reaction the message shows from
  then on (``GET .../messages/{id}`` counts, ``GET .../reactions/{emoji}`` user lists paged
  by ``after``, ascending ids), without any event: one made while the bot is away.
  ``inject_reaction`` does the same and sends the event.
* ``inject_click(message, custom_id)``: a user presses a button of ``message`` (a component
  interaction; answered like a slash command, recorded in ``interactions``).
* ``inject_message_command(message, name)``: a user runs a message context-menu command
  (right-click -> Apps) on ``message``; the interaction resolves the whole message, its
  content included, as Discord does whatever the intents.
* ``drop_connection()``: close the gateway socket; events dispatched meanwhile are replayed
  after the client RESUMEs. ``drop_connection(resumable=False)``: the session is over too,
  so the RESUME is refused (op 9) and the client starts a new one (IDENTIFY, READY); what
  was dispatched meanwhile is never replayed.

Shards: ``FakeDiscord(shards=N, max_concurrency=M, identify_interval=5.0)``. ``/gateway/bot``
recommends N shards and says M; each IDENTIFY's ``shard: [id, count]`` opens that shard's
session, which gets READY and GUILD_CREATE for its guilds only (guild g is on shard
``(g >> 22) % count``; ``sharded_guilds(n)`` makes n guilds, guild i on shard i % count), and
every event of a guild goes to its shard's session (events without a guild to shard 0). An
IDENTIFY sooner than ``identify_interval`` after the last one of its bucket (``id % M``) is
refused with op 9 and recorded in ``identify_refused``; ``identified_at`` and
``identify_gaps()`` show the pacing, ``session_starts_remaining`` the start limit.
``drop_connection(shard=...)`` drops one shard's socket.

Global limit: past ``global_limit`` (50) requests with the bot token in any sliding second
(interaction answers and follow-ups do not count, as on Discord) the fake answers 429 with
``global: true``; ``busiest_second`` and ``global_refusals`` say how close a test came.

Files sent as multipart (``payload_json`` plus ``files[n]`` parts) become the message's
``attachments``; ``attachment_data(attachment)`` gives one's bytes.

Messages the bot edits (``PATCH /channels/{id}/messages/{id}``) change in place; every
edit is counted in ``edits``. Synced commands are checked as Discord checks them (slash
commands: lower-case names, a description; message and user commands: no description, no
options) and kept in ``commands``; ``message_commands()`` lists the message ones.
Records: ``messages(channel)``, ``interactions``, ``commands``,
``requests``, ``identifies``, ``resumes``, ``unhandled`` (requests the fake has no route
for — assert it stays empty).
Routes are given as ``"METHOD /path"`` globs relative to ``/api/v10``, e.g.
``"POST /channels/*/messages"``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fnmatch
import itertools
import json
import math
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web

import adapters.discord
from adapters.discord.settings import DiscordSettings
from adapters.platform import Configured
from tests.fakes.local_server import LocalServer

DISCORD_EPOCH_MS = 1420070400000
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Permission bits the fake hands out.
MANAGE_CHANNELS = 1 << 4
VIEW_AND_SEND = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16)  # view, send, embed, history
ADMINISTRATOR = 1 << 3

OPTION_TYPES = {str: 3, int: 4, bool: 5, float: 10}

GLOBAL_LIMIT = 50  # Discord's: REST requests a second for the whole bot
# Guild ids of sharded_guilds(): the time part of guild i is _GUILD_MS + i, and _GUILD_MS is
# a multiple of 1..16, so guild i is on shard i % count for any shard count up to 16.
_GUILD_MS = 720720 * 10**6


def sharded_guilds(count: int, channels: int = 1) -> dict[str, list[str]]:
    """``count`` guilds with ``channels`` channels each; guild i lives on shard i % shards."""
    return {
        str(((_GUILD_MS + i) << 22) | 1): [
            str(((_GUILD_MS + i) << 22) | (2 + c)) for c in range(channels)
        ]
        for i in range(count)
    }


Json = dict[str, Any]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py decodes a body only when Content-Type is exactly "application/json",
    # so the header is set by hand (aiohttp's json_response appends a charset).
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def _error(status: int, code: int, message: str, **extra: Any) -> web.Response:
    return _json({"code": code, "message": message, **extra}, status)


@dataclass
class RequestRecord:
    method: str
    path: str  # relative to /api/v10, no query
    query: dict[str, str]
    body: Any
    status: int = 0
    files: dict[int, tuple[str, bytes]] = field(default_factory=dict)  # part n: (name, bytes)


@dataclass
class _Failure:
    route: str
    status: int
    retry_after: float
    times: int
    is_global: bool
    commit: bool


@dataclass
class _Bucket:
    route: str
    limit: int
    per: float
    hits: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))


@dataclass
class _Shard:
    """One shard's gateway session: its socket, and what it was sent (replayed on RESUME)."""

    id: int
    ws: web.WebSocketResponse | None = None
    session_id: str | None = None
    seq: int = 0
    sent: list[Json] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # identified or resumed

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed


@dataclass
class FakeInteraction:
    """One injected slash command and everything the client answered to it."""

    id: str
    token: str
    guild_id: str
    channel_id: str
    user_id: str
    payload: Json
    response_type: int | None = None  # 4: message, 5: deferred ("thinking")
    original: Json | None = None
    followups: list[Json] = field(default_factory=list)
    original_deleted: bool = False

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def deferred(self) -> bool:
        return self.response_type == 5

    @property
    def replies(self) -> list[Json]:
        """The answers the user sees, in order (a deferral still "thinking" is not one)."""
        out = []
        original = self.original
        if original is not None and not self.original_deleted and not original["flags"] & LOADING:
            out.append(original)
        return out + self.followups

    @staticmethod
    def is_ephemeral(message: Json) -> bool:
        return bool(message.get("flags", 0) & EPHEMERAL)


class FakeDiscord:
    GUILD_ID = "900000000000000001"
    CHANNEL_ID = "900000000000000010"
    OTHER_CHANNEL_ID = "900000000000000011"
    APPLICATION_ID = "800000000000000001"  # also the bot user's id, as on real Discord
    USER_ID = "700000000000000001"  # a human member

    def __init__(
        self,
        *,
        guilds: dict[str, list[str]] | None = None,
        heartbeat_interval: float = 41.25,
        host: str = "127.0.0.1",
        shards: int = 1,
        max_concurrency: int = 1,
        identify_interval: float = 5.0,
        global_limit: int | None = GLOBAL_LIMIT,
    ) -> None:
        self.application_id = self.APPLICATION_ID
        self.bot_user_id = self.APPLICATION_ID
        app_b64 = base64.b64encode(self.application_id.encode()).decode().rstrip("=")
        self.token = f"{app_b64}.fake.{secrets.token_hex(8)}"
        self.heartbeat_interval = heartbeat_interval
        self.host = host
        self.recommended_shards = shards  # what /gateway/bot says
        self.max_concurrency = max_concurrency
        self.identify_interval = identify_interval
        self.global_limit = global_limit
        self.port = 0
        self.guilds: dict[str, list[str]] = guilds or {
            self.GUILD_ID: [self.CHANNEL_ID, self.OTHER_CHANNEL_ID]
        }
        self.channel_guild = {c: g for g, cs in self.guilds.items() for c in cs}

        self.dm_channels: dict[str, str] = {}  # DM channel id -> the user it reaches
        self.closed_dms: set[str] = set()  # users who accept no DMs from server members

        # records
        self.channel_messages: dict[str, list[Json]] = defaultdict(list)
        self.interactions: dict[str, FakeInteraction] = {}
        self.commands: dict[str, list[Json]] = {}  # "global" or a guild id → synced commands
        self.requests: list[RequestRecord] = []
        self._files: dict[str, bytes] = {}  # attachment id -> bytes
        self.unhandled: list[RequestRecord] = []
        self.identifies: list[Json] = []
        self.identified_at: list[tuple[float, int]] = []  # (monotonic time, shard id)
        # IDENTIFYs of a bucket (shard % max_concurrency) sooner than identify_interval after
        # the last one: refused (op 9), as Discord refuses a session start past its limit.
        self.identify_refused: list[Json] = []
        self.session_starts_remaining = 1000
        self.resumes: list[Json] = []
        # Discord's global limit: REST requests with the bot token in any sliding second
        # (interaction answers do not count). Every such request's time, and the 429s.
        self.bot_request_times: list[float] = []
        self.global_refusals = 0
        self.heartbeats = 0
        self.edits: list[tuple[str, str]] = []  # (channel id, message id) of each edit

        # controls
        self._failures: list[_Failure] = []
        self._buckets: list[_Bucket] = []
        self._forbidden: set[str] = set()
        # message id -> (emoji name, custom emoji id or None) -> user ids, in reaction order
        self._reactions: dict[str, dict[tuple[str, str | None], list[str]]] = defaultdict(dict)
        self._bot_users: set[str] = {self.bot_user_id}

        # gateway sessions, one per shard
        self._shards: dict[int, _Shard] = {}
        self._send_lock = asyncio.Lock()
        self._last_identify: dict[int, float] = {}  # bucket -> monotonic time
        self._recent_bot_requests: deque[float] = deque()

        self._ids = itertools.count(1)
        self._server = LocalServer(host)
        self._sockets: set[web.WebSocketResponse] = set()

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self.port = await self._server.start(app)
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001)
        await self._server.close()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def env(self) -> dict[str, str]:
        """Environment variables that point paperboy at this fake."""
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_URL": self.api_url,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    def settings(self, **overrides: Any) -> DiscordSettings:
        """Discord's settings pointing at the fake (DISCORD_TOKEN and the URLs)."""
        values: dict[str, Any] = {
            "token": self.token,
            "api_url": self.api_url,
            "gateway_url": self.gateway_url,
        }
        return DiscordSettings(**{**values, **overrides})

    def platform(self, **overrides: Any) -> Configured:
        """Discord, configured to use the fake: what ``adapters.launch.run`` takes."""
        return adapters.discord.PLATFORM.configure(self.settings(**overrides))

    # -- ids and objects ----------------------------------------------------------------

    def snowflake(self) -> str:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(self._ids) & 0x3FFFFF))

    def user(self, user_id: str, name: str = "", *, bot: bool = False) -> Json:
        name = name or ("paperboy" if user_id == self.bot_user_id else f"user{user_id[-4:]}")
        return {
            "id": user_id,
            "username": name,
            "global_name": name,
            "discriminator": "0",
            "avatar": None,
            "bot": bot or user_id == self.bot_user_id,
        }

    def member(self, user_id: str, *, permissions: int | None = None, bot: bool = False) -> Json:
        data: Json = {
            "user": self.user(user_id, bot=bot),
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data

    def channel(self, channel_id: str) -> Json:
        return {
            "id": channel_id,
            "type": 0,
            "guild_id": self.channel_guild.get(channel_id),
            "name": f"papers-{channel_id[-2:]}",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    def guild(self, guild_id: str) -> Json:
        return {
            "id": guild_id,
            "name": f"Guild {guild_id[-2:]}",
            "unavailable": False,
            "owner_id": self.USER_ID,
            "member_count": 2,
            "large": False,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "features": [],
            "roles": [
                {
                    "id": guild_id,
                    "name": "@everyone",
                    "permissions": str(VIEW_AND_SEND),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [self.channel(c) for c in self.guilds[guild_id]],
            "members": [self.member(self.bot_user_id)],
            "threads": [],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _message(
        self,
        channel_id: str,
        body: Json,
        *,
        author_id: str | None = None,
        flags: int = 0,
        webhook_id: str | None = None,
        interaction: FakeInteraction | None = None,
        files: dict[int, tuple[str, bytes]] | None = None,
    ) -> Json:
        message: Json = {
            "id": self.snowflake(),
            "channel_id": channel_id,
            "author": self.user(author_id or self.bot_user_id),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments(body, files or {}),
            "components": body.get("components") or [],
            "pinned": False,
            "type": 20 if interaction is not None else 0,
            "flags": flags | (body.get("flags") or 0),
            "allowed_mentions": body.get("allowed_mentions"),  # kept so tests can check it
            "nonce": body.get("nonce"),
            "_created": time.time(),
        }
        guild_id = self.channel_guild.get(channel_id)
        if guild_id:
            message["guild_id"] = guild_id
        if webhook_id:
            message["webhook_id"] = webhook_id
            message["application_id"] = self.application_id
        if interaction is not None:
            message["interaction_metadata"] = {
                "id": interaction.id,
                "type": 2,
                "user": self.user(interaction.user_id),
                "authorizing_integration_owners": {"0": interaction.guild_id},
            }
        return message

    def _attachments(self, body: Json, files: dict[int, tuple[str, bytes]]) -> list[Json]:
        declared = {str(a.get("id")): a for a in body.get("attachments") or []}
        out = []
        for index, (filename, data) in sorted(files.items()):
            name = declared.get(str(index), {}).get("filename") or filename
            attachment_id = self.snowflake()
            self._files[attachment_id] = data
            url = f"{self.base_url}/attachments/{attachment_id}/{name}"
            out.append(
                {
                    "id": attachment_id,
                    "filename": name,
                    "size": len(data),
                    "url": url,
                    "proxy_url": url,
                }
            )
        return out

    def attachment_data(self, attachment: Json) -> bytes:
        """The bytes uploaded for ``attachment`` (one of a message's ``attachments``)."""
        return self._files[attachment["id"]]

    # -- test controls ------------------------------------------------------------------

    def add_channel(self, channel_id: str, guild_id: str | None = None) -> None:
        """A channel the fake knows; add before the client connects for it to be in the guild."""
        guild_id = guild_id or self.GUILD_ID
        self.guilds.setdefault(guild_id, []).append(channel_id)
        self.channel_guild[channel_id] = guild_id

    def forbid(self, channel_id: str) -> None:
        self._forbidden.add(channel_id)

    def fail_next(
        self,
        route: str,
        status: int = 429,
        *,
        retry_after: float = 0.05,
        times: int = 1,
        is_global: bool = False,
        commit: bool = False,
    ) -> None:
        self._failures.append(_Failure(route, status, retry_after, times, is_global, commit))

    def rate_limit(self, route: str, limit: int, per: float) -> None:
        self._buckets.append(_Bucket(route, limit, per))

    def seed_message(
        self,
        channel_id: str,
        *,
        author_id: str | None = None,
        content: str = "",
        embeds: list[Json] | None = None,
    ) -> Json:
        """Put a message into the channel's history (by default one from the bot)."""
        message = self._message(
            channel_id, {"content": content, "embeds": embeds or []}, author_id=author_id
        )
        self.channel_messages[channel_id].append(message)
        return message

    def messages(self, channel_id: str) -> list[Json]:
        """What the channel shows, oldest first (bot posts and public interaction answers)."""
        return list(self.channel_messages.get(str(channel_id), []))

    def all_messages(self) -> list[Json]:
        return [m for ms in self.channel_messages.values() for m in ms]

    def count(self, route: str, status: int | None = None) -> int:
        """How many requests matched ``route`` (and answered ``status``)."""
        return sum(
            1
            for r in self.requests
            if fnmatch.fnmatchcase(f"{r.method} {r.path}", route)
            and (status is None or r.status == status)
        )

    # -- gateway: injecting events ------------------------------------------------------

    # -- gateway: shards -----------------------------------------------------------------

    @property
    def shard_count(self) -> int:
        """The shard count clients identified with (else the recommended one)."""
        counts = [i["shard"][1] for i in self.identifies if "shard" in i]
        return counts[-1] if counts else self.recommended_shards

    def shard_of(self, guild_id: str | int) -> int:
        return (int(guild_id) >> 22) % self.shard_count

    def guilds_of_shard(self, shard_id: int) -> list[str]:
        return [g for g in self.guilds if self.shard_of(g) == shard_id]

    def _shard(self, shard_id: int) -> _Shard:
        return self._shards.setdefault(shard_id, _Shard(shard_id))

    @property
    def ready(self) -> asyncio.Event:
        """Shard 0's session is identified or resumed (the only one, unless sharded)."""
        return self._shard(0).ready

    @property
    def ready_shards(self) -> set[int]:
        return {s.id for s in self._shards.values() if s.ready.is_set()}

    def sessions(self) -> dict[int, str | None]:
        """Each shard's current session id (None once a session ended)."""
        return {s.id: s.session_id for s in self._shards.values()}

    def identify_gaps(self, shard_ids: set[int] | None = None) -> list[float]:
        """Seconds between consecutive IDENTIFYs of one bucket (shard % max_concurrency)."""
        by_bucket: dict[int, list[float]] = defaultdict(list)
        for at, shard in self.identified_at:
            if shard_ids is None or shard in shard_ids:
                by_bucket[shard % self.max_concurrency].append(at)
        return [b - a for times in by_bucket.values() for a, b in itertools.pairwise(times)]

    @property
    def busiest_second(self) -> int:
        """The most bot-token REST requests (refused ones too) in any sliding second."""
        times, most, start = self.bot_request_times, 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most

    async def dispatch(self, event: str, data: Json, *, shard: int | None = None) -> None:
        """Send a DISPATCH on the shard of its guild (shard 0 without one, as for DMs);
        while that shard is disconnected it waits for its RESUME."""
        if shard is None:
            guild_id = data.get("guild_id") if isinstance(data, dict) else None
            shard = self.shard_of(guild_id) if guild_id else 0
        await self._send(self._shard(shard), event, data)

    async def _send(self, shard: _Shard, event: str, data: Json) -> None:
        async with self._send_lock:
            shard.seq += 1
            frame = {"op": 0, "t": event, "s": shard.seq, "d": data}
            shard.sent.append(frame)
            if shard.connected:
                assert shard.ws is not None
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await shard.ws.send_str(json.dumps(frame))

    async def inject_interaction(
        self,
        subcommand: str,
        options: dict[str, Any] | None = None,
        *,
        command: str = "papers",
        user_id: str | None = None,
        channel_id: str | None = None,
        guild_id: str | None = None,
        permissions: int = VIEW_AND_SEND,
    ) -> FakeInteraction:
        """A user runs ``/<command> <subcommand> options…``; returns the interaction's record."""
        channel_id = channel_id or self.CHANNEL_ID
        guild_id = guild_id or self.channel_guild.get(channel_id, self.GUILD_ID)
        user_id = user_id or self.USER_ID
        interaction_id = self.snowflake()
        token = "itoken-" + secrets.token_hex(12)
        typed = [
            {"name": k, "type": OPTION_TYPES[type(v)], "value": v}
            for k, v in (options or {}).items()
            if v is not None
        ]
        synced = self.commands.get(guild_id) or self.commands.get("global") or []
        command_id = next((c["id"] for c in synced if c["name"] == command), self.snowflake())
        data: Json = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": 2,
            "token": token,
            "version": 1,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "channel": self.channel(channel_id),
            "member": self.member(user_id, permissions=permissions),
            "app_permissions": str(VIEW_AND_SEND),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild_id},
            "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
            "data": {
                "id": command_id,
                "name": command,
                "type": 1,
                "options": [{"type": 1, "name": subcommand, "options": typed}],
            },
        }
        if guild_id in self.commands:
            data["data"]["guild_id"] = guild_id
        record = FakeInteraction(interaction_id, token, guild_id, channel_id, user_id, data)
        self.interactions[interaction_id] = record
        await self.dispatch("INTERACTION_CREATE", data)
        return record

    async def inject_click(
        self,
        message: Json,
        custom_id: str,
        *,
        user_id: str | None = None,
        permissions: int = VIEW_AND_SEND,
    ) -> FakeInteraction:
        """A user presses the button ``custom_id`` on ``message`` (e.g. an ephemeral answer)."""
        channel_id = message["channel_id"]
        guild_id = self.channel_guild.get(channel_id, self.GUILD_ID)
        user_id = user_id or self.USER_ID
        interaction_id = self.snowflake()
        token = "itoken-" + secrets.token_hex(12)
        shown = {k: v for k, v in message.items() if not k.startswith("_")}
        data: Json = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": 3,
            "token": token,
            "version": 1,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "channel": self.channel(channel_id),
            "member": self.member(user_id, permissions=permissions),
            "app_permissions": str(VIEW_AND_SEND),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild_id},
            "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
            "message": shown,
            "data": {"custom_id": custom_id, "component_type": 2},
        }
        record = FakeInteraction(interaction_id, token, guild_id, channel_id, user_id, data)
        self.interactions[interaction_id] = record
        await self.dispatch("INTERACTION_CREATE", data)
        return record

    async def inject_message_command(
        self,
        message: Json,
        name: str = "Paper card",
        *,
        user_id: str | None = None,
        permissions: int = VIEW_AND_SEND,
    ) -> FakeInteraction:
        """A user runs the message command ``name`` on ``message`` (a type 3 command)."""
        channel_id = message["channel_id"]
        guild_id = self.channel_guild.get(channel_id, self.GUILD_ID)
        user_id = user_id or self.USER_ID
        interaction_id = self.snowflake()
        token = "itoken-" + secrets.token_hex(12)
        synced = self.commands.get(guild_id) or self.commands.get("global") or []
        command_id = next(
            (c["id"] for c in synced if c["name"] == name and c.get("type") == 3),
            self.snowflake(),
        )
        shown = {k: v for k, v in message.items() if not k.startswith("_")}
        data: Json = {
            "id": interaction_id,
            "application_id": self.application_id,
            "type": 2,
            "token": token,
            "version": 1,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "channel": self.channel(channel_id),
            "member": self.member(user_id, permissions=permissions),
            "app_permissions": str(VIEW_AND_SEND),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": guild_id},
            "context": 0,
            "attachment_size_limit": 8 * 1024 * 1024,
            "data": {
                "id": command_id,
                "name": name,
                "type": 3,
                "target_id": message["id"],
                "resolved": {"messages": {message["id"]: shown}},
            },
        }
        if guild_id in self.commands:
            data["data"]["guild_id"] = guild_id
        record = FakeInteraction(interaction_id, token, guild_id, channel_id, user_id, data)
        self.interactions[interaction_id] = record
        await self.dispatch("INTERACTION_CREATE", data)
        return record

    def message_commands(self, scope: str = "global") -> list[Json]:
        """The message (context-menu) commands synced for ``scope`` (a guild id or global)."""
        return [c for c in self.commands.get(scope, []) if c.get("type") == 3]

    def react(
        self,
        message_id: str,
        emoji: str = "👍",
        *,
        user_id: str | None = None,
        added: bool = True,
        emoji_id: str | None = None,
        bot: bool = False,
    ) -> None:
        """The message shows (or stops showing) this reaction; no event is sent."""
        user_id = user_id or self.USER_ID
        if bot:
            self._bot_users.add(user_id)
        on_message = self._reactions[message_id]
        users = on_message.setdefault((emoji, emoji_id), [])
        if added and user_id not in users:
            users.append(user_id)
        elif not added and user_id in users:
            users.remove(user_id)
        if not users:
            del on_message[(emoji, emoji_id)]

    async def inject_reaction(
        self,
        message_id: str,
        emoji: str = "👍",
        *,
        added: bool = True,
        user_id: str | None = None,
        channel_id: str | None = None,
        guild_id: str | None = None,
        emoji_id: str | None = None,
        bot: bool = False,
    ) -> None:
        """A user adds (or removes) a reaction; with ``emoji_id`` it is a custom emoji."""
        channel_id = channel_id or self._channel_of(message_id) or self.CHANNEL_ID
        guild_id = guild_id or self.channel_guild.get(channel_id, self.GUILD_ID)
        user_id = user_id or self.USER_ID
        self.react(message_id, emoji, user_id=user_id, added=added, emoji_id=emoji_id, bot=bot)
        data: Json = {
            "user_id": user_id,
            "channel_id": channel_id,
            "message_id": message_id,
            "guild_id": guild_id,
            "emoji": {"id": emoji_id, "name": emoji, **({"animated": False} if emoji_id else {})},
            "type": 0,  # normal (not super-) reaction; discord.py 2.7 requires the key
            "burst": False,
            "burst_colors": [],
        }
        if added:
            data["member"] = self.member(user_id, bot=bot)
            data["message_author_id"] = self.bot_user_id
        await self.dispatch("MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE", data)

    def _channel_of(self, message_id: str) -> str | None:
        for channel_id, messages in self.channel_messages.items():
            if any(m["id"] == message_id for m in messages):
                return channel_id
        return None

    async def drop_connection(
        self, code: int = 4000, *, resumable: bool = True, shard: int | None = None
    ) -> None:
        """Close a shard's gateway socket (every shard's by default), as Discord does at
        times; the client should RESUME. With ``resumable=False`` the session ends too, so
        it must IDENTIFY anew."""
        for each in list(self._shards.values()):
            if shard is not None and each.id != shard:
                continue
            if not resumable:
                each.session_id = None
            ws, each.ws = each.ws, None
            each.ready.clear()
            if ws is not None:
                await ws.close(code=code, message=b"fake drop")

    @property
    def connected(self) -> bool:
        """Every shard that has a session is connected (and one at least)."""
        live = [s for s in self._shards.values() if s.session_id is not None]
        return bool(live) and all(s.connected for s in live)

    # -- gateway: the socket ------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        # Whatever compression the client asks for, frames go out as plain-text JSON;
        # discord.py only decompresses binary frames.
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await ws.send_str(
                json.dumps(
                    {
                        "op": 10,
                        "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)},
                        "s": None,
                        "t": None,
                    }
                )
            )
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                await self._on_frame(ws, json.loads(msg.data))
        finally:
            self._sockets.discard(ws)
            for shard in self._shards.values():
                if shard.ws is ws:
                    shard.ws = None
                    shard.ready.clear()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: Json) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            self.heartbeats += 1
            await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
        elif op == 2:
            await self._identify(ws, data)
        elif op == 6:
            await self._resume(ws, data)

    async def _identify(self, ws: web.WebSocketResponse, data: Json) -> None:
        self.identifies.append(data)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        shard_id, count = data.get("shard") or [0, 1]
        if not 0 <= shard_id < count:
            await ws.close(code=4010, message=b"Invalid shard.")
            return
        now = time.monotonic()
        self.identified_at.append((now, shard_id))
        bucket = shard_id % self.max_concurrency
        last = self._last_identify.get(bucket)
        if last is not None and now - last < self.identify_interval:
            self.identify_refused.append(data)
            await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return
        self._last_identify[bucket] = now
        self.session_starts_remaining -= 1
        shard = self._shard(shard_id)
        async with self._send_lock:
            shard.ws = ws
            shard.session_id = secrets.token_hex(16)
            shard.seq = 0
            shard.sent = []
        guilds = self.guilds_of_shard(shard_id)
        await self._send(
            shard,
            "READY",
            {
                "v": 10,
                "user": {
                    **self.user(self.bot_user_id),
                    "verified": True,
                    "mfa_enabled": False,
                    "flags": 0,
                },
                "guilds": [{"id": g, "unavailable": True} for g in guilds],
                "session_id": shard.session_id,
                "resume_gateway_url": self.gateway_url,
                "application": {"id": self.application_id, "flags": 0},
                "private_channels": [],
                "relationships": [],
                # AutoShardedClient identifies with a shard and needs it echoed back.
                **({"shard": data["shard"]} if "shard" in data else {}),
            },
        )
        for guild_id in guilds:
            await self._send(shard, "GUILD_CREATE", self.guild(guild_id))
        shard.ready.set()

    async def _resume(self, ws: web.WebSocketResponse, data: Json) -> None:
        self.resumes.append(data)
        session = data.get("session_id")
        shard = next((s for s in self._shards.values() if s.session_id == session), None)
        if data.get("token") != self.token or shard is None or session is None:
            await ws.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return
        seen = data.get("seq") or 0
        async with self._send_lock:
            shard.ws = ws
            for frame in shard.sent:
                if frame["s"] > seen:
                    await ws.send_str(json.dumps(frame))
        await self._send(shard, "RESUMED", {})
        shard.ready.set()

    # -- REST ---------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await _body(request)
        record = RequestRecord(request.method, path, dict(request.query), body, files=files)
        self.requests.append(record)
        response = await self._answer(request, record)
        record.status = response.status
        return response

    async def _answer(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        key = f"{record.method} {record.path}"
        if not record.path.startswith(("/interactions/", "/webhooks/")) and (
            request.headers.get("Authorization") != f"Bot {self.token}"
        ):
            return _error(401, 0, "401: Unauthorized")
        if not record.path.startswith(("/interactions/", "/webhooks/")):
            over = self._check_global_limit()
            if over is not None:
                return over
        limited = self._check_rate_limit(key, record.path)
        if limited is not None:
            return limited
        failure = self._take_failure(key)
        if failure is not None and not failure.commit:
            return self._failure_response(failure)
        response, headers = await self._route(record), self._rate_headers(key, record.path)
        if failure is not None:
            return self._failure_response(failure)
        response.headers.update(headers)
        return response

    async def _route(self, record: RequestRecord) -> web.Response:
        for method, pattern, handler in self._routes():
            match = re.fullmatch(pattern, record.path)
            if match and method == record.method:
                return await handler(record, **match.groupdict())
        self.unhandled.append(record)
        return _error(404, 0, "404: Not Found")

    def _routes(self) -> list[tuple[str, str, Callable[..., Awaitable[web.Response]]]]:
        hook = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
        return [
            ("GET", r"/users/@me", self._get_me),
            ("POST", r"/users/@me/channels", self._open_dm),
            ("GET", r"/users/(?P<user>\d+)", self._get_user),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/gateway", self._get_gateway),
            ("GET", r"/gateway/bot", self._get_gateway),
            ("PUT", r"/applications/(?P<app>\d+)/commands", self._put_commands),
            (
                "PUT",
                r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands",
                self._put_commands,
            ),
            ("GET", r"/channels/(?P<channel>\d+)", self._get_channel),
            ("POST", r"/channels/(?P<channel>\d+)/messages", self._post_message),
            ("GET", r"/channels/(?P<channel>\d+)/messages", self._get_messages),
            ("GET", r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)", self._get_message),
            (
                "GET",
                r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)/reactions/(?P<emoji>[^/]+)",
                self._get_reaction_users,
            ),
            (
                "PATCH",
                r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)",
                self._patch_message,
            ),
            (
                "POST",
                r"/interactions/(?P<interaction>\d+)/(?P<token>[^/]+)/callback",
                self._post_callback,
            ),
            ("POST", hook, self._post_followup),
            ("GET", hook + r"/messages/@original", self._get_original),
            ("PATCH", hook + r"/messages/@original", self._patch_original),
            ("DELETE", hook + r"/messages/@original", self._delete_original),
        ]

    def _take_failure(self, key: str) -> _Failure | None:
        for failure in self._failures:
            if fnmatch.fnmatchcase(key, failure.route):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _failure_response(self, failure: _Failure) -> web.Response:
        if failure.status == 429:
            return self._too_many(failure.retry_after, failure.is_global)
        messages = {403: (50013, "Missing Permissions"), 404: (10003, "Unknown Channel")}
        code, message = messages.get(failure.status, (0, f"{failure.status}: injected failure"))
        return _error(failure.status, code, message)

    def _too_many(self, retry_after: float, is_global: bool = False) -> web.Response:
        # discord.py retries a 429 only when it carries a Via header and a JSON body.
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
            "code": 0,
        }
        return _json(body, 429, headers)

    def _check_global_limit(self) -> web.Response | None:
        """A 429 with ``global: true`` past ``global_limit`` bot requests in the last second."""
        now = time.monotonic()
        self.bot_request_times.append(now)
        recent = self._recent_bot_requests
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if self.global_limit is not None and len(recent) >= self.global_limit:
            self.global_refusals += 1
            return self._too_many(max(0.001, recent[0] + 1.0 - now), is_global=True)
        recent.append(now)
        return None

    def _bucket_key(self, path: str) -> str:
        # Discord buckets by route and "major parameter" (channel, guild, webhook).
        return path

    def _check_rate_limit(self, key: str, path: str) -> web.Response | None:
        now = time.monotonic()
        for bucket in self._buckets:
            if not fnmatch.fnmatchcase(key, bucket.route):
                continue
            hits = bucket.hits[self._bucket_key(path)]
            while hits and hits[0] <= now - bucket.per:
                hits.popleft()
            if len(hits) >= bucket.limit:
                return self._too_many(max(0.001, hits[0] + bucket.per - now))
            hits.append(now)
        return None

    def _rate_headers(self, key: str, path: str) -> dict[str, str]:
        now = time.monotonic()
        for index, bucket in enumerate(self._buckets):
            if fnmatch.fnmatchcase(key, bucket.route):
                hits = bucket.hits[self._bucket_key(path)]
                reset_after = max(0.001, hits[0] + bucket.per - now) if hits else bucket.per
                return {
                    "X-RateLimit-Limit": str(bucket.limit),
                    "X-RateLimit-Remaining": str(max(0, bucket.limit - len(hits))),
                    "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                    "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                    "X-RateLimit-Bucket": f"fake-bucket-{index}",
                }
        return {}

    # -- REST: handlers -----------------------------------------------------------------

    async def _get_me(self, record: RequestRecord) -> web.Response:
        return _json({**self.user(self.bot_user_id), "verified": True, "mfa_enabled": False})

    async def _get_application(self, record: RequestRecord) -> web.Response:
        return _json(
            {
                "id": self.application_id,
                "name": "paperboy",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.user(self.USER_ID),
                "verify_key": "0" * 64,
                "flags": 0,
                "interactions_endpoint_url": None,
            }
        )

    async def _get_gateway(self, record: RequestRecord) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": self.session_starts_remaining,
                    "reset_after": 3_600_000,
                    "max_concurrency": self.max_concurrency,
                },
            }
        )

    async def _put_commands(
        self, record: RequestRecord, app: str, guild: str | None = None
    ) -> web.Response:
        if app != self.application_id:
            return _error(403, 50001, "Missing Access")
        problems = [p for command in record.body or [] for p in _command_problems(command)]
        if problems:
            return _error(400, 50035, "Invalid Form Body", errors=problems)
        commands = []
        for command in record.body or []:
            synced = {
                "type": 1,
                "description": "",  # Discord answers every command with both
                **command,
                "id": self.snowflake(),
                "application_id": app,
                "version": "1",
            }
            if guild:
                synced["guild_id"] = guild
            commands.append(synced)
        self.commands[guild or "global"] = commands
        return _json(commands)

    async def _get_channel(self, record: RequestRecord, channel: str) -> web.Response:
        if channel not in self.channel_guild:
            return _error(404, 10003, "Unknown Channel")
        return _json(self.channel(channel))

    async def _get_user(self, record: RequestRecord, user: str) -> web.Response:
        return _json(self.user(user))

    async def _open_dm(self, record: RequestRecord) -> web.Response:
        """A DM channel with one user (the same one each time, as on Discord)."""
        user = str((record.body or {}).get("recipient_id") or "")
        if not user.isdigit():
            return _error(400, 50035, "Invalid Form Body")
        channel = next((c for c, u in self.dm_channels.items() if u == user), None)
        if channel is None:
            channel = self.snowflake()
            self.dm_channels[channel] = user
        return _json(
            {"id": channel, "type": 1, "last_message_id": None, "recipients": [self.user(user)]}
        )

    def dm_messages(self, user: str) -> list[Json]:
        """What the bot sent ``user`` in their DM channel, oldest first."""
        return [
            m for c, u in self.dm_channels.items() if u == user for m in self.channel_messages[c]
        ]

    async def _post_message(self, record: RequestRecord, channel: str) -> web.Response:
        if channel in self.dm_channels and self.dm_channels[channel] in self.closed_dms:
            return _error(403, 50007, "Cannot send messages to this user")
        if channel not in self.channel_guild and channel not in self.dm_channels:
            return _error(404, 10003, "Unknown Channel")
        if channel in self._forbidden:
            return _error(403, 50013, "Missing Permissions")
        problems = message_problems(record.body or {})
        if problems:
            return _error(400, 50035, "Invalid Form Body", errors=problems)
        nonce = record.body.get("nonce")
        if nonce is not None and record.body.get("enforce_nonce"):
            # As on Discord: the same author and nonce within minutes is the same message.
            for earlier in self.channel_messages[channel]:
                if earlier.get("nonce") == nonce and time.time() - earlier["_created"] < 300:
                    return _json(earlier)
        message = self._message(channel, record.body, files=record.files)
        self.channel_messages[channel].append(message)
        return _json(message)

    async def _patch_message(
        self, record: RequestRecord, channel: str, message: str
    ) -> web.Response:
        found = next(
            (m for m in self.channel_messages.get(channel, []) if m["id"] == message), None
        )
        if found is None:
            return _error(404, 10008, "Unknown Message")
        if found["author"]["id"] != self.bot_user_id:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        body = record.body or {}
        updated = {
            **found,
            **{k: body[k] for k in ("content", "embeds", "components") if k in body},
        }
        problems = message_problems(updated)
        if problems:
            return _error(400, 50035, "Invalid Form Body", errors=problems)
        found.update(
            content=updated.get("content") or "",
            embeds=updated.get("embeds") or [],
            components=updated.get("components") or [],
            edited_timestamp=datetime.now(UTC).isoformat(),
        )
        self.edits.append((channel, message))
        return _json(found)

    async def _get_messages(self, record: RequestRecord, channel: str) -> web.Response:
        if channel not in self.channel_guild:
            return _error(404, 10003, "Unknown Channel")
        if channel in self._forbidden:
            return _error(403, 50001, "Missing Access")
        limit = min(100, int(record.query.get("limit", 50)))
        newest_first = sorted(
            self.channel_messages.get(channel, []), key=lambda m: int(m["id"]), reverse=True
        )
        if "before" in record.query:
            newest_first = [m for m in newest_first if int(m["id"]) < int(record.query["before"])]
        if "after" in record.query:
            after = [m for m in newest_first if int(m["id"]) > int(record.query["after"])]
            return _json(after[-limit:])  # the ones right after ``after``, newest first
        return _json(newest_first[:limit])

    def _find_message(self, channel: str, message_id: str) -> Json | None:
        return next(
            (m for m in self.channel_messages.get(channel, []) if m["id"] == message_id), None
        )

    async def _get_message(self, record: RequestRecord, channel: str, message: str) -> web.Response:
        if channel not in self.channel_guild:
            return _error(404, 10003, "Unknown Channel")
        found = self._find_message(channel, message)
        if found is None:
            return _error(404, 10008, "Unknown Message")
        reactions = [
            {
                "emoji": {"id": emoji_id, "name": name},
                "count": len(users),
                "count_details": {"burst": 0, "normal": len(users)},
                "burst_colors": [],
                "me": self.bot_user_id in users,
                "me_burst": False,
                "burst_me": False,
                "burst_count": 0,
            }
            for (name, emoji_id), users in self._reactions.get(message, {}).items()
        ]
        return _json({**found, "reactions": reactions} if reactions else found)

    async def _get_reaction_users(
        self, record: RequestRecord, channel: str, message: str, emoji: str
    ) -> web.Response:
        if channel not in self.channel_guild:
            return _error(404, 10003, "Unknown Channel")
        if self._find_message(channel, message) is None:
            return _error(404, 10008, "Unknown Message")
        name, _, emoji_id = unquote(emoji).partition(":")
        limit = min(100, max(1, int(record.query.get("limit", 25))))
        after = int(record.query.get("after", 0))
        if record.query.get("type", "0") != "0":  # super reactions: the fake has none
            return _json([])
        users = self._reactions.get(message, {}).get((name, emoji_id or None), [])
        ids = sorted(int(u) for u in users if int(u) > after)[:limit]
        return _json([self.user(str(u), bot=str(u) in self._bot_users) for u in ids])

    def _interaction_by_token(self, token: str) -> FakeInteraction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    async def _post_callback(
        self, record: RequestRecord, interaction: str, token: str
    ) -> web.Response:
        found = self.interactions.get(interaction)
        if found is None or found.token != token:
            return _error(404, 10062, "Unknown interaction")
        if found.acknowledged:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = record.body or {}
        kind, data = body.get("type"), body.get("data") or {}
        if kind not in (4, 5):
            self.unhandled.append(record)
            return _error(400, 50035, f"Invalid Form Body: unsupported response type {kind}")
        if kind == 4:
            problems = message_problems(data)
            if problems:
                return _error(400, 50035, "Invalid Form Body", errors=problems)
        flags = (data.get("flags") or 0) | (LOADING if kind == 5 else 0)
        message = self._message(
            found.channel_id,
            data if kind == 4 else {},
            flags=flags,
            webhook_id=self.application_id,
            interaction=found,
            files=record.files if kind == 4 else None,
        )
        found.response_type = kind
        found.original = message
        if not FakeInteraction.is_ephemeral(message):
            self.channel_messages[found.channel_id].append(message)
        return _json(
            {
                "interaction": {
                    "id": interaction,
                    "type": 2,
                    "response_message_id": message["id"],
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": FakeInteraction.is_ephemeral(message),
                },
                "resource": {"type": kind, "message": message},
            }
        )

    async def _post_followup(self, record: RequestRecord, app: str, token: str) -> web.Response:
        found = self._interaction_by_token(token)
        if found is None or app != self.application_id:
            return _error(404, 10015, "Unknown Webhook")
        if not found.acknowledged:
            return _error(400, 40060, "Interaction has not been acknowledged yet.")
        body = record.body or {}
        problems = message_problems(body)
        if problems:
            return _error(400, 50035, "Invalid Form Body", errors=problems)
        original = found.original
        if original is not None and original["flags"] & LOADING and not found.original_deleted:
            # As on Discord: the first follow-up of a deferral completes the deferred message
            # (and keeps the deferral's visibility, whatever flags the follow-up asked for).
            return await self._complete_original(found, body, record.files)
        message = self._message(
            found.channel_id,
            body,
            webhook_id=self.application_id,
            interaction=found,
            files=record.files,
        )
        found.followups.append(message)
        if not FakeInteraction.is_ephemeral(message):
            self.channel_messages[found.channel_id].append(message)
        return _json(message)

    async def _get_original(self, record: RequestRecord, app: str, token: str) -> web.Response:
        found = self._interaction_by_token(token)
        if found is None or found.original is None or found.original_deleted:
            return _error(404, 10008, "Unknown Message")
        return _json(found.original)

    async def _patch_original(self, record: RequestRecord, app: str, token: str) -> web.Response:
        found = self._interaction_by_token(token)
        if found is None or found.original is None or found.original_deleted:
            return _error(404, 10008, "Unknown Message")
        return await self._complete_original(found, record.body or {}, record.files)

    async def _complete_original(
        self, found: FakeInteraction, body: Json, files: dict[int, tuple[str, bytes]]
    ) -> web.Response:
        original = found.original
        assert original is not None
        updated = {**original, **{k: body[k] for k in ("content", "embeds") if k in body}}
        if files:
            updated["attachments"] = self._attachments(body, files)
        problems = message_problems(updated)
        if problems:
            return _error(400, 50035, "Invalid Form Body", errors=problems)
        original.update(
            content=updated.get("content") or "",
            embeds=updated.get("embeds") or [],
            attachments=updated.get("attachments") or [],
            flags=original["flags"] & ~LOADING,
            allowed_mentions=body.get("allowed_mentions", original.get("allowed_mentions")),
            edited_timestamp=datetime.now(UTC).isoformat(),
        )
        return _json(original)

    async def _delete_original(self, record: RequestRecord, app: str, token: str) -> web.Response:
        found = self._interaction_by_token(token)
        if found is None or found.original is None or found.original_deleted:
            return _error(404, 10008, "Unknown Message")
        found.original_deleted = True
        messages = self.channel_messages.get(found.channel_id, [])
        if found.original in messages:
            messages.remove(found.original)
        return web.Response(status=204)


def _command_problems(command: Json) -> list[str]:
    """Why Discord would refuse to register this application command."""
    kind, name = command.get("type", 1), str(command.get("name") or "")
    if kind == 1:
        if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
            return [f"slash command name {name!r}"]
        if not 1 <= len(command.get("description") or "") <= 100:
            return [f"{name}: description length"]
        return []
    if kind in (2, 3):  # user and message commands: a display name, nothing else
        if not 1 <= len(name) <= 32:
            return [f"context menu name {name!r}"]
        if command.get("description") or command.get("options"):
            return [f"{name}: context menus take no description or options"]
        return []
    return [f"{name}: unknown command type {kind}"]


async def _body(request: web.Request) -> tuple[Any, dict[int, tuple[str, bytes]]]:
    """The JSON body, and any files of a multipart one by part number (``files[n]``)."""
    if not request.can_read_body:
        return None, {}
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        raw = form.get("payload_json")
        files = {}
        for name, value in form.items():
            match = re.fullmatch(r"files\[(\d+)\]", name)
            if match and isinstance(value, web.FileField):
                files[int(match.group(1))] = (value.filename, value.file.read())
        return (json.loads(raw) if isinstance(raw, str) else None), files
    text = await request.text()
    try:
        return (json.loads(text) if text else None), {}
    except json.JSONDecodeError:
        return text, {}


# -- Discord's message limits, checked independently of the code under test ---------------


def _units(text: Any) -> int:
    return len(str(text).encode("utf-16-le")) // 2


def message_problems(body: Json) -> dict[str, str]:
    """Why Discord would refuse this message body (empty when it would accept it)."""
    problems: dict[str, str] = {}
    content = body.get("content") or ""
    embeds = body.get("embeds") or []
    if _units(content) > 2000:
        problems["content"] = f"{_units(content)} > 2000"
    if not content.strip() and not embeds and not body.get("attachments"):
        problems["message"] = "Cannot send an empty message"
    if len(embeds) > 10:
        problems["embeds"] = f"{len(embeds)} > 10"
    total = 0
    for i, embed in enumerate(embeds):
        limits = {"title": 256, "description": 4096, "url": 2048}
        for key, limit in limits.items():
            if key in embed and _units(embed[key]) > limit:
                problems[f"embeds.{i}.{key}"] = f"{_units(embed[key])} > {limit}"
        if "url" in embed and not str(embed["url"]).startswith(("http://", "https://")):
            problems[f"embeds.{i}.url"] = "Not a well formed URL"
        for key in ("thumbnail", "image"):
            url = (embed.get(key) or {}).get("url")
            if url is not None and not str(url).startswith(("http://", "https://")):
                problems[f"embeds.{i}.{key}.url"] = "Not a well formed URL"
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems[f"embeds.{i}.fields"] = f"{len(fields)} > 25"
        for j, f in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                value = str(f.get(key) or "")
                if not value.strip() or _units(value) > limit:
                    problems[f"embeds.{i}.fields.{j}.{key}"] = f"length {_units(value)}"
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        if _units(footer) > 2048:
            problems[f"embeds.{i}.footer.text"] = f"{_units(footer)} > 2048"
        if _units(author) > 256:
            problems[f"embeds.{i}.author.name"] = f"{_units(author)} > 256"
        total += sum(_units(embed.get(k) or "") for k in ("title", "description"))
        total += sum(_units(f.get("name") or "") + _units(f.get("value") or "") for f in fields)
        total += _units(footer) + _units(author)
    if total > 6000:
        problems["embeds"] = f"total {total} > 6000"
    return problems
