"""Digest schedules: the accepted forms, and due times across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.model.calendar_period import PeriodError, parse_period
from bot.model.schedule import Schedule, ScheduleError, parse_schedule, parse_tz

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily@09:00", Schedule("daily", time(9, 0))),
        ("DAILY@9:05", Schedule("daily", time(9, 5))),
        ("weekly@mon-09:00", Schedule("weekly", time(9, 0), 0)),
        ("weekly@fri 16:00", Schedule("weekly", time(16, 0), 4)),
        ("weekly@Friday-16:00", Schedule("weekly", time(16, 0), 4)),
        ("weekly@sun-23:59", Schedule("weekly", time(23, 59), 6)),
    ],
)
def test_accepted_forms_read_back_as_written(text: str, expected: Schedule) -> None:
    schedule = parse_schedule(text)
    assert schedule == expected
    assert parse_schedule(str(schedule)) == schedule


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("daily@25:00", "not a time of day"),
        ("daily@09:60", "not a time of day"),
        ("daily", "not a schedule"),
        ("hourly@09:00", "not a schedule"),
        ("weekly@09:00", "needs a weekday"),
        ("daily@mon-09:00", "takes no weekday"),
        ("weekly@funday-09:00", "not a weekday"),
        ("daily@9am", "not a schedule"),
    ],
)
def test_bad_schedules_say_what_is_wrong_and_give_the_forms(text: str, complaint: str) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(text)
    assert complaint in raised.value.message
    assert "daily@HH:MM" in raised.value.hint and "weekly@DAY-HH:MM" in raised.value.hint


def test_time_zones_are_iana_names_in_any_case_with_suggestions_for_typos() -> None:
    assert parse_tz("europe/berlin") == "Europe/Berlin"
    assert parse_tz("UTC") == "UTC"
    with pytest.raises(ScheduleError) as raised:
        parse_tz("Europe/Berln")
    assert "`Europe/Berlin`" in raised.value.hint and "IANA" in raised.value.hint
    with pytest.raises(ScheduleError):
        parse_tz("x" * 500)


def test_a_daily_time_stays_on_the_wall_clock_across_the_spring_change() -> None:
    daily = parse_schedule("daily@09:00")
    # 2026-03-29: Berlin goes from UTC+1 to UTC+2 at 02:00.
    before = daily.latest_due(utc(2026, 3, 28, 12), BERLIN)
    after = daily.next_due(before, BERLIN)
    assert before.astimezone(UTC) == utc(2026, 3, 28, 8)
    assert after.astimezone(UTC) == utc(2026, 3, 29, 7)  # 09:00 CEST
    assert after.timestamp() - before.timestamp() == 23 * 3600
    assert daily.period_key(after) == "2026-03-29"


def test_a_daily_time_stays_on_the_wall_clock_across_the_autumn_change() -> None:
    daily = parse_schedule("daily@09:00")
    # 2026-10-25: Berlin goes back from UTC+2 to UTC+1.
    before = daily.latest_due(utc(2026, 10, 24, 12), BERLIN)
    after = daily.next_due(utc(2026, 10, 24, 12), BERLIN)
    assert before.astimezone(UTC) == utc(2026, 10, 24, 7)
    assert after.astimezone(UTC) == utc(2026, 10, 25, 8)
    assert after.timestamp() - before.timestamp() == 25 * 3600


def test_a_time_the_change_skips_or_repeats_is_due_once_that_day() -> None:
    daily = parse_schedule("daily@02:30")
    # Skipped on 2026-03-29 (02:00 -> 03:00): due at 03:30 local, the offset from before.
    skipped = daily.next_due(utc(2026, 3, 28, 12), BERLIN)
    assert skipped.astimezone(UTC) == utc(2026, 3, 29, 1, 30)
    assert daily.next_due(skipped, BERLIN).astimezone(UTC) == utc(2026, 3, 30, 0, 30)
    # Twice on 2026-10-25 (03:00 -> 02:00): due at the first 02:30 only.
    repeated = daily.next_due(utc(2026, 10, 24, 12), BERLIN)
    assert repeated.astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    following = daily.next_due(repeated, BERLIN)
    assert following.astimezone(UTC) == utc(2026, 10, 26, 1, 30)
    assert daily.period_key(following) != daily.period_key(repeated)


def test_weekly_is_due_on_its_weekday_in_the_channels_zone() -> None:
    friday = parse_schedule("weekly@fri-16:00")
    # Friday 16:00 in New York is 20:00 UTC in May (EDT).
    now = utc(2026, 5, 13, 12)  # a Wednesday
    assert friday.next_due(now, NEW_YORK).astimezone(UTC) == utc(2026, 5, 15, 20)
    latest = friday.latest_due(now, NEW_YORK)
    assert latest.astimezone(UTC) == utc(2026, 5, 8, 20)
    assert friday.period_key(latest) == "2026-W19"
    # On the day itself, before and after the time.
    assert friday.latest_due(utc(2026, 5, 15, 19, 59), NEW_YORK) == latest
    assert friday.latest_due(utc(2026, 5, 15, 20), NEW_YORK).astimezone(UTC) == utc(2026, 5, 15, 20)


@pytest.mark.parametrize(
    ("kind", "text", "key"),
    [
        ("day", "2026-05-13", "2026-05-13"),
        ("week", "2026-W20", "2026-W20"),
        ("week", "2026w5", "2026-W05"),
        ("week", "2025-W53", None),  # 2025 has 52 ISO weeks
        ("week", "2026-W53", "2026-W53"),
        ("month", "2026-05", "2026-05"),
        ("month", "2026-13", None),
        ("day", "2026-02-30", None),
        ("day", "13.05.2026", None),
        ("week", "2026-20", None),
        ("month", "May", None),
    ],
)
def test_days_weeks_and_months(kind, text: str, key: str | None) -> None:
    if key is None:
        with pytest.raises(PeriodError) as raised:
            parse_period(kind, text)
        assert {"day": "YYYY-MM-DD", "week": "YYYY-Www", "month": "YYYY-MM"}[kind] in (
            raised.value.hint
        )
    else:
        assert parse_period(kind, text).key == key
