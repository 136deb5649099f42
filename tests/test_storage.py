"""The SQLite file: WAL, migrations, FTS kept in sync, merging, waiting out other writers."""

from __future__ import annotations

import sqlite3
import threading

from bot.model.paper import Paper
from bot.model.search_query import parse_search
from storage.db import MIGRATIONS, open_db, schema_version
from storage.store import Store


def test_a_new_file_is_in_wal_mode_at_the_latest_schema(tmp_path) -> None:
    db = open_db(str(tmp_path / "p.db"))
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert schema_version(db) == len(MIGRATIONS)
    assert {"papers", "subscriptions", "posts", "reactions", "votes"} <= set(db.table_names())


def test_an_old_database_is_upgraded_in_place_and_keeps_its_data(tmp_path, monkeypatch) -> None:
    path = str(tmp_path / "p.db")
    db = open_db(path)
    Store(db).save_papers([Paper("2401.00001", "Kept across upgrades")])
    db.close()

    def v_next(db) -> None:  # what a future release's migration looks like
        db["papers"].add_column("language", str)

    monkeypatch.setattr("storage.db.MIGRATIONS", [*MIGRATIONS, v_next])
    db = open_db(path)
    assert schema_version(db) == len(MIGRATIONS) + 1
    assert "language" in db["papers"].columns_dict
    assert Store(db).get_paper("2401.00001").title == "Kept across upgrades"
    db.close()
    assert schema_version(open_db(path)) == len(MIGRATIONS) + 1  # applied once only


def test_the_search_index_follows_inserts_and_edits(tmp_path) -> None:
    store = Store(open_db(str(tmp_path / "p.db")))
    store.save_papers([Paper("2401.00001", "Quantum walks", "abstract", ("Ada",))])
    assert [p.id for p in store.search(parse_search("quantum"))] == ["2401.00001"]
    store.save_papers([Paper("2401.00001", "Classical walks")])
    assert store.search(parse_search("quantum")) == []
    assert [p.id for p in store.search(parse_search("classical"))] == ["2401.00001"]
    store.save_papers([Paper("2401.00001", "Classical walks", upvotes=5)])
    assert store.get_paper("2401.00001").upvotes == 5


def test_the_same_paper_from_two_sources_is_one_merged_row(tmp_path) -> None:
    store = Store(open_db(str(tmp_path / "p.db")))
    hf = Paper(
        "2401.00001",
        "T",
        "hf abstract",
        ("A",),
        "2024-01-01",
        upvotes=7,
        code_url="https://github.com/x/y",
        sources=("hf",),
    )
    arxiv = Paper(
        "2401.00001",
        "T",
        "arXiv abstract",
        ("A", "B"),
        "2024-01-01",
        categories=("cs.CL",),
        sources=("arxiv",),
    )
    assert [p.id for p in store.save_papers([hf])] == ["2401.00001"]
    assert store.save_papers([arxiv]) == []
    merged = store.get_paper("2401.00001")
    assert merged.upvotes == 7 and merged.code_url == "https://github.com/x/y"
    assert merged.categories == ("cs.CL",) and merged.authors == ("A", "B")
    assert merged.sources == ("arxiv", "hf")
    assert store.db["papers"].count == 1


def test_a_writer_waits_for_another_process_lock(tmp_path) -> None:
    path = str(tmp_path / "p.db")
    store = Store(open_db(path))
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # e.g. sqlite-utils or Datasette writing
    released = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    released.start()
    store.save_papers([Paper("2401.00001", "Written after the lock")])
    released.join()
    assert store.get_paper("2401.00001") is not None
