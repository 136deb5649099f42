"""Token rotation for the poster's own calls: a workspace's bot token that is about to expire
is renewed (``oauth.v2.access``, ``grant_type=refresh_token``, against SLACK_API_URL) before
paperboy posts with it, and requests from Slack go on with the renewed token.

The fake Slack hands out expiring tokens and single-use refresh tokens, and refuses a token
once it has expired (``token_expired``); time is a clock the test moves, shared by the fake
and the adapter, so nothing sleeps.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import SlackAdapter
from bot.core import Bot
from tests.conftest import FakeClock
from tests.fakes.slack import FakeSlack
from tests.test_slack_distribution import Distributed

LIFETIME = 12 * 3600.0  # Slack's bot tokens with rotation last 12 hours
WINDOW = 120  # minutes: Bolt's default token_rotation_expiration_minutes


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(time.time())


@pytest.fixture
async def rotating(bot: Bot, wall: FakeClock) -> AsyncIterator[Distributed]:
    async with FakeSlack() as slack:
        slack.rotate_tokens(lifetime=LIFETIME, clock=wall)
        settings = slack.settings(oauth=True, token_rotation_minutes=WINDOW)
        adapter = SlackAdapter(bot, settings, http_host="127.0.0.1", post_interval=0.0, clock=wall)
        bot.attach(adapter)
        await adapter.start()
        try:
            yield Distributed(slack, adapter, bot, f"http://127.0.0.1:{adapter.http_port}")
        finally:
            await adapter.stop()


def post_tokens(slack: FakeSlack, since: int) -> list[str]:
    return [c.token for c in slack.calls_to("chat.postMessage")[since:]]


async def test_a_token_that_expires_between_rounds_is_renewed_before_posting(
    rotating: Distributed, wall: FakeClock
) -> None:
    slack, store = rotating.slack, rotating.bot.store
    status, page = await rotating.install("TA")
    assert status == 200, page
    first = rotating.token("TA")
    stored = store.slack_installation("", "TA")
    assert stored is not None and stored["bot_refresh_token"].startswith("xoxe-")
    assert stored["bot_token_expires_at"] == pytest.approx(wall() + LIFETIME, abs=5)

    rotating.bot.settings = replace(rotating.bot.settings, admins=frozenset({"UADMIN"}))
    await rotating.command("subscribe hf", "TA", "CA")
    rotating.bot.poster.settings = replace(rotating.bot.poster.settings, max_posts_per_poll=1)
    await rotating.bot.poster.run_once()
    assert post_tokens(slack, 0) == [first]  # hours left: no renewal
    assert slack.calls_to("oauth.v2.access")[1:] == []

    # Eleven hours on, the token expires within the window: renewed before the round posts.
    wall.advance(LIFETIME - (WINDOW - 60) * 60)
    await rotating.bot.poster.run_once()
    renewal = slack.calls_to("oauth.v2.access")[1:]
    assert [c.args.get("grant_type") for c in renewal] == ["refresh_token"]
    assert renewal[0].args["refresh_token"] == stored["bot_refresh_token"]
    second = rotating.token("TA")
    assert second != first and post_tokens(slack, 1) == [second]
    renewed = store.slack_installation("", "TA")
    assert renewed is not None and renewed["bot_token"] == second
    assert renewed["bot_refresh_token"] != stored["bot_refresh_token"]
    assert renewed["bot_token_expires_at"] == pytest.approx(wall() + LIFETIME, abs=5)

    # Past the first token's end Slack refuses it; paperboy goes on with the new one.
    wall.advance(WINDOW * 60)
    with pytest.raises(SlackApiError) as refused:
        await AsyncWebClient(token=first, base_url=slack.api_url).auth_test()
    assert refused.value.response["error"] == "token_expired"
    await rotating.bot.poster.run_once()
    assert post_tokens(slack, 2) == [second]
    assert len(slack.calls_to("oauth.v2.access")) == 2  # the new token is good for hours
    answer = await rotating.command("subscriptions", "TA", "CA")
    assert "install" not in str(answer).lower()  # Bolt authorized the request, with the new one
    assert any(c.method == "auth.test" and c.token == second for c in slack.calls)
    # The only refusal was the test's own call with the old token.
    expired = [c.method for c in slack.calls if c.answer.get("error") == "token_expired"]
    assert expired == ["auth.test"]


async def test_a_token_another_process_renewed_is_taken_from_the_database(
    rotating: Distributed, wall: FakeClock
) -> None:
    await rotating.install("TA")
    adapter = rotating.adapter
    bot = await adapter._bot("TA")  # cached in this process
    wall.advance(LIFETIME - 60 * 60)  # expiring now
    # Another process renews it first (spending the refresh token) and saves the new one.
    other = AsyncWebClient(base_url=rotating.slack.api_url)
    stored = rotating.bot.store.slack_installation("", "TA")
    assert stored is not None
    answer = await other.oauth_v2_access(
        client_id=rotating.slack.client_id,
        client_secret=rotating.slack.client_secret,
        grant_type="refresh_token",
        refresh_token=stored["bot_refresh_token"],
    )
    stored.update(
        bot_token=answer["access_token"],
        bot_refresh_token=answer["refresh_token"],
        bot_token_expires_at=int(wall()) + answer["expires_in"],
    )
    rotating.bot.store.save_slack_installation("", "TA", stored)

    now = await adapter._bot("TA")  # this process's cached token is expiring
    assert now.token == answer["access_token"] != bot.token
    assert len(rotating.slack.calls_to("oauth.v2.access")) == 2  # not renewed a second time
