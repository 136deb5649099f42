"""One message per second per channel, as Slack asks; channels never wait for each other.

A channel is known by its workspace and its id: channel ids are only unique within a
workspace, and one workspace's posts must never wait on another's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager


class ChannelPacer:
    def __init__(self, interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._last: dict[Hashable, float] = {}

    @asynccontextmanager
    async def turn(self, channel: Hashable) -> AsyncIterator[None]:
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
