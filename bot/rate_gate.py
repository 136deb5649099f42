"""A request budget shared by every process on one database: at most one request per
``interval`` seconds, all processes together (Discord's global limit, its IDENTIFY buckets).

The budget is a timeline of slots ``interval`` apart kept in the database
(``Store.reserve_rate_slots``): a process reserves as many consecutive slots as it has
callers waiting (up to ``batch``) in one statement, then lets each caller go at its slot.
A slot not used within ``grace`` of its time (the loop was busy) is given up, never used
late: late requests would bunch up with the next ones. So any span of ``L`` seconds holds at
most ``(L + grace) / interval + 1`` requests, whatever the number of processes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from storage.store import Store

log = logging.getLogger(__name__)


class SharedRateGate:
    def __init__(
        self,
        store: Store,
        name: str,
        *,
        interval: float,
        grace: float,
        batch: int = 10,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.name = name
        self.interval = interval
        self.grace = grace
        self.batch = batch
        self.clock = clock
        self.sleep = sleep
        self.given_up = 0  # slots that went unused (too late, or nobody left to use them)
        self._slots: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._wanting = 0  # callers without a slot yet

    async def wait(self) -> None:
        """Return at this caller's slot of the shared budget."""
        while True:
            slot = await self._take_slot()
            delay = slot - self.clock()
            if delay > 0:
                await self.sleep(delay)
            if self.clock() - slot <= self.grace:
                return
            self.given_up += 1

    async def _take_slot(self) -> float:
        self._wanting += 1
        try:
            async with self._lock:
                now = self.clock()
                while self._slots and self._slots[0] < now - self.grace:
                    self._slots.popleft()  # reserved for callers who are gone
                    self.given_up += 1
                if not self._slots:
                    self._slots.extend(self._reserve(min(self.batch, self._wanting), now))
                return self._slots.popleft()
        finally:
            self._wanting -= 1

    def _reserve(self, count: int, now: float) -> list[float]:
        try:
            start = self.store.reserve_rate_slots(self.name, count, self.interval, now)
        except Exception as exc:  # the database is away: pace this process alone meanwhile
            log.warning("could not reserve %s slots in the database (%s)", self.name, exc)
            start = now + self.interval
        return [start + i * self.interval for i in range(count)]
