"""``GET /healthz``: what a load balancer in front of several paperboy processes asks.

On Slack's HTTP port in HTTP mode; on ``HEALTHZ_PORT`` when that is set (Socket Mode,
Discord). 200 when the database answers, the platforms are connected and the poster (if
this process is it) ran a round lately; 503 with the same JSON saying what is wrong.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace

import httpx

from adapters.health import HealthCheck
from adapters.launch import run
from adapters.memory import MemoryAdapter
from bot.config import Settings
from tests.fakes.slack import FakeSlack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def get_health(port: int, running: asyncio.Task, timeout: float = 15) -> httpx.Response:
    """GET /healthz once it is served (the port may be up a moment before), within a bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            assert not running.done(), "paperboy stopped"
            try:
                response = await client.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                if response.status_code != 404:
                    return response
            except httpx.TransportError:
                pass  # not listening yet
            assert loop.time() < deadline, "no /healthz"
            await asyncio.sleep(0.02)


async def healthz_while_running(settings: Settings, slack: FakeSlack, **slack_settings) -> dict:
    """Run paperboy with Slack until /healthz answers on ``health_port``; its JSON."""
    port = slack_settings.pop("health_port")
    stop = asyncio.Event()
    platform = slack.platform(**slack_settings)
    running = asyncio.create_task(run(settings, platforms=[platform], stop=stop))
    try:
        response = await get_health(port, running)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        return response.json()
    finally:
        stop.set()
        assert await asyncio.wait_for(running, 10) == 0


async def test_slack_http_port_answers_healthz_without_a_signature(settings: Settings) -> None:
    port = free_port()
    async with FakeSlack() as slack:
        health = await healthz_while_running(
            settings, slack, socket_mode=False, port=port, health_port=port
        )
    assert health["status"] == "ok"
    assert health["database"] == {"reachable": True, "backend": "sqlite"}
    assert health["platforms"] == {"slack": True}
    assert health["poster"]["this_process"] is True  # the only process holds the lock


async def test_healthz_port_serves_it_for_socket_mode(settings: Settings) -> None:
    port = free_port()
    async with FakeSlack() as slack:
        health = await healthz_while_running(
            replace(settings, healthz_port=port), slack, socket_mode=True, health_port=port
        )
    assert health["status"] == "ok" and health["platforms"] == {"slack": True}


async def test_unhealthy_is_503_and_says_why(bot, clock) -> None:
    chat = MemoryAdapter(bot)
    chat.connected = True  # type: ignore[attr-defined]
    check = HealthCheck(bot, [chat])
    assert (await check.answer()).status == 200

    # The poster's last round is older than three poll intervals: stuck.
    assert bot.poster.lease.acquire()
    bot.poster.last_round_at = clock() - 4 * bot.settings.poll_interval
    stuck = await check.answer()
    assert stuck.status == 503 and b'"stuck": true' in stuck.body
    bot.poster.last_round_at = clock()
    chat.connected = False  # type: ignore[attr-defined]
    assert (await check.answer()).status == 503
    chat.connected = True  # type: ignore[attr-defined]
    assert (await check.answer()).status == 200

    bot.store.close()  # the database is gone
    gone = await check.answer()
    assert gone.status == 503 and b'"reachable": false' in gone.body
