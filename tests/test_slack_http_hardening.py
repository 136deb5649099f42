"""Slack HTTP mode against hostile clients: idle floods, half-sent requests, malformed bodies.

Idle and half-sent connections are closed (header and body deadlines, a connection cap that
closes the longest-waiting one first), so a real Slack request still gets through; bodies
that are not Slack payloads get 401 or 400 and one log line, never a 500 and a traceback.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import resource
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core import Bot
from tests.fakes.local_server import wait_until
from tests.fakes.slack import FakeSlack
from tests.isolation import logger_levels_restored  # noqa: F401 (autouse)

HALF_SENT = b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"


@asynccontextmanager
async def http_app(bot: Bot, settings: Settings, **limits) -> AsyncIterator[tuple]:
    async with FakeSlack() as slack:
        adapter = SlackAdapter(
            bot,
            slack.settings(socket_mode=False, **limits),
            http_host="127.0.0.1",
            post_interval=0.0,
        )
        bot.attach(adapter)
        await adapter.start()
        try:
            yield slack, adapter, f"http://127.0.0.1:{adapter.http_port}/slack/events"
        finally:
            await adapter.stop()


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await reader.read(1024) == b""
    except ConnectionError:
        return True


async def answered_help(slack: FakeSlack, url: str) -> float:
    """Seconds until a signed /papers help is acked (200); its answer arrives too."""
    payload = slack.command_payload("help")
    started = time.monotonic()
    delivery = await slack.deliver(payload, to=url)
    acked = time.monotonic() - started
    assert delivery.status == 200
    await slack.wait_response(payload["response_url"])
    return acked


@pytest.fixture
def enough_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < 1500:
            pytest.skip(f"needs 1,500 open files, the hard limit is {hard}")
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))


# -- item 4: deadlines and the connection cap ----------------------------------------------


async def test_a_command_gets_through_a_flood_of_idle_connections(
    bot: Bot, settings: Settings, enough_files
) -> None:
    async with http_app(bot, settings, max_connections=200) as (slack, adapter, url):
        port = adapter.http_port
        idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        try:
            for _ in range(1000):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(HALF_SENT)
                idle.append((reader, writer))
            closed = [asyncio.create_task(closed_by_server(r)) for r, _ in idle]
            assert await answered_help(slack, url) < 3.0
            # Everything past the cap was closed, the longest-waiting first.
            await wait_until(lambda: sum(t.done() for t in closed) >= 800, timeout=10)
            assert all(t.result() for t in closed if t.done())
            assert not any(t.done() for t in closed[-150:])  # the newest are still open
            assert adapter._http.server.open_connections <= 200
        finally:
            for task in closed:
                task.cancel()
            for _, writer in idle:
                writer.close()


async def test_a_half_sent_header_is_closed_after_the_header_timeout(
    bot: Bot, settings: Settings
) -> None:
    async with http_app(bot, settings, header_timeout=0.5) as (slack, adapter, url):
        reader, writer = await asyncio.open_connection("127.0.0.1", adapter.http_port)
        silent_reader, silent_writer = await asyncio.open_connection("127.0.0.1", adapter.http_port)
        started = time.monotonic()
        writer.write(HALF_SENT)
        try:
            assert await asyncio.wait_for(closed_by_server(reader), 10)
            assert await asyncio.wait_for(closed_by_server(silent_reader), 10)
            assert time.monotonic() - started >= 0.4
            assert await answered_help(slack, url) < 3.0  # real requests are not slowed
        finally:
            writer.close()
            silent_writer.close()


async def test_a_body_that_stops_arriving_is_cut_off(bot: Bot, settings: Settings) -> None:
    async with http_app(bot, settings, body_timeout=0.5) as (slack, adapter, url):
        reader, writer = await asyncio.open_connection("127.0.0.1", adapter.http_port)
        writer.write(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"type": '
        )
        try:
            status_line = await asyncio.wait_for(reader.readline(), 10)
            assert status_line.startswith(b"HTTP/1.1 408")
            assert await answered_help(slack, url) < 3.0
        finally:
            writer.close()


async def test_a_kept_alive_connection_must_send_its_next_request_in_time(
    bot: Bot, settings: Settings
) -> None:
    async with (
        http_app(bot, settings, header_timeout=0.5) as (slack, adapter, url),
        aiohttp.ClientSession() as session,
    ):
        body, content_type = slack.encode(slack.command_payload("help"))
        headers = {"Content-Type": content_type, **slack.sign(body)}
        async with session.post(url, data=body, headers=headers) as first:
            assert first.status == 200
        assert adapter._http.server.open_connections == 1  # kept alive...
        await wait_until(lambda: adapter._http.server.open_connections == 0, timeout=10)


async def test_bodies_over_a_mebibyte_get_413(bot: Bot, settings: Settings) -> None:
    async with http_app(bot, settings) as (slack, _, url):
        body = "text=" + "x" * (1024**2)
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body.encode(), headers=slack.sign(body)) as response,
        ):
            assert response.status == 413


async def test_accept_errors_are_reported_once_a_minute_not_each_time(
    bot: Bot, settings: Settings, caplog
) -> None:
    async with http_app(bot, settings):
        loop = asyncio.get_running_loop()
        with caplog.at_level(logging.DEBUG):
            for _ in range(1000):
                loop.call_exception_handler(
                    {
                        "message": "socket.accept() out of system resource",
                        "exception": OSError(24, "Too many open files"),
                    }
                )
    lines = [r for r in caplog.records if "accept" in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in lines[:3]]
    assert "could not be accepted" in lines[0].getMessage()


# -- item 5: malformed requests ------------------------------------------------------------


def sign_bytes(slack: FakeSlack, body: bytes, timestamp: str) -> dict[str, str]:
    digest = hmac.new(
        slack.signing_secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    )
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
DEEP = b"[" * 100_000 + b"]" * 100_000
MALFORMED: dict[str, tuple[bytes, str]] = {
    "not-utf8": (b"command=%2Fpapers&text=\xff\xfe\xfa", FORM),
    "payload-not-json": (b"payload=%7Bnot+json", FORM),
    "payload-a-list": (b"payload=%5B1%2C2%5D", FORM),
    "payload-deep": (b"payload=" + DEEP, FORM),
    "json-null": (b"null", JSON),
    "json-list": (b"[1,2]", JSON),
    "json-number": (b"42", JSON),
    "json-deep": (DEEP, JSON),
    "json-deep-object": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, JSON),
}


@pytest.fixture
async def app(bot: Bot, settings: Settings) -> AsyncIterator[tuple]:
    async with http_app(bot, settings) as running:
        yield running


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status


def refusals(caplog) -> list[logging.LogRecord]:
    """What the request left in the log at WARNING or above: exactly one line is expected."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def one_clean_line(caplog) -> None:
    lines = refusals(caplog)
    assert len(lines) == 1, [r.getMessage()[:200] for r in lines]
    assert lines[0].levelno == logging.WARNING and lines[0].exc_info is None


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_signed_malformed_body_gets_400_and_one_line(app: tuple, case: str, caplog):
    slack, _, url = app
    body, content_type = MALFORMED[case]
    headers = {"Content-Type": content_type, **sign_bytes(slack, body, str(int(time.time())))}
    with caplog.at_level(logging.INFO):
        assert await post(url, body, headers) == 400
    one_clean_line(caplog)
    assert await answered_help(slack, url) < 3.0


@pytest.mark.parametrize("case", MALFORMED)
async def test_an_unsigned_or_badly_signed_malformed_body_gets_401(
    app: tuple, case: str, caplog
) -> None:
    slack, _, url = app
    body, content_type = MALFORMED[case]
    wrong = {**sign_bytes(slack, body + b"x", str(int(time.time()))), "Content-Type": content_type}
    with caplog.at_level(logging.INFO):
        assert await post(url, body, {"Content-Type": content_type}) == 401
        assert await post(url, body, wrong) == 401
    assert len(refusals(caplog)) == 2
    assert all(r.exc_info is None for r in refusals(caplog))


@pytest.mark.parametrize("timestamp", ["abc", "", "1712345678.5", "99999999999999999999", "-5"])
async def test_an_odd_timestamp_gets_401(app: tuple, timestamp: str, caplog) -> None:
    slack, _, url = app
    body, content_type = slack.encode(slack.command_payload("help"))
    if timestamp == "1712345678.5":
        timestamp = f"{time.time():.1f}"  # a float of now: not what Slack sends
    headers = {"Content-Type": content_type, **sign_bytes(slack, body.encode(), timestamp)}
    with caplog.at_level(logging.INFO):
        assert await post(url, body.encode(), headers) == 401
    one_clean_line(caplog)
