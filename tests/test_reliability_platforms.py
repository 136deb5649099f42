"""Platform faults while the bot works: nothing lost, nothing doubled.

The real core and the real Slack adapter against the fake Slack: rate limits, 5xx answers
that did or did not post the message, failing history reads while settling, and a Socket
Mode connection that drops while events are on their way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core import Bot
from bot.model.feed import Feed
from bot.model.subscription import Subscription
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources, hf_item
from tests.fakes.slack import FakeSlack
from tests.isolation import logger_levels_restored  # noqa: F401 (autouse)

PAPERS = [f"2605.{i:05d}" for i in range(1, 7)]


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


async def started(bot: Bot, slack: FakeSlack, settings: Settings, mode: str) -> SlackAdapter:
    adapter = SlackAdapter(
        bot,
        slack.settings(socket_mode=mode == "socket"),
        http_host="127.0.0.1",
        post_interval=0.0,
    )
    bot.attach(adapter)
    await adapter.start()
    return adapter


def serve(paper_sources: FakePaperSources) -> None:
    # The test clock's day lists PAPERS, best first in this order; other days are empty.
    items = [hf_item(p, upvotes=100 - i) for i, p in enumerate(PAPERS)]
    paper_sources.set_daily("2026-05-13", items)
    paper_sources.set_default_daily([])


def card_counts(slack: FakeSlack, channel: str = "C1") -> Counter:
    return Counter(
        m["metadata"]["event_payload"]["paper_id"] for m in slack.posts(channel) if "metadata" in m
    )


async def test_rate_limits_and_5xx_while_posting_lose_and_double_nothing(
    bot: Bot, slack: FakeSlack, settings: Settings, paper_sources: FakePaperSources
) -> None:
    serve(paper_sources)
    bot.settings = replace(bot.settings, max_posts_per_poll=len(PAPERS))
    bot.store.add_subscription(
        Subscription(platform="slack", workspace=slack.team_id, channel="C1", feed=Feed("hf"))
    )
    adapter = await started(bot, slack, settings, "http")
    # One per paper, in posting order (best first):
    slack.fail_next("chat.postMessage", 500, commit=True)  # 1: posted, but "500"...
    slack.fail_next("conversations.history", 500, times=3)  # ...and the look-up fails too
    slack.fail_next("chat.postMessage", 503)  # 2: not posted, outcome unknown
    slack.fail_next("chat.postMessage", 502, commit=True)  # 3: posted, found at once
    slack.fail_next("chat.postMessage", 429, retry_after=1)  # 4: waits, then posts
    try:
        first = await bot.poster.run_once()
        assert first.posted == 4
        assert sorted(p.paper_id for p in bot.store.pending_posts()) == PAPERS[:2]
        # The next round settles both from the channel's history: one was there, one not.
        second = await bot.poster.run_once()
        assert second.posted == 1
        await bot.poster.run_once()
    finally:
        await adapter.stop()
    assert card_counts(slack) == dict.fromkeys(PAPERS, 1)
    assert bot.store.pending_posts() == []
    for message in slack.posts("C1"):  # the ledger points at the one card of each paper
        post = bot.store.post_for_message("slack", slack.team_id, "C1", message["ts"])
        assert post is not None and post.state == "sent"
    assert len(slack.calls_to("chat.postMessage")) == len(PAPERS) + 2  # the 429 and the 503


async def test_socket_mode_drop_loses_no_event(
    bot: Bot, slack: FakeSlack, settings: Settings, paper_sources: FakePaperSources
) -> None:
    serve(paper_sources)
    bot.store.add_subscription(
        Subscription(platform="slack", workspace=slack.team_id, channel="C1", feed=Feed("hf"))
    )
    adapter = await started(bot, slack, settings, "socket")
    try:
        await bot.poster.run_once()
        ts = slack.posts("C1")[0]["ts"]
        for _ in range(3):
            # Slack (or a proxy) closes the websocket; what it sends meanwhile waits for the
            # next connection, as Slack redelivers unacknowledged envelopes.
            before = slack.connections
            await slack.drop_connections()
            for user in ("UA", "UB"):
                await slack.deliver(slack.reaction_payload(ts, user=f"{user}{before}"))
            assert slack.connections > before
        await wait_until(lambda: bot.store.net_votes("slack", slack.team_id, PAPERS[0]) == 6)
        answer = await slack.deliver(slack.command_payload("help"))
        assert answer.ack is not None
    finally:
        await adapter.stop()
