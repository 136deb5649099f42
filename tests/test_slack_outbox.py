"""The Slack Outbox against the fake Web API: posts, pacing, rate limits, settling, admins."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from adapters.slack.app import RATE_LIMIT_RETRIES, SlackAdapter, SlackStartupError
from adapters.slack.render import CARD_EVENT_TYPE, card_metadata
from adapters.slack.settings import SlackSettings
from bot.config import SettingsError
from bot.events import ChannelRef, MessageRef
from bot.model.paper import Paper
from bot.outbox import DirectMessageClosed, SendError
from bot.replies import PaperCard, PaperList, ScoredPaper, Text
from tests.fakes.slack import FakeSlack

C1 = ChannelRef("slack", "T0PAPERS", "C1")
C2 = ChannelRef("slack", "T0PAPERS", "C2")


def paper(n: int = 1) -> Paper:
    return Paper(
        id=f"2401.{n:05d}", title=f"Paper {n}", authors=("Ada",), sources=("hf",), upvotes=n
    )


class NoBot:
    async def handle(self, event) -> None:  # pragma: no cover - outbox tests send no events
        raise AssertionError(event)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch) -> None:
    # slack_sdk waits Retry-After plus up to a second of jitter, and backs off on
    # connection errors; the behaviour is the same at test speed.
    monkeypatch.setattr(
        "slack_sdk.http_retry.builtin_async_handlers.random", SimpleNamespace(random=lambda: 0.0)
    )
    monkeypatch.setattr("adapters.slack.app.RETRY_BACKOFF", FixedValueRetryIntervalCalculator(0.0))


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def adapter(slack: FakeSlack) -> SlackAdapter:
    return SlackAdapter(NoBot(), slack.settings(), post_interval=0.0)


async def test_a_card_is_posted_with_metadata_and_found_again(slack, adapter) -> None:
    claimed = time.time()
    ref = await adapter.send(C1, PaperCard(paper(1), public=True))
    [call] = slack.calls_to("chat.postMessage")
    assert call.args["metadata"] == card_metadata("2401.00001")
    assert call.args["unfurl_links"] is False and call.args["unfurl_media"] is False
    assert call.token == slack.bot_token
    assert call.args["blocks"][0]["type"] == "header"
    assert ref == MessageRef(C1, slack.posts("C1")[0]["ts"])

    assert await adapter.find_card(C1, "2401.00001", claimed) == ref
    assert await adapter.find_card(C1, "2401.99999", claimed) is None
    assert await adapter.find_card(C2, "2401.00001", claimed) is None
    # Only the history since the claim is read (less a margin for clocks that disagree).
    oldest = float(slack.calls_to("conversations.history")[0].args["oldest"])
    assert claimed - 600 < oldest <= claimed - 60


async def test_find_card_pages_back_and_ignores_other_authors(slack, adapter) -> None:
    claimed = time.time()
    ref = await adapter.send(C1, PaperCard(paper(1)))
    fake_card = {"event_type": CARD_EVENT_TYPE, "event_payload": {"paper_id": "2401.00002"}}
    slack.seed_message(
        "C1", "a lookalike from another app", user="UOTHER", bot_id="BOTHER", metadata=fake_card
    )
    for i in range(450):  # the card is now three pages back
        slack.seed_message("C1", f"chatter {i}")
    assert await adapter.find_card(C1, "2401.00001", claimed) == ref
    assert len(slack.calls_to("conversations.history")) == 3
    assert slack.calls_to("conversations.history")[0].args["include_all_metadata"] == "1"
    assert await adapter.find_card(C1, "2401.00002", claimed) is None


async def test_a_429_is_retried_after_retry_after_and_posts_once(slack, adapter) -> None:
    slack.fail_next("chat.postMessage", 429, retry_after=0, times=2)
    ref = await adapter.send(C1, PaperCard(paper(1)))
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 429, 200]
    assert [m["ts"] for m in slack.posts("C1")] == [ref.message]


async def test_rate_limited_beyond_the_retries_is_a_send_error(slack, adapter) -> None:
    slack.fail_next("chat.postMessage", 429, retry_after=0, times=RATE_LIMIT_RETRIES + 1)
    with pytest.raises(SendError, match="ratelimited"):
        await adapter.send(C1, Text("notice"))
    assert slack.posts("C1") == []
    assert len(slack.calls_to("chat.postMessage")) == RATE_LIMIT_RETRIES + 1


async def test_a_refused_channel_is_a_send_error(slack, adapter) -> None:
    slack.refuse_channel("C2", "channel_not_found")
    with pytest.raises(SendError, match="channel_not_found"):
        await adapter.send(C2, PaperCard(paper(1)))
    assert len(slack.calls_to("chat.postMessage")) == 1  # a refusal is not retried


async def test_the_bot_joins_a_public_channel_to_post_there(slack, adapter) -> None:
    # Joining matters: Slack sends reactions only from channels the bot is in.
    slack.refuse_channel("C2", "not_in_channel")
    ref = await adapter.send(C2, PaperCard(paper(1)))
    assert [c.method for c in slack.calls][-3:] == [
        "chat.postMessage",
        "conversations.join",
        "chat.postMessage",
    ]
    assert [m["ts"] for m in slack.posts("C2")] == [ref.message]


async def test_a_private_channel_needs_an_invite(slack, adapter) -> None:
    slack.refuse_channel("G1", "not_in_channel", joinable=False)
    with pytest.raises(SendError, match="invite"):
        await adapter.send(ChannelRef("slack", "T0PAPERS", "G1"), Text("hello"))
    assert slack.posts("G1") == []


async def test_a_card_that_landed_despite_a_5xx_is_not_posted_twice(slack, adapter) -> None:
    slack.fail_next("chat.postMessage", 500, commit=True)
    ref = await adapter.send(C1, PaperCard(paper(1)))
    assert len(slack.posts("C1")) == 1  # no blind retry of an ambiguous post
    assert ref.message == slack.posts("C1")[0]["ts"]


async def test_an_unknown_outcome_that_did_not_land_is_left_to_the_core(slack, adapter) -> None:
    slack.fail_next("chat.postMessage", 503)
    with pytest.raises(SlackApiError) as raised:
        await adapter.send(C1, PaperCard(paper(1)))
    assert not isinstance(raised.value, SendError)  # unknown: the poster settles it later
    assert slack.posts("C1") == []


async def test_an_unreachable_slack_is_a_send_error() -> None:
    settings = SlackSettings(bot_token="xoxb-x", api_url="http://127.0.0.1:9/api/")
    adapter = SlackAdapter(NoBot(), settings, post_interval=0.0)
    with pytest.raises(SendError, match="could not be reached"):
        await adapter.send(C1, Text("hello"))


async def test_posts_to_one_channel_are_spaced_and_other_channels_do_not_wait(slack) -> None:
    adapter = SlackAdapter(NoBot(), slack.settings(), post_interval=0.3)
    await asyncio.gather(
        *(adapter.send(C1, PaperCard(paper(i))) for i in range(3)),
        *(adapter.send(C2, PaperCard(paper(10 + i))) for i in range(2)),
    )
    calls = slack.calls_to("chat.postMessage")
    c1 = [c.at for c in calls if c.args["channel"] == "C1"]
    c2 = [c.at for c in calls if c.args["channel"] == "C2"]
    assert all(b - a >= 0.28 for a, b in itertools.pairwise(c1))
    assert c2[0] < c1[1]  # C2's first post did not queue behind C1's
    # In order within a channel: the poster sends best first.
    assert [m["metadata"]["event_payload"]["paper_id"] for m in slack.posts("C1")] == [
        "2401.00000",
        "2401.00001",
        "2401.00002",
    ]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"is_admin": True}, True),
        ({"is_owner": True}, True),
        ({}, False),
        (None, False),  # users.info says user_not_found
    ],
)
async def test_admin_check_asks_users_info(slack, adapter, user, expected) -> None:
    if user is not None:
        slack.add_user("U1", **user)
    assert await adapter._admin_check("U1")() is expected
    assert slack.calls_to("users.info")[0].args["user"] == "U1"


async def test_admin_check_survives_rate_limits(slack, adapter) -> None:
    slack.add_user("U1", is_owner=True)
    slack.fail_next("users.info", 429, retry_after=0)
    assert await adapter._admin_check("U1")() is True


def test_no_bot_token_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        SlackAdapter(NoBot(), SlackSettings())


async def test_a_rejected_bot_token_stops_start_with_a_clear_error(slack) -> None:
    adapter = SlackAdapter(NoBot(), slack.settings(bot_token="xoxb-wrong"))
    with pytest.raises(SlackStartupError, match="SLACK_BOT_TOKEN") as raised:
        await adapter.start()
    assert "xoxb-wrong" not in str(raised.value)


async def test_http_mode_needs_a_signing_secret(slack) -> None:
    adapter = SlackAdapter(NoBot(), slack.settings(socket_mode=False, signing_secret=""))
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        await adapter.start()


async def test_socket_mode_needs_an_app_token_that_slack_accepts(slack) -> None:
    wrong_kind = SlackAdapter(NoBot(), slack.settings(app_token=slack.bot_token))
    with pytest.raises(SettingsError, match="xapp-"):
        await wrong_kind.start()
    rejected = SlackAdapter(NoBot(), slack.settings(app_token="xapp-1-revoked"))
    with pytest.raises(SlackStartupError, match="invalid_auth"):
        await rejected.start()
    assert slack.connections == 0


async def test_a_websocket_that_never_opens_stops_start(slack, monkeypatch) -> None:
    monkeypatch.setattr("adapters.slack.app.CONNECT_TIMEOUT", 0.3)
    slack.refuse_sockets = True
    adapter = SlackAdapter(NoBot(), slack.settings())
    with pytest.raises(SlackStartupError, match="websocket"):
        await adapter.start()


async def test_a_silent_websocket_still_starts(monkeypatch, caplog) -> None:
    monkeypatch.setattr("adapters.slack.app.HELLO_TIMEOUT", 0.2)
    async with FakeSlack(send_hello=False) as quiet:
        adapter = SlackAdapter(NoBot(), quiet.settings())
        await adapter.start()
        assert quiet.connections == 1
        await adapter.stop()
    assert "no hello" in caplog.text


async def test_a_direct_message_opens_the_dm_and_posts_there(slack, adapter) -> None:
    reply = PaperList(
        "New papers for what you follow (1)",
        (ScoredPaper(paper(1), 0, "you follow keyword:x"),),
        public=True,
    )
    await adapter.send_dm("T0PAPERS", "U7", reply)
    [opened] = slack.calls_to("conversations.open")
    assert opened.args["users"] == "U7"
    [posted] = slack.calls_to("chat.postMessage")
    dm = posted.args["channel"]
    assert dm.startswith("D")
    [message] = slack.posts(dm)
    assert "Paper 1" in str(message["blocks"]) and "you follow keyword:x" in str(message["blocks"])
    slack.refuse_dm("U8")
    with pytest.raises(DirectMessageClosed):
        await adapter.send_dm("T0PAPERS", "U8", reply)
    assert slack.posts(dm) == [message]
