"""Feeds stored as (source, params): a database from before keeps its subscriptions, feed
items and source health; and the one list of paper columns shapes the table."""

from __future__ import annotations

import sqlite3

from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.paper_columns import PAPER_COLUMNS, Column, paper_values, values_of
from storage.db import MIGRATIONS, open_db, schema_version
from storage.store import Store

# The last schema with feeds as "hf" / "arxiv:<category>" strings: just before the step that
# splits them (found by name, so migrations other work appends before it don't matter).
BEFORE = next(
    i for i, s in enumerate(MIGRATIONS) if s.__name__.endswith("_feeds_as_source_and_params")
)


def old_database(path: str, monkeypatch) -> None:
    """A file at the schema before feeds were split, with the rows paperboy then wrote."""
    with monkeypatch.context() as patch:
        patch.setattr("storage.db.MIGRATIONS", MIGRATIONS[:BEFORE])
        db = open_db(path)
    assert schema_version(db) == BEFORE
    Store(db).save_papers([Paper("2605.00001", "From HF"), Paper("2504.00001", "From arXiv")])
    db.execute(
        "INSERT INTO subscriptions (platform, workspace, channel, source, category, min_upvotes, "
        "keywords, authors, created_by, created_at) VALUES "
        "('slack', 'T1', 'C1', 'hf', '', 10, '[\"agents\"]', '[]', 'U1', 1.0), "
        "('slack', 'T1', 'C1', 'arxiv', 'cs.CL', 0, '[]', '[\"hinton\"]', 'U1', 2.0), "
        "('discord', 'G1', 'C2', 'hf', NULL, 0, '[]', '[]', 'U2', 3.0)"
    )
    db.execute(
        "INSERT INTO feed_items (feed, paper_id, first_seen, last_seen) VALUES "
        "('hf', '2605.00001', 100.0, 100.0), ('arxiv:cs.CL', '2504.00001', 100.0, 100.0)"
    )
    db.execute(
        "INSERT INTO source_health (feed, failing_since, last_ok, last_error, alerted) VALUES "
        "('arxiv:cs.CL', 50.0, NULL, 'arXiv answered 503', 1)"
    )
    db.close()


def test_an_old_file_keeps_its_subscriptions_feed_items_and_health(tmp_path, monkeypatch) -> None:
    path = str(tmp_path / "old.db")
    old_database(path, monkeypatch)

    store = Store(open_db(path), clock=lambda: 200.0)
    assert schema_version(store.db) == len(MIGRATIONS)
    subs = store.subscriptions()
    assert [
        (s.platform, s.channel, s.feed, s.min_upvotes, s.keywords, s.authors) for s in subs
    ] == [
        ("slack", "C1", Feed("hf"), 10, ("agents",), ()),
        ("slack", "C1", Feed("arxiv", "cs.CL"), 0, (), ("hinton",)),
        ("discord", "C2", Feed("hf"), 0, (), ()),
    ]
    assert [p.id for p in store.listed_papers(Feed("hf"), within=1000)] == ["2605.00001"]
    assert [p.id for p in store.listed_papers(Feed("arxiv", "cs.CL"), 1000)] == ["2504.00001"]
    assert store.listed_papers(Feed("arxiv", "cs.LG"), within=1000) == []
    # The outage was announced before the upgrade: its end is announced after it.
    assert store.source_failed(Feed("arxiv", "cs.CL"), "still down") == 50.0
    assert store.source_ok(Feed("arxiv", "cs.CL")) is True
    assert store.source_ok(Feed("hf")) is False

    # New rows go in the new shape, beside the migrated ones.
    store.mark_listed(Feed("hf"), ["2504.00001"])
    assert {p.id for p in store.listed_papers(Feed("hf"), within=1000)} == {
        "2605.00001",
        "2504.00001",
    }
    store.db.close()


def test_a_column_added_to_the_list_reaches_an_existing_file(tmp_path, monkeypatch) -> None:
    path = str(tmp_path / "p.db")
    open_db(path).close()
    extra = Column("language", "TEXT", "en")
    monkeypatch.setattr("storage.db.PAPER_COLUMNS", (*PAPER_COLUMNS, extra))
    db = open_db(path)
    assert db["papers"].columns_dict["language"] is str
    db.close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO papers (id, title) VALUES ('2401.00001', 'T')")
        assert conn.execute("SELECT language FROM papers").fetchone() == ("en",)


def test_every_paper_field_is_a_column_and_survives_a_round_trip(tmp_path) -> None:
    fields = set(Paper.__dataclass_fields__)
    assert {c.name for c in PAPER_COLUMNS} == fields
    paper = Paper(
        "2401.00001",
        "Title",
        abstract="A",
        authors=("Ann One", "Bo Two"),
        published="2024-01-01",
        categories=("cs.CL", "cs.LG"),
        upvotes=0,
        hf_date="2024-01-02",
        code_url="https://github.com/o/r",
        project_url="https://example.org",
        thumbnail_url="https://example.org/t.png",
        sources=("arxiv", "hf"),
        comments=0,
        github_stars=1576,
        ai_summary="One sentence.",
        ai_keywords=("large language models", "memory, retrieval"),
        organization="Mind Lab",
        submitted_by="taesiri",
    )
    store = Store(open_db(str(tmp_path / "p.db")))
    store.save_papers([paper])
    assert store.get_paper(paper.id) == paper
    # The bulk import's shortcut gives the same row as going through a Paper.
    given = {"id": "2401.00002", "title": "T", "authors": ("A",), "sources": ("arxiv",)}
    assert values_of(given) == paper_values(Paper(**given))
