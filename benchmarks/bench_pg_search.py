"""Search on PostgreSQL, both ways issue 14 names, on the same papers and query mix:

* tantivy following the log: paperboy's store on PostgreSQL and its local tantivy index
  (built from the table, then following ``search_log``), timed through the core exactly as
  ``bench_search`` times it on SQLite;
* PostgreSQL full-text search: a weighted ``tsvector`` (title A, authors B, abstract C;
  the ``english`` configuration) with a GIN index, each query of the mix translated to a
  ``tsquery`` (words ANDed, phrases with ``<->``, ``author:`` as words of weight B) and its
  ``cat:``/``since:`` filters to WHERE clauses, ranked by ``ts_rank`` with the FTS5 weights
  (title 10, authors 3, abstract 1), newest first on ties, LIMIT 5. Timed as the SQL alone
  (the core's own work would come on top).

Relevance of both against exhaustive FTS5 BM25 (``bench_search``'s two figures).

The benchmark starts a private server (``tests/pg_server.py``) and loads the papers of the
SQLite database the import benchmark built, with ``COPY`` (the search log's trigger is set
aside for the load: the index is then built from the table, as a new process does). The
index rebuild runs in a process of its own, so its memory figure is the rebuild's alone.

    python -m benchmarks.bench_pg_search OURS_DB FTS5_DB REPEATS WORK_DIR   # one JSON line

(OURS_DB may be a snapshot file instead: its papers are then parsed and copied.)
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import bench_search
from benchmarks.bench_search import Latencies, _overlap, _score_ratio, all_queries, fts5_search
from bot.model.search_query import SearchQuery, parse_search

# A server sized for a million papers, as anyone running full-text search on it would: the
# tsvectors (about 1.5 GB) mostly in memory, an index build with room to sort, no JIT
# compiling (it costs tens of milliseconds on a query it deems expensive, every time).
SERVER_SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "jit": "off",
    "max_parallel_maintenance_workers": "2",
}
# ts_rank's weights of D, C (abstract), B (authors), A (title): FTS5's 1 : 3 : 10.
RANK_WEIGHTS = "{0, 0.1, 0.3, 1.0}"
# ts_rank's length normalization: 1 divides by 1 + log(document length), as BM25 prefers
# shorter documents (chosen by measurement at 100,000 papers; see RANKINGS).
RANKINGS = {
    "ts_rank": f"ts_rank('{RANK_WEIGHTS}', doc, q, 0)",
    "ts_rank/log-length": f"ts_rank('{RANK_WEIGHTS}', doc, q, 1)",
    "ts_rank_cd/log-length": f"ts_rank_cd('{RANK_WEIGHTS}', doc, q, 1)",
}
RANKING = "ts_rank/log-length"

TSVECTOR = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(authors, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(abstract, '')), 'C')"
)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# -- loading -----------------------------------------------------------------------------------


def load_papers(sqlite_path: Path, url: str) -> int:
    """Create paperboy's schema in ``url`` and COPY in the papers of ``sqlite_path``, rowids
    kept (ties go to the higher rowid on both backends)."""
    import psycopg

    from storage.sql import PostgresDatabase

    PostgresDatabase(url).close()  # creates and migrates the schema
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    have = {r[1] for r in source.execute("PRAGMA table_info(papers)")} | {"rowid"}
    with psycopg.connect(url, autocommit=True) as conn:
        wanted = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'papers' ORDER BY ordinal_position"
            )
        ]
        columns = [c for c in wanted if c in have]
        names = ", ".join(columns)
        count = 0
        with conn.transaction():
            conn.execute("ALTER TABLE papers DISABLE TRIGGER papers_search_aid")
            with conn.cursor().copy(f"COPY papers ({names}) FROM STDIN") as copy:
                for row in source.execute(f"SELECT {names} FROM papers"):
                    copy.write_row(row)
                    count += 1
            conn.execute("ALTER TABLE papers ENABLE TRIGGER papers_search_aid")
            conn.execute(
                "SELECT setval(pg_get_serial_sequence('papers', 'rowid'), max(rowid)) FROM papers"
            )
        conn.execute("ANALYZE papers")
    source.close()
    return count


def load_snapshot(snapshot: Path, url: str) -> int:
    """Create paperboy's schema in ``url`` and COPY in the papers of an arXiv snapshot file,
    parsed as the importer parses them (for a run without the SQLite import's database)."""
    import psycopg

    from bot.model.paper_columns import PAPER_COLUMN_NAMES, paper_values
    from storage.bulk_import import parse_snapshot_line
    from storage.sql import PostgresDatabase

    PostgresDatabase(url).close()
    names = ", ".join((*PAPER_COLUMN_NAMES, "first_seen", "updated_at"))
    now = time.time()
    count = 0
    with psycopg.connect(url, autocommit=True) as conn, snapshot.open("rb") as lines:
        with conn.transaction():
            conn.execute("ALTER TABLE papers DISABLE TRIGGER papers_search_aid")
            with conn.cursor().copy(f"COPY papers ({names}) FROM STDIN") as copy:
                for line in lines:
                    copy.write_row((*paper_values(parse_snapshot_line(line)), now, now))
                    count += 1
            conn.execute("ALTER TABLE papers ENABLE TRIGGER papers_search_aid")
        conn.execute("ANALYZE papers")
    return count


def build_full_text(url: str) -> None:
    """The weighted tsvector of every paper, beside the filter columns, and its GIN index.
    A table of its own so paperboy's ``papers`` stays as the tantivy run reads it; a
    deployment would make it a generated column of ``papers``."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE papers_tsv AS SELECT rowid, id, published, categories, "
            f"{TSVECTOR} AS doc FROM papers"
        )
        conn.execute("CREATE INDEX papers_tsv_doc ON papers_tsv USING gin (doc)")
        conn.execute("CREATE INDEX papers_tsv_published ON papers_tsv (published)")
        conn.execute("VACUUM ANALYZE papers_tsv")


# -- PostgreSQL full-text search -----------------------------------------------------------------


def _lexemes(words: tuple[str, ...], weight: str = "") -> str:
    """Words as one tsquery operand: a phrase (``<->``) of their letter-and-digit runs, each
    quoted (the configuration stems it and drops stop words), of ``weight`` only if given."""
    label = f":{weight}" if weight else ""
    tokens = [t for w in words for t in re.findall(r"[^\W_]+", w)]
    return "(" + " <-> ".join(f"'{t}'{label}" for t in tokens) + ")" if tokens else ""


def to_tsquery_text(query: SearchQuery) -> str:
    """``query`` in to_tsquery's syntax. websearch_to_tsquery reads what users type, but
    ``author:`` needs a weight restriction it cannot express."""
    parts = [_lexemes((t,)) for t in query.terms] + [_lexemes(p) for p in query.phrases]
    for group in query.any_of:
        options = [o for o in map(_lexemes, group) if o]
        parts.append("(" + " | ".join(options) + ")" if options else "")
    parts += [_lexemes(name, "B") for name in query.authors]
    parts += [f"!{x}" for x in map(_lexemes, query.excluded) if x]
    parts += [f"!{x}" for x in (_lexemes(n, "B") for n in query.excluded_authors) if x]
    return " & ".join(p for p in parts if p)


def full_text_sql(query: SearchQuery, ranking: str = RANKING, limit: int = 5) -> tuple[str, list]:
    where, params = [], []
    if query.category:
        where.append("(' ' || categories || ' ') ILIKE %s")
        params.append(f"% {query.category} %")
    if query.since:
        where.append("published >= %s")
        params.append(query.since)
    if not query.has_text:
        sql = (
            "SELECT id FROM papers_tsv "
            + ("WHERE " + " AND ".join(where) + " " if where else "")
            + "ORDER BY published DESC LIMIT %s"
        )
        return sql, [*params, limit]
    sql = (
        "SELECT id FROM papers_tsv, to_tsquery('english', %s) q WHERE doc @@ q "
        + "".join(f"AND {w} " for w in where)
        + f"ORDER BY {RANKINGS[ranking]} DESC, published DESC, rowid DESC LIMIT %s"
    )
    return sql, [to_tsquery_text(query), *params, limit]


@dataclass
class FullTextResult:
    latencies: Latencies
    overlap: float
    overlap_by_kind: dict[str, float]
    score_ratio: float
    slowest: dict[str, float]  # query -> ms (median of its runs)
    empty: list[str]  # queries with FTS5 matches that PostgreSQL answered with nothing


def full_text_run(url: str, fts5_db: Path, repeats: int, ranking: str = RANKING) -> FullTextResult:
    import psycopg

    queries = all_queries()
    latencies = Latencies()
    per_query: dict[str, list[float]] = {}
    reference = sqlite3.connect(f"file:{fts5_db}?mode=ro", uri=True)
    overlaps: dict[str, list[float]] = {}
    ratios: list[float] = []
    empty = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.add_notice_handler(lambda _: None)  # "only stop words": measured below

        def ask(text: str) -> list[str]:
            sql, params = full_text_sql(parse_search(text), ranking)
            return [r[0] for r in conn.execute(sql, params).fetchall()]

        answers = {q: ask(q) for _, q in queries}  # warm-up, and what it answered
        for _ in range(repeats):
            for _, text in queries:
                started = time.perf_counter()
                ask(text)
                seconds = time.perf_counter() - started
                latencies.add(seconds)
                per_query.setdefault(text, []).append(seconds)
    for kind, text in queries:
        query = parse_search(text)
        best = fts5_search(reference, query)
        overlaps.setdefault(kind, []).append(_overlap(answers[text], best))
        if query.has_text:
            ratios.append(_score_ratio(reference, query, answers[text], best))
        if best and not answers[text]:
            empty.append(text)
    reference.close()
    medians = {q: sorted(s)[len(s) // 2] * 1000 for q, s in per_query.items()}
    slowest = dict(sorted(medians.items(), key=lambda kv: -kv[1])[:3])
    return FullTextResult(
        latencies,
        _mean([x for v in overlaps.values() for x in v]),
        {k: _mean(v) for k, v in overlaps.items()},
        _mean(ratios),
        slowest,
        empty,
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


# -- tantivy following the log -------------------------------------------------------------------


def rebuild(url: str, search_dir: str) -> dict[str, float]:
    """Build the local index from the table (what a new process does on first search)."""
    from storage.sql import PostgresDatabase
    from storage.store import Store

    store = Store(PostgresDatabase(url, search_dir))
    started = time.perf_counter()
    store.search_index.rebuild()
    seconds = time.perf_counter() - started
    store.close()
    return {"seconds": seconds, **bench_search.memory_mb()}


def store_search_run(url: str, search_dir: str, repeats: int) -> Latencies:
    """The mix through ``Store.search`` alone: the log check, tantivy and the papers' rows,
    what the choice of engine changes (the core adds the votes of each hit, on both)."""
    from storage.sql import PostgresDatabase
    from storage.store import Store

    store = Store(PostgresDatabase(url, search_dir))
    queries = [parse_search(text) for _, text in all_queries()]
    for query in queries:
        store.search(query)
    latencies = Latencies()
    for _ in range(repeats):
        for query in queries:
            started = time.perf_counter()
            store.search(query)
            latencies.add(time.perf_counter() - started)
    store.close()
    return latencies


def _own_process(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_pg_search", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the whole run ---------------------------------------------------------------------------------


def run(
    ours_db: Path,
    fts5_db: Path,
    repeats: int,
    work: Path,
    log: Callable[[str], None] = log,
    rankings: tuple[str, ...] = (RANKING,),
) -> dict:
    from tests.pg_server import PostgresServer

    server = PostgresServer(SERVER_SETTINGS).start()
    search_dir = work / "pg-search"
    shutil.rmtree(search_dir, ignore_errors=True)
    try:
        url = server.new_database()
        started = time.perf_counter()
        load = load_papers if ours_db.suffix == ".db" else load_snapshot
        papers = load(ours_db, url)
        load_seconds = time.perf_counter() - started
        log(f"PostgreSQL: {papers:,} papers copied in {load_seconds:.0f} s; building tsvectors")
        started = time.perf_counter()
        build_full_text(url)
        fts_build = time.perf_counter() - started
        log(f"tsvectors and GIN index in {fts_build:.0f} s; tantivy index from the table")
        rebuilt = _own_process("--rebuild", url, str(search_dir))
        log(f"index rebuilt in {rebuilt['seconds']:.0f} s; the mix through the core on PG")
        core = bench_search.run(
            ours_db,
            fts5_db,
            repeats=repeats,
            database_url=url,
            search_dir=str(search_dir),
        )
        store = store_search_run(url, str(search_dir), repeats)
        figures: dict = {
            "papers": papers,
            "load_seconds": load_seconds,
            "fts_build_seconds": fts_build,
            "rebuild": rebuilt,
            "tantivy_p50": core.ours.p50,
            "tantivy_p99": core.ours.p99,
            "tantivy_bare_p99": core.tantivy.p99,
            "store_p50": store.p50,
            "store_p99": store.p99,
            "tantivy_score_ratio": core.score_ratio,
            "tantivy_overlap": core.overlap,
            "full_text": {},
        }
        for ranking in rankings:
            log(f"the mix with PostgreSQL full-text search ({ranking})")
            fts = full_text_run(url, fts5_db, max(1, repeats - 1), ranking)
            figures["full_text"][ranking] = {
                "p50": fts.latencies.p50,
                "p99": fts.latencies.p99,
                "score_ratio": fts.score_ratio,
                "overlap": fts.overlap,
                "overlap_by_kind": fts.overlap_by_kind,
                "slowest": fts.slowest,
                "empty": fts.empty,
            }
        return figures
    finally:
        server.stop()


def main() -> None:
    if sys.argv[1] == "--rebuild":
        print(json.dumps(rebuild(sys.argv[2], sys.argv[3])))
        return
    ours_db, fts5_db, repeats, work = sys.argv[1:5]
    rankings = tuple(sys.argv[5].split(",")) if len(sys.argv) > 5 else (RANKING,)
    print(json.dumps(run(Path(ours_db), Path(fts5_db), int(repeats), Path(work), log, rankings)))


if __name__ == "__main__":
    main()
