"""Round trips through the real slack-bolt AsyncApp and the real core, in both modes.

Each test runs twice: Socket Mode (envelopes down a websocket, acks back) and HTTP mode
(signed requests to /slack/events). Only the fake Slack and the fake paper sources stand in
for the outside world, both on 127.0.0.1.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from adapters.slack.app import SlackAdapter
from adapters.slack.render import CARD_EVENT_TYPE
from bot.config import Settings
from bot.core import Bot
from bot.model.paper import Paper
from tests.fakes.local_server import wait_until
from tests.fakes.slack import Delivery, FakeSlack


@dataclass
class SlackRun:
    slack: FakeSlack
    adapter: SlackAdapter
    bot: Bot
    url: str | None  # the app's HTTP endpoint; None in Socket Mode
    team: str

    async def command(self, text: str, **kwargs) -> tuple[Delivery, dict]:
        """Run ``/papers <text>``: the app's ack, then its answer on the response_url."""
        payload = self.slack.command_payload(text, **kwargs)
        delivery = await self.slack.deliver(payload, to=self.url)
        answer = await self.slack.wait_response(payload["response_url"])
        return delivery, answer

    async def react(self, ts: str, **kwargs) -> Delivery:
        return await self.slack.deliver(self.slack.reaction_payload(ts, **kwargs), to=self.url)

    def tally(self) -> list:
        return self.bot.store.leaderboard("slack", self.team, None)


@asynccontextmanager
async def running(bot: Bot, mode: str) -> AsyncIterator[SlackRun]:
    socket_mode = mode == "socket"
    async with FakeSlack() as slack:
        adapter = SlackAdapter(
            bot,
            slack.settings(socket_mode=socket_mode),
            http_host="127.0.0.1",
            post_interval=0.0,
        )
        bot.attach(adapter)
        await adapter.start()
        url = None if socket_mode else f"http://127.0.0.1:{adapter.http_port}/slack/events"
        try:
            yield SlackRun(slack, adapter, bot, url, slack.team_id)
        finally:
            await adapter.stop()


@pytest.fixture(params=["socket", "http"])
async def run(request, bot: Bot) -> AsyncIterator[SlackRun]:
    async with running(bot, request.param) as slack_run:
        yield slack_run


def answer_text(answer: dict) -> str:
    parts = [answer["text"]]
    for block in answer["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts.extend(
            e.get("text", "") for e in block.get("elements", []) if e.get("type") != "button"
        )
    return "\n".join(parts)


async def test_a_slash_command_is_acked_then_answered_on_the_response_url(run) -> None:
    delivery, answer = await run.command("help")
    assert delivery.status == 200
    if run.url is None:
        assert delivery.ack == {"envelope_id": delivery.envelope_id}
    else:
        assert delivery.body == ""  # an empty ack: the answer goes to the response_url
    assert answer["response_type"] == "ephemeral"
    assert "/papers search" in answer_text(answer)
    assert run.slack.unhandled == []


async def test_subscribe_needs_a_slack_admin(run) -> None:
    _, refusal = await run.command("subscribe hf", user="UALICE")
    assert refusal["response_type"] == "ephemeral"
    assert "Only channel or workspace admins" in answer_text(refusal)
    assert run.slack.calls_to("users.info")[0].args["user"] == "UALICE"
    assert run.bot.store.subscriptions() == []


async def test_admin_ids_from_settings_skip_users_info(run) -> None:
    run.bot.settings = Settings(admins=frozenset({"UBOSS"}))
    _, answer = await run.command("subscribe hf", user="UBOSS")
    assert answer["response_type"] == "in_channel"
    assert run.slack.calls_to("users.info") == []


async def test_auto_post_then_reactions_become_votes(run) -> None:
    run.slack.add_user("UADMIN", is_admin=True)
    _, answer = await run.command("subscribe hf min_upvotes=1", user="UADMIN", channel="C1")
    assert answer["response_type"] == "in_channel"  # the team sees what was set up
    assert "Subscribed this channel" in answer_text(answer)

    report = await run.bot.poster.run_once()
    cards = run.slack.posts("C1")
    assert report.posted == len(cards) > 0
    assert all(c["metadata"]["event_type"] == CARD_EVENT_TYPE for c in cards)
    first = cards[0]
    paper_id = first["metadata"]["event_payload"]["paper_id"]

    await run.react(first["ts"], user="UALICE", emoji="+1")
    await wait_until(lambda: run.tally() and run.tally()[0].ups == 1)
    # The bot's own reaction is no vote (Bolt drops it); Bob's skin-toned thumbs up is one.
    await run.react(first["ts"], user=run.slack.bot_user_id, emoji="+1")
    await run.react(first["ts"], user="UBOB", emoji="thumbsup::skin-tone-4")
    await wait_until(lambda: run.tally()[0].ups == 2)
    assert [(t.paper_id, t.score, t.ups) for t in run.tally()] == [(paper_id, 2, 2)]

    await run.react(first["ts"], user="UALICE", emoji="+1", added=False)
    await wait_until(lambda: run.tally()[0].ups == 1)

    _, top = await run.command("top week public")
    assert top["response_type"] == "in_channel"
    assert paper_id in answer_text(top)

    # Later rounds post what was left over, never a paper twice.
    await run.bot.poster.run_once()
    posted = [c["metadata"]["event_payload"]["paper_id"] for c in run.slack.posts("C1")]
    assert len(posted) > len(cards) and len(set(posted)) == len(posted)


async def test_reactions_on_other_messages_change_nothing(run) -> None:
    human = run.slack.seed_message("C1", "lunch?", user="UHUMAN")
    await run.react(human, user="UALICE", item_user="UHUMAN")
    unknown_bot_message = run.slack.seed_message("C1", "not a card", user=run.slack.bot_user_id)
    await run.react(unknown_bot_message, user="UALICE")
    _, answer = await run.command("top all")  # a barrier: both reactions were handled first
    assert run.tally() == []
    assert "No votes" in answer_text(answer)


async def test_a_resent_slash_command_runs_once(run, caplog) -> None:
    caplog.set_level(logging.INFO, logger="adapters.slack.app")
    payload = run.slack.command_payload("help")
    first = await run.slack.deliver(payload, to=run.url)
    again = await run.slack.deliver(payload, to=run.url, retry=1)
    assert first.status == again.status == 200
    await run.command("subscriptions")  # a barrier: later work has been answered
    assert len(run.slack.responses[payload["response_url"]]) == 1
    assert "dropped a re-sent command" in caplog.text


async def test_a_resent_reaction_event_counts_once(run) -> None:
    run.slack.add_user("UADMIN", is_admin=True)
    await run.command("subscribe hf", user="UADMIN")
    await run.bot.poster.run_once()
    ts = run.slack.posts("C1")[0]["ts"]
    added = run.slack.reaction_payload(ts, user="UALICE", event_id="EvADD")
    removed = run.slack.reaction_payload(ts, user="UALICE", added=False, event_id="EvREMOVE")
    await run.slack.deliver(added, to=run.url)
    await wait_until(run.tally)
    await run.slack.deliver(removed, to=run.url)
    await wait_until(lambda: not run.tally())
    # Slack re-sends the add late: it must not bring the removed vote back.
    await run.slack.deliver(added, to=run.url, retry=1)
    await run.command("help")  # a barrier
    assert run.tally() == []


@pytest.mark.parametrize("mode", ["socket", "http"])
async def test_no_secret_reaches_the_log_even_at_debug(mode, bot, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="paperboy.slack")  # LOG_LEVEL=DEBUG un-quiets it
    async with running(bot, mode) as debug_run:
        debug_run.slack.add_user("UADMIN", is_admin=True)
        await debug_run.command("subscribe hf", user="UADMIN")
        await bot.poster.run_once()
        await debug_run.react(debug_run.slack.posts("C1")[0]["ts"])
        await wait_until(debug_run.tally)
        secrets = (
            debug_run.slack.bot_token,
            debug_run.slack.app_token,
            debug_run.slack.signing_secret,
        )
    assert "chat.postMessage" in caplog.text  # debug logging was really on
    assert not [s for s in secrets if s in caplog.text]


# -- HTTP mode only -------------------------------------------------------------------------


@pytest.fixture
async def http_run(bot: Bot) -> AsyncIterator[SlackRun]:
    async with running(bot, "http") as slack_run:
        yield slack_run


@pytest.mark.parametrize(
    "forgery",
    [
        {"signed": False},
        {"secret": "not-the-signing-secret"},
        {"age": 301},  # older than Slack's 5 minutes
        {"age": -301},
    ],
    ids=["unsigned", "wrong-secret", "stale", "from-the-future"],
)
async def test_unverified_requests_get_401_and_reach_nothing(http_run, forgery, caplog) -> None:
    if "age" in forgery:
        forgery = {"timestamp": int(time.time()) - forgery["age"]}
    http_run.bot.settings = Settings(admins=frozenset({"UBOSS"}))
    # Had it got through, this would have subscribed the channel.
    payload = http_run.slack.command_payload("subscribe hf", user="UBOSS")
    delivery = await http_run.slack.post_to_app(http_run.url, payload, **forgery)
    assert delivery.status == 401
    event = http_run.slack.reaction_payload("1.2")
    assert (await http_run.slack.post_to_app(http_run.url, event, **forgery)).status == 401
    await http_run.command("help")  # a barrier
    assert payload["response_url"] not in http_run.slack.responses
    assert http_run.bot.store.subscriptions() == []
    assert "check SLACK_SIGNING_SECRET" in caplog.text


async def test_a_request_signed_a_minute_ago_is_accepted(http_run) -> None:
    payload = http_run.slack.command_payload("help")
    delivery = await http_run.slack.post_to_app(
        http_run.url, payload, timestamp=int(time.time()) - 60
    )
    assert delivery.status == 200
    await http_run.slack.wait_response(payload["response_url"])


async def test_url_verification_is_answered(http_run) -> None:
    challenge = {"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"}
    delivery = await http_run.slack.post_to_app(http_run.url, challenge)
    assert delivery.status == 200
    assert challenge["challenge"] in delivery.body


# -- Socket Mode only -----------------------------------------------------------------------


@pytest.fixture
async def socket_run(bot: Bot) -> AsyncIterator[SlackRun]:
    async with running(bot, "socket") as slack_run:
        yield slack_run


async def test_socket_mode_reconnects_when_slack_asks(socket_run) -> None:
    assert socket_run.slack.connections == 1
    await socket_run.slack.ask_to_reconnect()
    await wait_until(lambda: socket_run.slack.connections == 2)
    _, answer = await socket_run.command("help")
    assert answer["response_type"] == "ephemeral"
    assert len(socket_run.slack.calls_to("apps.connections.open")) == 2


async def test_clicks_on_card_link_buttons_are_acked_and_change_nothing(run) -> None:
    run.slack.add_user("UADMIN", is_admin=True)
    await run.command("subscribe hf min_upvotes=1", user="UADMIN", channel="C1")
    await run.bot.poster.run_once()
    card = run.slack.posts("C1")[0]
    buttons = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons and all(b["action_id"].startswith("paperboy_link_") for b in buttons)
    posts_before = len(run.slack.posts())
    for button in buttons:
        delivery = await run.slack.deliver(
            run.slack.link_click_payload(button, ts=card["ts"]), to=run.url
        )
        assert delivery.status == 200
        if run.url is None:
            assert delivery.ack == {"envelope_id": delivery.envelope_id}
        else:
            assert delivery.body == ""
    assert len(run.slack.posts()) == posts_before and run.tally() == []
    assert run.slack.unhandled == []


async def test_a_command_with_the_word_payload_is_answered(run) -> None:
    # slack-bolt reads any form body containing "payload" as an interactivity payload.
    run.bot.store.save_papers([Paper("2605.00070", "Payload attacks", published="2026-05-01")])
    delivery, answer = await run.command("search payload attacks")
    assert delivery.status == 200
    assert "Payload attacks" in answer_text(answer)
