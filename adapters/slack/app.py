"""The Slack adapter: slack-bolt's ``AsyncApp`` on the core's event loop.

It translates Slack payloads into core events and renders core replies, nothing more.
Socket Mode when ``SLACK_APP_TOKEN`` is set (no public URL needed); otherwise HTTP mode on
``PORT`` at ``/slack/events``, verified with ``SLACK_SIGNING_SECRET``.

One workspace with ``SLACK_BOT_TOKEN``; or, with ``SLACK_CLIENT_ID`` and
``SLACK_CLIENT_SECRET`` (HTTP mode), any number of workspaces installed through Bolt's OAuth
flow (``/slack/install``), each call made with the token of the workspace it acts on.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.platform import PlatformStartError
from adapters.slack.files import send_file_privately
from adapters.slack.history import LIMITED_PAGE_SIZE, HistoryBudget, HistoryWalks, Walk
from adapters.slack.http_server import EVENTS_PATH, HttpLimits, SlackHttpServer
from adapters.slack.installations import StoreInstallationStore, StoreStateStore
from adapters.slack.log_rules import quiet_not_installed_errors
from adapters.slack.pacing import ChannelPacer
from adapters.slack.render import (
    CARD_EVENT_TYPE,
    SHARE_ACTION,
    VOTE_ACTION,
    card_metadata,
    render,
    render_unfurls,
)
from adapters.slack.rotation import TokenRotation
from adapters.slack.settings import SlackSettings
from adapters.slack.translate import (
    PLATFORM,
    command_event,
    delivery_key,
    is_reaction,
    links_event,
    reaction_event,
    share_event,
    vote_event,
)
from bot.config import SettingsError
from bot.events import AdminCheck, ChannelRef, Event, MessageRef, Responder
from bot.outbox import CheckLater, DirectMessageClosed, SendError, ShownReactions
from bot.replies import FileReply, LinkedPapers, PaperCard, Reply, Text

log = logging.getLogger(__name__)

# Enough for a burst: Slack's Retry-After for chat.postMessage is a second or two.
RATE_LIMIT_RETRIES = 5
HISTORY_PAGE_SIZE = 200
# find_card reads the history since a card's claim, less this much for clocks that disagree.
CLOCK_MARGIN = 300.0
# reactions.get is Tier 3 (about 50 a minute): re-reading votes stays just under it.
REACTION_READ_INTERVAL = 1.25
# Answers of reactions.get that mean the message can no longer be read.
GONE = frozenset(
    {"message_not_found", "channel_not_found", "not_in_channel", "is_archived", "no_item_specified"}
)
CONNECT_TIMEOUT = 30.0
HELLO_TIMEOUT = 10.0
DRAIN_TIMEOUT = 5.0
ANSWER_KEEPALIVE = 4.0  # seconds an idle connection for command answers is kept
# Waits between retries of failed connections and 5xx answers (not 429s: those say how long).
RETRY_BACKOFF: RetryIntervalCalculator = BackoffRetryIntervalCalculator(backoff_factor=0.5)


class EventHandler(Protocol):
    async def handle(self, event: Event) -> None: ...

    def first_delivery(self, platform: str, key: str) -> bool: ...


class NotInstalled(SendError):
    """The workspace has no installation (it removed the app): nothing was sent there."""


@dataclass(frozen=True)
class WorkspaceBot:
    """Who paperboy is in one workspace, and the token it acts there with."""

    token: str
    user_id: str
    bot_id: str


class SlackStartupError(PlatformStartError):
    """Slack refused to let paperboy connect (bad token, missing scope), or could not be reached."""


def read_retry_handlers() -> list[AsyncRetryHandler]:
    """For calls that are safe to repeat: reads, auth.test, users.info, connections.open."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=RETRY_BACKOFF),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=2, interval_calculator=RETRY_BACKOFF),
    ]


def post_retry_handlers() -> list[AsyncRetryHandler]:
    """For posts: retry only what certainly did not post, so no message is ever doubled.

    A 429 and a refused connection mean nothing was posted. A dropped connection or a 5xx
    after the request went out may have posted: ``send`` settles those instead.
    """
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncConnectionErrorRetryHandler(
            max_retry_count=2,
            interval_calculator=RETRY_BACKOFF,
            error_types=[aiohttp.ClientConnectorError],
        ),
    ]


def api_base_url(settings: SlackSettings) -> str:
    # Method names are joined onto it: "…/api" would lose its last segment.
    return settings.api_url.rstrip("/") + "/"


def history_retry_handlers() -> list[AsyncRetryHandler]:
    """For history reads under the distributed apps' limit: a 429 is not waited out."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=RETRY_BACKOFF),
        AsyncServerErrorRetryHandler(max_retry_count=2, interval_calculator=RETRY_BACKOFF),
    ]


def _client_like(client: AsyncWebClient, retry_handlers: list[AsyncRetryHandler]) -> AsyncWebClient:
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        logger=client.logger,
        retry_handlers=retry_handlers,
    )


def _posting_client(client: AsyncWebClient) -> AsyncWebClient:
    return _client_like(client, post_retry_handlers())


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def error_code(exc: SlackApiError) -> str:
    response = exc.response
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return code or f"HTTP {getattr(response, 'status_code', '?')}"


# What Slack answers for a bot token that no longer works (the app was removed, or
# reinstalled with a new token, or the token expired): nothing was done with it.
TOKEN_REFUSED = frozenset({"invalid_auth", "token_revoked", "account_inactive", "token_expired"})

# What conversations.open / chat.postMessage answer for a person paperboy cannot write to.
DM_CLOSED_ERRORS = frozenset(
    {"user_disabled", "user_not_found", "cannot_dm_bot", "user_not_visible", "not_allowed"}
)


def _refused(exc: SlackApiError) -> bool:
    """Slack answered, and the answer was no: nothing was posted (a 429 too, retries spent)."""
    status = getattr(exc.response, "status_code", 0) or 0
    return status < 500


class DropRedeliveries(AsyncMiddleware):
    """Slack re-sends what it thinks we missed (X-Slack-Retry-Num); run each thing once.

    Delivery ids are remembered by the core in the database, so this holds across restarts
    and processes. A class middleware rather than a function: Bolt builds a dozen keyword
    arguments for every function it calls, which is a good part of each request's cost in a
    reaction storm.

    Reactions, by far the most frequent events, are applied here, before the ack: Bolt
    would ack an event before running its listener, and a process killed in between lost the
    reaction, since Slack does not re-send what was acked. Their id travels in the event
    (``ReactionChanged.delivery``) and is recorded in the vote's own transaction, so it is
    remembered exactly when the vote is applied: a process that dies first leaves the event
    unacked and unremembered, and Slack's retry, wherever it lands, applies it once.
    """

    def __init__(
        self, bot: EventHandler, apply_reaction: Callable[[dict, Any], Awaitable[None]]
    ) -> None:
        self.bot = bot
        self.apply_reaction = apply_reaction

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        if is_reaction(req.body):
            await self.apply_reaction(req.body, req.context)
            return await req.context.ack()
        key = delivery_key(req.body)
        if key is not None and not self.bot.first_delivery(PLATFORM, key):
            log.info("Slack: dropped a re-sent %s", key.split(":", 1)[0])
            return await req.context.ack()
        return await next()


class InstallationAuthorize(AsyncInstallationStoreAuthorize):
    """Bolt's authorization from the installation store, saying in one INFO line when a
    request comes from a workspace paperboy is not installed in (Bolt's own line for that
    is an ERROR, kept out by ``log_rules``): the request is refused before any listener."""

    async def __call__(  # type: ignore[override]
        self, *, context, enterprise_id: str | None, team_id: str | None, user_id, **actor
    ):
        found = await super().__call__(
            context=context,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            **actor,
        )
        if found is None:
            log.info(
                "Slack: refused a request from workspace %s: paperboy is not installed there "
                "(or its token no longer works)",
                team_id or enterprise_id or "?",
            )
        return found


class SlackAdapter:
    """One Slack workspace: Bolt listeners in, ``Outbox`` sends out."""

    platform = PLATFORM
    # What a user does when a Share cannot post in a channel.
    cant_post_hint = (
        "Add paperboy to this channel with `/invite @paperboy`, then press Share again."
    )

    def __init__(
        self,
        bot: EventHandler,
        settings: SlackSettings,
        *,
        http_host: str = "0.0.0.0",
        post_interval: float = 1.0,
        edit_interval: float = 1.2,
        reaction_read_interval: float = REACTION_READ_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not settings.enabled:
            raise SettingsError(
                "SLACK_BOT_TOKEN (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) is not set; "
                "the Slack adapter needs it"
            )
        self.bot = bot
        self.settings = settings
        self.http_host = http_host
        self.http_port: int | None = None  # the bound port in HTTP mode, once started
        # Bolt and the SDK log payloads (and, at DEBUG, request details) that have no place
        # in a normal log: these loggers are among the platform's quiet ones.
        self._bolt_log = logging.getLogger("paperboy.slack.bolt")
        self._sdk_log = logging.getLogger("paperboy.slack.sdk")
        self._pacer = ChannelPacer(post_interval)
        # chat.update is Tier 3 (about 50 a minute): one edit per 1.2 s stays inside it.
        self.edit_interval = edit_interval
        self._edit_lock = asyncio.Lock()
        self._next_edit = 0.0
        self._read_pacer = ChannelPacer(reaction_read_interval)
        self._identity: dict[str, str] | None = None
        self._inflight: set[asyncio.Task] = set()
        # One keep-alive session for every command's answer: a new connection per answer
        # was most of a search's time through Slack (and a TLS handshake with Slack). Idle
        # connections are dropped after a few seconds, well before a server would close
        # them, so an answer is never sent down a connection the other end has just closed.
        self._answers: aiohttp.ClientSession | None = None
        # The same for Web API calls: without a session of its own, slack_sdk opens (and, on
        # Slack, shakes hands on) a new connection for every call, which was most of the
        # cost of a posting round to many workspaces.
        self._web: aiohttp.ClientSession | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._http: SlackHttpServer | None = None
        self.installations: StoreInstallationStore | None = None
        self._rotation: TokenRotation | None = None
        if settings.oauth:
            self.app = self._oauth_app(bot, settings, clock)
        else:
            # The token, not a client of our own: Bolt also reads SLACK_BOT_TOKEN from the
            # environment, and warns about an unused token when given a client as well.
            self.app = AsyncApp(
                name="paperboy",
                token=settings.bot_token,
                # Unused in Socket Mode, where the websocket itself is authenticated.
                signing_secret=settings.signing_secret,
                logger=self._bolt_log,
            )
        self.client = self.app.client  # it logs to the Bolt logger given above
        self.client.base_url = api_base_url(settings)
        # Retries for reads; a 429 retry handler is not on by default, and without it one
        # burst would lose posts.
        self.client.retry_handlers = read_retry_handlers()
        self._post_client = _posting_client(self.client)
        # Distributed apps may read a channel's history once a minute per workspace: a 429
        # there is not waited out (a minute, a round held up) but leaves the post pending.
        self._history_budget: HistoryBudget | None = None
        self._history_client = self.client
        if settings.limited_history:
            self._history_budget = HistoryBudget(clock=clock)
            self._history_client = _client_like(self.client, history_retry_handlers())
        self._walks = HistoryWalks()
        self._register()

    def _oauth_app(
        self, bot: EventHandler, settings: SlackSettings, clock: Callable[[], float]
    ) -> AsyncApp:
        """Bolt's OAuth flow and per-workspace authorization over paperboy's database.

        Every Web API call, oauth.v2.access included, goes through one client whose base URL
        is SLACK_API_URL. Authorization reads the workspace's installation (cached in memory)
        and checks its token with auth.test once per token and process, not per request.
        """
        store = bot.store  # type: ignore[attr-defined]
        self.installations = StoreInstallationStore(store)
        client = AsyncWebClient(base_url=api_base_url(settings), logger=self._bolt_log)
        oauth = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=list(settings.scopes),
            installation_store=self.installations,
            installation_store_bot_only=True,
            token_rotation_expiration_minutes=settings.token_rotation_minutes,
            state_store=StoreStateStore(store),
            logger=self._bolt_log,
        )
        authorize = InstallationAuthorize(
            installation_store=self.installations,
            client_id=settings.client_id,
            client_secret=settings.client_secret,  # Bolt rotates expiring tokens with these
            token_rotation_expiration_minutes=settings.token_rotation_minutes,
            logger=self._bolt_log,
            bot_only=True,
            cache_enabled=True,
            client=client,
        )
        app = AsyncApp(
            name="paperboy",
            client=client,
            signing_secret=settings.signing_secret,
            oauth_settings=oauth,
            authorize=authorize,
            logger=self._bolt_log,
        )
        # app_uninstalled and tokens_revoked delete the installation (and mark the workspace
        # departed, so the poster stops there at once).
        app.enable_token_revocation_listeners()
        quiet_not_installed_errors()  # InstallationAuthorize says it in one INFO line
        # The poster's calls come with no request: they renew expiring tokens themselves.
        self._rotation = TokenRotation(
            self.installations,
            client,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            minutes_before_expiration=settings.token_rotation_minutes,
            clock=clock,
        )
        return app

    @property
    def oauth(self) -> bool:
        return self.installations is not None

    @property
    def socket_mode(self) -> bool:
        return self.settings.socket_mode

    @property
    def connected(self) -> bool:
        """Slack can reach us: the HTTP port is up, or the Socket Mode websocket is open."""
        if self._http is not None:
            return self._http.running
        if self._socket is None:
            return False
        session = getattr(self._socket.client, "current_session", None)
        return session is not None and not session.closed

    def serve_health(self, answer: Callable[[], Awaitable[aiohttp.web.StreamResponse]]) -> bool:
        """Answer GET /healthz on the HTTP port with ``answer``; False in Socket Mode."""
        if self._http is None:
            return False
        self._http.health = answer
        return True

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect; returns once Slack can reach us (Socket Mode said hello, or the port is up)."""
        self._share_connections()
        try:
            if not self.oauth:  # workspaces installed through OAuth are checked as used
                await self._whoami()
            if self.socket_mode:
                await self._start_socket_mode()
            else:
                await self._start_http()
        except BaseException:
            await self._close_web()
            raise

    def _share_connections(self) -> None:
        """One keep-alive session for every Web API client of this adapter (and Bolt's
        per-request clients, which take the app client's session)."""
        self._web = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(keepalive_timeout=ANSWER_KEEPALIVE)
        )
        for client in (self.client, self._post_client, self._history_client):
            client.session = self._web
        if self._rotation is not None:
            self._rotation.client.session = self._web

    async def _close_web(self) -> None:
        if self._web is not None:
            web, self._web = self._web, None
            await web.close()

    async def stop(self) -> None:
        """Stop taking events, then give commands in progress a moment to answer."""
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()
        if self._http is not None:
            http, self._http = self._http, None
            await http.stop()
        await self._drain()
        if self._answers is not None:
            answers, self._answers = self._answers, None
            await answers.close()
        await self._close_web()

    async def _whoami(self) -> dict[str, str]:
        """The bot's own ids (auth.test), fetched once: they tell our posts from others'."""
        if self._identity is None:
            try:
                auth = await self.client.auth_test()
            except SlackApiError as exc:
                raise SlackStartupError(
                    f"Slack refused SLACK_BOT_TOKEN ({error_code(exc)}); check the token"
                ) from exc
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                raise SlackStartupError(
                    f"could not reach Slack at {self.client.base_url} "
                    f"({_reason(exc)}); check the network connection and SLACK_API_URL"
                ) from exc
            self._identity = {
                "user_id": auth.get("user_id") or "",
                "bot_id": auth.get("bot_id") or "",
                "team_id": auth.get("team_id") or "",
            }
        return self._identity

    @property
    def bot_user_id(self) -> str | None:
        return self._identity["user_id"] if self._identity else None

    async def _bot(self, team_id: str) -> WorkspaceBot:
        """The bot of workspace ``team_id``: its token and ids. ``NotInstalled`` when paperboy
        was removed from it (OAuth mode); one workspace's always (SLACK_BOT_TOKEN)."""
        if self.installations is None:
            me = await self._whoami()
            return WorkspaceBot(self.settings.bot_token, me["user_id"], me["bot_id"])
        found = await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)
        if found is None:
            # The absence may be this process's memory of an uninstall that another process
            # has since seen undone by a reinstall: ask the database before refusing.
            self.installations.forget(team_id)
            found = await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)
        if found is None:
            raise NotInstalled(f"paperboy is not installed in Slack workspace {team_id}")
        if self._rotation is not None:
            found = await self._rotation.fresh(team_id, found)
        return WorkspaceBot(found.bot_token or "", found.bot_user_id or "", found.bot_id or "")

    async def _token(self, team_id: str) -> str:
        if self.installations is None:  # one workspace: no need to know who we are there
            return self.settings.bot_token
        return (await self._bot(team_id)).token

    async def _start_socket_mode(self) -> None:
        app_token = self.settings.app_token
        if not app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token (it starts with xapp-)")
        try:
            # Asked here rather than inside the client, which would retry a bad token forever.
            opened = await self.client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            raise SlackStartupError(
                f"Slack refused SLACK_APP_TOKEN ({error_code(exc)}); is Socket Mode on?"
            ) from exc
        handler = AsyncSocketModeHandler(
            self.app, app_token, logger=self._bolt_log, web_client=self.client
        )
        hello = asyncio.Event()

        async def on_message(client: object, message: dict, raw: str | None) -> None:
            if message.get("type") == "hello":
                hello.set()

        handler.client.message_listeners.append(on_message)
        handler.client.wss_uri = opened["url"]
        try:
            # The client retries a failing websocket forever; at start, fail instead.
            await asyncio.wait_for(handler.connect_async(), CONNECT_TIMEOUT)
        except BaseException as exc:
            await handler.close_async()
            if isinstance(exc, TimeoutError):
                raise SlackStartupError("could not open the Slack Socket Mode websocket") from exc
            raise
        self._socket = handler
        try:
            await asyncio.wait_for(hello.wait(), HELLO_TIMEOUT)
        except TimeoutError:
            log.warning("Slack Socket Mode connected but sent no hello yet; continuing")
        log.info("Slack: connected in Socket Mode")

    async def _start_http(self) -> None:
        if not self.settings.signing_secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is needed for HTTP mode "
                "(or set SLACK_APP_TOKEN to use Socket Mode, which needs no public URL)"
            )
        limits = HttpLimits(
            header_timeout=self.settings.header_timeout,
            body_timeout=self.settings.body_timeout,
            max_connections=self.settings.max_connections,
        )
        flow = self.app.oauth_flow
        pages = (
            {
                flow.install_path: flow.handle_installation,
                flow.redirect_uri_path: flow.handle_callback,
            }
            if flow is not None
            else {}
        )
        http = SlackHttpServer(
            self.app.async_dispatch, self.settings.signing_secret, limits, pages=pages
        )
        try:
            self.http_port = await http.start(self.http_host, self.settings.port)
        except OSError as exc:  # e.g. the port is taken
            raise SlackStartupError(
                f"could not listen on port {self.settings.port} ({_reason(exc)}); "
                "choose another PORT"
            ) from exc
        self._http = http
        log.info("Slack: listening for HTTP events on port %d at %s", self.http_port, EVENTS_PATH)

    async def _drain(self) -> None:
        pending = {t for t in self._inflight if not t.done()}
        if not pending:
            return
        _, still_running = await asyncio.wait(pending, timeout=DRAIN_TIMEOUT)
        for task in still_running:
            task.cancel()

    # -- Slack to core --------------------------------------------------------------------

    def _register(self) -> None:
        # Reactions, by far the most frequent request, are applied in this middleware, before
        # the ack and before Bolt tries any listener (see DropRedeliveries).
        self.app.use(DropRedeliveries(self.bot, self._on_reaction))
        # Any command name: a second install of the app (say /papers-dev) works unchanged.
        self.app.command(re.compile(r"^/"))(self._on_command)
        # Link buttons only send these when interactivity is turned on; ack, nothing to do.
        self.app.action(re.compile(r"^paperboy_link_"))(self._ack_only)
        self.app.action(re.compile(rf"^{SHARE_ACTION}"))(self._on_share)
        self.app.action(re.compile(rf"^{VOTE_ACTION}_(up|down)"))(self._on_vote)
        self.app.event("link_shared")(self._on_link_shared)

    async def _ack_only(self, ack) -> None:
        await ack()

    async def _on_command(self, ack, body: dict) -> None:
        # Ack first: Slack gives us 3 seconds, and a search may take longer.
        await ack()
        team = body.get("team_id") or ""
        event = command_event(
            body,
            respond=self._responder(
                body.get("response_url") or "", body.get("user_id") or "", team=team
            ),
            check_admin=self._admin_check(body.get("user_id") or "", team),
        )
        await self._handle(event)

    async def _on_share(self, ack, body: dict) -> None:
        await ack()
        user_id = (body.get("user") or {}).get("id") or ""
        team = (body.get("team") or {}).get("id") or ""
        event = share_event(
            body,
            respond=self._responder(body.get("response_url") or "", keep_original=True),
            display_name=await self._display_name(team, user_id),
        )
        if event is not None:
            await self._handle(event)

    async def _on_vote(self, ack, body: dict) -> None:
        await ack()
        respond = self._responder(body.get("response_url") or "", keep_original=True)
        event = vote_event(body, respond=respond)
        if event is not None:
            await self._handle(event)

    async def _on_link_shared(self, body: dict, context) -> None:
        event = body.get("event") or {}
        links = links_event(
            body,
            respond=self._unfurler(event, body.get("team_id") or ""),
            bot_user_id=context.bot_user_id or self.bot_user_id,
        )
        if links is not None:
            await self._handle(links)

    def _unfurler(self, event: dict, team: str) -> Responder:
        """Answers a ``link_shared`` event with ``chat.unfurl``: each link gets its paper's
        card under the person's message. Anything else (no paper found, an error) is only
        logged: unfurling never posts into a channel on its own."""
        if event.get("source") == "composer" or not event.get("message_ts"):
            where = {"unfurl_id": event.get("unfurl_id") or "", "source": "composer"}
        else:
            where = {"channel": event.get("channel") or "", "ts": event.get("message_ts") or ""}

        async def unfurl(reply: Reply) -> None:
            if not isinstance(reply, LinkedPapers) or not reply.cards:
                log.info("Slack: nothing to unfurl (%s)", type(reply).__name__)
                return
            try:
                await self._post_client.chat_unfurl(
                    **where, unfurls=render_unfurls(reply), token=await self._token(team)
                )
            except NotInstalled:
                log.info("Slack: no unfurl in workspace %s, which removed paperboy", team)
            except SlackApiError as exc:
                log.warning("Slack: chat.unfurl refused (%s)", error_code(exc))
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("Slack: chat.unfurl failed (%s)", type(exc).__name__)

        return unfurl

    async def _display_name(self, team: str, user_id: str) -> str:
        """What Slack shows as the user's name; "" when users.info can't say (the caller
        falls back to the handle in the payload)."""
        if not user_id:
            return ""
        try:
            found = await self.client.users_info(user=user_id, token=await self._token(team))
        except (SlackApiError, SendError, aiohttp.ClientError, TimeoutError) as exc:
            log.info("Slack: no display name for a share (%s)", type(exc).__name__)
            return ""
        user = found.get("user") or {}
        profile = user.get("profile") or {}
        return profile.get("display_name") or profile.get("real_name") or user.get("name") or ""

    async def _on_reaction(self, body: dict, context) -> None:
        event = reaction_event(body, bot_user_id=context.bot_user_id or self.bot_user_id)
        if event is not None:
            await self._handle(event)

    async def _handle(self, event: Event) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            await self.bot.handle(event)
        except Exception:  # the core promises not to raise; a listener must not die anyway
            log.exception("Slack: the core failed on a %s", type(event).__name__)
        finally:
            self._inflight.discard(task)

    def _responder(
        self,
        response_url: str,
        user_id: str = "",
        *,
        team: str = "",
        keep_original: bool = False,
    ) -> Responder:
        """Answers through ``response_url``; ``keep_original`` for a click on a private
        answer's button, which stays as it is (the list can be shared from again)."""

        async def respond(reply: Reply) -> None:
            if isinstance(reply, FileReply):  # the file goes to a DM; the answer says so
                reply = await self._send_file(team, user_id, reply)
            if not response_url:
                log.warning("Slack: a command came without a response_url; answer dropped")
                return
            payload = {
                **render(reply),
                "response_type": "in_channel" if reply.public else "ephemeral",
            }
            if keep_original:
                payload["replace_original"] = False
            if self._answers is None or self._answers.closed:
                self._answers = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(keepalive_timeout=ANSWER_KEEPALIVE)
                )
            webhook = AsyncWebhookClient(
                url=response_url,
                session=self._answers,
                logger=self._sdk_log,
                retry_handlers=post_retry_handlers(),
            )
            try:
                result = await webhook.send_dict(payload)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("Slack: could not answer a command: %s", type(exc).__name__)
                return
            if result.status_code != 200:
                log.warning(
                    "Slack: answer to a command refused (%s %s)",
                    result.status_code,
                    (result.body or "")[:100],
                )

        return respond

    async def _send_file(self, team: str, user_id: str, reply: FileReply) -> Reply:
        try:
            token = await self._token(team)
        except NotInstalled:
            return Text("paperboy is no longer installed in this workspace.")
        return await send_file_privately(self._post_client, user_id, reply, token=token)

    def _admin_check(self, user_id: str, team: str = "") -> AdminCheck:
        async def check() -> bool:
            try:
                found = await self.client.users_info(user=user_id, token=await self._token(team))
            except NotInstalled:
                return False
            except SlackApiError as exc:
                log.warning("Slack: users.info failed (%s); not treating as admin", error_code(exc))
                return False
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("Slack: users.info failed (%s); not treating as admin", exc)
                return False
            user = found.get("user") or {}
            return any(user.get(role) for role in ("is_admin", "is_owner", "is_primary_owner"))

        return check

    # -- Outbox: core to Slack ------------------------------------------------------------

    async def send(self, channel: ChannelRef, reply: Reply) -> MessageRef:
        """Post ``reply`` in ``channel``, paced per channel.

        Raises ``SendError`` when Slack certainly did not post it (refusal, or 429s beyond
        the retries); any other exception means the outcome is unknown.
        """
        args = {
            **render(reply),
            "channel": channel.channel,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if isinstance(reply, PaperCard):
            args["metadata"] = card_metadata(reply.paper.id)
        args["token"] = await self._token(channel.workspace)  # NotInstalled: not posted
        started = time.time()
        async with self._pacer.turn((channel.workspace, channel.channel)):
            try:
                posted = await self._post_joining(channel, args)
            except SlackApiError as exc:
                if _refused(exc):
                    reason = error_code(exc)
                    if reason == "not_in_channel":
                        reason += " (invite the bot to the channel with /invite)"
                    raise SendError(f"Slack refused a post to {channel}: {reason}") from exc
                unknown: Exception = exc
            except aiohttp.ClientConnectorError as exc:
                raise SendError(f"Slack could not be reached: {exc}") from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                unknown = exc
            else:
                return MessageRef(channel, posted["ts"])
        # The post may have landed before the connection broke: a card can be checked for.
        if isinstance(reply, PaperCard):
            found = await self._look_for_card(channel, reply.paper.id, started)
            if found is not None:
                return found
        raise unknown

    async def send_dm(self, workspace: str, user_id: str, reply: Reply) -> None:
        """conversations.open with the person (scope ``im:write``), then chat.postMessage."""
        token = await self._token(workspace)
        try:
            opened = await self.client.conversations_open(users=user_id, token=token)
            dm = (opened.get("channel") or {}).get("id") or ""
            await self.client.chat_postMessage(
                **render(reply), channel=dm, unfurl_links=False, unfurl_media=False, token=token
            )
        except SlackApiError as exc:
            if error_code(exc) in DM_CLOSED_ERRORS:
                raise DirectMessageClosed(error_code(exc)) from exc
            raise

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        """chat.update: a live card's new counts. Not paced with posts (Slack limits
        chat.update on its own, Tier 3), so edits never hold a new post back; a 429 is
        waited out here, holding up only this card's edit."""
        args = {**render(reply), "channel": ref.channel.channel, "ts": ref.message}
        if isinstance(reply, PaperCard):
            args["metadata"] = card_metadata(reply.paper.id)  # find_card must still see it
        args["token"] = await self._token(ref.channel.workspace)
        await self._edit_turn()
        await self.client.chat_update(**args)

    async def _edit_turn(self) -> None:
        """Space the starts of edits; the edit itself runs outside the lock, so a 429 that
        one edit waits out does not hold up the others."""
        async with self._edit_lock:
            loop = asyncio.get_running_loop()
            wait = self._next_edit - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_edit = loop.time() + self.edit_interval

    async def link(self, ref: MessageRef) -> str:
        found = await self.client.chat_getPermalink(
            channel=ref.channel.channel,
            message_ts=ref.message,
            token=await self._token(ref.channel.workspace),
        )
        return found["permalink"]

    async def _post_joining(self, channel: ChannelRef, args: dict) -> AsyncSlackResponse:
        """chat.postMessage; joins a public channel first if the bot is not in it yet, and
        tries once more with the workspace's newer token if Slack refused this one.

        Membership matters beyond posting: Slack only sends reaction events, and only shows
        history (find_card), for channels the bot is in.
        """
        try:
            return await self._post_client.chat_postMessage(**args)
        except SlackApiError as exc:
            code = error_code(exc)
            if code in TOKEN_REFUSED and await self._newer_token(channel.workspace, args):
                return await self._post_joining(channel, args)  # once: the token changed
            if code != "not_in_channel" or not await self._join(channel, args["token"]):
                raise
        return await self._post_client.chat_postMessage(**args)

    async def _newer_token(self, team_id: str, args: dict) -> bool:
        """Slack refused ``args``' token, which was posted with nothing: read the workspace's
        installation again, since another process may have seen a reinstall (a new token)
        that this one's cache has not. True, with the token in ``args`` replaced, when the
        database has a different one."""
        if self.installations is None:
            return False
        self.installations.forget(team_id)
        try:
            token = await self._token(team_id)
        except NotInstalled:
            return False
        if token == args["token"]:
            return False
        args["token"] = token
        return True

    async def _join(self, channel: ChannelRef, token: str) -> bool:
        try:
            await self.client.conversations_join(channel=channel.channel, token=token)
        except SlackApiError as exc:  # private channels cannot be joined, only invited to
            log.info("Slack: could not join %s: %s", channel, error_code(exc))
            return False
        log.info("Slack: joined %s to post there", channel)
        return True

    async def _look_for_card(
        self, channel: ChannelRef, paper_id: str, since: float
    ) -> MessageRef | None:
        try:
            return await self.find_card(channel, paper_id, since)
        except Exception as exc:
            log.warning(
                "Slack: could not check %s for a card after a failed post: %s", channel, exc
            )
            return None

    async def find_card(
        self, channel: ChannelRef, paper_id: str, claimed_at: float
    ) -> MessageRef | None:
        """Our card of ``paper_id`` (by message metadata) among the messages since its claim.

        Every message since is read, however busy the channel, and nothing older: at once,
        or, under the distributed apps' limits, one page a minute (``CheckLater`` until the
        walk is done).
        """
        me = await self._bot(channel.workspace)
        oldest = max(0.0, claimed_at - CLOCK_MARGIN)
        if self._history_budget is not None:
            return await self._find_card_limited(channel, paper_id, oldest, me)
        cursor = ""
        while True:
            page = await self._history_page(channel, oldest, HISTORY_PAGE_SIZE, cursor, me)
            found = self._card_on(page, channel, paper_id, me)
            if found is not None:
                return found
            cursor = _next_cursor(page)
            if not cursor:
                return None

    async def _find_card_limited(
        self, channel: ChannelRef, paper_id: str, oldest: float, me: WorkspaceBot
    ) -> MessageRef | None:
        """One page of 15 per call, one call a minute per workspace; where the walk got to
        is kept between calls. Cards of other papers seen on the way are kept too."""
        assert self._history_budget is not None
        seen = self._walks.card(channel.workspace, channel.channel, paper_id, oldest)
        if seen is not None:
            return MessageRef(channel, seen)
        key = (channel.workspace, channel.channel, paper_id, oldest)
        walk = self._walks.walk(key) or Walk(cursor="", started=time.time())
        self._history_budget.take(channel.workspace)  # CheckLater when spent
        try:
            page = await self._history_page(channel, oldest, LIMITED_PAGE_SIZE, walk.cursor, me)
        except SlackApiError as exc:
            if getattr(exc.response, "status_code", 0) != 429:
                raise
            retry_after = _retry_after(exc.response)
            self._history_budget.refused(channel.workspace, retry_after)
            raise CheckLater(f"Slack asked to wait {retry_after:.0f} s (429)") from exc
        found = self._card_on(page, channel, paper_id, me)
        cursor = _next_cursor(page)
        # Pages past the first read's time hold no card sent before it: the walk is over.
        past = all(float(m.get("ts") or 0) > walk.started + CLOCK_MARGIN for m in _messages(page))
        if found is not None or not cursor or (walk.cursor and past):
            self._walks.done(key)
            return found
        self._walks.carry_on(key, Walk(cursor, walk.started))
        raise CheckLater("more history to read since the claim; the next page in a minute")

    async def _history_page(
        self, channel: ChannelRef, oldest: float, limit: int, cursor: str, me: WorkspaceBot
    ) -> AsyncSlackResponse:
        return await self._history_client.conversations_history(
            channel=channel.channel,
            oldest=f"{oldest:.6f}",
            limit=limit,
            include_all_metadata=True,
            token=me.token,
            **({"cursor": cursor} if cursor else {}),
        )

    def _card_on(
        self, page: AsyncSlackResponse, channel: ChannelRef, paper_id: str, me: WorkspaceBot
    ) -> MessageRef | None:
        found = None
        for msg in _messages(page):
            card_of = _card_paper(msg, me)
            if card_of == paper_id:
                found = MessageRef(channel, msg["ts"])
            elif card_of is not None:
                self._walks.saw_card(channel.workspace, channel.channel, card_of, msg["ts"])
        return found

    async def reactions(self, ref: MessageRef) -> ShownReactions | None:
        """The vote candidates on ``ref`` now (reactions.get, full lists), the bot's own left
        out; None when the message or channel can no longer be read."""
        me = await self._bot(ref.channel.workspace)
        async with self._read_pacer.turn("reactions.get"):
            try:
                answer = await self.client.reactions_get(
                    channel=ref.channel.channel, timestamp=ref.message, full=True, token=me.token
                )
            except SlackApiError as exc:
                if error_code(exc) in GONE:
                    return None
                raise
        present: set[tuple[str, str]] = set()
        partial: set[str] = set()
        for reaction in (answer.get("message") or {}).get("reactions") or []:
            name, users = reaction.get("name"), reaction.get("users") or []
            if not isinstance(name, str) or not name:
                continue
            if len(users) < (reaction.get("count") or 0):
                partial.add(name)  # Slack cuts the user list of a popular reaction short
            present.update((str(u), name) for u in users if u and u != me.user_id)
        return ShownReactions(frozenset(present), frozenset(partial))


def _retry_after(response: object, default: float = 60.0) -> float:
    for name, value in (getattr(response, "headers", None) or {}).items():
        if name.lower() == "retry-after":
            value = value[0] if isinstance(value, list) and value else value
            try:
                return float(value)
            except (TypeError, ValueError):
                return default
    return default


def _messages(page: AsyncSlackResponse) -> list[dict]:
    return [m for m in page.get("messages") or [] if isinstance(m, dict)]


def _next_cursor(page: AsyncSlackResponse) -> str:
    cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
    return cursor if page.get("has_more") else ""


def _card_paper(msg: dict, me: WorkspaceBot) -> str | None:
    """The paper id of ``msg`` if it is one of our cards in that workspace."""
    metadata = msg.get("metadata") or {}
    if metadata.get("event_type") != CARD_EVENT_TYPE:
        return None
    paper_id = (metadata.get("event_payload") or {}).get("paper_id")
    if not isinstance(paper_id, str):
        return None
    if msg.get("user") == me.user_id or (bool(me.bot_id) and msg.get("bot_id") == me.bot_id):
        return paper_id
    return None
