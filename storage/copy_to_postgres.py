"""``paperboy db copy-to-postgres``: everything an SQLite database holds, into PostgreSQL.

Every table the two schemas share is copied, in batches of rows read in key order from one
consistent read of the SQLite file. Each batch is one PostgreSQL transaction that also
records how far the copy got, so an interrupted copy resumes where it stopped; rows go in
with ``COPY``, and a batch that meets rows already there with ``ON CONFLICT DO NOTHING``
(``storage.pg_bulk``), so a second run adds nothing (and picks up rows the SQLite file gained
since). At the end every table's rows are counted on both sides.

Not copied: the search log and its meta (each PostgreSQL process builds its own index from
the papers; the copy logs each batch of papers in PostgreSQL's log as it goes in) and
PostgreSQL's ``papers.rowid`` (given anew, in the SQLite file's order). Ids of subscriptions
and posts are kept, and their sequences moved past them.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from storage.pg_bulk import insert_rows
from storage.pg_schema import PAPERS_LOCK
from storage.sql import PostgresDatabase, SqliteDatabase

BATCH_ROWS = 10_000  # per COPY and transaction: the unit of resuming
# Derived per database, rebuilt from the papers, or good for a second (rate_slots): never copied.
NOT_COPIED = frozenset({"search_log", "search_meta", "sqlite_sequence", "rate_slots"})
_MARK = "copy_from_sqlite:{source}:{table}"  # in search_meta: the last key copied


@dataclass
class TableCopy:
    table: str
    sqlite_rows: int = 0
    read: int = 0  # rows read from SQLite in this run (fewer when resuming)
    added: int = 0  # rows PostgreSQL did not have yet
    postgres_rows: int = 0

    @property
    def matches(self) -> bool:
        return self.sqlite_rows == self.postgres_rows


@dataclass
class CopyResult:
    tables: list[TableCopy] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # only in SQLite's schema

    @property
    def ok(self) -> bool:
        return all(t.matches for t in self.tables)

    def report(self) -> str:
        """The count check: one line per table."""
        width = max([len(t.table) for t in self.tables] + [5])
        lines = [f"{'table':<{width}}  {'sqlite':>10}  {'postgresql':>10}  {'added':>10}"]
        for t in self.tables:
            check = "ok" if t.matches else "MISMATCH"
            lines.append(
                f"{t.table:<{width}}  {t.sqlite_rows:>10,}  {t.postgres_rows:>10,}  "
                f"{t.added:>10,}  {check}"
            )
        lines += [
            f"{name:<{width}}  not in the PostgreSQL schema: skipped" for name in self.skipped
        ]
        return "\n".join(lines)


Progress = Callable[[str, int, int], None]  # (table, rows done, rows in the table)


class ProgressLine:
    """One self-rewriting line on stderr per table (a plain line per table when not a TTY)."""

    def __init__(self, stream: TextIO | None = None, every: float = 0.5) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = every
        self.last = 0.0

    def __call__(self, table: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if not finished and (not self.tty or now - self.last < self.every):
            return
        self.last = now
        share = done / total if total else 1.0
        line = f"copying {table}: {done:,} of {total:,} rows ({share:.0%})"
        self.stream.write(f"\r{line}   " if self.tty else line)
        if finished:
            self.stream.write("\n")
        self.stream.flush()


def copy_to_postgres(
    source: SqliteDatabase,
    target: PostgresDatabase,
    *,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy ``source`` into ``target`` (see the module's docstring); returns the counts."""
    result = CopyResult()
    source_id = source.execute("SELECT value FROM search_meta WHERE key = 'db_id'").fetchone()[0]
    target_tables = _postgres_columns(target)
    with source.snapshot():  # one consistent state of the file, whatever writes meanwhile
        for table in _sqlite_tables(source):
            if table in NOT_COPIED:
                continue
            if table not in target_tables:
                result.skipped.append(table)
                continue
            columns = [c for c in _sqlite_columns(source, table) if c in target_tables[table]]
            copy = TableCopy(table)
            copy.sqlite_rows = source.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            mark = _MARK.format(source=source_id, table=table)
            _copy_table(source, target, copy, columns, mark, batch_rows, progress)
            _move_identities_past(target, table, columns)
            copy.postgres_rows = target.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            result.tables.append(copy)
    # Done: the next run reads everything again (and adds only what is new by then).
    target.execute(
        "DELETE FROM search_meta WHERE key LIKE ?", [_MARK.format(source=source_id, table="%")]
    )
    return result


def _copy_table(
    source: SqliteDatabase,
    target: PostgresDatabase,
    copy: TableCopy,
    columns: list[str],
    mark: str,
    batch_rows: int,
    progress: Progress | None,
) -> None:
    key = _sqlite_key(source, copy.table)
    row = target.execute("SELECT value FROM search_meta WHERE key = ?", [mark]).fetchone()
    after: list | None = json.loads(row[0]) if row else None
    done = (
        source.execute(
            f"SELECT count(*) FROM {copy.table} WHERE ({', '.join(key)}) <= "
            f"({', '.join('?' * len(key))})",
            after,
        ).fetchone()[0]
        if after is not None
        else 0
    )
    # Each row is read key first (the rowid is not copied), then the copied columns.
    read_names = key + [c for c in columns if c not in key]
    picks = [read_names.index(c) for c in columns]
    width = len(key)
    while True:
        where = f"WHERE ({', '.join(key)}) > ({', '.join('?' * width)})" if after else ""
        rows = source.execute(
            f"SELECT {', '.join(read_names)} FROM {copy.table} {where} ORDER BY {', '.join(key)} "
            f"LIMIT {int(batch_rows)}",
            after or [],
        ).fetchall()
        if not rows:
            break
        after = list(rows[-1][:width])
        with target.transaction():
            if copy.table == "papers":
                target.serialize(PAPERS_LOCK)  # as every writer of papers: see pg_schema
            copy.added += insert_rows(
                target, copy.table, columns, [[r[i] for i in picks] for r in rows]
            )
            target.execute(
                "INSERT INTO search_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [mark, json.dumps(after)],
            )
        copy.read += len(rows)
        done += len(rows)
        if progress:
            progress(copy.table, done, copy.sqlite_rows)
    if progress and copy.read == 0:
        progress(copy.table, copy.sqlite_rows, copy.sqlite_rows)


def _sqlite_tables(source: SqliteDatabase) -> list[str]:
    return [
        r[0]
        for r in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]


def _sqlite_columns(source: SqliteDatabase, table: str) -> list[str]:
    return [r[1] for r in source.execute(f"PRAGMA table_info({table})")]


def _sqlite_key(source: SqliteDatabase, table: str) -> list[str]:
    """The order rows are read in: the rowid (insertion order, which papers' new rowids then
    keep), or the primary key of a table without one."""
    try:
        source.execute(f"SELECT rowid FROM {table} LIMIT 0")
        return ["rowid"]
    except sqlite3.OperationalError:  # WITHOUT ROWID
        pk = sorted((r[5], r[1]) for r in source.execute(f"PRAGMA table_info({table})") if r[5])
        return [name for _, name in pk]


def _postgres_columns(target: PostgresDatabase) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for table, column in target.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    ):
        tables.setdefault(table, set()).add(column)
    return tables


def _move_identities_past(target: PostgresDatabase, table: str, columns: list[str]) -> None:
    """Ids copied as they were: the next one PostgreSQL gives must come after them."""
    for (column,) in target.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = ? AND is_identity = 'YES'",
        [table],
    ).fetchall():
        if column not in columns:
            continue
        target.execute(
            f"SELECT setval(pg_get_serial_sequence(?, ?), max({column})) FROM {table} "
            f"HAVING max({column}) IS NOT NULL",
            [table, column],
        )
