"""Digest subscriptions and the team top through the real core, store and poster, on the
memory adapter, with the clock under the test's control, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from adapters.memory import MemoryAdapter
from bot.core import Bot
from bot.outbox import SendError
from bot.poster import Poster
from bot.replies import Digest, Error, Text
from tests.conftest import BACKENDS, FakeClock
from tests.fakes.paper_sources import FakePaperSources, hf_item

# START is Wednesday 2026-05-13 12:00 UTC (14:00 in Berlin).


def at(clock: FakeClock, *when: int) -> None:
    """Set the clock to a UTC time (it never goes back)."""
    target = datetime(*when, tzinfo=UTC).timestamp()
    assert target >= clock.now
    clock.now = target


def digests(chat: MemoryAdapter, channel: str = "C1") -> list[Digest]:
    return [
        s.reply
        for s in chat.sent
        if isinstance(s.reply, Digest) and s.ref.channel.channel == channel
    ]


def serve(paper_sources: FakePaperSources, day: str, *specs: tuple[str, int]) -> None:
    paper_sources.set_daily(day, [hf_item(pid, upvotes=up, day=day) for pid, up in specs])


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(autouse=True)
def quiet_days(paper_sources: FakePaperSources) -> None:
    paper_sources.set_default_daily([])  # only the days a test serves have papers


async def subscribe(chat: MemoryAdapter, text: str, channel: str = "C1") -> Text:
    reply = await chat.command(f"subscribe {text}", admin=True, channel=channel)
    assert isinstance(reply, Text), reply
    return reply


async def test_a_daily_digest_lists_the_top_papers_once_at_its_local_time(
    chat: MemoryAdapter, bot: Bot, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    serve(paper_sources, "2026-05-13", ("2605.00001", 5), ("2605.00002", 50), ("2605.00003", 9))
    serve(paper_sources, "2026-05-14", ("2605.00004", 20))
    reply = await subscribe(chat, "hf digest=daily@09:00 top=3 tz=Europe/Berlin")
    assert "Thursday 14 May 2026, 09:00 (Europe/Berlin)" in reply.text
    await bot.poster.run_once()
    assert chat.cards() == []  # a digest subscription posts no single papers
    assert digests(chat) == []  # subscribed after today's 09:00

    at(clock, 2026, 5, 14, 6, 59)  # 08:59 in Berlin
    await bot.poster.run_once()
    assert digests(chat) == []
    at(clock, 2026, 5, 14, 7, 0)  # 09:00 in Berlin
    await bot.poster.run_once()
    await bot.poster.run_once()
    [digest] = digests(chat)
    assert [e.paper.id for e in digest.entries] == ["2605.00002", "2605.00004", "2605.00003"]
    assert digest.period == "Thursday 14 May 2026"
    assert digest.title == "Hugging Face Daily Papers: top 3"
    assert chat.cards() == []

    # The next day lists what is new since, not yesterday's papers again.
    serve(paper_sources, "2026-05-15", ("2605.00005", 1))
    at(clock, 2026, 5, 15, 7, 0)
    await bot.poster.run_once()
    assert [e.paper.id for e in digests(chat)[1].entries] == ["2605.00001", "2605.00005"]


async def test_team_votes_break_ties_in_hf_upvotes(
    chat: MemoryAdapter, bot: Bot, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    serve(paper_sources, "2026-05-13", ("2605.00001", 7), ("2605.00002", 7), ("2605.00003", 7))
    await subscribe(chat, "hf", channel="C2")  # cards to vote on, in another channel
    await bot.poster.run_once()
    cards = {s.reply.paper.id: s.ref for s in chat.cards("C2")}
    await chat.react(cards["2605.00003"], "+1", user="U1")
    await chat.react(cards["2605.00003"], "+1", user="U2")
    await chat.react(cards["2605.00001"], "+1", user="U1")
    await subscribe(chat, "hf digest=daily@09:00")
    at(clock, 2026, 5, 14, 9, 0)
    await bot.poster.run_once()
    [digest] = digests(chat)
    assert [(e.paper.id, e.votes) for e in digest.entries] == [
        ("2605.00003", 2),
        ("2605.00001", 1),
        ("2605.00002", 0),
    ]


async def test_after_downtime_only_the_latest_missed_period_is_sent_once(
    chat: MemoryAdapter, bot: Bot, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    serve(paper_sources, "2026-05-13", ("2605.00001", 5))
    serve(paper_sources, "2026-05-17", ("2605.00002", 5))
    await subscribe(chat, "hf digest=daily@09:00")
    await bot.poster.run_once()
    [sub] = bot.store.subscriptions()
    # Paperboy is down from Wednesday afternoon until Sunday noon: four 09:00s pass.
    at(clock, 2026, 5, 17, 12, 0)
    await bot.poster.run_once()
    [digest] = digests(chat)
    assert digest.period == "Sunday 17 May 2026"
    assert bot.store.digest_state(sub.id, "2026-05-17") == "sent"
    for missed in ("2026-05-14", "2026-05-15", "2026-05-16"):
        assert bot.store.digest_state(sub.id, missed) is None
    # A restart: a new core on the same database sends nothing again.
    restarted = Poster(bot.store, bot.sources, bot.settings, bot.outboxes, clock)
    await restarted.run_once()
    await bot.poster.run_once()
    assert len(digests(chat)) == 1


async def test_two_posters_at_once_send_a_period_once(
    chat: MemoryAdapter, bot: Bot, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    serve(paper_sources, "2026-05-14", ("2605.00001", 5))
    await subscribe(chat, "hf digest=daily@09:00")
    other = Poster(bot.store, bot.sources, bot.settings, bot.outboxes, clock)
    at(clock, 2026, 5, 14, 9, 0)
    await asyncio.gather(bot.poster.run_once(), other.run_once(), bot.poster.run_once())
    assert len(digests(chat)) == 1


async def test_a_failed_send_is_retried_and_an_unknown_one_is_not_sent_twice(
    chat: MemoryAdapter, bot: Bot, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    serve(paper_sources, "2026-05-14", ("2605.00001", 5))
    serve(paper_sources, "2026-05-15", ("2605.00002", 5))
    await subscribe(chat, "hf digest=daily@09:00")
    [sub] = bot.store.subscriptions()
    at(clock, 2026, 5, 14, 9, 0)
    chat.failures.append(SendError("Slack refused it"))
    await bot.poster.run_once()
    assert digests(chat) == [] and bot.store.digest_state(sub.id, "2026-05-14") is None
    await bot.poster.run_once()
    assert len(digests(chat)) == 1  # certainly not sent before: sent now

    at(clock, 2026, 5, 15, 9, 0)
    chat.failures.append(TimeoutError("no answer"))  # it may have been posted
    await bot.poster.run_once()
    await bot.poster.run_once()
    assert len(digests(chat)) == 1
    assert bot.store.digest_state(sub.id, "2026-05-15") == "pending"


async def test_the_poster_wakes_at_the_next_digest_not_every_second(
    chat: MemoryAdapter, bot: Bot, clock: FakeClock
) -> None:
    assert bot.poster.seconds_to_next_round() == bot.settings.poll_interval
    await subscribe(chat, "hf digest=daily@12:30 tz=Europe/Berlin")  # 10:30 UTC
    at(clock, 2026, 5, 14, 10, 10)
    assert bot.poster.seconds_to_next_round() == pytest.approx(20 * 60 + 1)
    at(clock, 2026, 5, 14, 10, 31)
    assert bot.poster.seconds_to_next_round() == bot.settings.poll_interval  # next is tomorrow


async def test_the_time_zone_is_remembered_per_channel(chat: MemoryAdapter, bot: Bot) -> None:
    await subscribe(chat, "hf digest=daily@09:00 tz=america/new_york")
    reply = await subscribe(chat, "arxiv cs.LG digest=weekly@mon-08:00")
    assert "(America/New_York)" in reply.text
    assert "Monday 18 May 2026, 08:00" in reply.text
    assert bot.store.channel_tz("memory", "W1", "C2") == "UTC"
    listed = await chat.command("subscriptions")
    assert "digest=weekly@mon-08:00 top=10" in str(listed)


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("hf digest=daily@09:00 top=0", "between 1 and 25", ""),
        ("hf digest=daily@09:00 top=500", "between 1 and 25", ""),
        ("hf digest=daily@25:00", "not a time of day", "daily@HH:MM"),
        ("hf digest=weekly@someday-09:00", "not a weekday", "weekly@DAY-HH:MM"),
        ("hf digest=every-morning", "not a schedule", "daily@HH:MM"),
        ("hf digest=daily@09:00 tz=Mars/Olympus", "not a time zone", "Europe/Berlin"),
        ("hf top=5", "needs `digest=`", "digest=daily@09:00"),
        ("hf digest=daily@09:00 taste=5", "not both", "taste=N"),
        ("team-top", "When should", "weekly@fri-16:00"),
        ("team-top weekly@fri-16:00 keywords=x", "takes no `keywords`", ""),
    ],
)
async def test_bad_digest_options_are_refused_with_the_accepted_forms(
    chat: MemoryAdapter, bot: Bot, text: str, message: str, hint: str
) -> None:
    reply = await chat.command(f"subscribe {text}", admin=True)
    assert isinstance(reply, Error), reply
    assert message in reply.message
    assert hint in reply.hint
    assert bot.store.subscriptions() == []
    assert bot.store.channel_tz("memory", "W1", "C1") == "UTC"


async def test_team_top_posts_the_channels_own_week_and_nothing_without_votes(
    chat: MemoryAdapter, bot: Bot, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    serve(paper_sources, "2026-05-13", ("2605.00001", 5), ("2605.00002", 4), ("2605.00003", 3))
    await subscribe(chat, "hf", channel="C1")
    await subscribe(chat, "hf", channel="C2")
    reply = await subscribe(chat, "team-top weekly@fri 16:00", channel="C1")
    assert "the team top weekly@fri-16:00" in reply.text
    await subscribe(chat, "team-top digest=weekly@fri-16:00", channel="C3")  # no votes there
    await bot.poster.run_once()
    c1 = {s.reply.paper.id: s.ref for s in chat.cards("C1")}
    c2 = {s.reply.paper.id: s.ref for s in chat.cards("C2")}
    await chat.react(c1["2605.00002"], "+1", user="U1")
    await chat.react(c1["2605.00002"], "fire", user="U2")
    await chat.react(c1["2605.00001"], "+1", user="U1")
    await chat.react(c1["2605.00001"], "-1", user="U2")
    await chat.react(c1["2605.00003"], "+1", user="U3")
    await chat.react(c1["2605.00003"], "-1", user="U3")  # cancels out: no vote
    await chat.react(c2["2605.00001"], "+1", user="U4")  # another channel's vote
    await chat.react(c2["2605.00001"], "+1", user="U5")

    at(clock, 2026, 5, 15, 16, 0)
    await bot.poster.run_once()
    await bot.poster.run_once()
    [top] = digests(chat, "C1")
    assert top.team_top and top.title == "Team top of the week"
    assert [(e.paper.id, e.votes, e.ups, e.downs) for e in top.entries] == [
        ("2605.00002", 2, 2, 0),
        ("2605.00001", 0, 1, 1),
    ]
    assert digests(chat, "C3") == []
    # The workspace leaderboard still counts every channel.
    board = await chat.command("top")
    scores = {e.paper.id: e.score for e in board.entries}  # type: ignore[union-attr]
    assert scores == {"2605.00001": 2, "2605.00002": 2}

    # Next week nobody votes: nothing is posted.
    at(clock, 2026, 5, 22, 16, 0)
    await bot.poster.run_once()
    assert len(digests(chat, "C1")) == 1


async def test_unsubscribing_a_digest_and_subscribing_again_keeps_the_new_one_due(
    chat: MemoryAdapter, bot: Bot, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    serve(paper_sources, "2026-05-14", ("2605.00001", 5))
    await subscribe(chat, "hf digest=daily@09:00")
    at(clock, 2026, 5, 14, 9, 0)
    await bot.poster.run_once()
    assert len(digests(chat)) == 1
    await chat.command("unsubscribe all", admin=True)
    at(clock, 2026, 5, 14, 10, 0)
    await subscribe(chat, "hf digest=daily@09:00")  # SQLite may give it the same id
    serve(paper_sources, "2026-05-15", ("2605.00002", 5))
    at(clock, 2026, 5, 15, 9, 0)
    await bot.poster.run_once()
    assert len(digests(chat)) == 2
