"""What every local fake shares: an aiohttp app on a free 127.0.0.1 port, and bounded waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web


async def wait_until(
    predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.01
) -> Any:
    """Wait until ``predicate()`` is truthy and return its value; fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        await asyncio.sleep(interval)


class LocalServer:
    """Serves one aiohttp app on ``host`` at a port the OS picks, until ``close``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, app: web.Application, **runner_options: Any) -> int:
        # Fakes never print an access log, and stop fast: a test waits for nothing.
        options = {"access_log": None, "handle_signals": False, "shutdown_timeout": 0.5}
        self._runner = web.AppRunner(app, **{**options, **runner_options})
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
