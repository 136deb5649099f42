"""``/papers today|week|month``: Hugging Face's lists of a day, an ISO week or a month,
through the real core and HF source against the local fake (answers built from the
recorded daily samples)."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryAdapter
from bot.core import Bot
from bot.replies import Error, PaperList, Text
from tests.conftest import FakeClock
from tests.fakes.paper_sources import FakePaperSources, fixture_json, hf_item

MAY_13 = fixture_json("hf_daily_papers_2026-05-13.json")
JUNE_1 = fixture_json("hf_daily_papers_2026-06-01.json")


def top_ids(items: list, n: int = 10) -> list[str]:
    ranked = sorted(items, key=lambda i: -i["paper"]["upvotes"])
    return [i["paper"]["id"] for i in ranked[:n]]


async def test_a_past_day_is_that_days_list_by_upvotes(
    chat: MemoryAdapter, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    clock.advance(30 * 86400)  # 2026-06-12
    reply = await chat.command("today 2026-06-01")
    assert isinstance(reply, PaperList)
    assert reply.title == "Hugging Face Daily Papers, 2026-06-01"
    assert [s.paper.id for s in reply.papers] == top_ids(JUNE_1)
    assert paper_sources.requests_for("daily")[-1].query == {"date": "2026-06-01"}


async def test_a_week_asks_hf_for_the_iso_week(
    chat: MemoryAdapter, bot: Bot, paper_sources: FakePaperSources
) -> None:
    reply = await chat.command("week 2026-W20 public")
    assert isinstance(reply, PaperList) and reply.public
    assert reply.title == "Hugging Face Daily Papers, week 2026-W20"
    assert [s.paper.id for s in reply.papers] == top_ids(MAY_13)
    assert paper_sources.requests_for("daily")[-1].query == {"week": "2026-W20"}
    assert bot.store.get_paper(reply.papers[0].paper.id) is not None  # kept for search

    this_week = await chat.command("week")  # START is in 2026-W20
    assert isinstance(this_week, PaperList) and this_week.title.endswith("week 2026-W20")


async def test_a_month_holds_every_day_of_it(
    chat: MemoryAdapter, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    paper_sources.set_daily("2026-05-20", [hf_item("2605.99999", "Best of May", upvotes=500)])
    reply = await chat.command("month 2026-05")
    assert isinstance(reply, PaperList)
    assert reply.title == "Hugging Face Daily Papers, May 2026"
    ids = [s.paper.id for s in reply.papers]
    assert ids[0] == "2605.99999" and ids[1:] == top_ids(MAY_13, 9)
    assert paper_sources.requests_for("daily")[-1].query == {"month": "2026-05"}


async def test_an_empty_period_says_so(
    chat: MemoryAdapter, paper_sources: FakePaperSources
) -> None:
    reply = await chat.command("month 2025-01")
    assert isinstance(reply, Text)
    assert reply.text == "Hugging Face Daily Papers has no papers for January 2025."


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("today 2026-05-14", "hasn't begun yet", "Today is 2026-05-13"),
        ("week 2026-W21", "hasn't begun yet", "YYYY-Www"),
        ("month 2026-06", "hasn't begun yet", "YYYY-MM"),
        ("today 2026-13-01", "not a date", "YYYY-MM-DD"),
        ("today yesterday", "not a date", "YYYY-MM-DD"),
        ("week 2026-20", "not a week", "YYYY-Www"),
        ("week 2025-W53", "not a week", "YYYY-Www"),
        ("month 2026-5", "not a month", "YYYY-MM"),
        ("month May", "not a month", "YYYY-MM"),
    ],
)
async def test_bad_and_future_periods_are_refused_kindly(
    chat: MemoryAdapter, paper_sources: FakePaperSources, text: str, message: str, hint: str
) -> None:
    reply = await chat.command(text)
    assert isinstance(reply, Error), reply
    assert message in reply.message and hint in reply.hint
    assert paper_sources.count("daily") == 0  # nothing asked of HF


async def test_hf_down_is_said_plainly(
    chat: MemoryAdapter, paper_sources: FakePaperSources
) -> None:
    paper_sources.fail("daily", 503, times=10)
    reply = await chat.command("week 2026-W19")
    assert isinstance(reply, Error)
    assert "can't be reached" in reply.message
