"""A fake Slack on 127.0.0.1: Web API, ``response_url``s, Socket Mode, and HTTP-mode delivery.

It speaks enough of Slack for an unmodified slack-bolt ``AsyncApp`` (and slack_sdk clients)
to run against it in both connection modes. Nothing here reaches beyond the loopback
interface, and every token and secret is a fake one.

Use::

    async with FakeSlack() as slack:
        settings = slack.settings(socket_mode=True)     # SLACK_* pointing at the fake
        ...start the adapter with those settings...
        payload = slack.command_payload("help")
        delivery = await slack.deliver(payload)                # Socket Mode: envelope + ack
        delivery = await slack.deliver(payload, to=app_url)    # HTTP mode: signed POST
        answer = await slack.wait_response(payload["response_url"])
        slack.messages("C1")                                   # what the channel shows

Web API methods served under ``/api/``: ``auth.test``, ``apps.connections.open`` (app token),
``chat.postMessage`` (checks Block Kit limits like Slack: an oversized field is
``invalid_blocks``), ``chat.update`` (the bot's own messages only; the same checks; keeps
``metadata`` unless given), ``chat.getPermalink``, ``conversations.history`` (answers from
what was posted, newest first, paged, only messages after ``oldest`` when given, ``metadata``
only with ``include_all_metadata``), ``conversations.join``, ``reactions.get`` (the message
with its ``reactions``: name, ``users``, ``count``; without ``full=true`` every user list is
cut to 3, stricter than Slack), ``users.info``, ``conversations.open`` (a DM with one user, id
``D<user>``), and the ``files_upload_v2`` pair: ``files.getUploadURLExternal`` hands out an
upload URL on this fake (``POST /upload/{file_id}`` takes the bytes) and
``files.completeUploadExternal`` shares the uploaded files in a channel (refused unless every
file's bytes arrived, with the length announced), and ``chat.unfurl`` (by ``channel`` + ``ts``
or ``unfurl_id`` + ``source``, only for URLs a ``link_shared`` event of this fake named, each
unfurl's blocks checked like a message's; recorded in ``unfurls``, nothing is posted).
Anything else is recorded in
``unhandled`` and answered ``unknown_method``. Message ``ts`` values are the wall-clock time
(unique, increasing), as on Slack.

Test controls:

* ``fail_next(method, status=429, retry_after=1, error=None, times=1, commit=False)``: the
  next calls of ``method`` fail (429 with ``Retry-After``; 5xx; or 200 with ``ok: false``
  and ``error``). ``commit=True`` performs the call first and then answers with the
  failure: an "unknown outcome". ``method`` may be ``"response_url"``.
* ``delay_answers(method, seconds)``: ``method`` does its work at once, then waits ``seconds``
  (a number, or a callable asked per call) before answering: a window in which the message
  exists but the caller does not know it yet. ``seconds=None`` stops delaying.
* ``refuse_channel(channel, error="not_in_channel", joinable=True)``: posting there fails
  (until the bot joins, for a joinable ``not_in_channel``).
* ``add_user(user_id, is_admin=False, is_owner=False, team_id=None)``: what ``users.info``
  answers (in one workspace, or in all).
* ``seed_message(channel, ..., team_id=None)``: history that the bot did not post.
* ``rotate_tokens(lifetime=12 h, clock=)``: token rotation on; tokens expire (``token_expired``)
  and ``oauth.v2.access`` with ``grant_type=refresh_token`` renews them, each refresh token once.
* ``limit_history(clock=, page_size=15)``: ``conversations.history`` as Slack limits it for
  distributed apps outside the Marketplace: one call a minute per workspace (by ``clock``;
  more get 429 with ``Retry-After``), at most 15 messages a call.
* ``react(ts, channel=, user=, emoji=, added=True)``: someone reacts on message ``ts`` (what
  ``reactions.get`` shows from then on); returns the event payload Slack would send, for
  ``deliver`` when the bot is listening.
* ``cut_reaction_users(n)``: like Slack on popular reactions, ``reactions.get`` lists at most
  ``n`` users per reaction even with ``full=true`` (``count`` stays the true number).
* ``share_links(urls, channel=, user=, text=, source=)``: someone posts a message linking
  ``urls`` (``source="composer"``: still typing it, no message yet); returns the
  ``link_shared`` event payload, for ``deliver``.
* ``expire(response_url)``: the URL answers 404 ``expired_url``.
* ``ask_to_reconnect()``: Socket Mode ``disconnect`` envelope (the client reconnects).
* ``drop_connections()``: close every Socket Mode websocket without warning (a restart or a
  proxy); envelopes sent meanwhile wait for the next connection, as Slack redelivers them.
* ``send_hello=False`` (constructor), ``refuse_sockets = True``: a websocket that stays
  silent, or none at all.

Several processes of one app (``deliver_to_any``): over HTTP each delivery goes to one of
the processes' URLs, picked at random as a load balancer would; in Socket Mode each envelope
goes to one of the open connections, as Slack does. What was not acknowledged (the process
died, the connection closed first) is delivered again to another one, with Slack's retry
headers (``X-Slack-Retry-Num`` / ``retry_attempt``), until one acknowledges it.
``standing_reactions()`` is what the reactions left standing say, for comparing a ledger.

Many workspaces (distribution): ``install(team_id)`` is a user clicking "Allow" for a new
workspace: it returns the ``code`` Slack would send to the app's redirect URL, which
``oauth.v2.access`` (HTTP Basic auth with ``client_id`` and ``client_secret``) exchanges for
that workspace's own bot token. Every token answers as its own workspace (``auth.test``, the
``team`` and bot ids of what it posts); ``uninstall(team_id)`` revokes the workspace's token
and returns the ``app_uninstalled`` event Slack would send. Payload builders take ``team_id``.
Channels belong to a workspace: two workspaces may both have a ``C1``, and each token sees
only its own workspace's messages (``messages``/``posts`` take ``team_id`` to tell them apart).

Records: ``unfurls`` (``Unfurl``: where, and URL -> blocks), ``files`` (shared files:
``SharedFile`` with name, bytes, channel, comment),
``calls`` (every Web API call, in order; ``calls_to(method)``), ``responses``
(response_url payloads by URL), ``acks`` (Socket Mode acks by envelope id), ``connections``
(websockets opened), ``unhandled``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import math
import random
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import WSMsgType, web

import adapters.slack
from adapters.platform import Configured
from adapters.slack.settings import SlackSettings
from tests.fakes.local_server import LocalServer, wait_until

# Slack's Block Kit limits, counted in UTF-16 units as the strictest reading.
LIMITS = {
    "blocks": 50,
    "header": 150,
    "section": 3000,
    "field": 2000,
    "context_elements": 10,
    "context_text": 3000,
    "actions_elements": 25,
    "button_text": 75,
    "url": 3000,
    "image_url": 3000,
    "alt_text": 2000,
    "action_id": 255,
    "text": 40000,
}


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def block_problems(blocks: Any) -> list[str]:
    """Why Slack would answer ``invalid_blocks`` for ``blocks``; [] if it would take them."""
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    problems = []
    if len(blocks) > LIMITS["blocks"]:
        problems.append(f"{len(blocks)} blocks > {LIMITS['blocks']}")
    action_ids: set[str] = set()

    def check_text(where: str, obj: Any, limit: int, kinds: tuple[str, ...]) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in kinds:
            problems.append(f"{where}: not a {'/'.join(kinds)} text object")
            return
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            problems.append(f"{where}: empty text")
        elif units(text) > limit:
            problems.append(f"{where}: {units(text)} > {limit}")

    for i, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        where = f"blocks[{i}] ({kind})"
        if kind == "header":
            check_text(where, block.get("text"), LIMITS["header"], ("plain_text",))
        elif kind == "section":
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "image":
                url, alt = accessory.get("image_url"), accessory.get("alt_text")
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    problems.append(f"{where}.accessory: image_url is not a web URL")
                elif units(url) > LIMITS["image_url"]:
                    problems.append(f"{where}.accessory: image_url too long")
                if not isinstance(alt, str) or not alt or units(alt) > LIMITS["alt_text"]:
                    problems.append(f"{where}.accessory: alt_text empty or too long")
            elif accessory is not None:
                check_text(
                    f"{where}.accessory",
                    accessory.get("text"),
                    LIMITS["button_text"],
                    ("plain_text",),
                )
                action_id = accessory.get("action_id", "")
                if units(action_id) > LIMITS["action_id"] or action_id in action_ids:
                    problems.append(f"{where}.accessory: bad or repeated action_id")
                action_ids.add(action_id)
            if "text" in block:
                check_text(where, block["text"], LIMITS["section"], ("mrkdwn", "plain_text"))
            for j, f in enumerate(block.get("fields") or []):
                check_text(f"{where}.fields[{j}]", f, LIMITS["field"], ("mrkdwn", "plain_text"))
            if "text" not in block and not block.get("fields"):
                problems.append(f"{where}: neither text nor fields")
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= LIMITS["context_elements"]:
                problems.append(f"{where}: {len(elements)} elements")
            for j, element in enumerate(elements):
                check_text(
                    f"{where}[{j}]", element, LIMITS["context_text"], ("mrkdwn", "plain_text")
                )
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= LIMITS["actions_elements"]:
                problems.append(f"{where}: {len(elements)} elements")
            for j, element in enumerate(elements):
                check_text(
                    f"{where}[{j}]", element.get("text"), LIMITS["button_text"], ("plain_text",)
                )
                url = element.get("url", "")
                if units(url) > LIMITS["url"] or (
                    url and not url.startswith(("http://", "https://"))
                ):
                    problems.append(f"{where}[{j}]: bad url")
                action_id = element.get("action_id", "")
                if units(action_id) > LIMITS["action_id"] or action_id in action_ids:
                    problems.append(f"{where}[{j}]: bad or repeated action_id")
                action_ids.add(action_id)
        elif kind == "divider":
            pass
        else:
            problems.append(f"{where}: unknown block type")
    return problems


@dataclass(frozen=True)
class ApiCall:
    method: str
    args: dict[str, Any]  # query, form and JSON body merged; JSON-in-a-string decoded
    token: str  # the bearer token it came with (a fake one)
    at: float  # time.monotonic() when the fake received it
    status: int = 200
    answer: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Workspace:
    """One Slack workspace and paperboy's bot user in it."""

    team_id: str
    bot_user_id: str
    bot_id: str
    bot_token: str


@dataclass(frozen=True)
class SharedFile:
    """A file uploaded with files_upload_v2 and shared in a channel."""

    id: str
    name: str
    title: str
    data: bytes
    channel: str
    comment: str = ""


@dataclass(frozen=True)
class Unfurl:
    """One accepted chat.unfurl: the message it decorates and each URL's attachment."""

    channel: str
    ts: str
    unfurl_id: str
    unfurls: dict[str, Any]


@dataclass(frozen=True)
class TokenRotation:
    lifetime: float
    clock: Callable[[], float]


@dataclass(frozen=True)
class HistoryLimit:
    clock: Callable[[], float]
    page_size: int


@dataclass(frozen=True)
class Failure:
    status: int = 429
    retry_after: float = 1
    error: str | None = None
    commit: bool = False


@dataclass(frozen=True)
class Delivery:
    """What the app answered to one delivered payload."""

    status: int  # HTTP status; 200 for a Socket Mode ack
    body: str = ""  # HTTP response body
    ack: Mapping[str, Any] | None = None  # the Socket Mode ack ({"envelope_id", "payload"?})
    envelope_id: str = ""
    to: str = ""  # deliver_to_any: the URL or connection that acked it
    attempts: int = 1  # deliver_to_any: how many deliveries it took (retries + 1)


class FakeSlack:
    """Slack on one local port. See the module docstring for what it serves."""

    def __init__(
        self,
        *,
        team_id: str = "T0PAPERS",
        bot_user_id: str = "UPAPERBOY",
        bot_id: str = "BPAPERBOY",
        bot_token: str = "xoxb-fake-bot-token-0000",
        app_token: str = "xapp-1-fake-app-token-0000",
        signing_secret: str = "fake-signing-secret-0000",
        send_hello: bool = True,
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.send_hello = send_hello
        self.client_id = "1111.2222"
        self.client_secret = "fake-client-secret-0000"
        self.workspaces: dict[str, Workspace] = {}  # by bot token, the default one included
        self.workspaces[bot_token] = Workspace(team_id, bot_user_id, bot_id, bot_token)
        self._codes: dict[str, str] = {}  # OAuth code -> team id, each good once
        self._rotation: TokenRotation | None = None  # rotate_tokens: tokens expire
        self._expires: dict[str, float] = {}  # token -> when it stops working
        self._refresh_tokens: dict[str, str] = {}  # refresh token -> team id, each good once
        self._bot_users = {bot_user_id}  # of every workspace ever installed
        self.refuse_sockets = False  # True: websocket upgrades answer 403 (a broken network)

        self.calls: list[ApiCall] = []
        self.unhandled: list[str] = []
        self.responses: dict[str, list[dict]] = defaultdict(list)
        self.acks: dict[str, dict] = {}
        self.connections = 0
        self.users: dict[str, dict] = {}  # known in every workspace
        self._team_users: dict[tuple[str, str], dict] = {}  # (team, user id): one workspace's
        self.files: list[SharedFile] = []
        self.unfurls: list[Unfurl] = []
        # Links named by link_shared events: (channel, ts) or unfurl id -> the URLs
        self._shared_links: dict[tuple[str, str] | str, list[str]] = {}
        self._uploads: dict[str, dict[str, Any]] = {}  # file id -> announced name, length, bytes
        # (team id, channel id) -> messages: two workspaces may use the same channel ids
        self._messages: dict[tuple[str, str], list[dict]] = defaultdict(list)
        self._history_limit: HistoryLimit | None = None
        self._history_reads: dict[str, float] = {}  # team -> when its last read was let through
        self._refused: dict[str, str] = {}
        self._dm_refused: dict[str, str] = {}  # user id -> conversations.open's error
        self._private: set[str] = set()
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._delays: dict[str, float | Callable[[], float]] = {}
        self._expired: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        # deliver_to_any's envelopes awaiting their ack: id -> (connection, acked or not)
        self._awaiting: dict[str, tuple[web.WebSocketResponse, asyncio.Future[bool]]] = {}
        self._seq = itertools.count(1)
        self._last_ts_us = 0
        # (channel, ts) -> reaction name -> users, in the order they reacted
        self._reactions: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(dict)
        self._reaction_user_cap: int | None = None
        self._server = LocalServer()
        self._session: aiohttp.ClientSession | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket/{id}", self._socket)
        await self._server.start(app)
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self._server.close()

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- where it is -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def api_url(self) -> str:
        """What ``SLACK_API_URL`` should be (the Web API base URL, with its trailing slash)."""
        return f"{self.base_url}/api/"

    def settings(
        self, *, socket_mode: bool = True, oauth: bool = False, **overrides: Any
    ) -> SlackSettings:
        """Slack's settings pointing at the fake (SLACK_BOT_TOKEN and friends).

        ``socket_mode=False`` leaves ``app_token`` empty (HTTP mode) and sets port 0,
        so the adapter listens on a free port. ``oauth=True``: HTTP mode with
        SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead of a bot token.
        """
        slack: dict[str, Any] = {
            "bot_token": self.bot_token,
            "app_token": self.app_token if socket_mode else "",
            "signing_secret": self.signing_secret,
            "api_url": self.api_url,
        }
        if oauth:
            socket_mode = False
            slack.update(
                bot_token="",
                app_token="",
                client_id=self.client_id,
                client_secret=self.client_secret,
            )
        if not socket_mode:
            slack["port"] = 0
        return SlackSettings(**{**slack, **overrides})

    def platform(self, *, socket_mode: bool = True, **overrides: Any) -> Configured:
        """Slack, configured to use the fake: what ``adapters.launch.run`` takes."""
        settings = self.settings(socket_mode=socket_mode, **overrides)
        return adapters.slack.PLATFORM.configure(settings)

    # --- test controls ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: float = 1,
        *,
        error: str | None = None,
        times: int = 1,
        commit: bool = False,
    ) -> None:
        """The next ``times`` calls of ``method`` fail; see the module docstring."""
        for _ in range(times):
            self._failures[method].append(Failure(status, retry_after, error, commit))

    def delay_answers(self, method: str, seconds: float | Callable[[], float] | None) -> None:
        """``method`` acts at once but answers ``seconds`` later (callable: asked per call)."""
        if seconds is None:
            self._delays.pop(method, None)
        else:
            self._delays[method] = seconds

    def refuse_channel(
        self, channel: str, error: str = "not_in_channel", *, joinable: bool = True
    ) -> None:
        """Posting in ``channel`` fails with ``error``. A ``not_in_channel`` channel that is
        ``joinable`` (public) accepts posts once the bot calls ``conversations.join``."""
        self._refused[channel] = error
        if not joinable:
            self._private.add(channel)

    def refuse_dm(self, user_id: str, error: str = "user_disabled") -> None:
        """``conversations.open`` with ``user_id`` fails with ``error``."""
        self._dm_refused[user_id] = error

    def add_user(
        self,
        user_id: str,
        *,
        name: str = "",
        is_admin: bool = False,
        is_owner: bool = False,
        team_id: str | None = None,
    ) -> None:
        """What ``users.info`` answers for ``user_id``: in workspace ``team_id`` only, or
        (``None``) in every workspace that has no user of that id of its own."""
        user = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": name or user_id.lower(),
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": False,
            "is_bot": False,
            "profile": {"display_name": name, "real_name": name},
        }
        if team_id is None:
            self.users[user_id] = user
        else:
            self._team_users[(team_id, user_id)] = user

    def limit_history(
        self, *, clock: Callable[[], float] = time.monotonic, page_size: int = 15
    ) -> None:
        """``conversations.history`` as Slack limits it for a distributed app outside the
        Marketplace: one call a minute per workspace (by ``clock``; the next gets 429 with
        ``Retry-After``), at most ``page_size`` messages a call."""
        self._history_limit = HistoryLimit(clock, page_size)

    def seed_message(
        self,
        channel: str,
        text: str = "hello",
        *,
        user: str = "UHUMAN",
        bot_id: str | None = None,
        metadata: dict | None = None,
        team_id: str | None = None,
    ) -> str:
        """Add a message the bot did not post (or did, with ``user=fake.bot_user_id``), in
        workspace ``team_id`` (the default one unless given)."""
        message = {"type": "message", "user": user, "text": text, "ts": self._next_ts()}
        if bot_id:
            message["bot_id"] = bot_id
        if metadata:
            message["metadata"] = metadata
        self._messages[(team_id or self.team_id, channel)].append(message)
        return message["ts"]

    def react(
        self,
        ts: str,
        *,
        channel: str = "C1",
        user: str = "UALICE",
        emoji: str = "+1",
        added: bool = True,
    ) -> dict:
        """``user`` adds (or removes) ``emoji`` on message ``ts``; returns the event payload."""
        users = self._reactions[(channel, ts)].setdefault(emoji, [])
        if added and user not in users:
            users.append(user)
        elif not added and user in users:
            users.remove(user)
        if not users:
            del self._reactions[(channel, ts)][emoji]
        return self.reaction_payload(ts, channel=channel, user=user, emoji=emoji, added=added)

    def standing_reactions(self) -> set[tuple[str, str, str, str]]:
        """Every reaction present now: (channel, message ts, user, emoji)."""
        return {
            (channel, ts, user, emoji)
            for (channel, ts), by_emoji in self._reactions.items()
            for emoji, users in by_emoji.items()
            for user in users
        }

    def has_reaction(self, channel: str, ts: str, user: str, emoji: str) -> bool:
        return user in self._reactions.get((channel, ts), {}).get(emoji, ())

    def cut_reaction_users(self, most: int | None) -> None:
        self._reaction_user_cap = most

    def share_links(
        self,
        urls: list[str],
        *,
        channel: str = "C1",
        user: str = "UALICE",
        text: str | None = None,
        source: str = "conversations_history",
    ) -> dict:
        """``user`` posts a message linking ``urls`` (or, with ``source="composer"``, is still
        writing it); returns the ``link_shared`` event payload Slack sends."""
        unfurl_id = f"{channel}.{uuid.uuid4().hex[:16]}"
        if source == "composer":
            ts, shown_channel = f"COMPOSER-{uuid.uuid4().hex[:8]}", "COMPOSER"
        else:
            ts = self.seed_message(channel, text or " ".join(f"<{u}>" for u in urls), user=user)
            shown_channel = channel
            self._shared_links[(channel, ts)] = list(urls)
        self._shared_links[unfurl_id] = list(urls)
        event = {
            "type": "link_shared",
            "channel": shown_channel,
            "is_bot_user_member": True,
            "user": user,
            "message_ts": ts,
            "unfurl_id": unfurl_id,
            "source": source,
            "links": [{"domain": _domain(u), "url": u} for u in urls],
            "event_ts": self._next_ts(),
        }
        return self.event_payload(event)

    def expire(self, response_url: str) -> None:
        self._expired.add(response_url)

    async def ask_to_reconnect(self) -> None:
        await self._send_ws({"type": "disconnect", "reason": "refresh_requested"})

    async def drop_connections(self) -> None:
        for ws in list(self._sockets):
            await ws.close()

    def install(self, team_id: str) -> str:
        """A user of ``team_id`` allows the app: the code for the app's redirect URL."""
        code = f"code-{team_id}-{uuid.uuid4().hex[:8]}"
        self._codes[code] = team_id
        return code

    def rotate_tokens(
        self, *, lifetime: float = 12 * 3600.0, clock: Callable[[], float] = time.time
    ) -> None:
        """Token rotation turned on for the app: installs from now on get a bot token that
        stops working ``lifetime`` seconds later (by ``clock``: ``token_expired``) and a
        refresh token, which ``oauth.v2.access`` with ``grant_type=refresh_token`` exchanges,
        once, for a new pair."""
        self._rotation = TokenRotation(lifetime, clock)

    def workspace(self, team_id: str) -> Workspace | None:
        """The workspace's current installation, its newest token (None: not installed, or
        uninstalled)."""
        newest = [w for w in self.workspaces.values() if w.team_id == team_id]
        return newest[-1] if newest else None

    def uninstall(self, team_id: str) -> dict:
        """The workspace removes the app: its tokens stop working; the event Slack sends."""
        for found in [w for w in self.workspaces.values() if w.team_id == team_id]:
            del self.workspaces[found.bot_token]
        return self.event_payload({"type": "app_uninstalled"}, team_id=team_id)

    # --- what happened ---------------------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str, team_id: str | None = None) -> list[dict]:
        """The channel's messages, oldest first (posted by the bot or seeded), in workspace
        ``team_id``, or in every workspace that has a channel of that id."""
        found = [
            m
            for (team, ch), messages in self._messages.items()
            if ch == channel and team_id in (None, team)
            for m in messages
        ]
        return sorted(found, key=lambda m: float(m["ts"]))

    def posts(self, channel: str | None = None, team_id: str | None = None) -> list[dict]:
        """What the bot posted (in ``channel``, or anywhere; in workspace ``team_id``, or in
        any), oldest first."""
        found = [
            m
            for (team, ch), messages in self._messages.items()
            if channel in (None, ch) and team_id in (None, team)
            for m in messages
            if m.get("user") in self._bot_users
        ]
        return sorted(found, key=lambda m: float(m["ts"]))

    def channels(self) -> Mapping[tuple[str, str], list[dict]]:
        """Every channel's messages, oldest first, by (team id, channel id): one pass over
        all of them, for a test with thousands of channels."""
        return self._messages

    async def wait_response(self, response_url: str, count: int = 1, timeout: float = 5.0) -> dict:
        """The ``count``-th payload posted to ``response_url`` (waits for it)."""
        await wait_until(lambda: len(self.responses.get(response_url, ())) >= count, timeout)
        return self.responses[response_url][count - 1]

    # --- payloads Slack would send ---------------------------------------------------------

    def new_response_url(self) -> str:
        return f"{self.base_url}/response/{uuid.uuid4().hex}"

    def command_payload(
        self,
        text: str,
        *,
        user: str = "UALICE",
        channel: str = "C1",
        command: str = "/papers",
        user_name: str = "alice",
        team_id: str | None = None,
    ) -> dict[str, str]:
        """A slash command as Slack sends it, with a fresh response_url and trigger_id."""
        return {
            "token": "legacy-verification-token",
            "team_id": team_id or self.team_id,
            "team_domain": "paperboy-test",
            "channel_id": channel,
            "channel_name": "papers",
            "user_id": user,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": "APAPERBOY",
            "is_enterprise_install": "false",
            "response_url": self.new_response_url(),
            "trigger_id": f"{next(self._seq)}.{uuid.uuid4().hex[:12]}",
        }

    def reaction_payload(
        self,
        ts: str,
        *,
        channel: str = "C1",
        user: str = "UALICE",
        emoji: str = "+1",
        added: bool = True,
        item_user: str | None = None,
        event_id: str | None = None,
        team_id: str | None = None,
    ) -> dict:
        """An Events API ``reaction_added``/``reaction_removed`` callback on message ``ts``."""
        event = {
            "type": "reaction_added" if added else "reaction_removed",
            "user": user,
            "reaction": emoji,
            "item_user": item_user if item_user is not None else self.bot_user_id,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": self._next_ts(),
        }
        return self.event_payload(event, event_id=event_id, team_id=team_id)

    def event_payload(
        self, event: dict, *, event_id: str | None = None, team_id: str | None = None
    ) -> dict:
        team_id = team_id or self.team_id
        found = self.workspace(team_id)
        bot_user_id = found.bot_user_id if found else f"U{team_id}BOT"
        return {
            "token": "legacy-verification-token",
            "team_id": team_id,
            "api_app_id": "APAPERBOY",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team_id, "user_id": bot_user_id, "is_bot": True}],
        }

    def link_click_payload(
        self,
        button: dict,
        *,
        ts: str,
        channel: str = "C1",
        user: str = "UALICE",
        team_id: str | None = None,
    ) -> dict:
        """The ``block_actions`` payload Slack sends when someone clicks a ``button`` of the
        channel message ``ts`` (a URL button, or one with a ``value``)."""
        container = {"type": "message", "message_ts": ts, "channel_id": channel}
        return self._click(
            button, container, channel, user, "alice", "links", message_ts=ts, team_id=team_id
        )

    def share_click_payload(
        self,
        button: dict,
        *,
        channel: str = "C1",
        user: str = "UALICE",
        username: str = "alice",
        response_url: str | None = None,
    ) -> dict:
        """The ``block_actions`` payload of a click on a (non-URL) ``button`` that sits in an
        ephemeral answer (the answer is not a channel message, so no ``message``)."""
        container = {
            "type": "message",
            "message_ts": self._next_ts(),
            "channel_id": channel,
            "is_ephemeral": True,
        }
        return self._click(
            button, container, channel, user, username, "share", response_url=response_url
        )

    def unfurl_click_payload(
        self, button: dict, *, ts: str, channel: str = "C1", user: str = "UALICE"
    ) -> dict:
        """The ``block_actions`` payload of a press on a (non-URL) ``button`` of an unfurl
        under message ``ts`` (the unfurl is an attachment of someone else's message)."""
        container = {
            "type": "message_attachment",
            "message_ts": ts,
            "attachment_id": 1,
            "channel_id": channel,
            "is_ephemeral": False,
            "is_app_unfurl": True,
        }
        return self._click(button, container, channel, user, "alice", "votes", message_ts=ts)

    def _click(
        self,
        button: dict,
        container: dict,
        channel: str,
        user: str,
        username: str,
        block_id: str,
        *,
        message_ts: str | None = None,
        response_url: str | None = None,
        team_id: str | None = None,
    ) -> dict:
        team = team_id or self.team_id
        action = {
            "type": "button",
            "action_id": button["action_id"],
            "block_id": button.get("block_id", block_id),
            "text": button["text"],
            "action_ts": f"{time.time():.6f}",
        }
        action.update({k: button[k] for k in ("url", "value") if k in button})
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "paperboy-test"},
            "user": {"id": user, "username": username, "name": username, "team_id": team},
            "api_app_id": "APAPERBOY",
            "token": "legacy-verification-token",
            "container": container,
            "trigger_id": f"{next(self._seq)}.{uuid.uuid4().hex[:12]}",
            "channel": {"id": channel, "name": "papers"},
            "response_url": response_url or self.new_response_url(),
            "actions": [action],
        }
        if message_ts is not None:
            payload["message"] = {"type": "message", "ts": message_ts}
        return payload

    def edits(self, channel: str | None = None) -> list[ApiCall]:
        """Successful chat.update calls (in ``channel``, or anywhere), in order."""
        return [
            c
            for c in self.calls_to("chat.update")
            if c.status == 200
            and c.answer.get("ok")
            and (channel is None or c.args.get("channel") == channel)
        ]

    # --- delivering payloads to the app ----------------------------------------------------

    async def deliver(
        self, payload: dict, *, to: str | None = None, retry: int = 0, timeout: float = 5.0
    ) -> Delivery:
        """Send ``payload`` to the app and return its answer.

        ``to`` is the app's HTTP URL (HTTP mode: a signed POST, form-encoded for commands,
        JSON for events); without it the payload goes down the Socket Mode websocket and
        this waits for the ack. ``retry`` > 0 marks a re-send (``X-Slack-Retry-Num`` /
        ``retry_attempt``).
        """
        if to is not None:
            headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            return await self.post_to_app(to, payload, headers=headers if retry else None)
        envelope_id = await self.send_envelope(payload, retry_attempt=retry)
        await wait_until(lambda: envelope_id in self.acks, timeout)
        return Delivery(200, ack=self.acks[envelope_id], envelope_id=envelope_id)

    async def deliver_to_any(
        self,
        payload: dict,
        rng: random.Random,
        *,
        urls: Callable[[], Sequence[str]] | None = None,
        retry: int = 0,
        answer_within: float = 10.0,
        max_attempts: int = 50,
    ) -> Delivery:
        """Deliver ``payload`` to one of several processes of the app, again and again until
        one acknowledges it; the acknowledging delivery.

        With ``urls`` (the processes' HTTP URLs now, asked per attempt): a signed POST to one
        picked with ``rng``; a connection refused or cut, an answer other than 200, or none
        within ``answer_within`` seconds counts as not delivered. Without: one of the open
        Socket Mode connections gets the envelope; it counts as not delivered when that
        connection closes before its ack. Each retry carries Slack's retry headers
        (``retry`` > 0: the first delivery is already a re-send).
        """
        for attempt in range(retry, retry + max_attempts):
            if urls is None:
                delivery = await self._try_socket(payload, rng, attempt)
            else:
                delivery = await self._try_http(payload, rng, urls, attempt, answer_within)
            if delivery is not None:
                return replace(delivery, attempts=attempt - retry + 1)
        raise AssertionError(f"no process acknowledged a delivery in {max_attempts} attempts")

    async def _try_http(
        self,
        payload: dict,
        rng: random.Random,
        urls: Callable[[], Sequence[str]],
        attempt: int,
        answer_within: float,
    ) -> Delivery | None:
        url = rng.choice(list(await wait_until(urls, timeout=30)))
        headers = (
            {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_error"}
            if attempt
            else None
        )
        try:
            async with asyncio.timeout(answer_within):
                delivery = await self.post_to_app(url, payload, headers=headers)
        except (aiohttp.ClientError, TimeoutError):
            return None
        return replace(delivery, to=url) if delivery.status == 200 else None

    async def _try_socket(self, payload: dict, rng: random.Random, attempt: int) -> Delivery | None:
        await wait_until(lambda: any(not ws.closed for ws in self._sockets), timeout=30)
        ws = rng.choice([ws for ws in self._sockets if not ws.closed])
        envelope_id = str(uuid.uuid4())
        acked = asyncio.get_running_loop().create_future()
        self._awaiting[envelope_id] = (ws, acked)
        try:
            await ws.send_str(json.dumps(self._envelope(payload, envelope_id, attempt)))
        except (ConnectionError, RuntimeError):  # closed meanwhile
            self._settle(envelope_id, False)
        # Acked, or the connection gone (kill -9 closes it) without an ack.
        if not await asyncio.wait_for(acked, 60):
            return None
        return Delivery(200, ack=self.acks[envelope_id], envelope_id=envelope_id, to=str(id(ws)))

    def _settle(self, envelope_id: str, acked: bool) -> None:
        waiting = self._awaiting.pop(envelope_id, None)
        if waiting is not None and not waiting[1].done():
            waiting[1].set_result(acked)

    @staticmethod
    def encode(payload: dict) -> tuple[str, str]:
        """(body, content type) as Slack sends ``payload`` over HTTP."""
        if "command" in payload:
            return urlencode(payload), "application/x-www-form-urlencoded"
        if payload.get("type") == "block_actions":  # interactivity: JSON in a form field
            return urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
        return json.dumps(payload), "application/json"

    def sign(
        self, body: str, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Slack's request signature headers: ``v0=`` HMAC-SHA256 of ``v0:{ts}:{body}``."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        key = (self.signing_secret if secret is None else secret).encode()
        digest = hmac.new(key, f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}

    async def post_to_app(
        self,
        url: str,
        payload: dict,
        *,
        signed: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Delivery:
        """One HTTP-mode request, signed unless ``signed=False`` (or with a wrong secret/time)."""
        assert self._session is not None, "start the fake first"
        body, content_type = self.encode(payload)
        all_headers = {"Content-Type": content_type, **(headers or {})}
        if signed:
            all_headers.update(self.sign(body, timestamp=timestamp, secret=secret))
        async with self._session.post(url, data=body.encode(), headers=all_headers) as resp:
            return Delivery(resp.status, await resp.text())

    async def send_envelope(
        self, payload: dict, *, retry_attempt: int = 0, kind: str | None = None
    ) -> str:
        """Push ``payload`` down the newest websocket as a Socket Mode envelope; its id."""
        envelope_id = str(uuid.uuid4())
        await self._send_ws(self._envelope(payload, envelope_id, retry_attempt, kind))
        return envelope_id

    @staticmethod
    def _envelope(
        payload: dict, envelope_id: str, retry_attempt: int = 0, kind: str | None = None
    ) -> dict[str, Any]:
        if kind is None and payload.get("type") == "block_actions":
            kind = "interactive"
        kind = kind or ("slash_commands" if "command" in payload else "events_api")
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = "timeout" if retry_attempt else ""
        return envelope

    async def _send_ws(self, message: dict) -> None:
        await wait_until(lambda: any(not ws.closed for ws in self._sockets))
        ws = next(ws for ws in reversed(self._sockets) if not ws.closed)
        await ws.send_str(json.dumps(message))

    # --- the server side -------------------------------------------------------------------

    def _next_ts(self) -> str:
        # Integer microseconds: a float loses the last digit of a ts.
        self._last_ts_us = max(time.time_ns() // 1000, self._last_ts_us + 1)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _request_args(request)
        token = _bearer(request) or str(args.pop("token", ""))
        args.update(_basic_auth(request))  # oauth.v2.access: client_id and client_secret
        handler = _METHODS.get(method)
        if handler is None:
            self.unhandled.append(method)
            return self._record(method, args, token, 404, {"ok": False, "error": "unknown_method"})
        failure = self._failures[method].popleft() if self._failures[method] else None
        failure = failure or self._over_limit(method, token)
        if failure is None or failure.commit:
            status, answer = 200, handler(self, args, token)
        if failure is not None:
            status, answer, headers = _failure_answer(failure)
            response = self._record(method, args, token, status, answer, headers)
        else:
            response = self._record(method, args, token, status, answer)
        delay = self._delays.get(method)
        if delay is not None:
            await asyncio.sleep(delay() if callable(delay) else delay)
        return response

    def _record(
        self,
        method: str,
        args: dict,
        token: str,
        status: int,
        answer: dict,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        self.calls.append(ApiCall(method, args, token, time.monotonic(), status, answer))
        return web.json_response(answer, status=status, headers=headers)

    def _check_token(self, token: str, expected: str) -> dict | None:
        """``expected`` is the app token, or ``bot_token`` for any installed bot's token."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token != expected and not (expected == self.bot_token and token in self.workspaces):
            return {"ok": False, "error": "invalid_auth"}
        if self._rotation is not None and self._rotation.clock() >= self._expires.get(
            token, math.inf
        ):
            return {"ok": False, "error": "token_expired"}
        return None

    def _bot_of(self, token: str) -> Workspace:
        return self.workspaces[token]

    def _message(self, token: str, channel: str, ts: str) -> dict | None:
        """Message ``ts`` of ``channel`` in the workspace ``token`` belongs to."""
        messages = self._messages[(self._bot_of(token).team_id, channel)]
        return next((m for m in messages if m["ts"] == ts), None)

    def _over_limit(self, method: str, token: str) -> Failure | None:
        """A 429 for a history read the workspace's minute has no room for (limit_history)."""
        limit = self._history_limit
        if limit is None or method != "conversations.history" or token not in self.workspaces:
            return None
        team, now = self._bot_of(token).team_id, limit.clock()
        last = self._history_reads.get(team)
        if last is not None and now - last < 60.0:
            return Failure(429, retry_after=math.ceil(60.0 - (now - last)))
        self._history_reads[team] = now
        return None

    def _auth_test(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        me = self._bot_of(token)
        return {
            "ok": True,
            "url": f"https://{me.team_id.lower()}.slack.com/",
            "team": f"workspace {me.team_id}",
            "user": "paperboy",
            "team_id": me.team_id,
            "user_id": me.bot_user_id,
            "bot_id": me.bot_id,
            "is_enterprise_install": False,
        }

    def _oauth_access(self, args: dict, token: str) -> dict:
        if (args.get("client_id"), args.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            return self._refresh(str(args.get("refresh_token") or ""))
        team_id = self._codes.pop(str(args.get("code") or ""), None)
        if team_id is None:
            return {"ok": False, "error": "invalid_code"}
        old = self.workspace(team_id)
        for token in [t for t, w in self.workspaces.items() if w.team_id == team_id]:
            del self.workspaces[token]  # a reinstall: a new token, the bot stays the same user
        bot = self._new_token(team_id, old)
        return {
            "ok": True,
            **self._token_fields(bot),
            "scope": "commands,chat:write",
            "bot_user_id": bot.bot_user_id,
            "app_id": "APAPERBOY",
            "team": {"id": team_id, "name": f"workspace {team_id}"},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": f"U{team_id}ADMIN"},
        }

    def _new_token(self, team_id: str, old: Workspace | None) -> Workspace:
        bot = Workspace(
            team_id,
            old.bot_user_id if old else f"U{team_id}BOT",
            old.bot_id if old else f"B{team_id}BOT",
            f"xoxb-{team_id}-{uuid.uuid4().hex}",
        )
        self.workspaces[bot.bot_token] = bot
        self._bot_users.add(bot.bot_user_id)
        return bot

    def _token_fields(self, bot: Workspace) -> dict[str, Any]:
        fields: dict[str, Any] = {"access_token": bot.bot_token}
        if self._rotation is not None:
            self._expires[bot.bot_token] = self._rotation.clock() + self._rotation.lifetime
            refresh_token = f"xoxe-1-{bot.team_id}-{uuid.uuid4().hex}"
            self._refresh_tokens[refresh_token] = bot.team_id
            fields.update(refresh_token=refresh_token, expires_in=int(self._rotation.lifetime))
        return fields

    def _refresh(self, refresh_token: str) -> dict:
        """A new token and refresh token for the workspace; the refresh token is spent, and
        the old token keeps working until it expires."""
        team_id = self._refresh_tokens.pop(refresh_token, None)
        if team_id is None or self.workspace(team_id) is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        bot = self._new_token(team_id, self.workspace(team_id))
        return {
            "ok": True,
            **self._token_fields(bot),
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": bot.bot_user_id,
            "app_id": "APAPERBOY",
            "team": {"id": team_id, "name": f"workspace {team_id}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _connections_open(self, args: dict, token: str) -> dict:
        if token.startswith("xoxb-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        return self._check_token(token, self.app_token) or {
            "ok": True,
            "url": f"ws://127.0.0.1:{self._server.port}/socket/{uuid.uuid4().hex}",
        }

    def _post_message(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        channel = str(args.get("channel") or "")
        text, blocks = args.get("text"), args.get("blocks")
        error = None
        if not channel:
            error = "channel_not_found"
        elif channel in self._refused:
            error = self._refused[channel]
        elif not text and not blocks:
            error = "no_text"
        elif isinstance(text, str) and units(text) > LIMITS["text"]:
            error = "msg_too_long"
        elif blocks is not None and block_problems(blocks):
            return {"ok": False, "error": "invalid_blocks", "errors": block_problems(blocks)}
        if error:
            return {"ok": False, "error": error}
        me = self._bot_of(token)
        message = {
            "type": "message",
            "user": me.bot_user_id,
            "bot_id": me.bot_id,
            "app_id": "APAPERBOY",
            "text": text or "",
            "ts": self._next_ts(),
            "team": me.team_id,
        }
        if blocks:
            message["blocks"] = blocks
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self._messages[(me.team_id, channel)].append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _update(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        message = self._message(token, channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("user") != self._bot_of(token).bot_user_id:
            return {"ok": False, "error": "cant_update_message"}
        text, blocks = args.get("text"), args.get("blocks")
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        if blocks is not None and block_problems(blocks):
            return {"ok": False, "error": "invalid_blocks", "errors": block_problems(blocks)}
        message["text"] = text or ""
        if blocks is not None:
            message["blocks"] = blocks
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        message["edited"] = {"user": self._bot_of(token).bot_user_id, "ts": self._next_ts()}
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"]}

    def _unfurl(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        unfurl_id, source = str(args.get("unfurl_id") or ""), str(args.get("source") or "")
        if channel and ts:
            shared = self._shared_links.get((channel, ts))
        elif unfurl_id and source:
            shared = self._shared_links.get(unfurl_id)
        else:
            return {"ok": False, "error": "invalid_arguments"}
        if shared is None:
            return {"ok": False, "error": "cannot_find_message" if ts else "invalid_unfurl_id"}
        unfurls = args.get("unfurls")
        if not isinstance(unfurls, dict) or not unfurls:
            return {"ok": False, "error": "invalid_unfurls_format"}
        for url, unfurl in unfurls.items():
            if url not in shared:
                return {"ok": False, "error": "cannot_unfurl_url"}
            if not isinstance(unfurl, dict) or block_problems(unfurl.get("blocks")):
                problems = block_problems(unfurl.get("blocks") if isinstance(unfurl, dict) else 0)
                return {"ok": False, "error": "invalid_blocks", "errors": problems}
        self.unfurls.append(Unfurl(channel, ts, unfurl_id, unfurls))
        return {"ok": True}

    def _permalink(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        channel, ts = str(args.get("channel") or ""), str(args.get("message_ts") or "")
        if self._message(token, channel, ts) is None:
            return {"ok": False, "error": "message_not_found"}
        link = f"https://paperboy-test.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _history(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        channel = str(args.get("channel") or "")
        if channel in self._refused:
            return {"ok": False, "error": self._refused[channel]}
        limit = min(int(args.get("limit") or 100), 999)
        start = int(args.get("cursor") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        if self._history_limit is not None:
            limit = min(int(args.get("limit") or 15), self._history_limit.page_size)
        newest_first = list(reversed(self._messages[(self._bot_of(token).team_id, channel)]))
        if args.get("oldest"):
            oldest = float(args["oldest"])
            newest_first = [m for m in newest_first if float(m["ts"]) > oldest]
        page = newest_first[start : start + limit]
        if not with_metadata:
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        has_more = start + limit < len(newest_first)
        return {
            "ok": True,
            "messages": page,
            "has_more": has_more,
            "response_metadata": {"next_cursor": str(start + limit) if has_more else ""},
        }

    def _join(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        channel = str(args.get("channel") or "")
        if channel in self._private:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if self._refused.get(channel) == "not_in_channel":
            del self._refused[channel]
        elif channel in self._refused:
            return {"ok": False, "error": self._refused[channel]}
        return {"ok": True, "channel": {"id": channel, "is_member": True}}

    def _reactions_get(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        channel, ts = str(args.get("channel") or ""), str(args.get("timestamp") or "")
        if channel in self._refused:
            return {"ok": False, "error": self._refused[channel]}
        message = self._message(token, channel, ts)
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        full = str(args.get("full", "")).lower() in ("1", "true")
        cap = self._reaction_user_cap if full else min(3, self._reaction_user_cap or 3)
        reactions = [
            {
                "name": name,
                "users": users[:cap] if cap is not None else list(users),
                "count": len(users),
            }
            for name, users in self._reactions[(channel, ts)].items()
        ]
        shown = {k: v for k, v in message.items() if k != "metadata"}
        if reactions:
            shown["reactions"] = reactions
        return {"ok": True, "type": "message", "channel": channel, "message": shown}

    def _users_info(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        user_id = str(args.get("user") or "")
        user = self._team_users.get((self._bot_of(token).team_id, user_id)) or self.users.get(
            user_id
        )
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _open_conversation(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1:
            return {"ok": False, "error": "not_implemented" if users else "users_list_not_supplied"}
        if users[0] in self._dm_refused:
            return {"ok": False, "error": self._dm_refused[users[0]]}
        return {"ok": True, "channel": {"id": f"D{users[0]}", "is_im": True}}

    def _get_upload_url(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        filename, length = str(args.get("filename") or ""), str(args.get("length") or "")
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._seq):08d}"
        self._uploads[file_id] = {"filename": filename, "length": int(length), "data": None}
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self._uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        upload["data"] = await request.read()
        return web.Response(text=f"OK - {len(upload['data'])}")

    def _complete_upload(self, args: dict, token: str) -> dict:
        denied = self._check_token(token, self.bot_token)
        if denied:
            return denied
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        uploads = [self._uploads.get(str(f.get("id"))) for f in files]
        if any(u is None or u["data"] is None or len(u["data"]) != u["length"] for u in uploads):
            return {"ok": False, "error": "file_upload_incomplete"}
        channel = str(args.get("channel_id") or "")
        shared = []
        for f, upload in zip(files, uploads, strict=True):
            assert upload is not None
            shared_file = SharedFile(
                id=str(f["id"]),
                name=upload["filename"],
                title=str(f.get("title") or upload["filename"]),
                data=upload["data"],
                channel=channel,
                comment=str(args.get("initial_comment") or ""),
            )
            del self._uploads[shared_file.id]
            if channel:
                self.files.append(shared_file)
            shared.append(
                {"id": shared_file.id, "name": shared_file.name, "title": shared_file.title}
            )
        return {"ok": True, "files": shared}

    async def _response_url(self, request: web.Request) -> web.Response:
        url = f"{self.base_url}{request.path}"
        payload = await request.json()
        if url in self._expired:
            return web.Response(status=404, text="expired_url")
        failures = self._failures["response_url"]
        failure = failures.popleft() if failures else None
        if failure is None or failure.commit:
            self.responses[url].append(payload)
        if failure is not None:
            status, answer, headers = _failure_answer(failure)
            return web.json_response(answer, status=status, headers=headers)
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_sockets:
            return web.Response(status=403)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connections += 1
        if self.send_hello:
            await ws.send_str(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": 1,
                        "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                        "connection_info": {"app_id": "APAPERBOY"},
                    }
                )
            )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    if "envelope_id" in data:
                        self.acks[data["envelope_id"]] = data
                        self._settle(data["envelope_id"], True)
        finally:
            self._sockets.remove(ws)
            for envelope_id, (on, _) in list(self._awaiting.items()):
                if on is ws:  # gone before its ack: Slack delivers it again elsewhere
                    self._settle(envelope_id, False)
        return ws


_METHODS: dict[str, Callable[[FakeSlack, dict, str], dict]] = {
    "auth.test": FakeSlack._auth_test,
    "oauth.v2.access": FakeSlack._oauth_access,
    "apps.connections.open": FakeSlack._connections_open,
    "chat.postMessage": FakeSlack._post_message,
    "chat.update": FakeSlack._update,
    "chat.getPermalink": FakeSlack._permalink,
    "chat.unfurl": FakeSlack._unfurl,
    "conversations.history": FakeSlack._history,
    "conversations.join": FakeSlack._join,
    "reactions.get": FakeSlack._reactions_get,
    "users.info": FakeSlack._users_info,
    "conversations.open": FakeSlack._open_conversation,
    "files.getUploadURLExternal": FakeSlack._get_upload_url,
    "files.completeUploadExternal": FakeSlack._complete_upload,
}


def _failure_answer(failure: Failure) -> tuple[int, dict, dict[str, str]]:
    if failure.status == 429:
        retry_after = str(int(failure.retry_after))
        return (
            429,
            {"ok": False, "error": failure.error or "ratelimited"},
            {"Retry-After": retry_after},
        )
    return failure.status, {"ok": False, "error": failure.error or "internal_error"}, {}


def _domain(url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0].lower()
    return host.removeprefix("www.")


def _basic_auth(request: web.Request) -> dict[str, str]:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Basic "):
        return {}
    client_id, _, secret = base64.b64decode(auth[len("Basic ") :]).decode().partition(":")
    return {"client_id": client_id, "client_secret": secret}


def _bearer(request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    return auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""


async def _request_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update(dict(await request.post()))
    # Form-encoded calls carry structured arguments as JSON strings.
    for key in ("blocks", "metadata", "attachments", "files", "unfurls"):
        if isinstance(args.get(key), str):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args
