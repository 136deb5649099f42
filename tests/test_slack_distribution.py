"""Slack distribution: workspaces installed through Bolt's OAuth flow, each served with its
own token, through the real AsyncApp, the real core and the fake Slack.

Every Web API call (oauth.v2.access too) goes to the fake; the fake answers each token as its
own workspace, so a call made with the wrong workspace's token would show in ``calls``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import aiohttp
import pytest
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import SlackAdapter
from adapters.slack.installations import StoreInstallationStore
from bot.core import Bot
from tests.fakes.local_server import wait_until
from tests.fakes.slack import FakeSlack

STATE_COOKIE = "slack-app-oauth-state"


@dataclass
class Distributed:
    slack: FakeSlack
    adapter: SlackAdapter
    bot: Bot
    base: str  # the app's HTTP root

    @property
    def events(self) -> str:
        return f"{self.base}/slack/events"

    async def install(self, team_id: str) -> tuple[int, str]:
        """A user of ``team_id`` opens /slack/install, allows the app on Slack, and the
        browser comes back to the redirect URL with the code and the state (and its cookie)."""
        async with aiohttp.ClientSession() as browser:
            async with browser.get(f"{self.base}/slack/install") as page:
                html = await page.text()
                cookie = page.cookies[STATE_COOKIE].value
            match = re.search(r"state=([\w-]+)", html)
            assert page.status == 200 and match, html
            return await self.redirect(browser, self.slack.install(team_id), match[1], cookie)

    async def redirect(
        self, browser: aiohttp.ClientSession, code: str, state: str, cookie: str
    ) -> tuple[int, str]:
        async with browser.get(
            f"{self.base}/slack/oauth_redirect",
            params={"code": code, "state": state},
            headers={"Cookie": f"{STATE_COOKIE}={cookie}"},
        ) as done:
            return done.status, await done.text()

    async def command(self, text: str, team_id: str, channel: str, user: str = "UADMIN") -> dict:
        payload = self.slack.command_payload(text, team_id=team_id, channel=channel, user=user)
        delivery = await self.slack.deliver(payload, to=self.events)
        assert delivery.status == 200
        return await self.slack.wait_response(payload["response_url"])

    def token(self, team_id: str) -> str:
        found = self.slack.workspace(team_id)
        assert found is not None
        return found.bot_token


@pytest.fixture
async def dist(bot: Bot) -> AsyncIterator[Distributed]:
    async with FakeSlack() as slack:
        adapter = SlackAdapter(
            bot, slack.settings(oauth=True), http_host="127.0.0.1", post_interval=0.0
        )
        bot.attach(adapter)
        await adapter.start()
        try:
            yield Distributed(slack, adapter, bot, f"http://127.0.0.1:{adapter.http_port}")
        finally:
            await adapter.stop()


def tokens_of(slack: FakeSlack, method: str, channel: str) -> set[str]:
    return {c.token for c in slack.calls_to(method) if c.args.get("channel") == channel}


async def test_two_workspaces_install_and_each_is_served_with_its_own_token(dist) -> None:
    assert dist.slack.calls_to("auth.test") == []  # nothing to check before an install
    for team in ("TA", "TB"):
        status, page = await dist.install(team)
        assert status == 200, page
    assert len(dist.slack.calls_to("oauth.v2.access")) == 2
    stored = dist.bot.store.slack_installation("", "TA")
    assert stored is not None and stored["bot_token"] == dist.token("TA")
    assert stored["bot_user_id"] == "UTABOT" and stored["bot_id"] == "BTABOT"

    dist.slack.add_user("UADMIN", is_admin=True)
    for team, channel in (("TA", "CA"), ("TB", "CB")):
        answer = await dist.command("subscribe hf", team, channel)
        assert answer["response_type"] == "in_channel", answer
    admin_checks = [c.token for c in dist.slack.calls_to("users.info")]
    assert admin_checks == [dist.token("TA"), dist.token("TB")]
    assert {(s.workspace, s.channel) for s in dist.bot.store.subscriptions()} == {
        ("TA", "CA"),
        ("TB", "CB"),
    }

    await dist.bot.poster.run_once()
    for team, channel in (("TA", "CA"), ("TB", "CB")):
        posts = dist.slack.posts(channel)
        assert posts and {p["team"] for p in posts} == {team}
        assert tokens_of(dist.slack, "chat.postMessage", channel) == {dist.token(team)}

    # A vote in each workspace is read with that workspace's bot: its own reaction is no vote.
    for team, channel in (("TA", "CA"), ("TB", "CB")):
        ts = dist.slack.posts(channel)[0]["ts"]
        dist.slack.react(ts, channel=channel, user="UALICE")
        payload = dist.slack.reaction_payload(ts, channel=channel, team_id=team)
        payload["event"]["item_user"] = f"U{team}BOT"
        await dist.slack.deliver(payload, to=dist.events)
    await wait_until(
        lambda: all(dist.bot.store.leaderboard("slack", team, None) for team in ("TA", "TB"))
    )
    # One auth.test per install, and one per token for Bolt's authorization: not per request.
    assert len(dist.slack.calls_to("auth.test")) == 4


async def test_uninstall_stops_posting_there_and_keeps_the_data(dist) -> None:
    for team in ("TA", "TB"):
        await dist.install(team)
    dist.bot.settings = replace(dist.bot.settings, admins=frozenset({"UADMIN"}))
    await dist.command("subscribe hf", "TA", "CA")
    await dist.command("subscribe hf", "TB", "CB")
    # One card a round per channel, so there is always something left to post.
    dist.bot.poster.settings = replace(dist.bot.poster.settings, max_posts_per_poll=1)
    await dist.bot.poster.run_once()
    assert len(dist.slack.posts("CA")) == len(dist.slack.posts("CB")) == 1

    delivery = await dist.slack.deliver(dist.slack.uninstall("TA"), to=dist.events)
    assert delivery.status == 200
    assert dist.bot.store.slack_installation("", "TA") is None
    assert dist.bot.store.departed_workspaces() == {("slack", "TA")}

    posts_before = len(dist.slack.calls_to("chat.postMessage"))
    await dist.bot.poster.run_once()
    assert len(dist.slack.posts("CA")) == 1  # nothing more in the workspace that left
    assert len(dist.slack.posts("CB")) == 2
    assert len(dist.slack.calls_to("chat.postMessage")) == posts_before + 1
    # Its subscription is kept for a reinstall, which resumes without re-posting.
    assert ("TA", "CA") in {(s.workspace, s.channel) for s in dist.bot.store.subscriptions()}
    await dist.install("TA")
    assert dist.bot.store.departed_workspaces() == set()
    await dist.bot.poster.run_once()
    ids = [p["metadata"]["event_payload"]["paper_id"] for p in dist.slack.posts("CA")]
    assert len(ids) == 2 and len(set(ids)) == 2


async def test_a_signed_request_from_a_team_without_installation_changes_nothing(
    dist, caplog
) -> None:
    await dist.install("TA")
    await dist.slack.deliver(dist.slack.uninstall("TA"), to=dist.events)
    dist.bot.settings = replace(dist.bot.settings, admins=frozenset({"UADMIN"}))

    def deliveries() -> int:
        return dist.bot.store.sql.execute("SELECT count(*) FROM deliveries").fetchone()[0]

    calls_before, deliveries_before = len(dist.slack.calls), deliveries()
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    for team in ("TNEVER", "TA"):  # never installed; removed
        payload = dist.slack.command_payload("subscribe hf", team_id=team, user="UADMIN")
        delivery = await dist.slack.post_to_app(dist.events, payload)
        assert delivery.status == 200  # Bolt tells the user; the core never sees it
        reaction = dist.slack.reaction_payload("1.000001", team_id=team)
        await dist.slack.post_to_app(dist.events, reaction)
    answer = await dist.slack.wait_response(payload["response_url"])
    assert "install" in answer["text"].lower()  # Bolt's message to the user, nothing more
    assert dist.bot.store.subscriptions() == []
    assert dist.bot.store.leaderboard("slack", "TNEVER", None) == []
    assert len(dist.slack.calls) == calls_before  # not a single Web API call
    assert deliveries() == deliveries_before
    # Each refusal is one INFO line naming the workspace, not an ERROR (Bolt's own).
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    refusals = [r.getMessage() for r in caplog.records if "refused a request" in r.getMessage()]
    assert len(refusals) == 4
    assert sum("TNEVER" in m for m in refusals) == sum(" TA:" in m for m in refusals) == 2
    assert all("\n" not in m for m in refusals)


async def test_the_oauth_state_is_checked_and_good_once(dist) -> None:
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{dist.base}/slack/install") as page:
            html = await page.text()
            cookie = page.cookies[STATE_COOKIE].value
        state = re.search(r"state=([\w-]+)", html)[1]  # type: ignore[index]
        forged, _ = await dist.redirect(browser, dist.slack.install("TA"), "forged", "forged")
        assert forged >= 400
        mismatched, _ = await dist.redirect(browser, dist.slack.install("TA"), state, "other")
        assert mismatched >= 400
        assert dist.slack.calls_to("oauth.v2.access") == []
        ok, _ = await dist.redirect(browser, dist.slack.install("TA"), state, cookie)
        assert ok == 200
        replayed, _ = await dist.redirect(browser, dist.slack.install("TB"), state, cookie)
        assert replayed >= 400
    assert dist.bot.store.slack_installation("", "TA") is not None
    assert dist.bot.store.slack_installation("", "TB") is None


async def posted_once_in(dist: Distributed, team: str, channel: str) -> dict:
    """``team`` installs and subscribes ``channel``; one card is posted. Its installation row."""
    await dist.install(team)
    dist.bot.settings = replace(dist.bot.settings, admins=frozenset({"UADMIN"}))
    await dist.command("subscribe hf", team, channel)
    dist.bot.poster.settings = replace(dist.bot.poster.settings, max_posts_per_poll=1)
    await dist.bot.poster.run_once()
    row = dist.bot.store.slack_installation("", team)
    assert row is not None
    return row


async def leave_and_reinstall_elsewhere(dist: Distributed, team: str, row: dict) -> None:
    """The uninstall reaches this process; the reinstall another one (a cache of its own,
    the same database). The fake revokes the old token."""
    await dist.slack.deliver(dist.slack.uninstall(team), to=dist.events)
    async with aiohttp.ClientSession() as http:
        granted = await AsyncWebClient(base_url=dist.slack.api_url, session=http).oauth_v2_access(
            client_id=dist.slack.client_id,
            client_secret=dist.slack.client_secret,
            code=dist.slack.install(team),
        )
    other = StoreInstallationStore(dist.bot.store)
    await other.async_save(Installation(**{**row, "bot_token": granted["access_token"]}))


def sends_to(dist: Distributed, channel: str) -> list:
    return [c for c in dist.slack.calls_to("chat.postMessage") if c.args["channel"] == channel]


async def test_a_reinstall_through_another_process_is_posted_with_its_new_token(dist) -> None:
    row = await posted_once_in(dist, "TA", "CA")
    old = dist.token("TA")
    await leave_and_reinstall_elsewhere(dist, "TA", row)
    # As if this process had missed the uninstall: its cache still holds the old token.
    dist.adapter.installations._bots[("", "TA")] = (time.monotonic(), Installation(**row))

    await dist.bot.poster.run_once()
    sends = sends_to(dist, "CA")
    assert [c.answer.get("error") for c in sends] == [None, "invalid_auth", None]
    assert sends[-1].token == dist.token("TA") != old
    assert len(dist.slack.posts("CA")) == 2


async def test_a_reinstall_through_another_process_is_seen_here_at_once(dist) -> None:
    row = await posted_once_in(dist, "TA", "CA")
    # This process remembers the absence; the database has the reinstall.
    await leave_and_reinstall_elsewhere(dist, "TA", row)

    await dist.bot.poster.run_once()
    sends = sends_to(dist, "CA")
    assert [c.answer.get("error") for c in sends] == [None, None]
    assert sends[-1].token == dist.token("TA")
    assert len(dist.slack.posts("CA")) == 2
