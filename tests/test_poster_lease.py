"""The poster lease and claim leases, in one process: who may post, who may settle what."""

from __future__ import annotations

import os
from pathlib import Path

from storage.db import open_db
from storage.poster_lease import CLAIM_LEASE_SECONDS, FileLease, new_claim_owner, owner_is_gone
from storage.store import Store
from tests.test_poster import items, serve_today, subscribe

ANOTHER_LIVE_PROCESS = f"other-host:{os.getpid()}:0000"


def test_one_holder_of_the_file_lease_at_a_time_and_it_frees_on_release(tmp_path: Path) -> None:
    path = str(tmp_path / "paperboy.db.poster.lock")
    first, second = FileLease(path), FileLease(path)
    assert first.acquire() and first.held
    assert not second.acquire() and not second.held
    assert first.acquire()  # holding it already
    first.release()
    assert second.acquire()
    assert not first.acquire()
    second.release()


def test_a_file_database_locks_beside_itself(tmp_path: Path) -> None:
    store = Store(open_db(str(tmp_path / "paperboy.db")))
    try:
        lease = store.poster_lease()
        assert lease.acquire()
        assert (tmp_path / "paperboy.db.poster.lock").read_text().strip() == str(os.getpid())
        assert not store.poster_lease().acquire()
        lease.release()
    finally:
        store.db.close()


def test_only_a_process_of_this_host_whose_pid_is_free_counts_as_gone() -> None:
    assert not owner_is_gone(new_claim_owner())  # this process
    assert not owner_is_gone(ANOTHER_LIVE_PROCESS)  # another host: wait for its lease
    host = new_claim_owner().partition(":")[0]
    assert not owner_is_gone(f"{host}:1:abcd")  # init is alive
    assert owner_is_gone(f"{host}:{2**22 + 1}:abcd")  # above pid_max: no such process
    assert not owner_is_gone("")


async def test_settling_leaves_another_processes_live_claim_alone_until_its_lease_lapses(
    bot, chat, clock, paper_sources
) -> None:
    serve_today(paper_sources, items(("2605.00001", 5)))
    await subscribe(chat)
    # Another process claimed the paper and is still sending it.
    bot.store.claim_post(
        "memory",
        "W1",
        "C1",
        "2605.00001",
        owner=ANOTHER_LIVE_PROCESS,
        lease_until=clock() + CLAIM_LEASE_SECONDS,
    )
    await bot.poster.run_once()
    assert chat.card_ids() == []  # not released, so not posted a second time
    assert [p.owner for p in bot.store.pending_posts()] == [ANOTHER_LIVE_PROCESS]

    clock.advance(CLAIM_LEASE_SECONDS + 1)  # its owner stopped renewing: settled, then sent
    await bot.poster.run_once()
    assert chat.card_ids() == ["2605.00001"]
    assert bot.store.pending_posts() == []
