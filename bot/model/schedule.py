"""When a digest is due: ``daily@09:00`` or ``weekly@mon-09:00`` in a channel's time zone.

Times are wall-clock times in the channel's IANA time zone (``zoneinfo``), so a 09:00 digest
stays at 09:00 across daylight-saving changes. A time that does not exist on a spring-forward
day (02:30 in Berlin) is read as zoneinfo reads it, with the offset from before the change
(so it comes at 03:30 that day); a time that happens twice on a fall-back day is due at the
first of the two. Either way each period is due exactly once: a period is named by its local
date (``2026-05-13``) or ISO week (``2026-W20``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
SCHEDULE_FORMS = (
    "Use `daily@HH:MM` (e.g. `daily@09:00`) or `weekly@DAY-HH:MM` (e.g. `weekly@mon-09:00`): "
    "24-hour time, DAY one of mon, tue, wed, thu, fri, sat, sun."
)
TZ_FORMS = "Use an IANA time zone name such as `Europe/Berlin`, `America/New_York` or `UTC`."
DEFAULT_TZ = "UTC"
MAX_TZ_CHARS = 64

_SCHEDULE = re.compile(
    r"^\s*(?P<every>daily|weekly)\s*@\s*(?:(?P<day>[a-z]+)\s*[- ]\s*)?"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*$",
    re.IGNORECASE,
)


class ScheduleError(ValueError):
    """A schedule or time zone that cannot be read; the message says what was wrong and
    ``hint`` the accepted forms."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Schedule:
    every: Literal["daily", "weekly"]
    at: time
    weekday: int = 0  # Monday is 0; weekly only

    def __str__(self) -> str:
        """The canonical form, as ``parse_schedule`` reads it back: ``weekly@mon-09:00``."""
        clock = self.at.strftime("%H:%M")
        if self.every == "daily":
            return f"daily@{clock}"
        return f"weekly@{WEEKDAYS[self.weekday]}-{clock}"

    @property
    def length(self) -> timedelta:
        return timedelta(days=1 if self.every == "daily" else 7)

    def due_on(self, day: date, tz: ZoneInfo) -> datetime:
        """The due instant of the period that is due on local ``day`` (aware, in ``tz``)."""
        return datetime.combine(day, self.at, tzinfo=tz)

    def latest_due(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The most recent due instant at or before ``now``."""
        local_day = now.astimezone(tz).date()
        day = local_day
        if self.every == "weekly":
            day -= timedelta(days=(local_day.weekday() - self.weekday) % 7)
        step = timedelta(days=1 if self.every == "daily" else 7)
        # Compared as instants: wall-clock comparison would go wrong across an offset change.
        while self.due_on(day, tz).astimezone(UTC) > now.astimezone(UTC):
            day -= step
        return self.due_on(day, tz)

    def next_due(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The first due instant strictly after ``now``."""
        day = self.latest_due(now, tz).date()
        step = timedelta(days=1 if self.every == "daily" else 7)
        while self.due_on(day, tz).astimezone(UTC) <= now.astimezone(UTC):
            day += step
        return self.due_on(day, tz)

    def period_key(self, due: datetime) -> str:
        """The name of the period ``due`` (a due instant, in the channel's zone) starts:
        its local date for a daily digest, its ISO week for a weekly one."""
        day = due.date()
        if self.every == "daily":
            return day.isoformat()
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"


def parse_schedule(text: str) -> Schedule:
    """``daily@09:00``, ``weekly@mon-09:00`` or ``weekly@fri 16:00``; raises ScheduleError."""
    shown = text.strip()[:40]
    match = _SCHEDULE.match(text)
    if match is None:
        raise ScheduleError(f"`{shown}` is not a schedule I understand.", SCHEDULE_FORMS)
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise ScheduleError(f"`{shown}` is not a time of day.", SCHEDULE_FORMS)
    at = time(hour, minute)
    every = match["every"].lower()
    day = (match["day"] or "").lower()
    if every == "daily":
        if day:
            raise ScheduleError(f"`{shown}`: a daily digest takes no weekday.", SCHEDULE_FORMS)
        return Schedule("daily", at)
    if not day:
        raise ScheduleError(f"`{shown}`: a weekly digest needs a weekday.", SCHEDULE_FORMS)
    if day in WEEKDAYS:
        return Schedule("weekly", at, WEEKDAYS.index(day))
    if day in _FULL_WEEKDAYS:
        return Schedule("weekly", at, _FULL_WEEKDAYS.index(day))
    raise ScheduleError(f"`{day[:20]}` is not a weekday.", SCHEDULE_FORMS)


def parse_tz(text: str) -> str:
    """The IANA name ``text`` names (any case), e.g. ``Europe/Berlin``; raises ScheduleError
    with the closest names when there is none."""
    typed = text.strip()
    by_lower = _zones_by_lower()
    name = by_lower.get(typed.lower()) if len(typed) <= MAX_TZ_CHARS else None
    if name is None:
        close = difflib.get_close_matches(typed.lower()[:MAX_TZ_CHARS], by_lower, n=3)
        hint = TZ_FORMS
        if close:
            hint = "Did you mean " + " or ".join(f"`{by_lower[c]}`" for c in close) + "? " + hint
        raise ScheduleError(f"`{typed[:MAX_TZ_CHARS]}` is not a time zone I know.", hint)
    return name


def zone(name: str) -> ZoneInfo:
    """The zone for a stored name; UTC if the name is no longer known (tzdata changed)."""
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


@cache
def _zones_by_lower() -> dict[str, str]:
    # available_timezones() reads the tzdata package (a dependency), so the list is the same
    # on every machine, with or without /usr/share/zoneinfo.
    return {name.lower(): name for name in available_timezones()}
