"""A day, an ISO week or a month, as ``/papers today|week|month`` name them:
``2026-05-13``, ``2026-W20``, ``2026-05``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Kind = Literal["day", "week", "month"]

FORMS: dict[Kind, str] = {
    "day": "Give a day as YYYY-MM-DD, e.g. `/papers today 2026-05-13`.",
    "week": "Give an ISO week as YYYY-Www, e.g. `/papers week 2026-W20` (weeks start on Monday).",
    "month": "Give a month as YYYY-MM, e.g. `/papers month 2026-05`.",
}
_PATTERNS: dict[Kind, re.Pattern[str]] = {
    "day": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    "week": re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
}


class PeriodError(ValueError):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class CalendarPeriod:
    kind: Kind
    first: date
    last: date

    @property
    def key(self) -> str:
        """How Hugging Face's API and people write it: 2026-05-13, 2026-W20, 2026-05."""
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first:%Y-%m}"

    @property
    def words(self) -> str:
        """For a title: "2026-05-13", "week 2026-W20", "May 2026"."""
        if self.kind == "week":
            return f"week {self.key}"
        if self.kind == "month":
            return f"{self.first:%B %Y}"
        return self.key


def period_of(kind: Kind, day: date) -> CalendarPeriod:
    """The day, week or month ``day`` falls in."""
    if kind == "day":
        return CalendarPeriod("day", day, day)
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        return CalendarPeriod("week", first, first + timedelta(days=6))
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return CalendarPeriod("month", first, following - timedelta(days=1))


def parse_period(kind: Kind, text: str) -> CalendarPeriod:
    """The period ``text`` names; raises PeriodError with the accepted form."""
    shown = text.strip()[:40]
    match = _PATTERNS[kind].match(text.strip())
    if match is None:
        raise PeriodError(f"`{shown}` is not a {_NOUNS[kind]}.", FORMS[kind])
    numbers = [int(group) for group in match.groups()]
    try:
        if kind == "day":
            first = date(*numbers)
        elif kind == "week":
            first = date.fromisocalendar(numbers[0], numbers[1], 1)
        else:
            first = date(numbers[0], numbers[1], 1)
    except ValueError:
        raise PeriodError(f"`{shown}` is not a {_NOUNS[kind]}.", FORMS[kind]) from None
    return period_of(kind, first)


_NOUNS: dict[Kind, str] = {"day": "date", "week": "week", "month": "month"}
