"""Which channels were told that a source's search is down, so each hears it once an outage."""

from __future__ import annotations

from bot.events import ChannelRef


class OutageNotes:
    def __init__(self) -> None:
        self._told: dict[str, set[ChannelRef]] = {}  # source name -> channels told

    def failed(self, source: str, channel: ChannelRef) -> bool:
        """Record a failed search; True if ``channel`` has not heard of this outage yet."""
        told = self._told.setdefault(source, set())
        if channel in told:
            return False
        told.add(channel)
        return True

    def is_new(self, source: str) -> bool:
        """Whether no failure of ``source`` has been recorded since it last worked."""
        return not self._told.get(source)

    def worked(self, source: str) -> None:
        """The source answered: the outage is over; the next one is news to everyone again."""
        self._told.pop(source, None)
