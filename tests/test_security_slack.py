"""Hostile input on Slack: replayed and tampered requests, and any text after /papers.

About replays: Slack's signature covers the timestamp and the body, and a request is
accepted for 5 minutes after its timestamp, so a captured request replayed within that
window *is* validly signed. What paperboy guarantees is that a replay has no second
effect (the command runs once, the reaction counts once); a replay older than 5 minutes,
or one with any byte of the body changed, gets 401 and reaches nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack.app import SlackAdapter
from bot.commands import REGISTRY
from bot.config import Settings
from bot.core import Bot
from bot.model.feed import Feed
from bot.model.subscription import Subscription
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources
from tests.fakes.slack import LIMITS, FakeSlack, block_problems, units
from tests.hostile_text import COMMAND_HAZARDS, LONG_WORDS
from tests.isolation import logger_levels_restored  # noqa: F401 (autouse)

ADMIN = "UADMIN"


class App:
    """The Slack adapter in HTTP mode, and a way to send it exact bytes."""

    def __init__(self, slack: FakeSlack, adapter: SlackAdapter, bot: Bot) -> None:
        self.slack = slack
        self.adapter = adapter
        self.bot = bot
        self.url = f"http://127.0.0.1:{adapter.http_port}/slack/events"

    def signed(self, payload: dict, *, age: int = 0) -> tuple[bytes, dict[str, str]]:
        """A request as Slack (or an attacker who captured it) would send it."""
        body, content_type = self.slack.encode(payload)
        headers = {
            "Content-Type": content_type,
            **self.slack.sign(body, timestamp=int(time.time()) - age),
        }
        return body.encode(), headers

    async def send(self, body: bytes, headers: dict[str, str]) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=body, headers=headers) as response,
        ):
            return response.status

    async def barrier(self) -> None:
        """Everything sent before has been handled: commands run in order of arrival."""
        payload = self.slack.command_payload("help")
        await self.slack.deliver(payload, to=self.url)
        await self.slack.wait_response(payload["response_url"])

    def votes(self, paper_id: str) -> int:
        return self.bot.store.net_votes("slack", self.slack.team_id, paper_id)


@pytest.fixture
async def app(settings: Settings, bot: Bot) -> AsyncIterator[App]:
    bot.settings = replace(bot.settings, admins=frozenset({ADMIN}))
    async with FakeSlack() as slack:
        adapter = SlackAdapter(
            bot,
            slack.settings(socket_mode=False),
            http_host="127.0.0.1",
            post_interval=0.0,
        )
        bot.attach(adapter)
        await adapter.start()
        try:
            yield App(slack, adapter, bot)
        finally:
            await adapter.stop()


# -- replays and tampering ----------------------------------------------------------------


async def test_a_replayed_command_runs_once(app: App) -> None:
    payload = app.slack.command_payload("subscribe hf", user=ADMIN)
    body, headers = app.signed(payload)
    assert await app.send(body, headers) == 200
    assert await app.send(body, headers) == 200  # valid for Slack's 5 minutes...
    await app.barrier()
    assert len(app.bot.store.subscriptions()) == 1  # ...but it did nothing the second time
    assert len(app.slack.responses[payload["response_url"]]) == 1


async def test_a_replayed_reaction_cannot_bring_a_removed_vote_back(app: App) -> None:
    app.bot.store.add_subscription(
        Subscription(platform="slack", workspace=app.slack.team_id, channel="C1", feed=Feed("hf"))
    )
    await app.bot.poster.run_once()
    card = app.slack.posts("C1")[0]
    paper = card["metadata"]["event_payload"]["paper_id"]
    added = app.signed(app.slack.reaction_payload(card["ts"], user="UALICE"))
    removed = app.signed(app.slack.reaction_payload(card["ts"], user="UALICE", added=False))
    assert await app.send(*added) == 200
    await wait_until(lambda: app.votes(paper) == 1)
    assert await app.send(*removed) == 200
    await wait_until(lambda: app.votes(paper) == 0)
    assert await app.send(*added) == 200  # the attacker replays the captured "add"
    await app.barrier()
    assert app.votes(paper) == 0


# A future timestamp comes closer while the request is in flight: leave a margin past 300 s.
@pytest.mark.parametrize("age", [301, 3600, -310], ids=["5-minutes", "an-hour", "future"])
async def test_an_old_replay_gets_401(app: App, age: int) -> None:
    payload = app.slack.command_payload("subscribe hf", user=ADMIN)
    assert await app.send(*app.signed(payload, age=age)) == 401
    await app.barrier()
    assert app.bot.store.subscriptions() == []


async def test_a_tampered_body_gets_401(app: App) -> None:
    payload = app.slack.command_payload("help", user="UALICE")
    body, headers = app.signed(payload)
    forged = body.replace(b"user_id=UALICE", b"user_id=UADMIN").replace(b"help", b"subscribe+hf")
    assert forged != body
    assert await app.send(forged, headers) == 401
    await app.barrier()
    assert app.bot.store.subscriptions() == []


async def test_non_admins_cannot_change_subscriptions(app: App) -> None:
    app.slack.add_user("UMEMBER")  # a plain member, as users.info says
    app.slack.add_user("UOWNER", is_owner=True)
    await app.slack.deliver(app.slack.command_payload("subscribe hf", user="UOWNER"), to=app.url)
    await app.barrier()
    (sub,) = app.bot.store.subscriptions()
    for text in ("subscribe hf min_upvotes=1", f"unsubscribe {sub.id}", "unsubscribe all"):
        payload = app.slack.command_payload(text, user="UMEMBER")
        await app.slack.deliver(payload, to=app.url)
        answer = await app.slack.wait_response(payload["response_url"])
        assert answer["response_type"] == "ephemeral"
        assert "Only channel or workspace admins" in answer["text"] + str(answer["blocks"])
    assert app.bot.store.subscriptions() == [sub]


# -- any text after /papers -----------------------------------------------------------------

# Slack markup, entities and mentions, SQL and FTS syntax, unicode that changes how text
# displays, and words long enough to overflow a block if echoed whole.
HOSTILE = st.sampled_from(
    [
        *COMMAND_HAZARDS,
        *LONG_WORDS,
        "&amp;",
        "&lt;",
        "&gt;",
        "<http://example.com|click>",
        "<@U123>",
        "<!channel>",
        "<#C123|general>",
        "*bold*",
        "_it_",
        "~strike~",
        "`code`",
        "```",
        ">",
    ]
)
WORDS = st.one_of(HOSTILE, st.text(max_size=20))
COMMAND_TEXT = st.tuples(
    st.sampled_from([*REGISTRY.names, "bogus", ""]), st.lists(WORDS, max_size=8).map(" ".join)
).map(" ".join)


def within_slack_limits(answer: dict) -> list[str]:
    problems = block_problems(answer.get("blocks", []))
    text = answer.get("text", "")
    if not text or units(text) > LIMITS["text"]:
        problems.append(f"fallback text of {units(text)} units")
    if answer.get("response_type") not in ("ephemeral", "in_channel"):
        problems.append(f"response_type {answer.get('response_type')!r}")
    return problems


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=COMMAND_TEXT, admin=st.booleans())
async def test_any_slash_command_text_gets_one_answer_within_slack_limits(
    app: App, paper_sources: FakePaperSources, text: str, admin: bool
) -> None:
    payload = app.slack.command_payload(text, user=ADMIN if admin else "UALICE")
    delivery = await app.slack.deliver(payload, to=app.url)
    assert delivery.status == 200
    answer = await app.slack.wait_response(payload["response_url"])
    assert within_slack_limits(answer) == [], (text, answer)
    assert len(app.slack.responses[payload["response_url"]]) == 1
    assert app.bot.store.db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
