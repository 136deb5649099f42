"""Open the SQLite file and bring its schema up to date.

Migrations are numbered functions applied in order; ``PRAGMA user_version`` records how far
a file has come, so an old database is upgraded in place at start and never rebuilt.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlite_utils

log = logging.getLogger(__name__)

# How long a write waits for another process (sqlite-utils CLI, Datasette) to release a lock.
BUSY_TIMEOUT_MS = 30_000

FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"


def _v1_initial(db: sqlite_utils.Database) -> None:
    db["papers"].create(
        {
            "id": str,
            "title": str,
            "abstract": str,
            "authors": str,  # one name per line
            "published": str,  # YYYY-MM-DD
            "categories": str,  # space-separated
            "upvotes": int,  # NULL: unknown (arXiv-only papers)
            "hf_date": str,
            "code_url": str,
            "project_url": str,
            "thumbnail_url": str,
            "sources": str,  # comma-separated
            "first_seen": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"title"},
        defaults={
            "abstract": "",
            "authors": "",
            "published": "",
            "categories": "",
            "hf_date": "",
            "code_url": "",
            "project_url": "",
            "thumbnail_url": "",
            "sources": "",
        },
    )
    db["papers"].create_index(["published"])
    db["papers"].enable_fts(
        ["title", "abstract", "authors"], create_triggers=True, tokenize=FTS_TOKENIZER
    )
    # Upvotes change on every HF poll; only re-index when indexed text changes.
    db.execute("DROP TRIGGER papers_au")
    db.execute(
        """CREATE TRIGGER papers_au AFTER UPDATE OF title, abstract, authors ON papers BEGIN
          INSERT INTO papers_fts (papers_fts, rowid, title, abstract, authors)
            VALUES ('delete', old.rowid, old.title, old.abstract, old.authors);
          INSERT INTO papers_fts (rowid, title, abstract, authors)
            VALUES (new.rowid, new.title, new.abstract, new.authors);
        END"""
    )

    # Which papers a feed ("hf", "arxiv:cs.CL") listed lately: what subscriptions match against.
    db["feed_items"].create(
        {"feed": str, "paper_id": str, "first_seen": float, "last_seen": float},
        pk=("feed", "paper_id"),
    )
    db["feed_items"].create_index(["feed", "last_seen"])

    db["subscriptions"].create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "channel": str,
            "source": str,
            "category": str,
            "min_upvotes": int,
            "keywords": str,  # JSON list
            "authors": str,  # JSON list
            "created_by": str,
            "created_at": float,
        },
        pk="id",
        defaults={"category": "", "min_upvotes": 0, "keywords": "[]", "authors": "[]"},
    )
    db["subscriptions"].create_index(["platform", "workspace", "channel"])

    # One row per paper per channel, written *before* sending (state 'pending') and completed
    # with the platform's message id after: the unique key is what stops a second post.
    db["posts"].create(
        {
            "id": int,
            "platform": str,
            "workspace": str,
            "channel": str,
            "paper_id": str,
            "message_id": str,
            "state": str,
            "created_at": float,
            "sent_at": float,
        },
        pk="id",
    )
    db["posts"].create_index(["platform", "workspace", "channel", "paper_id"], unique=True)
    db["posts"].create_index(["platform", "channel", "message_id"])

    # Every vote-emoji reaction a user has on one of our posts; votes are derived from these.
    db["reactions"].create(
        {
            "platform": str,
            "workspace": str,
            "channel": str,
            "message_id": str,
            "user_id": str,
            "emoji": str,
            "paper_id": str,
            "value": int,
            "created_at": float,
        },
        pk=("platform", "channel", "message_id", "user_id", "emoji"),
    )
    db["reactions"].create_index(["platform", "workspace", "paper_id", "user_id"])

    db["votes"].create(
        {
            "platform": str,
            "workspace": str,
            "paper_id": str,
            "user_id": str,
            "value": int,
            "updated_at": float,
        },
        pk=("platform", "workspace", "paper_id", "user_id"),
    )
    db["votes"].create_index(["platform", "workspace", "updated_at"])

    db["source_health"].create(
        {
            "feed": str,
            "failing_since": float,
            "last_ok": float,
            "last_error": str,
            "alerted": int,
        },
        pk="feed",
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1_initial]


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction; BEGIN IMMEDIATE takes the write lock up front (waiting on
    ``busy_timeout``) so two writers never deadlock half-way through."""
    if db.conn.in_transaction:  # nested: the outer transaction decides
        yield
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> None:
    current = schema_version(db)
    for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
        log.info("migrating database to schema version %d (%s)", version, step.__name__)
        with transaction(db):
            step(db)
            db.execute(f"PRAGMA user_version = {version}")


def open_db(path: str) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path``, in WAL mode, fully migrated."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if path != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    return db
