"""Auto-posting: once per channel (restarts too), best first, per-round limit, thresholds."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.memory import MemoryAdapter
from bot.model.feed import Feed
from bot.outbox import SendError
from bot.replies import Text
from tests.conftest import BACKENDS, close_bot, make_bot
from tests.fakes.paper_sources import EMPTY_RSS, hf_item, rss_feed


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def items(*specs: tuple[str, int]) -> list[dict]:
    return [hf_item(pid, f"Paper about agents {pid}", upvotes=up) for pid, up in specs]


def serve_today(fake, papers: list[dict]) -> None:
    """HF lists exactly ``papers`` today (the test clock's day) and nothing on other days."""
    fake.set_daily("2026-05-13", papers)
    fake.set_default_daily([])


async def subscribe(chat: MemoryAdapter, text: str = "hf", channel: str = "C1") -> None:
    await chat.command(f"subscribe {text}", admin=True, channel=channel)


async def test_each_paper_is_posted_once_best_first_within_the_round_limit(
    settings, clock, paper_sources
) -> None:
    serve_today(paper_sources, items(*((f"2605.{i:05d}", i) for i in range(1, 16))))
    bot = make_bot(replace(settings, max_posts_per_poll=10), clock)
    chat = MemoryAdapter(bot)
    await subscribe(chat)
    report = await bot.poster.run_once()
    ids = chat.card_ids("C1")
    assert ids == [f"2605.{i:05d}" for i in range(15, 5, -1)]  # 10 most upvoted, best first
    assert report.channels[chat.channel("C1")].waiting == 5
    await bot.poster.run_once()
    assert chat.card_ids("C1")[10:] == [f"2605.{i:05d}" for i in range(5, 0, -1)]
    await bot.poster.run_once()
    assert len(chat.card_ids("C1")) == 15  # nothing twice
    await close_bot(bot)


async def test_no_repeat_across_a_restart(settings, clock, paper_sources) -> None:
    serve_today(paper_sources, items(("2605.00001", 5), ("2605.00002", 3)))
    bot = make_bot(settings, clock)
    chat = MemoryAdapter(bot)
    await subscribe(chat)
    await bot.poster.run_once()
    assert len(chat.cards()) == 2
    await close_bot(bot)

    serve_today(paper_sources, items(("2605.00001", 9), ("2605.00002", 3), ("2605.00003", 1)))
    bot = make_bot(settings, clock)
    chat = MemoryAdapter(bot)
    await bot.poster.run_once()
    assert chat.card_ids() == ["2605.00003"]
    await close_bot(bot)


async def test_a_new_subscription_posts_right_away(bot, chat, paper_sources) -> None:
    serve_today(paper_sources, items(("2605.00001", 5)))
    await bot.start()  # the poster now waits an hour (poll_interval) between rounds
    await chat.wait_until(lambda: bot.poster.rounds_done >= 1)
    await subscribe(chat)
    await chat.wait_until(lambda: chat.card_ids() == ["2605.00001"], timeout=5)


async def test_a_paper_crossing_min_upvotes_is_posted_then(bot, chat, paper_sources) -> None:
    serve_today(paper_sources, items(("2605.00001", 3), ("2605.00002", 12)))
    await subscribe(chat, "hf min_upvotes=10")
    await bot.poster.run_once()
    assert chat.card_ids() == ["2605.00002"]
    serve_today(paper_sources, items(("2605.00001", 10), ("2605.00002", 13)))
    await bot.poster.run_once()
    assert chat.card_ids() == ["2605.00002", "2605.00001"]
    assert chat.cards()[-1].reply.paper.upvotes == 10


async def test_filters_keywords_and_authors(bot, chat, paper_sources) -> None:
    serve_today(
        paper_sources,
        [
            hf_item("2605.00001", "Agents that plan", authors=["Geoffrey Hinton"]),
            hf_item("2605.00002", "Organic chemistry", summary="Organ growth."),
            hf_item("2605.00003", "GAN training", authors=["Ian Goodfellow"]),
        ],
    )
    await subscribe(chat, "hf keywords=gan,planning", channel="K")
    await subscribe(chat, "hf authors=hinton", channel="A")
    await subscribe(chat, "hf keywords=agents authors=goodfellow", channel="AND")
    await bot.poster.run_once()
    assert chat.card_ids("K") == ["2605.00003"]  # "gan" is a word, not part of "organic"
    assert chat.card_ids("A") == ["2605.00001"]
    assert chat.card_ids("AND") == []


async def test_arxiv_category_posts_only_new_announcements(bot, chat, paper_sources) -> None:
    paper_sources.set_rss(
        "cs.CL",
        rss_feed(
            [
                {"id": "2504.00001", "title": "Fresh"},
                {"id": "2504.00002", "announce_type": "replace"},
                {"id": "2504.00003", "announce_type": "cross"},
            ],
            "cs.CL",
        ),
    )
    await subscribe(chat, "arxiv cs.CL")
    await bot.poster.run_once()
    assert chat.card_ids() == ["2504.00001"]


async def test_channels_are_independent_and_one_failure_is_retried(
    bot, chat, paper_sources
) -> None:
    serve_today(paper_sources, items(("2605.00001", 5), ("2605.00002", 4)))
    await subscribe(chat, channel="C1")
    await subscribe(chat, channel="C2")
    chat.failures.append(SendError("channel_not_found"))
    await bot.poster.run_once()
    assert sorted(chat.card_ids("C1") + chat.card_ids("C2")).count("2605.00001") == 1
    await bot.poster.run_once()
    assert (
        sorted(chat.card_ids("C1")) == sorted(chat.card_ids("C2")) == ["2605.00001", "2605.00002"]
    )


async def test_an_unknown_send_outcome_is_settled_not_repeated(bot, chat, paper_sources) -> None:
    serve_today(paper_sources, items(("2605.00001", 5)))
    await subscribe(chat)
    sent_but_lost = chat.send

    async def send_then_crash(channel, reply):
        await sent_but_lost(channel, reply)
        raise ConnectionResetError("the answer never came back")

    chat.send = send_then_crash
    await bot.poster.run_once()
    assert [p.paper_id for p in bot.store.pending_posts()] == ["2605.00001"]
    chat.send = sent_but_lost
    await bot.poster.run_once()
    assert chat.card_ids() == ["2605.00001"]  # found in the channel, not sent again
    assert bot.store.pending_posts() == []
    post = bot.store.post_for_message("memory", "W1", "C1", chat.cards()[0].ref.message)
    assert post is not None and post.state == "sent"


async def test_a_pending_post_that_never_arrived_is_sent(bot, chat, paper_sources) -> None:
    serve_today(paper_sources, items(("2605.00001", 5)))
    await subscribe(chat)
    bot.store.claim_post("memory", "W1", "C1", "2605.00001")  # a crash right after the claim
    await bot.poster.run_once()
    assert chat.card_ids() == ["2605.00001"]


async def test_a_failing_source_does_not_stop_posting_and_alerts_once(
    bot, chat, clock, paper_sources
) -> None:
    serve_today(paper_sources, items(("2605.00001", 5)))
    paper_sources.set_rss("cs.CL", rss_feed([{"id": "2504.00001"}], "cs.CL"))
    await subscribe(chat, "hf")
    await subscribe(chat, "arxiv cs.CL")
    paper_sources.fail("daily", 500, times=1000)
    report = await bot.poster.run_once()
    assert Feed("hf") in report.failed_feeds
    assert chat.card_ids() == ["2504.00001"]
    first_fetch = [s.reply.text for s in chat.sent if isinstance(s.reply, Text)]
    assert len(first_fetch) == 1 and "keeps trying" in first_fetch[0]  # the new subscription
    clock.advance(7 * 3600)
    await bot.poster.run_once()
    await bot.poster.run_once()
    notices = [s.reply.text for s in chat.sent if isinstance(s.reply, Text)][1:]
    assert len(notices) == 1 and "unreachable for 7 h" in notices[0]
    paper_sources.clear_faults()
    await bot.poster.run_once()
    notices = [s.reply.text for s in chat.sent if isinstance(s.reply, Text)][1:]
    assert len(notices) == 2 and "back" in notices[1]
    assert "2605.00001" in chat.card_ids()


async def test_an_empty_day_is_not_a_failure(bot, chat, clock, paper_sources) -> None:
    paper_sources.set_rss("cs.CL", EMPTY_RSS)
    await subscribe(chat, "arxiv cs.CL")
    report = await bot.poster.run_once()
    assert report.failed_feeds == {} and report.fetched == {Feed("arxiv", "cs.CL"): 0}
    clock.advance(3 * 86400)
    await bot.poster.run_once()
    assert chat.sent == []


async def test_unsubscribed_channels_get_nothing_more(bot, chat, paper_sources) -> None:
    serve_today(paper_sources, items(("2605.00001", 5)))
    await subscribe(chat)
    await chat.command("unsubscribe all", admin=True)
    await bot.poster.run_once()
    assert chat.sent == []


async def test_each_round_logs_one_line_per_source_and_channel(
    bot, chat, paper_sources, caplog
) -> None:
    serve_today(paper_sources, items(("2605.00001", 5), ("2605.00002", 1)))
    await subscribe(chat, "hf min_upvotes=3")
    caplog.set_level("INFO", logger="bot.poster")
    await bot.poster.run_once()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.poster"]
    assert "source hf: fetched 2, new 2, failed 0" in lines
    assert "channel memory/W1/C1: posted 1, waiting 0, skipped 1, failed 0" in lines
