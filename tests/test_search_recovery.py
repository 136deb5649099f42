"""A search index folder that breaks (corrupted files, deleted, replaced) is rebuilt from
SQLite, the source of truth, and searches keep answering meanwhile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.model.paper import Paper
from bot.model.search_query import parse_search
from bot.replies import Error, PaperList
from storage import search_index
from storage.db import open_db
from storage.store import SearchIndexRebuilding, Store
from tests.fakes.local_server import wait_until

PAPERS = [Paper(f"2605.{i:05d}", f"Diffusion model number {i}", "abstract") for i in range(30)]


def corrupt(folder: Path) -> None:
    """Flip bytes all through every segment file, as a failing disk would."""
    segments = [f for f in folder.iterdir() if f.suffix in {".term", ".idx", ".pos", ".store"}]
    assert segments
    for file in segments:
        data = bytearray(file.read_bytes())
        for i in range(0, len(data), 5):
            data[i] ^= 0xFF
        # In place, never truncated: the index may have the file mapped in memory.
        with file.open("r+b") as f:
            f.write(data)


def found(store: Store, words: str) -> set[str]:
    return {p.id for p in store.search(parse_search(words), limit=100)}


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    path = str(tmp_path / "paperboy.db")
    store = Store(open_db(path))
    store.save_papers(PAPERS)
    assert len(found(store, "diffusion")) == 30  # the index folder now exists
    store.db.close()
    return path


def test_a_corrupted_index_is_rebuilt_at_start(db_path: str) -> None:
    corrupt(Path(f"{db_path}-search"))
    store = Store(open_db(db_path))
    try:
        assert found(store, "diffusion") == {p.id for p in PAPERS}
        assert found(store, "number 7") == {"2605.00007"}
    finally:
        store.db.close()


def test_an_index_corrupted_while_running_is_rebuilt(db_path: str) -> None:
    store = Store(open_db(db_path))
    try:
        assert len(found(store, "diffusion")) == 30
        shutil.rmtree(f"{db_path}-search")
        store.save_papers([Paper("2605.99999", "Diffusion after the fault", "x")])
        assert "2605.99999" in found(store, "diffusion fault")  # not frozen
        corrupt(Path(f"{db_path}-search"))
        store.search_index._forget()  # as after a restart: the broken files are read again
        assert len(found(store, "diffusion")) == 31
    finally:
        store.db.close()


async def test_a_large_index_rebuilds_in_the_background_and_the_bot_says_so(
    db_path: str, settings, clock, monkeypatch
) -> None:
    monkeypatch.setattr(search_index, "REBUILD_INLINE_MAX", 0)  # as if a million papers
    corrupt(Path(f"{db_path}-search"))
    from adapters.memory import MemoryAdapter
    from tests.conftest import close_bot, make_bot

    bot = make_bot(settings, clock)
    try:
        assert bot.store.db.execute("PRAGMA database_list").fetchall()[0][2] == db_path
        chat = MemoryAdapter(bot)
        reply = await chat.command("search diffusion")
        assert isinstance(reply, Error) and "being rebuilt" in reply.message
        with pytest.raises(SearchIndexRebuilding):
            bot.store.search(parse_search("diffusion"))  # as long as the rebuild runs
        rebuilding = bot.store.search_index._rebuilding
        assert rebuilding is not None
        await wait_until(lambda: not rebuilding.is_alive(), timeout=30)
        reply = await chat.command("search diffusion number 3")
        assert isinstance(reply, PaperList)
        assert reply.papers[0].paper.id == "2605.00003"
    finally:
        await close_bot(bot)
