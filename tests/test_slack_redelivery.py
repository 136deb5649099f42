"""Slack's redeliveries run once, even after a restart or on another process.

Delivery ids (event ids, command trigger ids) are kept in the database for an hour, Slack's
retry window with room to spare, so the memory outlives the process that saw them first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core import Bot
from storage.db import open_db
from storage.store import DELIVERY_MEMORY, PRUNE_EVERY, Store
from tests.conftest import FakeClock, close_bot, make_bot
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
