"""``GET /healthz`` over HTTP: on Slack's HTTP port when Slack runs in HTTP mode, and on
``HEALTHZ_PORT`` when that is set (for processes with no HTTP platform: Socket Mode,
Discord). 200 with the details as JSON when healthy, 503 with the same JSON when not
(``bot.health`` says what healthy means)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web

from adapters.platform import PlatformAdapter
from bot.core import Bot
from bot.health import health_report

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


class HealthCheck:
    def __init__(self, bot: Bot, adapters: Sequence[PlatformAdapter]) -> None:
        self.bot = bot
        self.adapters = adapters

    def platforms(self) -> dict[str, bool]:
        """Each started platform: connected now? (Adapters that cannot tell count as up.)"""
        return {a.platform: bool(getattr(a, "connected", True)) for a in self.adapters}

    async def answer(self) -> web.Response:
        healthy, details = health_report(self.bot, self.platforms())
        return web.json_response(details, status=200 if healthy else 503)


class HealthServer:
    """A tiny HTTP server answering only ``GET /healthz``."""

    def __init__(self, check: HealthCheck) -> None:
        self.check = check
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> int:
        app = web.Application()
        app.router.add_get(HEALTH_PATH, self._get)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        log.info("health checks: GET %s on port %d", HEALTH_PATH, self.port)
        return self.port

    async def _get(self, request: web.Request) -> web.Response:
        return await self.check.answer()

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
