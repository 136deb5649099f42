"""Open the SQLite file and bring its schema up to date.

Migrations are numbered functions applied in order; ``PRAGMA user_version`` records how far
a file has come, so an old database is upgraded in place at start and never rebuilt.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlite_utils

from bot.model.paper_columns import PAPER_COLUMNS, Column

log = logging.getLogger(__name__)

# How long a write waits for another process (sqlite-utils CLI, Datasette) to release a lock.
BUSY_TIMEOUT_MS = 30_000

FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"


def create_papers_table(db: sqlite_utils.Database) -> None:
    """The papers table as ``PAPER_COLUMNS`` describes it, plus when we first/last saw each."""
    columns = [
        f"{c.name} {c.sql_type}"
        + (" PRIMARY KEY" if c.name == "id" else "")
        + (" NOT NULL" if c.not_null else "")
        + (f" DEFAULT {_sql_literal(c.default)}" if c.default is not None else "")
        for c in PAPER_COLUMNS
    ]
    db.execute(f"CREATE TABLE papers ({', '.join(columns)}, first_seen REAL, updated_at REAL)")


def add_missing_paper_columns(db: sqlite_utils.Database) -> None:
    """Columns added to ``PAPER_COLUMNS`` since a file was created are added to it here, so a
    new Paper field needs no migration of its own."""
    for c in missing_paper_columns(db):
        default = f" DEFAULT {_sql_literal(c.default)}" if c.default is not None else ""
        db.execute(f"ALTER TABLE papers ADD COLUMN {c.name} {c.sql_type}{default}")


def missing_paper_columns(db: sqlite_utils.Database) -> list[Column]:
    present = {row[1] for row in db.execute("PRAGMA table_info(papers)").fetchall()}
    return [c for c in PAPER_COLUMNS if c.name not in present] if present else []


def _sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _v1_initial(db: sqlite_utils.Database) -> None:
    create_papers_table(db)
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

    # Which papers a feed ("hf", "arxiv:cs.CL"; v7 splits it) listed lately: what subscriptions
    # match against.
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


def _v2_search_beside_sqlite(db: sqlite_utils.Database) -> None:
    """Search moves to an index beside the file (see ``storage.search_index``): FTS5 ranked
    every match, too slow for all of arXiv. Triggers log which papers changed, so the index
    catches up with any writer; ``imports`` lets a bulk import resume."""
    for trigger in ("papers_ai", "papers_ad", "papers_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS papers_fts")
    db.execute(
        "CREATE TABLE search_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "paper_rowid INTEGER NOT NULL)"
    )
    db.execute(
        "CREATE TRIGGER papers_search_ai AFTER INSERT ON papers BEGIN "
        "INSERT INTO search_log (paper_rowid) VALUES (new.rowid); END"
    )
    db.execute(
        "CREATE TRIGGER papers_search_ad AFTER DELETE ON papers BEGIN "
        "INSERT INTO search_log (paper_rowid) VALUES (old.rowid); END"
    )
    # Upvotes change on every HF poll: only a change to searched fields is logged.
    db.execute(
        "CREATE TRIGGER papers_search_au AFTER UPDATE ON papers WHEN "
        "old.rowid IS NOT new.rowid OR old.title IS NOT new.title "
        "OR old.abstract IS NOT new.abstract OR old.authors IS NOT new.authors "
        "OR old.categories IS NOT new.categories OR old.published IS NOT new.published BEGIN "
        "INSERT INTO search_log (paper_rowid) VALUES (old.rowid); "
        "INSERT INTO search_log (paper_rowid) SELECT new.rowid WHERE new.rowid != old.rowid; "
        "END"
    )
    # A fresh id per database file, so an index folder is never used for another file.
    db.execute("CREATE TABLE search_meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT INTO search_meta VALUES ('db_id', lower(hex(randomblob(16))))")
    db.execute(
        "CREATE TABLE imports (file_key TEXT PRIMARY KEY, path TEXT, bytes_done INTEGER, "
        "lines_done INTEGER, started_at REAL, updated_at REAL, finished_at REAL)"
    )


def _v3_clustered_vote_ledger(db: sqlite_utils.Database) -> None:
    """Reactions and votes become WITHOUT ROWID tables keyed by (platform, workspace, paper,
    user, ...): a reaction event then writes two b-tree pages instead of six, which is most of
    what a reaction storm costs, and re-deriving a vote reads one key range."""
    db.execute(
        "CREATE TABLE reactions_v3 (platform TEXT, workspace TEXT, paper_id TEXT, "
        "user_id TEXT, channel TEXT, message_id TEXT, emoji TEXT, value INTEGER, "
        "created_at REAL, PRIMARY KEY (platform, workspace, paper_id, user_id, channel, "
        "message_id, emoji)) WITHOUT ROWID"
    )
    db.execute(
        "INSERT OR IGNORE INTO reactions_v3 SELECT platform, workspace, paper_id, user_id, "
        "channel, message_id, emoji, value, created_at FROM reactions"
    )
    db.execute(
        "CREATE TABLE votes_v3 (platform TEXT, workspace TEXT, paper_id TEXT, user_id TEXT, "
        "value INTEGER, updated_at REAL, PRIMARY KEY (platform, workspace, paper_id, user_id)) "
        "WITHOUT ROWID"
    )
    db.execute(
        "INSERT OR IGNORE INTO votes_v3 SELECT platform, workspace, paper_id, user_id, value, "
        "updated_at FROM votes"
    )
    for table in ("reactions", "votes"):
        db.execute(f"DROP TABLE {table}")
        db.execute(f"ALTER TABLE {table}_v3 RENAME TO {table}")


def _v4_deliveries(db: sqlite_utils.Database) -> None:
    """Platform deliveries already handled (Slack's event ids and command trigger ids), kept
    for Slack's retry window in the file every process shares, so a redelivery runs once even
    after a restart or on another process. The age index makes pruning a range delete."""
    db.execute(
        "CREATE TABLE deliveries (platform TEXT NOT NULL, key TEXT NOT NULL, "
        "seen_at REAL NOT NULL, PRIMARY KEY (platform, key)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX deliveries_by_age ON deliveries (seen_at)")


def _v5_claim_owner_and_lease(db: sqlite_utils.Database) -> None:
    """A pending post records which process claimed it and until when that claim is its own
    (see ``storage.poster_lease``): a poster then never releases a claim another process is
    still sending. Claims from before have no owner and a lapsed lease."""
    db.execute("ALTER TABLE posts ADD COLUMN owner TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE posts ADD COLUMN lease_until REAL NOT NULL DEFAULT 0")


def _v6_live_cards(db: sqlite_utils.Database) -> None:
    """Posted cards are edited when their counts change: ``shared_by`` keeps the name a
    shared card is attributed to (so an edit keeps it), and an index by paper finds every
    card of a paper whose votes or upvotes changed."""
    db.execute("ALTER TABLE posts ADD COLUMN shared_by TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX idx_posts_paper ON posts (paper_id, platform, workspace)")


def _v7_feeds_as_source_and_params(db: sqlite_utils.Database) -> None:
    """Feeds were strings ("hf", "arxiv:cs.CL"); they become a (source, params) pair, so a new
    source needs no string format of its own. Subscriptions' ``category`` becomes ``params``."""
    db.execute("ALTER TABLE subscriptions RENAME COLUMN category TO params")
    db.execute("UPDATE subscriptions SET params = '' WHERE params IS NULL OR source = 'hf'")
    source = "CASE WHEN instr(feed, ':') THEN substr(feed, 1, instr(feed, ':') - 1) ELSE feed END"
    params = "CASE WHEN instr(feed, ':') THEN substr(feed, instr(feed, ':') + 1) ELSE '' END"
    db.execute(
        "CREATE TABLE feed_items_new (source TEXT NOT NULL, params TEXT NOT NULL DEFAULT '', "
        "paper_id TEXT NOT NULL, first_seen REAL, last_seen REAL, "
        "PRIMARY KEY (source, params, paper_id))"
    )
    db.execute(
        f"INSERT OR IGNORE INTO feed_items_new SELECT {source}, {params}, paper_id, first_seen, "
        "last_seen FROM feed_items"
    )
    db.execute(
        "CREATE TABLE source_health_new (source TEXT NOT NULL, params TEXT NOT NULL DEFAULT '', "
        "failing_since REAL, last_ok REAL, last_error TEXT, alerted INTEGER, "
        "PRIMARY KEY (source, params))"
    )
    db.execute(
        f"INSERT OR IGNORE INTO source_health_new SELECT {source}, {params}, failing_since, "
        "last_ok, last_error, alerted FROM source_health"
    )
    for table in ("feed_items", "source_health"):
        db.execute(f"DROP TABLE {table}")
        db.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
    db.execute(
        "CREATE INDEX idx_feed_items_feed_last_seen ON feed_items (source, params, last_seen)"
    )


def _v8_channel_taste(db: sqlite_utils.Database) -> None:
    """A channel's taste comes from the reactions cast in it (the reactions table has always
    kept the channel), so reading one channel's votes wants an index by channel; the week's
    papers are found by publication day or by the day Hugging Face listed them. A taste
    subscription (``taste=N``) remembers which papers it picked on which day, to post at
    most N a day."""
    sqlite = isinstance(db, sqlite_utils.Database)  # steps after 7 run on PostgreSQL too
    if sqlite:
        add_missing_paper_columns(db)  # hf_date, in a file older than that column
    db.execute("CREATE INDEX idx_reactions_channel ON reactions (platform, workspace, channel)")
    db.execute("CREATE INDEX idx_papers_hf_date ON papers (hf_date)")
    db.execute("ALTER TABLE subscriptions ADD COLUMN taste INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "CREATE TABLE taste_picks (subscription_id INTEGER NOT NULL, day TEXT NOT NULL, "
        "paper_id TEXT NOT NULL, PRIMARY KEY (subscription_id, day, paper_id))"
        + (" WITHOUT ROWID" if sqlite else "")
    )


def _v9_follows(db: sqlite_utils.Database) -> None:
    """People follow authors and words (``follows``, keyed case-insensitively by
    ``value_key``); ``follow_notices`` records each (person, paper) they were messaged about,
    written before the message, so a paper is never announced to someone twice;
    ``dm_refusals`` keeps, per person, that their direct messages are closed until they have
    been told (once) in their next command's answer."""
    clustered = " WITHOUT ROWID" if isinstance(db, sqlite_utils.Database) else ""
    db.execute(
        "CREATE TABLE follows (platform TEXT NOT NULL, workspace TEXT NOT NULL, "
        "user_id TEXT NOT NULL, kind TEXT NOT NULL, value_key TEXT NOT NULL, "
        "value TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, "
        f"PRIMARY KEY (platform, workspace, user_id, kind, value_key)){clustered}"
    )
    db.execute(
        "CREATE TABLE follow_notices (platform TEXT NOT NULL, workspace TEXT NOT NULL, "
        "user_id TEXT NOT NULL, paper_id TEXT NOT NULL, notified_at DOUBLE PRECISION NOT NULL, "
        f"PRIMARY KEY (platform, workspace, user_id, paper_id)){clustered}"
    )
    db.execute(
        "CREATE TABLE dm_refusals (platform TEXT NOT NULL, workspace TEXT NOT NULL, "
        "user_id TEXT NOT NULL, told INTEGER NOT NULL DEFAULT 0, "
        f"PRIMARY KEY (platform, workspace, user_id)){clustered}"
    )
    db.execute("CREATE INDEX idx_papers_first_seen ON papers (first_seen)")


def _v10_digests(db: sqlite_utils.Database) -> None:
    """Digest subscriptions: a schedule (``daily@09:00``, "" for one post per paper) and how
    many papers each digest lists; each channel's time zone; and one row per digest period
    sent (or being sent) per subscription, written before sending so that a restart or a
    second process never sends a period twice. Portable SQL: it runs on PostgreSQL too
    (``storage.pg_schema``), so times are double precision, not PostgreSQL's 4-byte real."""
    db.execute("ALTER TABLE subscriptions ADD COLUMN digest TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE subscriptions ADD COLUMN top INTEGER NOT NULL DEFAULT 10")
    db.execute(
        "CREATE TABLE channel_settings (platform TEXT NOT NULL, workspace TEXT NOT NULL, "
        "channel TEXT NOT NULL, tz TEXT NOT NULL DEFAULT 'UTC', "
        "PRIMARY KEY (platform, workspace, channel))"
    )
    db.execute(
        "CREATE TABLE digests (subscription_id BIGINT NOT NULL, period TEXT NOT NULL, "
        "platform TEXT NOT NULL, workspace TEXT NOT NULL, channel TEXT NOT NULL, "
        "state TEXT NOT NULL, message_id TEXT, paper_ids TEXT NOT NULL DEFAULT '[]', "
        "owner TEXT NOT NULL DEFAULT '', claimed_at DOUBLE PRECISION NOT NULL, "
        "sent_at DOUBLE PRECISION, "
        "PRIMARY KEY (subscription_id, period))"
    )


def _v11_votable_messages(db: sqlite_utils.Database) -> None:
    """People's messages that link exactly one paper (unfurled on Slack, or shown with the
    Discord context menu): reactions on them count as votes on that paper, like reactions on
    paperboy's own cards. Keyed as reactions are looked up: by platform, channel, message."""
    clustered = " WITHOUT ROWID" if isinstance(db, sqlite_utils.Database) else ""
    db.execute(
        "CREATE TABLE votable_messages (platform TEXT NOT NULL, workspace TEXT NOT NULL, "
        "channel TEXT NOT NULL, message_id TEXT NOT NULL, paper_id TEXT NOT NULL, "
        "created_at DOUBLE PRECISION, "
        f"PRIMARY KEY (platform, channel, message_id, workspace)){clustered}"
    )


def _v12_slack_installations(db: sqlite_utils.Database) -> None:
    """Slack distribution: one installation per workspace (Bolt's ``Installation``, as JSON in
    ``data``; the bot's token is in it), the OAuth ``state`` values handed out and not used
    yet, and the workspaces that removed the app (``departed_workspaces``: nothing is posted
    there; their data is deleted once they have been gone for UNINSTALL_RETENTION_DAYS)."""
    clustered = " WITHOUT ROWID" if isinstance(db, sqlite_utils.Database) else ""
    db.execute(
        "CREATE TABLE slack_installations (enterprise_id TEXT NOT NULL, team_id TEXT NOT NULL, "
        "data TEXT NOT NULL, installed_at DOUBLE PRECISION NOT NULL, "
        f"PRIMARY KEY (enterprise_id, team_id)){clustered}"
    )
    db.execute(
        "CREATE TABLE slack_oauth_states (state TEXT NOT NULL PRIMARY KEY, "
        f"expires_at DOUBLE PRECISION NOT NULL){clustered}"
    )
    db.execute(
        "CREATE TABLE departed_workspaces (platform TEXT NOT NULL, workspace TEXT NOT NULL, "
        f"departed_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (platform, workspace)){clustered}"
    )


def _v13_rate_slots(db: sqlite_utils.Database) -> None:
    """A request budget every process on the database shares (Discord's global 50/s, its
    IDENTIFY buckets): per named budget, the time its next free slot starts. Processes
    reserve slots by moving it forward in one statement (``Store.reserve_rate_slots``)."""
    clustered = " WITHOUT ROWID" if isinstance(db, sqlite_utils.Database) else ""
    db.execute(
        "CREATE TABLE rate_slots (name TEXT NOT NULL PRIMARY KEY, "
        f"next_at DOUBLE PRECISION NOT NULL){clustered}"
    )


def _v14_reactions_by_channel_first(db: sqlite_utils.Database) -> None:
    """The channel index leads with the channel. Led by (platform, workspace) it also
    matched the hot lookup of one user's reactions on a paper, and PostgreSQL, before its
    first ANALYZE of the table, took it for that lookup and read every reaction of the
    workspace per vote (a tie of estimates it broke by index size). The queries it is for
    name all three columns, so the order costs them nothing."""
    db.execute("DROP INDEX idx_reactions_channel")
    db.execute("CREATE INDEX idx_reactions_channel ON reactions (channel, workspace, platform)")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1_initial,
    _v2_search_beside_sqlite,
    _v3_clustered_vote_ledger,
    _v4_deliveries,
    _v5_claim_owner_and_lease,
    _v6_live_cards,
    _v7_feeds_as_source_and_params,
    _v8_channel_taste,
    _v9_follows,
    _v10_digests,
    _v11_votable_messages,
    _v12_slack_installations,
    _v13_rate_slots,
    _v14_reactions_by_channel_first,
]


class DatabaseFileGone(SystemExit):
    """The file at PAPERBOY_DB is no longer the one this process opened. A SystemExit, so that
    no "log it and carry on" handler keeps the process writing into a deleted file."""

    EXIT_CODE = 3

    def __init__(self) -> None:
        super().__init__(self.EXIT_CODE)


class FileIdentity:
    """Which file a connection opened (device and inode), to notice it deleted or replaced.

    SQLite keeps writing to the inode it opened: after ``rm paperboy.db`` (or a restore that
    moves another file into place) every later write would be lost at the next restart.
    One ``os.stat`` per write transaction, about a microsecond, well below a write's cost.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.identity = self._current()
        self.gone = False
        # What the running bot sets: end the process at once (see adapters/launch.py).
        self.on_gone: Callable[[], None] | None = None

    def _current(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def check(self) -> None:
        if not self.gone and self._current() == self.identity:
            return
        if not self.gone:  # one ERROR line, however many writers notice
            self.gone = True
            log.error(
                "the database file PAPERBOY_DB=%s was deleted or replaced while paperboy was "
                "running; stopping before writing anything more (restart to use what is there now)",
                self.path,
            )
            if self.on_gone is not None:
                self.on_gone()
        raise DatabaseFileGone()


def file_identity(db: sqlite_utils.Database) -> FileIdentity | None:
    """The identity ``open_db`` recorded for a database file (None in memory)."""
    return getattr(db, "paperboy_file", None)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction; BEGIN IMMEDIATE takes the write lock up front (waiting on
    ``busy_timeout``) so two writers never deadlock half-way through."""
    if db.conn.in_transaction:  # nested: the outer transaction decides
        yield
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        identity = file_identity(db)
        if identity is not None:  # checked with the write lock held: nothing is written yet
            identity.check()
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> None:
    """Apply the migrations this file lacks, one transaction each.

    The version is read again inside each write transaction: another process opening the same
    fresh file at the same moment may have applied the step while this one waited for the lock.
    """
    while schema_version(db) < len(MIGRATIONS):
        with transaction(db):
            current = schema_version(db)
            if current >= len(MIGRATIONS):
                break
            step = MIGRATIONS[current]
            log.info("migrating database to schema version %d (%s)", current + 1, step.__name__)
            step(db)
            db.execute(f"PRAGMA user_version = {current + 1}")
    if missing_paper_columns(db):
        with transaction(db):  # looks again under the lock: another process may have added them
            add_missing_paper_columns(db)


def _enable_wal(db: sqlite_utils.Database) -> None:
    """Switch a new file to WAL. Two processes switching the same fresh file at once both hold
    a read lock and want the exclusive one: SQLite answers one of them "locked" at once rather
    than deadlock (no busy wait), so that one tries again."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def open_db(path: str) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path``, in WAL mode, fully migrated."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if path != ":memory:":
        _enable_wal(db)
        db.paperboy_file = FileIdentity(path)  # type: ignore[attr-defined]
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    return db
