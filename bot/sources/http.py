"""One polite HTTP client for every paper source: retries, backoff, Retry-After, rate limits."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import random
import socket
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

log = logging.getLogger(__name__)

USER_AGENT = "paperboy/0.1 (research paper chat bot)"

# Failures that say nothing about the request itself, so trying again may help.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# Failures to get a connection at all: offline, DNS down, nothing listening.
_NO_CONNECTION = (httpx.ConnectError, httpx.ConnectTimeout)

# While someone waits for an answer, connecting may take this long; all the hosts one
# command asks share twice that (so HF and then arXiv, both down, cost one short wait).
FAIL_FAST_CONNECT_SECONDS = 1.5


@dataclass
class _Hurry:
    connect: float  # seconds each connection may take
    deadline: float  # for all hosts, once one failed
    failed: bool = False


_hurry: ContextVar[_Hurry | None] = ContextVar("paperboy_http_hurry", default=None)


@contextlib.contextmanager
def fail_fast(connect_seconds: float = FAIL_FAST_CONNECT_SECONDS) -> Iterator[None]:
    """Requests made inside (by this task and the tasks it starts) are for someone waiting:
    a host that cannot be connected to fails at once, without retries, after a short connect
    timeout; once one host failed, the others get what is left of the shared budget."""
    token = _hurry.set(_Hurry(connect_seconds, time.monotonic() + 2 * connect_seconds))
    try:
        yield
    finally:
        _hurry.reset(token)


class SourceError(Exception):
    """A paper source failed; the message is short and safe to show a chat user."""


def safe_url(url: httpx.URL | str) -> str:
    """The URL without query string or credentials, for log lines."""
    url = httpx.URL(url)
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a Retry-After header (delta-seconds or HTTP date)."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive result means "-0000"
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def ensure_ok(response: httpx.Response, name: str) -> None:
    """Raise SourceError unless the response is a 2xx."""
    if not response.is_success:
        raise SourceError(f"{name} answered {response.status_code}")


def _unknown_name(exc: BaseException) -> bool:
    """Whether ``exc`` says the host name does not resolve (offline, or no such host): not
    worth retrying within seconds, unlike a resolver's "try again" (EAI_AGAIN)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return seen.errno != socket.EAI_AGAIN
        seen = seen.__cause__ or seen.__context__
    return False


class HttpFetcher:
    """Wraps one ``httpx.AsyncClient``; share one instance between sources.

    ``get`` retries timeouts, connection errors and 5xx with exponential backoff, waits as
    long as a 429's Retry-After asks (capped at ``max_retry_wait``), and returns any other
    4xx to the caller, who knows what it means (HF's 404 is "not indexed").
    """

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        retries: int = 3,
        retry_base_delay: float = 1.0,
        max_retry_wait: float = 120.0,
        unreachable_pause: float = 30.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.retries = max(0, retries)
        self.timeout = timeout
        self.retry_base_delay = retry_base_delay
        self.max_retry_wait = max_retry_wait
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=True,
        )
        # Per rate-limited host: when the last request ended, and a lock so that concurrent
        # callers queue up for their turn instead of all sleeping and firing together.
        self._last_request: dict[str, float] = {}
        self._host_locks: dict[str, asyncio.Lock] = {}
        # A host we could not even connect to (offline machine, DNS failure) is not asked
        # again for a short while: every command would otherwise wait out all the retries.
        self.unreachable_pause = unreachable_pause
        self._unreachable_until: dict[str, float] = {}

    async def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        min_interval: float = 0,
        name: str | None = None,
    ) -> httpx.Response:
        """GET ``url``; ``min_interval`` is the least time between requests to its host.

        ``name`` is how the source is called in error messages (default: the host name).
        Raises SourceError when every attempt failed.
        """
        try:
            target = httpx.URL(url, params=params)
        except httpx.InvalidURL as exc:
            raise SourceError(f"could not fetch from {name or 'a paper source'}") from exc
        name = name or target.host
        hurry = _hurry.get()
        if time.monotonic() < self._unreachable_until.get(target.host, 0.0):
            raise SourceError(f"could not reach {name}")
        if hurry is not None and hurry.failed and time.monotonic() >= hurry.deadline:
            raise SourceError(f"could not reach {name}")  # the budget went on another host
        # A host that was unreachable last time gets one try, not a round of retries.
        known_down = target.host in self._unreachable_until
        failure = ""
        retry_after: float | None = None
        connect_failures = 0
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self._retry_wait(attempt, retry_after))
                retry_after = None
            try:
                async with self._turn(target.host, min_interval):
                    response = await self._client.get(target, timeout=self._timeout(hurry))
            except _TRANSIENT as exc:
                connect_failures += isinstance(exc, httpx.ConnectError)
                failure = self._describe(exc, name)
                log.warning(
                    "GET %s failed (%s), attempt %d", safe_url(target), failure, attempt + 1
                )
                hopeless = _unknown_name(exc) or known_down or hurry is not None
                if isinstance(exc, _NO_CONNECTION) and hopeless:
                    if hurry is not None:
                        hurry.failed = True
                    self._unreachable_until[target.host] = time.monotonic() + self.unreachable_pause
                    raise SourceError(failure) from exc
                continue
            except httpx.HTTPError as exc:
                log.warning("GET %s failed: %s", safe_url(target), type(exc).__name__)
                raise SourceError(f"could not fetch from {name}") from exc
            if response.status_code == 429 or response.is_server_error:
                failure = f"{name} answered {response.status_code}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                log.warning("GET %s: %s, attempt %d", safe_url(target), failure, attempt + 1)
                continue
            log.debug("GET %s: %d", safe_url(target), response.status_code)
            self._unreachable_until.pop(target.host, None)
            return response
        if connect_failures == self.retries + 1:
            self._unreachable_until[target.host] = time.monotonic() + self.unreachable_pause
        raise SourceError(failure)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _timeout(self, hurry: _Hurry | None) -> httpx.Timeout:
        """The client's timeouts, with a short connect timeout when someone is waiting."""
        if hurry is None:
            return httpx.Timeout(self.timeout)
        connect = hurry.connect
        if hurry.failed:
            connect = max(0.05, hurry.deadline - time.monotonic())
        return httpx.Timeout(self.timeout, connect=min(connect, self.timeout))

    def _retry_wait(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry number ``attempt`` (1-based); a server's Retry-After wins."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_wait)
        # Jitter keeps several bot instances from retrying in lockstep.
        backoff = self.retry_base_delay * 2 ** (attempt - 1) * random.uniform(1.0, 1.25)
        return min(backoff, self.max_retry_wait)

    @contextlib.asynccontextmanager
    async def _turn(self, host: str, min_interval: float) -> AsyncIterator[None]:
        """One request at a time to a rate-limited host, each starting ``min_interval`` after
        the previous one ended: the host sees the spacing it asked for (arXiv: 3 s), however
        long a connection took to open. Hosts without a limit are not queued."""
        if min_interval <= 0:
            yield
            return
        lock = self._host_locks.setdefault(host, asyncio.Lock())
        async with lock:
            if host in self._last_request:
                wait = self._last_request[host] + min_interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._last_request[host] = time.monotonic()

    @staticmethod
    def _describe(exc: Exception, name: str) -> str:
        if isinstance(exc, httpx.TimeoutException):
            return f"{name} did not answer in time"
        return f"could not reach {name}"
