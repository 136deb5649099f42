"""One small interface over the two databases paperboy runs on: SQLite (a file beside the bot,
the default) and PostgreSQL (``DATABASE_URL``, for several processes and machines).

The store, the search index and the importer write their SQL once, with ``?`` placeholders
and constructs both databases share (``ON CONFLICT``, ``RETURNING``, ``CASE``). What does
differ lives here, behind the same few methods on both classes: how a write transaction
starts and keeps writers apart, a consistent read snapshot, new rowids, the search log's
position, where the local search index lives and which lock makes a process the poster.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from storage.poster_lease import AdvisoryLease, FileLease, PosterLease, ProcessLease


class Result(Protocol):
    rowcount: int
    description: Any

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(Protocol):
    dialect: str  # "sqlite" | "postgresql"
    # Errors a busy or read-only database raises, which callers may wait out.
    transient_errors: tuple[type[BaseException], ...]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Returns how many rows the statements changed, all together."""
        ...

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """The rows of a query, read a batch at a time as they are consumed (``execute``
        may hold them all in memory); inside one read snapshot."""
        ...

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """One write transaction; nested ones join the outer one."""
        ...

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """Reads inside see one consistent state of the database."""
        ...

    @property
    def in_transaction(self) -> bool: ...

    def serialize(self, name: str) -> None:
        """Inside a write transaction: wait until no other transaction holds ``name``, and
        hold it until this one ends (read-modify-write of one user's vote, say)."""
        ...

    def new_rowids(self, count: int) -> list[int]:
        """Inside a write transaction: ``count`` paper rowids no row uses or will be given."""
        ...

    def search_log_position(self) -> tuple[int, int]:
        """(the newest search log entry, the newest one pruned away): a search index whose
        watermark is below the second missed entries and must be rebuilt."""
        ...

    def prune_search_log(self, upto: int) -> None: ...

    def search_path(self) -> Path | None:
        """Where the local search index folder lives (None: in memory)."""
        ...

    def reopen(self) -> Database:
        """Another connection to the same database, for another thread."""
        ...

    def poster_lease(self) -> PosterLease: ...

    def close(self) -> None: ...


def as_database(db: sqlite_utils.Database | Database) -> Database:
    """The ``Database`` for what ``storage.connect.open_database`` returned."""
    if isinstance(db, sqlite_utils.Database):
        wrapped = getattr(db, "paperboy_database", None)
        if wrapped is None:
            wrapped = SqliteDatabase(db)
            db.paperboy_database = wrapped  # type: ignore[attr-defined]
        return wrapped
    return db


# -- SQLite ----------------------------------------------------------------------------------


class SqliteDatabase:
    """A SQLite file (see ``storage.db``). Writers are serialized by ``BEGIN IMMEDIATE``,
    so ``serialize`` has nothing left to do; rowids are the table's own."""

    dialect = "sqlite"
    transient_errors = (sqlite3.OperationalError,)

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.utils = db
        self.conn = db.conn
        # The file ("" in memory), read once: reopen() runs in other threads.
        self.file = next(
            (f for _, name, f in db.conn.execute("PRAGMA database_list") if name == "main"), ""
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        return self.conn.executemany(sql, rows).rowcount

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        with self.snapshot():  # SQLite's cursor already steps through the rows
            yield from self.conn.execute(sql, params)

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        from storage.db import transaction

        return transaction(self.utils)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def serialize(self, name: str) -> None:
        pass  # BEGIN IMMEDIATE already keeps writers apart

    def new_rowids(self, count: int) -> list[int]:
        first = self.conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM papers").fetchone()[0]
        return list(range(first, first + count))

    def search_log_position(self) -> tuple[int, int]:
        row = self.conn.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'search_log'"
        ).fetchone()
        # Every process on the file shares one index folder: the log is pruned only up to
        # what that folder holds, so no index here ever misses an entry.
        return (row[0] if row else 0), 0

    def prune_search_log(self, upto: int) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM search_log WHERE seq <= ?", [upto])

    def search_path(self) -> Path | None:
        """``paperboy.db`` keeps its index in ``paperboy.db-search/``; in-memory and temporary
        databases keep theirs in memory."""
        return Path(self.file + "-search") if self.file else None

    def reopen(self) -> Database:
        from storage.db import open_db

        if not self.file:
            raise ValueError("an in-memory database cannot be opened twice")
        return as_database(open_db(self.file))

    def poster_lease(self) -> PosterLease:
        from storage.db import file_identity

        identity = file_identity(self.utils)
        return FileLease(f"{identity.path}.poster.lock") if identity else ProcessLease()

    def close(self) -> None:
        self.utils.close()


# -- PostgreSQL --------------------------------------------------------------------------------

# How long search log entries stay in PostgreSQL: every process follows the log into an index
# of its own, so entries are kept for processes that have not caught up yet (one that was away
# longer rebuilds its index).
SEARCH_LOG_KEEP_SECONDS = 24 * 3600.0
STREAM_BATCH = 2_000  # rows a server-side cursor sends per round trip (a few MB of papers)
POOL_SIZE = 10  # each thread keeps one: the bot loop, a search rebuild, an import


@functools.lru_cache(maxsize=1024)
def pg_query(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (and a literal ``%`` as ``%%``). Paperboy's SQL
    has no ``?`` inside string literals."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Rows:
    """A statement's rows, read before its connection goes back to the pool."""

    def __init__(self, cursor: Any) -> None:
        self.rowcount = cursor.rowcount
        # Names from the raw result: psycopg's ``cursor.description`` builds a column
        # object per column at each read, a good part of a vote's client time.
        result = cursor.pgresult
        fields = result.nfields if result is not None else 0
        self.description = [(result.fname(i).decode(),) for i in range(fields)] if fields else None
        self._rows = cursor.fetchall() if fields else []
        self._next = 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class PostgresDatabase:
    """PostgreSQL through a small psycopg connection pool, in autocommit outside transactions.

    Synchronous like the SQLite store: the bot runs one asyncio loop, and each call is one
    short statement or transaction on a local network (a fraction of a millisecond), the
    same blocking profile SQLite has."""

    dialect = "postgresql"

    def __init__(
        self, url: str, search_dir: str = "", *, pool_size: int = POOL_SIZE, migrate: bool = True
    ) -> None:
        import psycopg
        import psycopg_pool

        self.url = url
        self.search_dir = search_dir
        self.transient_errors = (psycopg.errors.OperationalError,)
        self.pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            name="paperboy",
            open=False,
        )
        self.pool.open(wait=True, timeout=30)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._held: list[Any] = []  # threads' own connections, returned at close
        self._streams = itertools.count()
        if migrate:
            from storage.pg_schema import migrate_pg

            migrate_pg(self)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:  # inside a transaction
            yield conn
            return
        yield self._own_connection()

    def _own_connection(self) -> Any:
        """This thread's connection, taken from the pool once and kept: a checkout per
        statement would cost more than the statement (votes are several in a row). A
        broken one goes back to the pool, which replaces it."""
        conn = getattr(self._local, "own", None)
        if conn is not None and not conn.broken:
            return conn
        if conn is not None:
            self.pool.putconn(conn)
        conn = self.pool.getconn()
        self._local.own = conn
        with self._lock:
            self._held.append(conn)
        return conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Rows:
        with self._connection() as conn:
            return _Rows(conn.execute(pg_query(sql), tuple(params)))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        rows = list(rows)
        if not rows:
            return 0
        with self._connection() as conn, conn.cursor() as cursor:
            cursor.executemany(pg_query(sql), rows)
            return cursor.rowcount

    def copy_in(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """``rows`` into ``table`` with one ``COPY ... FROM STDIN``: one stream instead of a
        statement per row (see storage.pg_bulk)."""
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with (
            self._connection() as conn,
            conn.cursor() as cursor,
            cursor.copy(statement) as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """Through a server-side (named) cursor, which lives in a transaction: a million
        papers would otherwise arrive in one result, gigabytes in this process."""
        with self.snapshot(), self._connection() as conn:
            name = f"paperboy_stream_{threading.get_ident()}_{next(self._streams)}"
            with conn.cursor(name=name) as cursor:
                cursor.itersize = STREAM_BATCH
                cursor.execute(pg_query(sql), tuple(params))
                yield from cursor

    @contextlib.contextmanager
    def _transaction(self, first: str | None) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:
            yield  # nested: the outer transaction decides
            return
        conn = self._own_connection()
        self._local.conn = conn
        try:
            with conn.transaction():
                if first:
                    conn.execute(first)
                yield
        finally:
            self._local.conn = None

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return self._transaction(None)

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        return self._transaction("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    @property
    def in_transaction(self) -> bool:
        return getattr(self._local, "conn", None) is not None

    def serialize(self, name: str) -> None:
        if not self.in_transaction:
            raise RuntimeError("serialize() holds its lock until the transaction ends: open one")
        self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [name])

    def new_rowids(self, count: int) -> list[int]:
        return [
            r[0]
            for r in self.execute(
                "SELECT nextval(pg_get_serial_sequence('papers', 'rowid')) "
                "FROM generate_series(1, ?)",
                [count],
            )
        ]

    def search_log_position(self) -> tuple[int, int]:
        # The log is read by committed rows, not the sequence: entries are written under a
        # lock held to commit (see storage.pg_schema), so seq order is commit order.
        latest, pruned = self.execute(
            "SELECT (SELECT coalesce(max(seq), 0) FROM search_log), "
            "(SELECT coalesce(max(value::bigint), 0) FROM search_meta "
            "WHERE key = 'log_pruned_upto')"
        ).fetchone()
        return max(latest, pruned), pruned

    def prune_search_log(self, upto: int) -> None:
        """Other processes follow the log too: only entries older than a day go."""
        with self.transaction():
            self.serialize("search_log_prune")
            row = self.execute(
                "SELECT max(seq) FROM search_log WHERE seq <= ? "
                "AND logged_at < extract(epoch FROM now()) - ?",
                [upto, SEARCH_LOG_KEEP_SECONDS],
            ).fetchone()
            if row[0] is None:
                return
            self.execute("DELETE FROM search_log WHERE seq <= ?", [row[0]])
            self.execute(
                "INSERT INTO search_meta (key, value) VALUES ('log_pruned_upto', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [str(row[0])],
            )

    def search_path(self) -> Path | None:
        """Each process keeps an index of its own, in a folder per database (processes on
        one machine may share it, as they do beside an SQLite file)."""
        base = self.search_dir or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "paperboy"
        )
        db_id = self.execute("SELECT value FROM search_meta WHERE key = 'db_id'").fetchone()[0]
        return Path(base) / f"search-{db_id}"

    def reopen(self) -> Database:
        return PostgresDatabase(self.url, self.search_dir, pool_size=1, migrate=False)

    def poster_lease(self) -> PosterLease:
        return AdvisoryLease(self.url)

    def close(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for conn in held:
            with contextlib.suppress(Exception):
                self.pool.putconn(conn)
        self.pool.close()

    def __str__(self) -> str:
        return redacted_url(self.url)


def redacted_url(url: str) -> str:
    """``url`` without its password, for logs and the console banner."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except Exception:
        return "postgresql://(unreadable DATABASE_URL)"
    return "postgresql://{}@{}:{}/{}".format(
        params.get("user", ""),
        params.get("host", ""),
        params.get("port", "5432"),
        params.get("dbname", ""),
    )
