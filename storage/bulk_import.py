"""Import the arXiv metadata snapshot (JSON Lines, plain or gzip) into the store, fast.

The snapshot has one paper per line (``id``, ``title``, ``abstract``, ``authors``,
``authors_parsed``, ``categories``, ``versions``, ``update_date``...), about 2.7 million of
them. The import goes in batches, each one SQLite transaction that also records how far
into the file it got, so an interrupted import resumes where it stopped and a second run
of the same file adds nothing. Lines that are not a paper are counted, never fatal.

New papers are inserted directly (no per-row upsert); papers already in the store are
merged the way ``Store.save_papers`` merges them, so HF upvotes and links survive. The
search index is fed from the batch in memory and committed every few batches. On PostgreSQL
the new papers of a batch go in with ``COPY`` (``storage.pg_bulk``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from bot.model.ids import canonical_id
from bot.model.paper import (
    MAX_ABSTRACT_CHARS,
    MAX_AUTHOR_CHARS,
    MAX_AUTHORS,
    MAX_CATEGORIES,
    MAX_TITLE_CHARS,
    Paper,
    bounded,
)
from bot.model.paper_columns import PAPER_COLUMN_NAMES, paper_values, values_of
from storage import pg_bulk
from storage.search_index import BulkWriter
from storage.sql import SqliteDatabase
from storage.store import Store

BATCH_SIZE = 10_000
MAX_BAD_EXAMPLES = 5

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
        start=1,
    )
}
_AUTHOR_SPLIT = re.compile(r"\s*,\s*|\s+and\s+")


class BadLine(ValueError):
    """A snapshot line that is not a paper; the message says why."""


def parse_snapshot_line(line: str | bytes) -> Paper:
    """The paper on one snapshot line; raises BadLine if the line is not one."""
    return _as_paper(_parse(line))


Parsed = tuple[str, str, str, tuple[str, ...], str, tuple[str, ...]]


def _parse(line: str | bytes) -> Parsed:
    """(id, title, abstract, authors, published, categories): what ``parse_snapshot_line``
    puts in a Paper, without building one (the importer inserts millions of these)."""
    try:
        record = orjson.loads(line)  # 2.6x json's speed on snapshot lines
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadLine(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(record, dict):
        raise BadLine("not a JSON object")
    raw_id = record.get("id")
    paper_id = _canonical(raw_id) if isinstance(raw_id, str) else None
    if paper_id is None:
        raise BadLine(f"no arXiv id ({str(raw_id)[:40]!r})")
    title = _text(record.get("title"))
    if not title:
        raise BadLine(f"{paper_id}: no title")
    categories = record.get("categories")
    parsed = (
        paper_id,
        title,
        _text(record.get("abstract")),
        _authors(record),
        _published(record),
        tuple(categories.split()) if isinstance(categories, str) else (),
    )
    return _bounded(parsed)


def _bounded(parsed: Parsed) -> Parsed:
    """Within the limits every source keeps to (``bot.model.paper.bounded``); checked by length
    first, since nearly every snapshot line is well inside them."""
    _, title, abstract, authors, _, categories = parsed
    if (
        len(title) > MAX_TITLE_CHARS
        or len(abstract) > MAX_ABSTRACT_CHARS
        or len(authors) > MAX_AUTHORS
        or len(categories) > MAX_CATEGORIES
        or any(len(a) > MAX_AUTHOR_CHARS for a in authors)
    ):
        return _as_tuple(bounded(_as_paper(parsed)))
    return parsed


def _canonical(raw_id: str) -> str | None:
    # Nearly every snapshot id is already canonical ("2401.12345"): check that cheaply.
    if (
        len(raw_id) in (9, 10)
        and raw_id[4] == "."
        and raw_id[:4].isdigit()
        and raw_id[5:].isdigit()
        and raw_id.isascii()
    ):
        return raw_id
    return canonical_id(raw_id)


def _text(value: object) -> str:
    """Runs of whitespace as one space: the snapshot wraps and indents titles and abstracts
    as the listing shows them. Usually the wraps are all there is, and replacing them is
    eight times faster than splitting a thousand characters into words and joining them."""
    if not isinstance(value, str):
        return ""
    text = value.strip().replace("\n", " ")
    if _single_spaced(text):
        return text
    return " ".join(text.split())


def _single_spaced(text: str) -> bool:
    """No run of spaces and no other whitespace: three scans in C. (ASCII whitespace other
    than the space is unprintable; anything else falls back to splitting.)"""
    return text.isascii() and text.isprintable() and "  " not in text


def _authors(record: dict) -> tuple[str, ...]:
    parsed = record.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        try:
            names = tuple(_name(*parts) for parts in parsed)
        except TypeError:  # not [last, first, suffix] lists of strings
            names = ()
        names = tuple(n for n in names if n)
        if names:
            return names
    text = _text(record.get("authors"))
    return tuple(name for name in _AUTHOR_SPLIT.split(text) if name)


def _name(last: str, first: str = "", suffix: str = "", *_: object) -> str:
    """``["King", "Martin Luther", "Jr."]`` as ``Martin Luther King Jr.``."""
    if not (type(last) is str and type(first) is str and type(suffix) is str):
        raise TypeError("authors_parsed holds something other than names")
    name = f"{first} {last} {suffix}" if suffix else f"{first} {last}"
    if _single_spaced(name) and name[0] != " " and name[-1] != " ":
        return name  # nearly always
    return " ".join(name.split())


def _published(record: dict) -> str:
    """The day of the first version, else the snapshot's update date, else unknown."""
    versions = record.get("versions")
    if isinstance(versions, list) and versions and isinstance(versions[0], dict):
        created = versions[0].get("created")
        if isinstance(created, str):
            day = _rfc2822_day(created)
            if day:
                return day
    updated = record.get("update_date")
    if isinstance(updated, str):
        try:
            return date.fromisoformat(updated.strip()).isoformat()
        except ValueError:
            pass
    return ""


def _rfc2822_day(text: str) -> str:
    # "Mon, 2 Apr 2007 19:18:42 GMT": read the date directly; the email parser is the
    # fallback for anything unusual, as it is ten times slower.
    parts = text.split()
    if len(parts) >= 4 and parts[2] in _MONTHS and parts[1].isdigit() and parts[3].isdigit():
        try:
            return date(int(parts[3]), _MONTHS[parts[2]], int(parts[1])).isoformat()
        except ValueError:
            return ""
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


# -- the importer ------------------------------------------------------------------------


@dataclass
class ImportResult:
    path: str
    lines: int = 0  # lines read in this run
    added: int = 0
    updated: int = 0  # already stored, and the snapshot changed something
    unchanged: int = 0
    bad: int = 0
    resumed_at: int = 0  # lines a previous run had already imported
    already_done: bool = False
    seconds: float = 0.0
    bad_examples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.lines / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        if self.already_done:
            return f"{self.path}: already imported; nothing to do (use --again to re-read it)"
        text = (
            f"{self.path}: {self.lines:,} lines in {self.seconds:.1f} s "
            f"({self.rate:,.0f}/s): {self.added:,} added, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged, {self.bad:,} bad"
        )
        if self.resumed_at:
            text += f"; resumed after line {self.resumed_at:,}"
        return text


ProgressCallback = Callable[[int, int, int, ImportResult], None]  # done, total bytes, lines


class Progress:
    """One self-rewriting line on stderr: percent, papers/s, ETA. Quiet when not a TTY
    unless ``always``, so logs and tests stay clean."""

    def __init__(
        self, stream: io.TextIOBase | None = None, always: bool = False, every: float = 0.5
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = always or self.stream.isatty()
        self.every = every
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, done: int, total: int, lines: int, result: ImportResult) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < self.every and done < total):
            return
        self.last = now
        elapsed = now - self.started
        rate = lines / elapsed if elapsed > 0 else 0.0
        fraction = done / total if total else 1.0
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else 0.0
        self.stream.write(
            f"\r{fraction:6.1%}  {lines:,} papers  {rate:,.0f}/s  ETA {_clock(eta)}  "
            f"bad {result.bad:,}   "
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60:d}:{seconds % 60:02d}"


def file_key(path: Path) -> str:
    """Names one snapshot file whatever its path or mtime: size plus a hash of its start."""
    with path.open("rb") as f:
        head = f.read(1 << 16)
    return f"{path.stat().st_size}:{hashlib.sha1(head).hexdigest()}"


class _Reader:
    """Lines of a plain or gzip file, with the compressed position for progress."""

    def __init__(self, path: Path) -> None:
        self.raw: BinaryIO = path.open("rb")
        self.total = path.stat().st_size
        gzipped = self.raw.read(2) == b"\x1f\x8b"
        self.raw.seek(0)
        self.stream: BinaryIO = gzip.GzipFile(fileobj=self.raw) if gzipped else self.raw

    def seek(self, offset: int) -> None:
        self.stream.seek(offset)  # gzip decompresses up to it; plain files jump

    @property
    def done(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


class SnapshotImporter:
    def __init__(
        self,
        store: Store,
        *,
        batch_size: int = BATCH_SIZE,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.progress = progress

    def run(self, path: str | Path, *, again: bool = False) -> ImportResult:
        """Import ``path``; resumes an interrupted import of the same file."""
        path = Path(path)
        result = ImportResult(str(path))
        started = time.monotonic()
        key = file_key(path)
        state = self._state(key)
        if state and state["finished_at"] and not again:
            result.already_done = True
            return result
        offset = 0
        if state and not state["finished_at"]:
            offset, result.resumed_at = state["bytes_done"], state["lines_done"]
        reader = _Reader(path)
        try:
            reader.seek(offset)
            lines_done = result.resumed_at
            with self.store.search_index.bulk() as index:
                for batch, size in _batches(reader.stream, self.batch_size):
                    offset += size
                    lines_done += len(batch)
                    self._import_batch(batch, result, index, key, path, offset, lines_done)
                    if self.progress:
                        self.progress(reader.done, reader.total, result.lines, result)
                self._finish(key)
        finally:
            reader.close()
        result.seconds = time.monotonic() - started
        return result

    def _state(self, key: str) -> dict | None:
        rows = self.store._rows("SELECT * FROM imports WHERE file_key = ?", [key])
        return rows[0] if rows else None

    def _import_batch(
        self,
        lines: list[bytes],
        result: ImportResult,
        index: BulkWriter,
        key: str,
        path: Path,
        offset: int,
        lines_done: int,
    ) -> None:
        parsed: dict[str, Parsed] = {}
        for number, line in enumerate(lines, start=lines_done - len(lines) + 1):
            result.lines += 1
            if not line.strip():
                continue
            try:
                paper = _parse(line)
            except BadLine as exc:
                result.bad += 1
                if len(result.bad_examples) < MAX_BAD_EXAMPLES:
                    result.bad_examples.append(f"line {number}: {exc}")
                continue
            if paper[0] in parsed:  # the same id twice: merge, as save_papers would
                paper = _as_tuple(_as_paper(parsed[paper[0]]).merged(_as_paper(paper)))
            parsed[paper[0]] = paper
        now = self.store.clock()
        db = self.store.sql
        with db.transaction():
            db.serialize("papers")  # as Store.save_papers: one writer of papers at a time
            existing = self._existing(list(parsed))
            new = [p for pid, p in parsed.items() if pid not in existing]
            rows = [
                (rowid, *values_of(_as_fields(p)), now, now)
                for rowid, p in zip(db.new_rowids(len(new)), new, strict=True)
            ]
            if db.dialect == "sqlite":
                _insert_logged_once(db, rows)
            else:
                pg_bulk.insert_rows(db, "papers", _INSERT_COLUMNS, rows)  # type: ignore[arg-type]
            changed = []
            for pid, old in existing.items():
                merged = old.merged(_as_paper(parsed[pid]))
                if merged == old:
                    result.unchanged += 1
                else:
                    changed.append(merged)
            if changed:
                db.executemany(_UPDATE, [(*paper_values(p)[1:], now, p.id) for p in changed])
            db.execute(
                "INSERT INTO imports (file_key, path, bytes_done, lines_done, started_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (file_key) DO UPDATE SET "
                "path = excluded.path, bytes_done = excluded.bytes_done, "
                "lines_done = excluded.lines_done, updated_at = excluded.updated_at, "
                "finished_at = NULL",
                [key, str(path), offset, lines_done, now, now],
            )
        result.added += len(rows)
        result.updated += len(changed)
        # rowid, title, abstract, authors, categories, published: what the index needs.
        index.add_rows((r[0], *(r[i] for i in _INDEXED_AT)) for r in rows)

    def _existing(self, ids: list[str]) -> dict[str, Paper]:
        """The stored papers among ``ids``: ids first, from the index alone, as on a first
        import almost none are there."""
        if self.store.sql.dialect == "postgresql":
            present = pg_bulk.present_ids(self.store.sql, ids)  # type: ignore[arg-type]
            return self.store.get_papers(present) if present else {}
        present: list[str] = []
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            present += [
                r[0]
                for r in self.store.sql.execute(
                    f"SELECT id FROM papers WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
            ]
        return self.store.get_papers(present) if present else {}

    def _finish(self, key: str) -> None:
        with self.store.sql.transaction():
            self.store.sql.execute(
                "UPDATE imports SET finished_at = ? WHERE file_key = ?", [self.store.clock(), key]
            )


_INSERT_TRIGGER = "papers_search_ai"


def _insert_logged_once(db: SqliteDatabase, rows: list[tuple]) -> None:
    """Insert new papers (rowids given, ascending) and log them for the search index with
    one statement instead of the per-row trigger, which was a tenth of a bulk import.

    The trigger is dropped and made again inside this write transaction: no other
    connection ever sees the table without it, and every other writer keeps using it."""
    if not rows:
        return
    (trigger,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [_INSERT_TRIGGER]
    ).fetchone()
    db.execute(f"DROP TRIGGER {_INSERT_TRIGGER}")
    db.executemany(_INSERT, rows)
    db.execute(trigger)
    db.execute(
        "INSERT INTO search_log (paper_rowid) SELECT rowid FROM papers WHERE rowid BETWEEN ? AND ?",
        [rows[0][0], rows[-1][0]],
    )


_COLUMNS = PAPER_COLUMN_NAMES
# Where the columns the search index needs sit in an insert row (rowid first).
_INDEXED_AT = tuple(
    1 + _COLUMNS.index(c) for c in ("title", "abstract", "authors", "categories", "published")
)
_INSERT_COLUMNS = ("rowid", *_COLUMNS, "first_seen", "updated_at")
_INSERT = (
    f"INSERT INTO papers ({', '.join(_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
)
_UPDATE = (
    f"UPDATE papers SET {', '.join(f'{c} = ?' for c in _COLUMNS[1:])}, updated_at = ? WHERE id = ?"
)


def _as_fields(parsed: Parsed) -> dict[str, Any]:
    paper_id, title, abstract, authors, published, categories = parsed
    return {
        "id": paper_id,
        "title": title,
        "abstract": abstract,
        "authors": authors,
        "published": published,
        "categories": categories,
        "sources": ("arxiv",),
    }


def _as_paper(parsed: Parsed) -> Paper:
    return Paper(**_as_fields(parsed))


def _as_tuple(paper: Paper) -> Parsed:
    return (paper.id, paper.title, paper.abstract, paper.authors, paper.published, paper.categories)


def _batches(stream: BinaryIO, size: int) -> Iterator[tuple[list[bytes], int]]:
    """Lists of ``size`` whole lines and their byte length (a cut last line is a line too)."""
    batch: list[bytes] = []
    nbytes = 0
    for line in stream:
        batch.append(line)
        nbytes += len(line)
        if len(batch) >= size:
            yield batch, nbytes
            batch, nbytes = [], 0
    if batch:
        yield batch, nbytes
