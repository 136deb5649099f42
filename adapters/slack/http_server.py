"""Slack's HTTP mode: one aiohttp endpoint that hostile clients cannot wear down.

aiohttp's server has no deadline for a request's headers and no cap on connections, so idle
or half-sent connections would pile up until the process runs out of file descriptors. The
server here keeps its own books: every connection waiting for a request's headers has a
timer (``header_timeout``, re-armed after each answer on a kept-alive connection), bodies
get ``body_timeout``, and past ``max_connections`` the connection that has waited longest
for its headers is closed to make room, so a real request still gets through a flood.

Requests are checked in order of cost and trust: the signature over the raw bytes first
(401 whatever the body holds), then UTF-8 and a JSON object (400), and only then does Bolt
see them. Each refusal is one log line, never a traceback.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import resource
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1024**2  # Slack's payloads are far smaller; bigger ones get 413
SIGNATURE_MAX_AGE = 5 * 60  # Slack's window for a request's timestamp
# File descriptors beyond the connection cap: the database, the search index, outgoing calls.
FD_RESERVE = 1024
REPORT_EVERY = 60.0  # seconds between summary lines about a flood

Dispatch = Callable[[AsyncBoltRequest], Awaitable[BoltResponse]]


@dataclass(frozen=True)
class HttpLimits:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 5000


class FloodReport:
    """One log line per ``every`` seconds about something that may happen thousands of times."""

    def __init__(self, message: str, level: int = logging.WARNING, every: float = REPORT_EVERY):
        self.message = message
        self.level = level
        self.every = every
        self.count = 0  # since the last line
        self.total = 0
        self._next = 0.0

    def add(self, detail: object = "") -> None:
        self.count += 1
        self.total += 1
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.every
            log.log(self.level, self.message, self.count, detail)
            self.count = 0


class GuardedServer(web.Server):
    """aiohttp's low-level server with a header deadline and a connection cap."""

    def __init__(self, handler: Any, *, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.limits = limits
        self._open: set[RequestHandler] = set()
        # Connections waiting for a request's headers, oldest first, with their deadlines.
        self._waiting: dict[RequestHandler, asyncio.TimerHandle] = {}
        self.timed_out = FloodReport(
            "Slack HTTP: closed %d connection(s) that sent no complete request in time %s"
        )
        self.evicted = FloodReport(
            "Slack HTTP: %d connection(s) over SLACK_MAX_CONNECTIONS closed %s"
        )

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self._open.add(handler)
        self._await_request(handler)
        if len(self._open) > self.limits.max_connections:
            # The one that has waited longest for its headers is the likeliest to be idle
            # or hostile; a real request sends its headers at once.
            oldest = next(iter(self._waiting))
            self.evicted.add("(the longest idle)")
            self._close(oldest)

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        self._forget(handler)
        super().connection_lost(handler, exc)

    def request_started(self, handler: RequestHandler) -> None:
        timer = self._waiting.pop(handler, None)
        if timer is not None:
            timer.cancel()

    def request_finished(self, handler: RequestHandler) -> None:
        if handler in self._open:  # kept alive: the next request's headers are due in time
            self._await_request(handler)

    def _await_request(self, handler: RequestHandler) -> None:
        self.request_started(handler)  # drop an older timer, and move it to the end
        self._waiting[handler] = self._loop.call_later(
            self.limits.header_timeout, self._expire, handler
        )

    def _expire(self, handler: RequestHandler) -> None:
        if self._waiting.pop(handler, None) is not None:
            self.timed_out.add(f"(SLACK_HEADER_TIMEOUT={self.limits.header_timeout:g}s)")
            self._close(handler)

    def _close(self, handler: RequestHandler) -> None:
        self._forget(handler)
        handler.force_close()

    def _forget(self, handler: RequestHandler) -> None:
        self._open.discard(handler)
        timer = self._waiting.pop(handler, None)
        if timer is not None:
            timer.cancel()


class AcceptErrorLog:
    """Rate-limits asyncio's "socket.accept() out of system resource" report.

    When the process runs out of file descriptors asyncio reports every failed accept, which
    filled 105 MB of log in 40 s; one line a minute with a count says the same. Everything
    else goes to the loop's previous exception handler.
    """

    MESSAGE = "socket.accept() out of system resource"

    def __init__(self) -> None:
        self.report = FloodReport(
            "Slack HTTP: %d connection(s) could not be accepted (%s); "
            "raise the open-file limit (ulimit -n) or lower SLACK_MAX_CONNECTIONS",
            level=logging.ERROR,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(self)

    def uninstall(self) -> None:
        if self._loop is not None and self._loop.get_exception_handler() is self:
            self._loop.set_exception_handler(self._previous)
        self._loop = None

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == self.MESSAGE:
            self.report.add(context.get("exception"))
        elif self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)


def ensure_fd_limit(max_connections: int) -> None:
    """Raise the soft open-file limit to fit the cap (up to the hard limit), or say it can't."""
    wanted = max_connections + FD_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))
            soft = new_soft
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < wanted:
        log.warning(
            "Slack HTTP: the open-file limit (%d) is below SLACK_MAX_CONNECTIONS=%d plus %d; "
            "a flood of connections may exhaust it (raise ulimit -n or lower the setting)",
            soft,
            max_connections,
            FD_RESERVE,
        )


def signature_ok(secret: str, body: bytes, timestamp: str | None, signature: str | None) -> bool:
    """Slack's v0 signature over the raw bytes, and a timestamp of whole seconds within 5 min.

    Checked here rather than by Bolt, which parses the body before it checks anything.
    """
    if not (timestamp and signature and timestamp.isascii() and timestamp.isdigit()):
        return False
    if len(timestamp) > 12 or abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE:
        return False
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest(f"v0={digest.hexdigest()}", signature)


class BadRequest(ValueError):
    """A signed request whose body is not a Slack payload."""


def bolt_request(body: bytes, request: web.BaseRequest) -> AsyncBoltRequest:
    """The Bolt request for a signed body, or ``BadRequest`` saying what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("the body is not UTF-8") from exc
    try:
        # Bolt parses the body (form fields, payload= JSON, or JSON) while building the request.
        bolt = AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
    except RecursionError as exc:
        raise BadRequest("the JSON is nested too deeply") from exc
    except Exception as exc:  # whatever the parser or Bolt trips on is the body's fault
        raise BadRequest(f"the body is not a Slack payload ({type(exc).__name__})") from exc
    if not isinstance(bolt.body, dict):
        raise BadRequest("the payload is not a JSON object")
    if not bolt.body and "payload" in text and not text.lstrip().startswith("{"):
        # Bolt takes any form body containing the word "payload" for an interactivity
        # payload and, finding no payload= field, parses it as nothing: a slash command such
        # as "/papers search payload" would go unanswered. Such a body is plain form fields.
        bolt.body = dict(parse_qsl(text, keep_blank_values=True))
        bolt.context = build_async_context(AsyncBoltContext(), bolt.body)
    return bolt


class SlackHttpServer:
    """Serves ``POST /slack/events`` and hands each verified request to ``dispatch``."""

    def __init__(
        self,
        dispatch: Dispatch,
        signing_secret: str,
        limits: HttpLimits,
        *,
        pages: Mapping[str, Dispatch] | None = None,
    ) -> None:
        self.dispatch = dispatch
        # GET pages a browser opens, unsigned: Bolt's OAuth flow (/slack/install, the redirect
        # back from Slack), which checks its own state.
        self.pages = dict(pages or {})
        self.signing_secret = signing_secret
        self.limits = limits
        self.server: GuardedServer | None = None
        self.port: int | None = None
        self._runner: web.ServerRunner | None = None
        self._accept_errors = AcceptErrorLog()
        # GET /healthz, when the process serves it here (adapters.health).
        self.health: Callable[[], Awaitable[web.StreamResponse]] | None = None

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self, host: str, port: int) -> int:
        ensure_fd_limit(self.limits.max_connections)
        # Bodies over MAX_BODY: aiohttp's requests refuse them by default (413).
        self.server = GuardedServer(self._serve, limits=self.limits, access_log=None)
        runner = web.ServerRunner(self.server, handle_signals=False)
        await runner.setup()
        try:
            # Slack's bursts arrive on many connections at once: a deep accept queue.
            await web.TCPSite(runner, host, port, backlog=1024).start()
        except BaseException:  # e.g. the port is taken: leave nothing half-open
            await runner.cleanup()
            raise
        self._runner = runner
        self._accept_errors.install(asyncio.get_running_loop())
        self.port = runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        self._accept_errors.uninstall()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _serve(self, request: web.BaseRequest) -> web.StreamResponse:
        assert self.server is not None
        handler = request.protocol
        self.server.request_started(handler)
        try:
            return await self._answer(request)
        finally:
            self.server.request_finished(handler)

    async def _page(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method != "GET":
            return web.Response(status=405, headers={"Allow": "GET"})
        bolt = AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)  # type: ignore[arg-type]
        return await to_aiohttp_response(await self.pages[request.path](bolt))

    async def _answer(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path == HEALTH_PATH and request.method == "GET" and self.health is not None:
            return await self.health()  # for the load balancer: unsigned, and says no secret
        if request.path in self.pages:
            return await self._page(request)
        if request.path != EVENTS_PATH:
            return web.Response(status=404)
        if request.method != "POST":
            return web.Response(status=405, headers={"Allow": "POST"})
        try:
            body = await asyncio.wait_for(request.read(), self.limits.body_timeout)
        except TimeoutError:
            log.warning("Slack HTTP: closed a request whose body did not arrive in time")
            timed_out = web.Response(status=408)
            timed_out.force_close()  # the rest of the body may still come: no keep-alive
            return timed_out
        except web.HTTPRequestEntityTooLarge:
            log.warning("Slack HTTP: refused a request body over %d bytes", MAX_BODY)
            return web.Response(status=413)
        headers = request.headers
        if not signature_ok(
            self.signing_secret,
            body,
            headers.get("X-Slack-Request-Timestamp"),
            headers.get("X-Slack-Signature"),
        ):
            log.warning(
                "Slack: refused a request with a missing, wrong or stale signature "
                "(if it came from Slack, check SLACK_SIGNING_SECRET and the clock)"
            )
            return web.Response(status=401, text="invalid request")
        try:
            bolt = bolt_request(body, request)
        except BadRequest as exc:
            log.warning("Slack: refused a signed but malformed request: %s", exc)
            return web.Response(status=400, text="malformed request")
        response = await self.dispatch(bolt)
        if response.status == 401:  # Bolt checks again; it agrees unless the clock moved
            log.warning("Slack: Bolt refused a request's signature")
        return await to_aiohttp_response(response)
