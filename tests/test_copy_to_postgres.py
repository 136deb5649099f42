"""``paperboy db copy-to-postgres``: an SQLite database, all of it, into PostgreSQL; a run
cut short resumes, a second run adds nothing, and the counts are checked per table."""

from __future__ import annotations

import logging

import pytest

from adapters.cli import main
from bot.model.feed import Feed
from bot.model.follow import Follow
from bot.model.paper import Paper
from bot.model.search_query import parse_search
from bot.model.subscription import Subscription
from storage import copy_to_postgres as copying
from storage.db import open_db
from storage.sql import PostgresDatabase, as_database
from storage.store import Store
from tests.conftest import FakeClock, database_settings, open_store

# Every table the two schemas share; a new one fails the test below until it is filled here.
TABLES = (
    "channel_settings",
    "deliveries",
    "departed_workspaces",
    "digests",
    "dm_refusals",
    "feed_items",
    "follow_notices",
    "follows",
    "imports",
    "papers",
    "posts",
    "reactions",
    "slack_installations",
    "slack_oauth_states",
    "source_health",
    "subscriptions",
    "taste_picks",
    "votable_messages",
    "votes",
)


@pytest.fixture(autouse=True)
def keep_logging():
    """``main`` logs to the stderr of its test; later tests must not write there."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def pg_settings(request, tmp_path):
    return database_settings("postgresql", request, tmp_path)


def fill_sqlite(path: str, papers: int = 30) -> None:
    """A team's database after a while: every table has rows."""
    store = Store(open_db(path), FakeClock())
    store.save_papers(
        [
            Paper(f"2401.{i:05d}", f"Paper {i} on quantum walks", "abstract", ("Ada",))
            for i in range(papers)
        ]
    )
    store.mark_listed(Feed("hf"), [f"2401.{i:05d}" for i in range(10)])
    here = {"platform": "slack", "workspace": "W1", "channel": "C1"}
    sub = store.add_subscription(Subscription(**here, feed=Feed("hf"), keywords=("quantum",)))
    store.add_taste_pick(sub.id, "2026-05-13", "2401.00001")
    store.add_follow("slack", "W1", "U1", Follow("author", "Ada"))
    store.claim_follow_notices("slack", "W1", "U1", ["2401.00002"])
    store.dm_refused("slack", "W1", "U2")
    store.set_channel_tz("slack", "W1", "C1", "Europe/Berlin")
    store.claim_digest(sub, "2026-05-13", owner="me")
    store.complete_digest(sub.id, "2026-05-13", "m9", ["2401.00001"])
    store.add_subscription(Subscription(**here, feed=Feed("arxiv", "cs.CL")))
    store.save_slack_installation("", "W1", {"team_id": "W1", "bot_token": "xoxb-fake"})
    store.add_oauth_state("state-1", 600)
    store.delete_slack_installation("", "W2")  # a workspace that left
    for i in range(5):
        post_id = store.claim_post("slack", "W1", "C1", f"2401.{i:05d}")
        store.complete_post(post_id, f"m{i}")
    store.claim_post("slack", "W1", "C1", "2401.00009", owner="me", lease_until=9.0)  # pending
    post = store.post_for_message("slack", "W1", "C1", "m0")
    store.set_reaction(post, "U1", "+1", 1, True)
    store.set_reaction(post, "U2", "-1", -1, True)
    store.set_reaction(post, "U3", "+1", 1, True)
    store.set_reaction(post, "U3", "-1", -1, True)
    store.add_votable_message("slack", "W1", "C1", "1.2", "2401.00001")
    store.first_delivery("slack", "Ev1")
    store.source_failed(Feed("arxiv", "cs.CL"), "timeout")
    store.sql.execute("INSERT INTO imports (file_key, path, lines_done) VALUES ('k', 'f', 3)")
    store.close()


def logged_papers(store: Store) -> tuple[int, int]:
    """(search log entries, papers among them)."""
    return tuple(
        store.sql.execute("SELECT count(*), count(DISTINCT paper_rowid) FROM search_log").fetchone()
    )


def copy(db_path: str, url: str, monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setenv("PAPERBOY_DB", db_path)
    monkeypatch.setenv("DATABASE_URL", url)
    code = main(["db", "copy-to-postgres"])
    out, err = capsys.readouterr()
    return code, out, err


def counts(out: str) -> dict[str, tuple[int, int, int]]:
    """table -> (sqlite, postgresql, added) from the printed count check."""
    found = {}
    for line in out.splitlines()[1:]:
        name, sqlite, postgres, added, check = line.split()
        assert check == "ok", line
        found[name] = tuple(int(n.replace(",", "")) for n in (sqlite, postgres, added))
    return found


def test_everything_is_copied_and_a_second_run_adds_nothing(
    tmp_path, pg_settings, monkeypatch, capsys
) -> None:
    db_path = str(tmp_path / "team.db")
    fill_sqlite(db_path)
    code, out, err = copy(db_path, pg_settings.database_url, monkeypatch, capsys)
    assert code == 0, out + err
    first = counts(out)
    assert set(first) == set(TABLES)
    assert all(sqlite == postgres == added > 0 for sqlite, postgres, added in first.values())
    assert "copying papers: 30 of 30 rows (100%)" in err

    sqlite, postgres = Store(open_db(db_path)), open_store(pg_settings, FakeClock())
    try:
        assert postgres.subscriptions() == sqlite.subscriptions()
        assert postgres.channel_tz("slack", "W1", "C1") == "Europe/Berlin"
        assert postgres.digested_papers(1, 0) == sqlite.digested_papers(1, 0) == {"2401.00001"}
        assert postgres.pending_posts() == sqlite.pending_posts()
        assert postgres.get_papers(["2401.00003"]) == sqlite.get_papers(["2401.00003"])
        assert postgres.tally("slack", "W1", "2401.00000") == sqlite.tally(
            "slack", "W1", "2401.00000"
        )
        assert postgres.vote_of("slack", "W1", "2401.00000", "U3") == 0
        assert postgres.votable_message("slack", "W1", "C1", "1.2") == sqlite.votable_message(
            "slack", "W1", "C1", "1.2"
        )
        assert not postgres.first_delivery("slack", "Ev1")  # remembered across the move
        assert postgres.claim_post("slack", "W1", "C1", "2401.00001") is None  # posted once
        assert [p.id for p in postgres.listed_papers(Feed("hf"), 10**10)] == [
            p.id for p in sqlite.listed_papers(Feed("hf"), 10**10)
        ]
        assert len(postgres.search(parse_search("quantum"), limit=50)) == 30
        # Logged for other processes' indexes by the copy itself: once per paper.
        assert logged_papers(postgres) == (30, 30)
    finally:
        sqlite.close()
        postgres.close()

    # Again, after the file gained a paper: only that one goes in (the batch's rows that
    # are there already are skipped), and it alone is logged.
    sqlite = Store(open_db(db_path))
    sqlite.save_papers([Paper("2402.00001", "Zymurgy")])
    sqlite.close()
    code, out, _ = copy(db_path, pg_settings.database_url, monkeypatch, capsys)
    assert code == 0
    again = {name: (n, n, 0) for name, (n, _, _) in first.items()}
    again["papers"] = (31, 31, 1)
    assert counts(out) == again

    # New ids come after the copied ones.
    postgres = open_store(pg_settings)
    try:
        assert logged_papers(postgres) == (31, 31)
        assert [p.id for p in postgres.search(parse_search("zymurgy"))] == ["2402.00001"]
        new = postgres.add_subscription(
            Subscription(platform="slack", workspace="W1", channel="C2", feed=Feed("hf"))
        )
        assert new.id > max(s.id for s in postgres.subscriptions() if s.channel == "C1")
    finally:
        postgres.close()


def test_a_copy_cut_short_resumes_where_it_stopped(tmp_path, pg_settings, monkeypatch) -> None:
    db_path = str(tmp_path / "team.db")
    fill_sqlite(db_path, papers=50)
    target = PostgresDatabase(pg_settings.database_url)
    batches = []

    def stop_after_two(table: str, done: int, total: int) -> None:
        if table == "papers":
            batches.append(done)
            if len(batches) == 2:
                raise KeyboardInterrupt  # ^C, or a lost connection

    source = as_database(open_db(db_path))
    try:
        with pytest.raises(KeyboardInterrupt):
            copying.copy_to_postgres(source, target, batch_rows=10, progress=stop_after_two)
        assert target.execute("SELECT count(*) FROM papers").fetchone()[0] == 20
        result = copying.copy_to_postgres(source, target, batch_rows=10)
    finally:
        source.close()
        target.close()
    assert result.ok, result.report()
    papers = next(t for t in result.tables if t.table == "papers")
    assert (papers.read, papers.added, papers.postgres_rows) == (30, 30, 50)


def test_without_a_database_url_it_says_what_to_set(tmp_path, monkeypatch, capsys) -> None:
    db_path = str(tmp_path / "team.db")
    fill_sqlite(db_path, papers=1)
    monkeypatch.setenv("PAPERBOY_DB", db_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["db", "copy-to-postgres"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "DATABASE_URL" in err and len(err.splitlines()) == 1
