"""Settling under Slack's limits for distributed apps outside the Marketplace:
``conversations.history`` once a minute per workspace, 15 messages a call.

The fake Slack enforces both (a 429 with Retry-After for a second read within the minute, 15
messages at most, newest first, the rest behind a cursor); the minute is a clock the test
moves, shared by the fake and the adapter, so nothing sleeps. Posts whose outcome is unknown
stay pending until their card is found or the whole window since the claim is read, and
nothing is posted twice.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import CLOCK_MARGIN, SlackAdapter
from adapters.slack.settings import SlackSettings
from bot.events import ChannelRef
from bot.model.paper import Paper
from bot.replies import PaperCard
from tests.conftest import FakeClock, close_bot, make_bot
from tests.fakes.slack import FakeSlack
from tests.test_slack_distribution import Distributed


@dataclass
class Limited(Distributed):
    minute: FakeClock  # what both the fake's and the adapter's one-a-minute go by

    def channel(self, team: str, channel: str = "C1") -> ChannelRef:
        return ChannelRef("slack", team, channel)

    async def crash_after_sending(self, channel: ChannelRef, paper: Paper) -> int:
        """Claim and send a card, then "crash" before the message id is recorded."""
        post_id = self.claim(channel, paper)
        await self.adapter.send(channel, PaperCard(paper, public=True))
        return post_id

    def claim(self, channel: ChannelRef, paper: Paper) -> int:
        self.bot.store.save_papers([paper])
        post_id = self.bot.store.claim_post("slack", channel.workspace, channel.channel, paper.id)
        assert post_id is not None
        return post_id

    def chatter(self, channel: ChannelRef, count: int) -> None:
        for i in range(count):
            self.slack.seed_message(channel.channel, f"chatter {i}", team_id=channel.workspace)

    def state(self, post_id: int) -> tuple[str, str | None] | None:
        post = self.bot.store.get_post(post_id)
        return (post.state, post.message_id) if post else None

    def history_reads(self, status: int | None = None) -> list:
        calls = self.slack.calls_to("conversations.history")
        return [c for c in calls if status is None or c.status == status]


def paper(n: int) -> Paper:
    return Paper(f"2605.{n:05d}", f"Paper {n}", published="2026-05-13")


def card_ts(slack: FakeSlack, team: str, channel: str, paper_id: str) -> str:
    cards = [
        m
        for m in slack.posts(channel, team_id=team)
        if m["metadata"]["event_payload"]["paper_id"] == paper_id
    ]
    assert len(cards) == 1, cards
    return cards[0]["ts"]


@pytest.fixture
async def limited(settings) -> AsyncIterator[Limited]:
    minute = FakeClock(1000.0)
    async with FakeSlack() as slack:
        slack.limit_history(clock=minute)
        bot = make_bot(settings, time.time)  # type: ignore[arg-type]  # claims at real times
        adapter = SlackAdapter(
            bot,
            slack.settings(oauth=True),
            http_host="127.0.0.1",
            post_interval=0.0,
            clock=minute,
        )
        bot.attach(adapter)
        await adapter.start()
        try:
            yield Limited(slack, adapter, bot, f"http://127.0.0.1:{adapter.http_port}", minute)
        finally:
            await adapter.stop()
            await close_bot(bot)


def test_distributed_apps_read_history_under_the_limits_unless_told_otherwise() -> None:
    oauth = {"client_id": "1.2", "client_secret": "s", "signing_secret": "x"}
    assert SlackSettings(**oauth).limited_history  # auto: a distributed app
    assert not SlackSettings(bot_token="xoxb-1").limited_history  # one's own workspace
    assert not SlackSettings(**oauth, history_limited="false").limited_history  # Marketplace
    assert SlackSettings(bot_token="xoxb-1", history_limited="TRUE").limited_history
    env = SlackSettings.from_env({"SLACK_HISTORY_LIMITED": "off", "SLACK_BOT_TOKEN": "xoxb-1"})
    assert not env.limited_history


async def test_several_unknown_posts_in_one_channel_settle_with_one_read(limited) -> None:
    await limited.install("TA")
    channel = limited.channel("TA")
    posts = {p.id: await limited.crash_after_sending(channel, p) for p in map(paper, (1, 2, 3))}
    limited.chatter(channel, 5)

    await limited.bot.poster.settle_pending()

    assert limited.bot.store.pending_posts() == []
    for paper_id, post_id in posts.items():
        assert limited.state(post_id) == ("sent", card_ts(limited.slack, "TA", "C1", paper_id))
    (read,) = limited.history_reads()
    assert int(read.args["limit"]) == 15
    claimed = min(limited.bot.store.get_post(p).claimed_at for p in posts.values())
    assert float(read.args["oldest"]) == pytest.approx(claimed - CLOCK_MARGIN, abs=1e-5)
    assert len(limited.slack.calls_to("chat.postMessage")) == 3  # nothing posted again


async def test_a_card_beyond_the_first_15_messages_is_read_a_page_a_minute(limited) -> None:
    await limited.install("TA")
    channel = limited.channel("TA")
    posts = {p.id: await limited.crash_after_sending(channel, p) for p in map(paper, (1, 2))}
    limited.chatter(channel, 40)  # newest first: the cards are on the third page of 15

    for minute in range(3):
        if minute:
            limited.minute.advance(60)
        for _ in range(2):  # a second try within the minute makes no call at all
            await limited.bot.poster.settle_pending()
        assert len(limited.history_reads()) == minute + 1
        settled = minute == 2
        assert (limited.bot.store.pending_posts() == []) is settled

    for paper_id, post_id in posts.items():
        assert limited.state(post_id) == ("sent", card_ts(limited.slack, "TA", "C1", paper_id))
    assert limited.history_reads(status=429) == []  # the adapter kept to the minute itself
    cursors = [c.args.get("cursor") for c in limited.history_reads()]
    assert cursors[0] is None and all(cursors[1:])  # later pages go on from the cursor
    assert len(limited.slack.calls_to("chat.postMessage")) == 2


async def test_a_card_that_was_never_sent_is_released_once_the_window_is_read(limited) -> None:
    await limited.install("TA")
    channel = limited.channel("TA")
    post_id = limited.claim(channel, paper(7))  # the process died before sending
    limited.chatter(channel, 20)

    await limited.bot.poster.settle_pending()
    assert limited.state(post_id) == ("pending", None)  # 15 of 20 read: cannot tell yet
    limited.minute.advance(60)
    await limited.bot.poster.settle_pending()

    assert limited.state(post_id) is None  # not in the channel: a later round posts it
    assert len(limited.history_reads()) == 2
    assert limited.slack.calls_to("chat.postMessage") == []


async def test_a_429_keeps_the_post_pending_until_slack_allows_a_read(limited) -> None:
    await limited.install("TA")
    channel = limited.channel("TA")
    post_id = await limited.crash_after_sending(channel, paper(1))
    # Someone else (another process, an operator's script) spends this minute's read.
    other = AsyncWebClient(token=limited.token("TA"), base_url=limited.slack.api_url)
    await other.conversations_history(channel="C1", limit=1)
    limited.minute.advance(20)

    await limited.bot.poster.settle_pending()
    assert limited.state(post_id) == ("pending", None)
    assert len(limited.history_reads(status=429)) == 1  # asked once, not retried in a loop
    await limited.bot.poster.settle_pending()  # Retry-After (40 s) not over: no call
    assert len(limited.history_reads()) == 2

    limited.minute.advance(40)
    await limited.bot.poster.settle_pending()
    assert limited.state(post_id) == ("sent", card_ts(limited.slack, "TA", "C1", paper(1).id))
    assert len(limited.history_reads()) == 3
    assert len(limited.slack.calls_to("chat.postMessage")) == 1


async def test_workspaces_settle_independently_and_share_a_minute_within(limited) -> None:
    teams = ("TA", "TB", "TC", "TD", "TE")
    for team in teams:
        await limited.install(team)
    posts = {}
    for team in teams:  # the same channel id in every workspace
        posts[(team, "C1")] = await limited.crash_after_sending(limited.channel(team), paper(1))
    posts[("TA", "C2")] = await limited.crash_after_sending(limited.channel("TA", "C2"), paper(2))

    await limited.bot.poster.settle_pending()

    for team in teams:  # one read in each workspace, each with that workspace's token
        assert limited.state(posts[(team, "C1")]) == (
            "sent",
            card_ts(limited.slack, team, "C1", paper(1).id),
        )
    reads = limited.history_reads()
    assert sorted(c.token for c in reads) == sorted(limited.token(t) for t in teams)
    # A second channel of TA waits for TA's next minute.
    assert limited.state(posts[("TA", "C2")]) == ("pending", None)
    limited.minute.advance(60)
    await limited.bot.poster.settle_pending()
    assert limited.state(posts[("TA", "C2")]) == (
        "sent",
        card_ts(limited.slack, "TA", "C2", paper(2).id),
    )
    assert limited.history_reads(status=429) == []


async def test_the_fake_refuses_a_second_read_within_the_minute(limited) -> None:
    await limited.install("TA")
    client = AsyncWebClient(token=limited.token("TA"), base_url=limited.slack.api_url)
    for i in range(20):
        limited.slack.seed_message("C1", f"m{i}", team_id="TA")
    first = await client.conversations_history(channel="C1", limit=100)
    assert len(first["messages"]) == 15 and first["has_more"]
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_history(channel="C1")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "60"
