"""One message per second per channel, as Slack asks; channels never wait for each other."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class ChannelPacer:
    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    @asynccontextmanager
    async def turn(self, channel: str) -> AsyncIterator[None]:
        """Hold ``channel``'s turn: earlier sends there have finished and the interval passed.

        The lock is held through the send and its rate-limit retries, so a channel's posts
        leave in order; the clock restarts when the send ends, whatever its outcome.
        """
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            wait = self._last.get(channel, float("-inf")) + self.interval - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._last[channel] = self.clock()
