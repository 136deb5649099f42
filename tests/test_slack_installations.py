"""Slack installations, OAuth states and departed workspaces in paperboy's database, on
SQLite and PostgreSQL, through the Store and the thin Bolt stores over it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation

from adapters.slack.installations import StoreInstallationStore, StoreStateStore
from adapters.slack.settings import BOT_SCOPES
from bot.model.feed import Feed
from bot.model.subscription import Subscription
from tests.conftest import BACKENDS, FakeClock, database_settings, open_store

DAY = 86400.0


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(backend, request, tmp_path, clock):
    store = open_store(database_settings(backend, request, tmp_path), clock)
    yield store
    store.close()


def installation(team_id: str, token: str) -> Installation:
    return Installation(
        app_id="APAPERBOY",
        enterprise_id=None,
        team_id=team_id,
        bot_token=token,
        bot_id=f"B{team_id}",
        bot_user_id=f"U{team_id}",
        bot_scopes=["chat:write", "commands"],
        user_id=f"U{team_id}ADMIN",
    )


async def test_installations_are_kept_per_workspace_and_seen_by_every_process(store) -> None:
    here, there = StoreInstallationStore(store), StoreInstallationStore(store)
    await here.async_save(installation("TA", "xoxb-a-1"))
    await here.async_save(installation("TB", "xoxb-b-1"))
    bot = await there.async_find_bot(enterprise_id=None, team_id="TA")
    assert bot is not None and (bot.bot_token, bot.bot_user_id) == ("xoxb-a-1", "UTA")
    assert bot.bot_scopes == ["chat:write", "commands"]
    # A workspace of an Enterprise Grid: Slack's events name the enterprise too.
    assert await there.async_find_bot(enterprise_id="E1", team_id="TB") is not None
    assert await there.async_find_bot(enterprise_id=None, team_id="TC") is None

    await here.async_save(installation("TA", "xoxb-a-2"))  # a reinstall: a new token
    there.forget("TA")  # the cache of a process that did not see it
    bot = await there.async_find_bot(enterprise_id=None, team_id="TA")
    assert bot is not None and bot.bot_token == "xoxb-a-2"

    await there.async_delete_all(enterprise_id=None, team_id="TA")
    assert await there.async_find_bot(enterprise_id=None, team_id="TA") is None
    assert store.slack_installation("", "TA") is None
    assert store.departed_workspaces("slack") == {("slack", "TA")}
    assert await here.async_find_bot(enterprise_id=None, team_id="TB") is not None


async def test_a_state_is_good_once_and_only_for_a_while(store, clock) -> None:
    states = StoreStateStore(store, lifetime=600)
    first, second = await states.async_issue(), await states.async_issue()
    assert first != second and len(first) >= 32
    assert await states.async_consume(first)
    assert not await states.async_consume(first)
    assert not await states.async_consume("never-issued")
    clock.advance(601)
    assert not await states.async_consume(second)


def test_departed_workspaces_data_is_purged_after_the_retention_only(store, clock) -> None:
    for workspace in ("TA", "TB"):
        sub = store.add_subscription(
            Subscription(platform="slack", workspace=workspace, channel="C1", feed=Feed("hf"))
        )
        store.claim_post("slack", workspace, "C1", "2401.00001")
        store.add_taste_pick(sub.id, "2024-01-01", "2401.00001")
        store.set_channel_tz("slack", workspace, "C1", "Europe/Berlin")
    store.save_slack_installation("", "TA", {"team_id": "TA"})
    assert store.delete_slack_installation("", "TA")
    clock.advance(10 * DAY)
    assert store.purge_departed_workspaces(clock() - 30 * DAY) == []
    assert {s.workspace for s in store.subscriptions()} == {"TA", "TB"}

    clock.advance(21 * DAY)
    assert store.purge_departed_workspaces(clock() - 30 * DAY) == [("slack", "TA")]
    assert {s.workspace for s in store.subscriptions()} == {"TB"}
    assert store.posted_ids("slack", "TA", "C1") == set()
    assert store.departed_workspaces() == set()
    assert store.sql.execute("SELECT count(*) FROM taste_picks").fetchone()[0] == 1
    assert store.sql.execute("SELECT count(*) FROM channel_settings").fetchone()[0] == 1


def test_a_reinstall_within_the_retention_keeps_everything(store, clock) -> None:
    store.add_subscription(
        Subscription(platform="slack", workspace="TA", channel="C1", feed=Feed("hf"))
    )
    store.delete_slack_installation("", "TA")
    clock.advance(DAY)
    store.save_slack_installation("", "TA", {"team_id": "TA"})
    clock.advance(60 * DAY)
    assert store.purge_departed_workspaces(clock() - 30 * DAY) == []
    assert [s.workspace for s in store.subscriptions()] == ["TA"]


def test_default_scopes_are_the_manifests_bot_scopes() -> None:
    manifest = (Path(__file__).parent.parent / "adapters/slack/manifest.yml").read_text()
    bot_block = manifest.split("    bot:\n", 1)[1].split("\nsettings:", 1)[0]
    assert tuple(re.findall(r"^\s+- ([\w:.]+)", bot_block, re.M)) == BOT_SCOPES


async def test_a_reinstall_another_process_saw_is_read_again_after_a_while(store) -> None:
    now = [0.0]
    here = StoreInstallationStore(store, cache_seconds=30, clock=lambda: now[0])
    there = StoreInstallationStore(store, cache_seconds=30, clock=lambda: now[0])
    await here.async_save(installation("TA", "xoxb-a-1"))
    assert (await there.async_find_bot(enterprise_id=None, team_id="TA")).bot_token == "xoxb-a-1"
    await here.async_delete_bot(enterprise_id=None, team_id="TA")
    await here.async_save(installation("TA", "xoxb-a-2"))  # uninstalled, then reinstalled
    now[0] = 29.0
    assert (await there.async_find_bot(enterprise_id=None, team_id="TA")).bot_token == "xoxb-a-1"
    now[0] = 30.0
    assert (await there.async_find_bot(enterprise_id=None, team_id="TA")).bot_token == "xoxb-a-2"
    await here.async_delete_bot(enterprise_id=None, team_id="TA")
    now[0] = 60.0
    assert await there.async_find_bot(enterprise_id=None, team_id="TA") is None
