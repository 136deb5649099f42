"""Slack payloads to core events, redelivery keys, per-channel pacing, the app manifest."""

from __future__ import annotations

import asyncio
from pathlib import Path

from adapters.slack.pacing import ChannelPacer
from adapters.slack.translate import (
    REACTION_EVENTS,
    command_event,
    delivery_key,
    reaction_event,
)
from bot.events import ChannelRef, MessageRef
from tests.fakes.slack import FakeSlack

# The payload builders need no server: they only mint URLs from the (unstarted) port.
slack = FakeSlack()


async def _respond(reply) -> None:  # pragma: no cover - never called here
    raise AssertionError


def test_command_payload_becomes_a_command_event() -> None:
    payload = slack.command_payload("  search diffusion author:ho  ", user="U7", channel="C9")
    event = command_event(payload, _respond)
    assert event.channel == ChannelRef("slack", "T0PAPERS", "C9")
    assert event.user.id == "U7" and event.user.name == "alice" and not event.user.is_admin
    assert event.text == "search diffusion author:ho"
    assert event.respond is _respond and event.check_admin is None


def test_command_text_is_unescaped_as_slack_escapes_it() -> None:
    payload = slack.command_payload("search R&amp;D &lt;3 show <https://arxiv.org/abs/1|x>")
    assert command_event(payload, _respond).text == "search R&D <3 show <https://arxiv.org/abs/1|x>"


def test_reaction_on_a_bot_message_becomes_a_vote_candidate() -> None:
    payload = slack.reaction_payload(
        "1700000000.000100", channel="C2", user="U3", emoji="thumbsup::skin-tone-3", added=False
    )
    event = reaction_event(payload, bot_user_id=slack.bot_user_id)
    assert event is not None
    assert event.target == MessageRef(ChannelRef("slack", "T0PAPERS", "C2"), "1700000000.000100")
    assert event.user.id == "U3" and not event.user.is_bot
    assert event.emoji == "thumbsup::skin-tone-3"  # the core normalises
    assert event.added is False


def test_reactions_that_cannot_be_votes_are_dropped() -> None:
    on_a_file = slack.reaction_payload("1.2")
    on_a_file["event"]["item"] = {"type": "file", "file": "F1"}
    assert reaction_event(on_a_file, bot_user_id=slack.bot_user_id) is None
    other_event = slack.event_payload({"type": "message", "text": "hi"})
    assert reaction_event(other_event) is None


def test_the_bots_own_reaction_is_marked_as_a_bot() -> None:
    payload = slack.reaction_payload("1.2", user=slack.bot_user_id)
    event = reaction_event(payload, bot_user_id=slack.bot_user_id)
    assert event is not None and event.user.is_bot


def test_reactions_on_peoples_messages_are_left_to_the_core() -> None:
    # One that links a single paper counts; the core knows which messages those are.
    on_someone_else = slack.reaction_payload("1.2", item_user="UHUMAN")
    assert reaction_event(on_someone_else, bot_user_id=slack.bot_user_id) is not None


def test_unknown_author_is_left_to_the_core() -> None:
    payload = slack.reaction_payload("1.2")
    del payload["event"]["item_user"]
    assert reaction_event(payload, bot_user_id=slack.bot_user_id) is not None


def test_delivery_keys_name_one_delivery() -> None:
    event = slack.reaction_payload("1.2", event_id="Ev123")
    assert delivery_key(event) == "event:Ev123"
    command = slack.command_payload("help")
    assert delivery_key(command) == f"command:{command['trigger_id']}"
    assert delivery_key(slack.command_payload("help")) != delivery_key(command)
    assert delivery_key({"type": "url_verification", "challenge": "x"}) is None


class StepClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_pacer_spaces_one_channel_and_lets_others_through(monkeypatch) -> None:
    clock = StepClock()
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        clock.now += seconds
        await real_sleep(0)

    monkeypatch.setattr("adapters.slack.pacing.asyncio.sleep", fake_sleep)
    pacer = ChannelPacer(interval=1.0, clock=clock)
    order: list[str] = []

    async def send(channel: str, name: str) -> None:
        async with pacer.turn(channel):
            order.append(name)

    await send("C1", "first")
    clock.now += 0.25
    await send("C2", "other channel")  # no wait: C2 has not posted
    await send("C1", "second")  # waits out the rest of C1's second
    assert order == ["first", "other channel", "second"]
    assert slept == [0.75]


def test_manifest_declares_what_the_adapter_uses() -> None:
    manifest = (Path(__file__).parent.parent / "adapters" / "slack" / "manifest.yml").read_text()
    items = {line.split("#")[0].strip() for line in manifest.splitlines()}
    for event in REACTION_EVENTS:
        assert f"- {event}" in items
    # One scope per Web API method the adapter calls, plus the command and the events.
    for scope in (
        "commands",
        "chat:write",
        "channels:join",
        "reactions:read",
        "channels:history",
        "groups:history",
        "metadata.message:read",
        "users:read",
        "im:write",
        "files:write",
        "links:read",
        "links:write",
    ):
        assert f"- {scope}" in items
    assert "- link_shared" in items
    unfurl_domains = manifest.split("unfurl_domains:")[1].split("\noauth_config")[0]
    for domain in ("arxiv.org", "huggingface.co", "alphaxiv.org", "biorxiv.org", "medrxiv.org"):
        assert f"- {domain}" in {line.split("#")[0].strip() for line in unfurl_domains.split("\n")}
    assert "- command: /papers" in items
    assert "socket_mode_enabled: true" in items
    # Card buttons send block_actions even though they are links; without interactivity
    # Slack warns the user who clicked.
    interactivity = manifest.split("interactivity:")[1].split("\n  org_deploy")[0]
    assert "is_enabled: true" in {line.split("#")[0].strip() for line in interactivity.split("\n")}
