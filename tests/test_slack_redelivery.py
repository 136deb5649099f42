"""Slack's redeliveries run once, even after a restart or on another process.

Delivery ids (event ids, command trigger ids) are kept in the database for an hour, Slack's
retry window with room to spare, so the memory outlives the process that saw them first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core import Bot
from bot.events import Event
from bot.model.paper import Paper
from storage.db import open_db
from storage.store import DELIVERY_MEMORY, PRUNE_EVERY, Store
from tests.conftest import FakeClock, close_bot, make_bot
from tests.fakes.local_server import wait_until
from tests.fakes.slack import FakeSlack
from tests.isolation import logger_levels_restored  # noqa: F401 (autouse)


@asynccontextmanager
async def running(slack: FakeSlack, settings: Settings, clock: FakeClock) -> AsyncIterator[str]:
    """A fresh bot process's worth of objects on ``settings.db_path``: core and HTTP adapter."""
    bot: Bot = make_bot(settings, clock)
    adapter = SlackAdapter(
        bot, slack.settings(socket_mode=False), http_host="127.0.0.1", post_interval=0.0
    )
    bot.attach(adapter)
    await adapter.start()
    try:
        yield f"http://127.0.0.1:{adapter.http_port}/slack/events"
    finally:
        await adapter.stop()
        await close_bot(bot)


async def barrier(slack: FakeSlack, url: str) -> None:
    """Commands run in order of arrival: once this one is answered, the earlier ones were."""
    payload = slack.command_payload("help")
    await slack.deliver(payload, to=url)
    await slack.wait_response(payload["response_url"])


async def test_a_command_redelivered_after_a_restart_runs_once(
    settings: Settings, clock: FakeClock
) -> None:
    async with FakeSlack() as slack:
        command = slack.command_payload("help")
        async with running(slack, settings, clock) as url:
            assert (await slack.deliver(command, to=url)).status == 200
            await slack.wait_response(command["response_url"])
        clock.advance(600)  # Slack gave up waiting and retries minutes later
        async with running(slack, settings, clock) as url:
            assert (await slack.deliver(command, to=url, retry=1)).status == 200
            assert (await slack.deliver(command, to=url, retry=2)).status == 200
            await barrier(slack, url)
        assert len(slack.responses[command["response_url"]]) == 1


async def test_two_processes_share_the_memory(settings: Settings, clock: FakeClock) -> None:
    async with FakeSlack() as slack:
        command = slack.command_payload("help")
        async with (
            running(slack, settings, clock) as first,
            running(slack, settings, clock) as second,
        ):
            await slack.deliver(command, to=first)
            await slack.deliver(command, to=second, retry=1)
            await barrier(slack, first)
            await barrier(slack, second)
        assert len(slack.responses[command["response_url"]]) == 1


async def test_a_reaction_is_applied_before_its_ack_and_remembered_only_then(
    settings: Settings, clock: FakeClock
) -> None:
    """A process killed before it applied a reaction must not have acked it (Slack would not
    send it again) nor remembered its id (the retry, on another process, would be dropped)."""
    async with FakeSlack() as slack:
        bot: Bot = make_bot(settings, clock)
        bot.store.save_papers([Paper("2605.00001", "A paper")])
        post_id = bot.store.claim_post("slack", slack.team_id, "C1", "2605.00001")
        ts = slack.seed_message("C1", "card", user=slack.bot_user_id)
        bot.store.complete_post(post_id, ts)
        adapter = SlackAdapter(
            bot, slack.settings(socket_mode=False), http_host="127.0.0.1", post_interval=0.0
        )
        bot.attach(adapter)
        await adapter.start()
        handle, entered, release = bot.handle, asyncio.Event(), asyncio.Event()

        async def held(event: Event) -> None:  # the core, stuck before it applies the vote
            entered.set()
            await release.wait()
            await handle(event)

        bot.handle = held  # type: ignore[method-assign]
        try:
            payload = slack.react(ts, channel="C1", user="UALICE", emoji="+1")
            url = f"http://127.0.0.1:{adapter.http_port}/slack/events"
            delivery = asyncio.create_task(slack.deliver(payload, to=url))
            await wait_until(entered.is_set)
            done, _ = await asyncio.wait({delivery}, timeout=0.5)
            assert not done, "acked before the reaction was applied"
            # Not remembered yet: a retry now (the process died) would still apply it.
            assert bot.store.net_votes("slack", slack.team_id, "2605.00001") == 0
            release.set()
            assert (await delivery).status == 200
            assert bot.store.net_votes("slack", slack.team_id, "2605.00001") == 1
            # Remembered with the vote: Slack's retry, and an un-react in between, are
            # not undone by it.
            removed = slack.react(ts, channel="C1", user="UALICE", emoji="+1", added=False)
            assert (await slack.deliver(removed, to=url)).status == 200
            assert (await slack.deliver(payload, to=url, retry=1)).status == 200
            assert bot.store.net_votes("slack", slack.team_id, "2605.00001") == 0
        finally:
            release.set()
            await adapter.stop()
            await close_bot(bot)


def test_delivery_ids_are_kept_an_hour_then_pruned(tmp_path) -> None:
    clock = FakeClock()
    store = Store(open_db(str(tmp_path / "paperboy.db")), clock)
    assert store.first_delivery("slack", "event:Ev1")
    assert not store.first_delivery("slack", "event:Ev1")
    assert store.first_delivery("discord", "event:Ev1")  # another platform's ids are apart
    clock.advance(DELIVERY_MEMORY - 1)
    assert not store.first_delivery("slack", "event:Ev1")  # still within the hour
    for n in range(100):
        assert store.first_delivery("slack", f"event:later{n}")
    clock.advance(PRUNE_EVERY + 2)
    assert store.first_delivery("slack", "event:trigger-a-prune")
    kept = {row[0] for row in store.db.execute("SELECT key FROM deliveries")}
    assert "event:Ev1" not in kept and "event:later0" in kept
    assert store.first_delivery("slack", "event:Ev1")  # forgotten after the hour
    store.db.close()
