"""The database file deleted or replaced under a running bot: it stops before the next write.

SQLite keeps writing to the file it opened; after ``rm paperboy.db`` everything the bot does
would vanish at the next restart. The real bot process must notice and exit non-zero, with
one ERROR line naming PAPERBOY_DB, and post nothing more.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.model.feed import Feed
from bot.model.subscription import Subscription
from storage.db import DatabaseFileGone, open_db
from storage.store import Store
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import hf_item
from tests.fakes.slack import FakeSlack
from tests.test_reliability_process import running_bot, subscribe


def remove(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def replace(db_path: Path) -> None:
    # A restore: another database file moved into place under the same name.
    other = db_path.with_name("restored.db")
    open_db(str(other)).close()
    remove(db_path)
    shutil.move(other, db_path)


@pytest.mark.parametrize("change", [remove, replace], ids=["deleted", "replaced"])
async def test_the_bot_exits_before_writing_to_a_database_file_that_is_gone(
    tmp_path: Path, change
) -> None:
    def seed(store: Store, slack: FakeSlack) -> None:
        subscribe(store, slack, "CHF", "hf")

    async with running_bot(tmp_path, seed, POLL_INTERVAL="0.2", LOG_LEVEL="INFO") as run:
        run.sources.set_default_daily([hf_item("2605.00001", upvotes=10)])
        await run.bot.start()
        await run.wait(lambda: run.cards("CHF") == ["2605.00001"])

        change(tmp_path / "paperboy.db")
        run.sources.set_default_daily(
            [hf_item("2605.00001", upvotes=10), hf_item("2605.00002", upvotes=5)]
        )
        await wait_until(lambda: run.bot.crashed, timeout=15, interval=0.05)
        assert run.bot.exit_code == DatabaseFileGone.EXIT_CODE, run.bot.log_tail()
        errors = [line for line in run.bot.log().splitlines() if " ERROR " in line]
        assert len(errors) == 1 and "PAPERBOY_DB" in errors[0], run.bot.log_tail()
        assert run.cards("CHF") == ["2605.00001"]  # nothing posted after the change


def test_a_write_to_a_deleted_database_file_raises_and_writes_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "paperboy.db"
    store = Store(open_db(str(db_path)))
    try:
        store.add_subscription(
            Subscription(platform="slack", workspace="T", channel="C1", feed=Feed("hf"))
        )
        remove(db_path)
        with pytest.raises(DatabaseFileGone):
            store.add_subscription(
                Subscription(platform="slack", workspace="T", channel="C2", feed=Feed("hf"))
            )
        assert [s.channel for s in store.subscriptions()] == ["C1"]  # rolled back
        assert not store.db.conn.in_transaction
    finally:
        store.db.close()
