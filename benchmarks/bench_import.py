"""Bulk import: ``paperboy import arxiv-snapshot`` against the naive way, in the same run.

The baseline is what anyone would write first: ``json.loads`` each line, ``executemany``
the rows into a table shaped like ours, then build an FTS5 index with ``rebuild``. Ours
is the real importer end to end: parsing to ``Paper``, merging, resumable batches and the
search index (built and merged) included.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from storage.bulk_import import SnapshotImporter
from storage.db import open_db
from storage.store import Store


@dataclass
class ImportTiming:
    papers: int
    seconds: float
    cpu: float = 0.0  # CPU seconds of the whole process, every thread
    main_cpu: float = 0.0  # of the thread that parses and writes SQLite
    load: float = 0.0  # the 1-minute load average when it ended

    @property
    def rate(self) -> float:
        return self.papers / self.seconds


class _CpuClock:
    """CPU seconds of this process (all threads) and of the calling thread: on a machine
    shared with other work, what an import costs shows in these, not in its wall time."""

    def __init__(self) -> None:
        self.process, self.thread = time.process_time(), time.thread_time()

    def timing(self, papers: int, seconds: float) -> ImportTiming:
        return ImportTiming(
            papers,
            seconds,
            time.process_time() - self.process,
            time.thread_time() - self.thread,
            os.getloadavg()[0],
        )


def naive_import(snapshot: Path, db_path: Path) -> ImportTiming:
    """json.loads + executemany + FTS5 rebuild: the baseline the issue measured."""
    _remove_db(db_path)
    started, clock = time.perf_counter(), _CpuClock()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE TABLE papers (id TEXT PRIMARY KEY, title TEXT NOT NULL, abstract TEXT, "
        "authors TEXT, published TEXT, categories TEXT)"
    )
    conn.execute(
        "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, authors, "
        "content=papers, tokenize='porter unicode61 remove_diacritics 2')"
    )
    count = 0
    with snapshot.open("rb") as f:
        while True:
            lines = f.readlines(1 << 24)
            if not lines:
                break
            rows = []
            for line in lines:
                p = json.loads(line)
                rows.append(
                    (
                        p["id"],
                        p["title"],
                        p["abstract"],
                        p["authors"],
                        _first_version_day(p),
                        p["categories"],
                    )
                )
            conn.execute("BEGIN")
            conn.executemany("INSERT OR IGNORE INTO papers VALUES (?, ?, ?, ?, ?, ?)", rows)
            conn.execute("COMMIT")
            count += len(rows)
    conn.execute("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')")
    conn.close()
    return clock.timing(count, time.perf_counter() - started)


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def _first_version_day(p: dict) -> str:
    """The same ``published`` day as ours, so ``since:`` filters compare like with like."""
    try:
        _, day, month, year = p["versions"][0]["created"].split()[:4]
        return f"{year}-{_MONTHS[month]:02d}-{int(day):02d}"
    except (KeyError, IndexError, ValueError):
        return p.get("update_date") or ""


def paperboy_import(snapshot: Path, db_path: Path) -> ImportTiming:
    """The real importer into a fresh database, search index built and merged."""
    _remove_db(db_path)
    started, clock = time.perf_counter(), _CpuClock()
    store = Store(open_db(str(db_path)))
    result = SnapshotImporter(store).run(snapshot)
    store.db.close()
    return clock.timing(result.added, time.perf_counter() - started)


def reimport(db_path: Path, snapshot: Path) -> tuple[int, float]:
    """A second run of the same file (forced to re-read it): what it adds, how long."""
    started = time.perf_counter()
    store = Store(open_db(str(db_path)))
    result = SnapshotImporter(store).run(snapshot, again=True)
    store.db.close()
    return result.added + result.updated, time.perf_counter() - started


def _remove_db(db_path: Path) -> None:
    import shutil

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{db_path}-search", ignore_errors=True)
