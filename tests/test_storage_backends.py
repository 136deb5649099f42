"""The Store on both backends: the same schema, the same answers, and on PostgreSQL the
guarantees several processes need (one poster, one vote per user, one delivery)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace

import pytest

import storage.search_index
import storage.sql
from adapters.memory import MemoryAdapter
from bot.commands.lookups import SEARCH_LIMIT
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.search_query import parse_search
from bot.model.subscription import Subscription
from bot.replies import PaperList
from storage.db import MIGRATIONS, open_db
from storage.sql import PostgresDatabase
from storage.store import Store, Tally
from tests.conftest import (
    BACKENDS,
    FakeClock,
    close_bot,
    database_settings,
    make_bot,
    open_store,
)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_settings(backend, request, tmp_path):
    return database_settings(backend, request, tmp_path)


@pytest.fixture
def store(db_settings):
    store = open_store(db_settings, FakeClock())
    yield store
    store.close()


def record_statements(sql, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement ``sql`` (a store's database) executes from now on, in order: what
    the round-trip tests count."""
    statements: list[str] = []
    execute = sql.execute
    monkeypatch.setattr(
        sql, "execute", lambda text, params=(): statements.append(text) or execute(text, params)
    )
    return statements


def _columns_sqlite(path: str) -> dict[str, set[str]]:
    conn = sqlite3.connect(path)
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not r[0].startswith("sqlite_")
    ]
    return {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


def test_both_backends_have_the_same_tables_and_columns(tmp_path, request) -> None:
    """PostgreSQL's baseline plus the shared steps must end where SQLite's migrations do."""
    open_db(str(tmp_path / "p.db")).close()
    sqlite = _columns_sqlite(str(tmp_path / "p.db"))
    pg = PostgresDatabase(request.getfixturevalue("postgres_server").new_database())
    rows = pg.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    ).fetchall()
    pg.close()
    postgres: dict[str, set[str]] = {}
    for table, column in rows:
        postgres.setdefault(table, set()).add(column)
    # On purpose: PostgreSQL's rowid is a column, its version a table, and its log entries
    # carry their age (each process prunes only entries older than a day).
    postgres["papers"].discard("rowid")
    postgres["search_log"].discard("logged_at")
    assert postgres.pop("paperboy_schema") == {"singleton", "version"}
    assert postgres == sqlite


def test_papers_merge_and_search_follows_edits(store) -> None:
    hf = Paper("2401.00001", "Quantum walks", "hf text", ("Ada",), "2024-01-01", upvotes=7)
    arxiv = Paper("2401.00001", "Quantum walks", "arXiv text", ("Ada", "Bo"), categories=("cs.CL",))
    assert store.save_papers([hf]) == [hf]
    assert store.save_papers([arxiv]) == []
    merged = store.get_paper("2401.00001")
    assert merged.upvotes == 7 and merged.authors == ("Ada", "Bo")
    assert merged.categories == ("cs.CL",)
    assert store.paper_count() == 1
    assert [p.id for p in store.search(parse_search("quantum"))] == ["2401.00001"]
    store.save_papers([replace(merged, title="Classical walks")])
    assert store.search(parse_search("quantum")) == []
    assert [p.id for p in store.search(parse_search("classical"))] == ["2401.00001"]


def test_subscriptions_posts_and_the_vote_ledger(store) -> None:
    here = {"platform": "slack", "workspace": "W1", "channel": "C1"}
    sub = store.add_subscription(Subscription(**here, feed=Feed("hf"), keywords=("x",)))
    again = store.add_subscription(Subscription(**here, feed=Feed("arxiv", "cs.CL")))
    assert again.id > sub.id and store.subscriptions(id=sub.id)[0].keywords == ("x",)
    assert store.remove_subscriptions("slack", "W1", "C1", sub.id) == 1
    assert [s.id for s in store.subscriptions(channel="C1")] == [again.id]

    store.save_papers([Paper("2401.00001", "T")])
    post_id = store.claim_post("slack", "W1", "C1", "2401.00001", owner="me", lease_until=5.0)
    assert post_id is not None
    assert store.claim_post("slack", "W1", "C1", "2401.00001") is None  # once per channel
    store.complete_post(post_id, "m1")
    post = store.post_for_message("slack", "W1", "C1", "m1")
    assert post is not None and post.state == "sent"
    assert store.set_reaction(post, "U1", "+1", 1, True) == 1
    assert store.set_reaction(post, "U2", "-1", -1, True) == -1
    assert store.set_reaction(post, "U3", "+1", 1, True) == 1
    assert store.set_reaction(post, "U3", "-1", -1, True) == 0  # up and down cancel
    tally = store.tally("slack", "W1", "2401.00001")
    assert (tally.score, tally.ups, tally.downs) == (0, 1, 1)
    assert [t.paper_id for t in store.leaderboard("slack", "W1", None)] == ["2401.00001"]
    assert store.first_delivery("slack", "Ev1") and not store.first_delivery("slack", "Ev1")


def test_a_posting_round_reads_and_claims_for_many_channels_at_once(store) -> None:
    store.save_papers([Paper("2401.00001", "A"), Paper("2401.00002", "B")])
    store.complete_post(store.claim_post("slack", "W1", "C1", "2401.00001"), "m1")
    store.claim_post("slack", "W2", "C2", "2401.00002")  # pending: it has that one too
    store.claim_post("discord", "W1", "C2", "2401.00002")  # another platform's channel
    channels = [("slack", "W1", "C1"), ("slack", "W2", "C2"), ("slack", "W1", "C2")]
    assert store.posted_among(channels, ["2401.00001", "2401.00002", "2401.99999"]) == {
        ("slack", "W1", "C1"): {"2401.00001"},
        ("slack", "W2", "C2"): {"2401.00002"},
        ("slack", "W1", "C2"): set(),  # W1 and C2 each have posts, but not together
    }
    claimed = store.claim_posts(
        [
            ("slack", "W1", "C1", "2401.00001"),  # sent before
            ("slack", "W1", "C1", "2401.00002"),
            ("slack", "W2", "C2", "2401.00002"),  # claimed before
            ("slack", "W1", "C2", "2401.00001"),
        ],
        owner="me",
        lease_until=5.0,
    )
    assert set(claimed) == {
        ("slack", "W1", "C1", "2401.00002"),
        ("slack", "W1", "C2", "2401.00001"),
    }
    pending = {p.id: p for p in store.pending_posts()}
    assert all((pending[i].owner, pending[i].lease_until) == ("me", 5.0) for i in claimed.values())
    assert store.claim_posts([("slack", "W1", "C2", "2401.00001")]) == {}  # once per channel


def test_vote_buttons_and_votable_messages_share_the_ledger(store) -> None:
    store.save_papers([Paper("2401.00001", "T")])
    message = store.add_votable_message("slack", "W1", "C1", "1.2", "2401.00001")
    assert store.votable_message("slack", "W1", "C1", "1.2") == message
    assert store.votable_message("slack", "W1", "C1", "9.9") is None
    assert store.press_vote_button("slack", "W1", "2401.00001", "U1", 1) == (True, 1)
    assert store.set_reaction(message, "U1", "+1", 1, True) == 1  # one vote, not two
    assert store.tally("slack", "W1", "2401.00001").ups == 1
    assert store.press_vote_button("slack", "W1", "2401.00001", "U1", 1) == (False, 1)
    assert store.press_vote_button("slack", "W1", "2401.00001", "U1", -1) == (True, 0)
    assert store.press_vote_button("slack", "W1", "2401.00001", "U1", -1) == (False, 1)


def test_votes_of_many_papers_come_in_one_query_per_workspace(store, monkeypatch) -> None:
    """``votes_for``/``tallies`` agree with the one-paper counts, give 0 to a paper nobody
    voted on, and count only the asked workspace's votes on the asked platform."""
    up, down, quiet = "2401.00001", "2401.00002", "2401.00003"
    store.save_papers([Paper(up, "Up"), Paper(down, "Down"), Paper(quiet, "Quiet")])
    for workspace, paper, votes in (
        ("W1", up, {"U1": "+1", "U2": "+1"}),
        ("W1", down, {"U3": "-1"}),
        ("W2", up, {"U1": "-1"}),  # the same user and paper, another workspace
    ):
        store.complete_post(store.claim_post("slack", workspace, "C1", paper), f"m-{paper}")
        post = store.post_for_message("slack", workspace, "C1", f"m-{paper}")
        for user, emoji in votes.items():
            store.set_reaction(post, user, emoji, 1 if emoji == "+1" else -1, True)

    assert store.votes_for("slack", "W1", [up, down, quiet]) == {up: 2, down: -1, quiet: 0}
    assert store.votes_for("slack", "W2", [up, down, quiet]) == {up: -1, down: 0, quiet: 0}
    assert store.votes_for("discord", "W1", [up]) == {up: 0}
    assert store.votes_for("slack", "W1", []) == {}
    assert store.votes_for("slack", "W1", [up, up]) == {up: 2}
    for workspace in ("W1", "W2"):
        ids = [up, down, quiet]
        tallies = store.tallies("slack", workspace, ids)
        assert tallies == {p: store.tally("slack", workspace, p) for p in ids}
    assert store.tallies("slack", "W1", [up])[up] == Tally(up, 2, 2, 0)

    # More ids than one statement takes: the voted papers last, past the first chunk.
    fillers = [f"2402.{i:05d}" for i in range(600)]
    statements = record_statements(store.sql, monkeypatch)
    many = store.votes_for("slack", "W1", [*fillers, down, up])
    assert many == {**dict.fromkeys(fillers, 0), down: -1, up: 2}
    assert len(statements) == 2


def test_two_processes_share_delivery_ids_and_claims(db_settings) -> None:
    one, two = open_store(db_settings), open_store(db_settings)
    try:
        assert one.first_delivery("slack", "Ev9")
        assert not two.first_delivery("slack", "Ev9")  # a redelivery to the other process
        one.save_papers([Paper("2401.00001", "T")])
        assert one.claim_post("slack", "W1", "C1", "2401.00001") is not None
        assert two.claim_post("slack", "W1", "C1", "2401.00001") is None
        assert [p.id for p in two.search(parse_search("T"))] == ["2401.00001"]
    finally:
        one.close()
        two.close()


def test_a_rebuild_streams_every_paper_into_the_index(store, monkeypatch) -> None:
    """The rebuild reads the papers a batch at a time (on PostgreSQL through a server-side
    cursor, open while documents are built) and indexes every one of them."""
    monkeypatch.setattr(storage.sql, "STREAM_BATCH", 7)
    store.save_papers([Paper(f"2401.{i:05d}", f"Paper number{i} on waves") for i in range(1, 31)])
    open_cursors: list[int] = []
    make_document = storage.search_index.make_document

    def spy(*row):
        if store.backend == "postgresql":
            open_cursors.append(
                store.sql.execute(
                    "SELECT count(*) FROM pg_cursors WHERE name LIKE 'paperboy_stream%'"
                ).fetchone()[0]
            )
        return make_document(*row)

    monkeypatch.setattr(storage.search_index, "make_document", spy)
    store.search_index.rebuild()
    assert store.search_index.doc_count() == 30
    assert len(store.search(parse_search("waves"), limit=50)) == 30
    assert [p.id for p in store.search(parse_search("number17"))] == ["2401.00017"]
    if store.backend == "postgresql":
        assert open_cursors == [1] * 30


# -- a reaction event, as the platform sends it (Store.react) ------------------------------


def _sent(store: Store, workspace: str, channel: str, paper_id: str, message: str) -> int:
    post_id = store.claim_post("slack", workspace, channel, paper_id)
    store.complete_post(post_id, message)
    return post_id


def _react(store: Store, message: str, user: str, emoji: str, added: bool = True, **kw):
    value = -1 if emoji == "-1" else 1
    return store.react("slack", "W1", "C1", message, user, emoji, value, added, **kw)


def test_a_re_sent_reaction_event_is_applied_once(store) -> None:
    """Slack re-sends an add after the remove that followed it: the ledger must not
    bring the taken-back vote back, whichever process the re-sent event reaches."""
    store.save_papers([Paper("2401.00001", "T")])
    card = _sent(store, "W1", "C1", "2401.00001", "m1")
    added = _react(store, "m1", "U1", "+1", delivery="event:E1")
    assert (added.paper_id, added.post_id, added.vote, added.cards) == (
        "2401.00001",
        card,
        1,
        (card,),
    )
    assert _react(store, "m1", "U1", "+1", added=False, delivery="event:E2").vote == 0
    assert _react(store, "m1", "U1", "+1", delivery="event:E1") is None  # the re-sent add
    assert store.vote_of("slack", "W1", "2401.00001", "U1") == 0
    assert not store.first_delivery("slack", "event:E2")  # one memory for every path
    assert _react(store, "m1", "U1", "+1", delivery="event:E3").vote == 1  # a new add counts
    assert store.tally("slack", "W1", "2401.00001").ups == 1


def test_reaction_events_keep_one_vote_per_user_and_name_the_cards_to_refresh(store) -> None:
    store.save_papers([Paper("2401.00001", "T"), Paper("2401.00002", "U")])
    first = _sent(store, "W1", "C1", "2401.00001", "m1")
    second = _sent(store, "W1", "C2", "2401.00001", "m2")
    _sent(store, "W2", "C1", "2401.00001", "m3")  # another workspace: its own count
    store.claim_post("slack", "W1", "C3", "2401.00001")  # pending: no card to edit yet
    _sent(store, "W1", "C1", "2401.00002", "m4")  # another paper
    assert _react(store, "m1", "U1", "+1").cards == (first, second)
    again = store.react("slack", "W1", "C2", "m2", "U1", "fire", 1, True)  # same vote
    assert (again.vote, again.cards) == (1, ())  # nothing on any card changed
    assert _react(store, "m1", "U2", "+1").vote == 1
    assert store.tally("slack", "W1", "2401.00001").ups == 2
    assert _react(store, "m1", "U1", "+1", added=False).cards == ()  # fire still counts
    down = store.react("slack", "W1", "C2", "m2", "U1", "fire", 1, False)
    assert (down.vote, down.cards) == (0, (first, second))  # un-reacted: the vote is gone
    assert _react(store, "m1", "U1", "+1", added=False).cards == ()  # a repeated removal
    assert store.vote_of("slack", "W1", "2401.00001", "U1") == 0
    tally = store.tally("slack", "W1", "2401.00001")
    assert (tally.score, tally.ups, tally.downs) == (1, 1, 0)
    assert _react(store, "m1", "U2", "-1").vote == 0  # up and down of one user cancel
    assert store.net_votes("slack", "W1", "2401.00001") == 0


def test_a_reaction_on_a_message_that_is_not_ours_changes_nothing(store) -> None:
    store.save_papers([Paper("2401.00001", "T")])
    _sent(store, "W1", "C1", "2401.00001", "m1")
    assert _react(store, "someone-else's", "U1", "+1", delivery="event:E1") is None
    assert store.react("slack", "W2", "C1", "m1", "U1", "+1", 1, True) is None  # other team
    assert store.sql.execute("SELECT count(*) FROM reactions").fetchone()[0] == 0
    assert store.net_votes("slack", "W1", "2401.00001") == 0
    # Once it links one paper (its card was shown), a reaction on it is a vote.
    store.add_votable_message("slack", "W1", "C1", "someone-else's", "2401.00001")
    linked = _react(store, "someone-else's", "U1", "+1", delivery="event:E2")
    assert (linked.paper_id, linked.post_id, linked.vote) == ("2401.00001", 0, 1)
    assert store.tally("slack", "W1", "2401.00001").ups == 1


def test_concurrent_reaction_events_from_two_connections(db_settings) -> None:
    """One user's 👍 and 👎 on two cards of a paper reach two processes at once, and each
    event is delivered to both: every user ends at 0, each event applied once."""
    setup = open_store(db_settings)
    setup.save_papers([Paper("2401.00001", "T")])
    _sent(setup, "W1", "C1", "2401.00001", "m1")
    _sent(setup, "W1", "C2", "2401.00001", "m2")
    setup.close()
    rounds = 20
    barrier = threading.Barrier(2)
    applied: list[str] = []
    errors: list[BaseException] = []

    def process() -> None:
        store = open_store(db_settings)  # a connection of its own, in its own thread
        try:
            for i in range(rounds):
                for channel, message, emoji, value in (
                    ("C1", "m1", "+1", 1),
                    ("C2", "m2", "-1", -1),
                ):
                    barrier.wait()
                    if store.react(
                        "slack",
                        "W1",
                        channel,
                        message,
                        f"U{i}",
                        emoji,
                        value,
                        True,
                        delivery=f"event:{i}{emoji}",
                    ):
                        applied.append(f"{i}{emoji}")
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            store.close()

    threads = [threading.Thread(target=process) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(applied) == sorted(f"{i}{e}" for i in range(rounds) for e in ("+1", "-1"))
    store = open_store(db_settings)
    try:
        assert [store.vote_of("slack", "W1", "2401.00001", f"U{i}") for i in range(rounds)] == [
            0
        ] * rounds
        assert store.sql.execute("SELECT count(*) FROM reactions").fetchone()[0] == 2 * rounds
    finally:
        store.close()


# -- PostgreSQL only: several processes writing at once ---------------------------------


@pytest.fixture
def pg_settings(request, tmp_path):
    return database_settings("postgresql", request, tmp_path)


def test_concurrent_reactions_of_one_user_leave_the_vote_their_set_implies(pg_settings) -> None:
    """An up and a down reaction of one user, on two posts of a paper, arriving at two
    processes at the same moment: without serializing the user's vote each would derive
    it from its own reaction alone, and the last commit would win (+1 or -1, not 0)."""
    stores = [open_store(pg_settings) for _ in range(2)]
    try:
        stores[0].save_papers([Paper("2401.00001", "T")])
        posts = []
        for channel in ("C1", "C2"):
            post_id = stores[0].claim_post("slack", "W1", channel, "2401.00001")
            stores[0].complete_post(post_id, f"m-{channel}")
            posts.append(stores[0].post_for_message("slack", "W1", channel, f"m-{channel}"))
        rounds = 40
        barrier = threading.Barrier(2)

        def react(store: Store, post, emoji: str, value: int) -> None:
            for i in range(rounds):
                barrier.wait()
                store.set_reaction(post, f"U{i}", emoji, value, True)

        threads = [
            threading.Thread(target=react, args=(stores[0], posts[0], "+1", 1)),
            threading.Thread(target=react, args=(stores[1], posts[1], "-1", -1)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        votes = [stores[1].vote_of("slack", "W1", "2401.00001", f"U{i}") for i in range(rounds)]
        assert votes == [0] * rounds
        assert stores[0].tally("slack", "W1", "2401.00001").ups == 0
    finally:
        for s in stores:
            s.close()


def test_processes_starting_together_migrate_once(request) -> None:
    url = request.getfixturevalue("postgres_server").new_database()
    opened: list[PostgresDatabase] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(PostgresDatabase(url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    version = opened[0].execute("SELECT version FROM paperboy_schema").fetchone()[0]
    assert version == max(len(MIGRATIONS), 7)
    for db in opened:
        db.close()


def test_an_index_that_missed_pruned_log_entries_is_rebuilt(pg_settings, tmp_path) -> None:
    writer = open_store(pg_settings)
    reader = open_store(replace(pg_settings, search_dir=str(tmp_path / "other-machine")))
    try:
        writer.save_papers([Paper("2401.00001", "Alpha waves")])
        assert [p.id for p in reader.search(parse_search("alpha"))] == ["2401.00001"]
        writer.save_papers([Paper("2401.00002", "Beta waves")])
        writer.search(parse_search("beta"))  # the writer's index applies the entry...
        # ...and a day later prunes it, while the reader had not looked since.
        writer.sql.execute("UPDATE search_log SET logged_at = logged_at - 2 * 86400")
        writer.sql.prune_search_log(writer.search_index.state.seq)
        assert writer.sql.search_log_position()[1] > reader.search_index.state.seq
        assert [p.id for p in reader.search(parse_search("beta"))] == ["2401.00002"]
    finally:
        writer.close()
        reader.close()


_HOLD_LEASE = """
import sys, time
from storage.poster_lease import AdvisoryLease
lease = AdvisoryLease(sys.argv[1])
assert lease.acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_the_poster_lock_is_one_process_and_freed_when_it_is_killed(pg_settings) -> None:
    url = pg_settings.database_url
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LEASE, url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        store = open_store(pg_settings)
        lease = store.poster_lease()
        assert not lease.acquire() and not lease.held
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        # The server ends the killed process's session as its socket closes.
        deadline = time.monotonic() + 10
        while not lease.acquire():
            assert time.monotonic() < deadline, "the dead holder's lock was never freed"
            time.sleep(0.05)
        other = store.poster_lease()
        assert not other.acquire()  # still one holder
        lease.release()
        assert other.acquire()
        other.release()
        store.close()
    finally:
        holder.kill()
        holder.wait()


def test_a_claim_and_its_completion_are_one_round_trip_each_on_postgresql(
    pg_settings, monkeypatch
) -> None:
    """The poster writes twice a message: BEGIN and COMMIT around each single statement
    would make that six round trips, a posting round's main cost with many channels."""
    store = open_store(pg_settings)
    try:
        store.save_papers([Paper("2401.00001", "T")])
        statements = record_statements(store.sql, monkeypatch)
        monkeypatch.setattr(store.sql, "transaction", lambda: pytest.fail("a transaction"))
        post_id = store.claim_post("slack", "W1", "C1", "2401.00001", owner="me")
        store.complete_post(post_id, "m1")
        assert len(statements) == 2
        assert store.post_for_message("slack", "W1", "C1", "m1").state == "sent"
    finally:
        store.close()


def test_a_reaction_on_postgresql_is_one_round_trip(pg_settings, monkeypatch) -> None:
    """Round trips are what a vote costs on PostgreSQL: the lock, the reaction and the
    re-derived vote go as one statement (storage.pg_schema.APPLY_REACTION); a reaction
    event (Store.react) also finds its post, records its delivery id and names the cards
    to refresh in that one statement (storage.pg_schema.REACT)."""
    store = open_store(pg_settings)
    try:
        store.save_papers([Paper("2401.00001", "T")])
        store.complete_post(store.claim_post("slack", "W1", "C1", "2401.00001"), "m1")
        post = store.post_for_message("slack", "W1", "C1", "m1")
        statements = record_statements(store.sql, monkeypatch)
        assert store.set_reaction(post, "U1", "+1", 1, True) == 1
        assert store.set_reaction(post, "U1", "-1", -1, True) == 0
        assert store.set_reaction(post, "U1", "+1", 1, False) == -1
        assert len(statements) == 3
        assert store.vote_of("slack", "W1", "2401.00001", "U1") == -1
        store.first_delivery("slack", "event:E0")  # deliveries pruned a minute from now
        statements.clear()
        assert _react(store, "m1", "U2", "+1", delivery="event:E1").cards == (post.id,)
        assert _react(store, "m1", "U2", "+1", delivery="event:E1") is None
        assert _react(store, "m1", "U2", "+1", added=False, delivery="event:E2").vote == 0
        assert _react(store, "elsewhere", "U2", "+1", delivery="event:E3") is None
        assert len(statements) == 4
    finally:
        store.close()


def test_a_vote_reads_only_the_users_reactions_before_any_analyze(pg_settings) -> None:
    """A fresh database has no statistics yet; the lookup of one user's reactions on a
    paper, made for every vote, must still go by the primary key rather than read every
    reaction of the workspace (it did while the channel index led with the workspace)."""
    store = open_store(pg_settings)
    try:
        plan = "\n".join(
            row[0]
            for row in store.sql.execute(
                "EXPLAIN SELECT max(value) FROM reactions WHERE platform = 'slack' "
                "AND workspace = 'W1' AND paper_id = '2401.00001' AND user_id = 'U1'"
            )
        )
        assert "reactions_pkey" in plan
    finally:
        store.close()


async def test_a_search_on_postgresql_is_three_round_trips(
    pg_settings, paper_sources, clock, monkeypatch
) -> None:
    """The log check, the papers' rows and one count of all the hits' votes: the number of
    hits does not add round trips."""
    bot = make_bot(paper_sources.settings(pg_settings), clock)
    chat = MemoryAdapter(bot)
    try:
        ids = [f"2401.{i:05d}" for i in range(1, SEARCH_LIMIT + 1)]  # a full page: no remote search
        bot.store.save_papers([Paper(pid, f"Quantum walks {pid}") for pid in ids])
        for pid, emoji in ((ids[0], "+1"), (ids[1], "-1")):
            bot.store.complete_post(bot.store.claim_post("memory", chat.workspace, "C1", pid), pid)
            post = bot.store.post_for_message("memory", chat.workspace, "C1", pid)
            bot.store.set_reaction(post, "U1", emoji, 1 if emoji == "+1" else -1, True)
        await chat.command("search quantum")  # the index catches up with the log first
        statements = record_statements(bot.store.sql, monkeypatch)
        reply = await chat.command("search quantum")
        assert isinstance(reply, PaperList) and len(reply.papers) == SEARCH_LIMIT
        assert len(statements) == 3
        monkeypatch.undo()
        for scored in reply.papers:
            assert scored.votes == bot.store.net_votes("memory", chat.workspace, scored.paper.id)
        assert {s.paper.id: s.votes for s in reply.papers if s.votes} == {ids[0]: 1, ids[1]: -1}
    finally:
        await close_bot(bot)
