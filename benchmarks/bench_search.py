"""Search at scale: ``/papers search`` through the core against raw FTS5 and bare tantivy.

Three ways to answer the same fixed mix of queries, timed in the same run:

* ours: the whole core, ``MemoryAdapter.command("search ...")``: parse, query, votes per
  hit, the reply (with Hugging Face stubbed out: no network in a benchmark);
* raw SQLite: the FTS5 query paperboy used to run, ``ORDER BY bm25(...)``, over a database
  of the same papers built by the naive import;
* bare tantivy: the same compiled query straight to the engine, top 5 rowids.

Relevance: overlap@5 of ours against the exhaustive FTS5 BM25 top 5 (near-ties may go to
newer papers, so a little below 1.0 is expected).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from adapters.heap import settled_heap
from adapters.memory import MemoryAdapter
from benchmarks.corpus import query_vocabulary
from bot.config import Settings
from bot.core import Bot
from bot.model.ids import canonical_id
from bot.model.search_query import SearchQuery, parse_search
from bot.replies import Error, PaperList
from storage.connect import open_database
from storage.store import Store


def query_mix(seed: int = 7) -> dict[str, list[str]]:
    """The fixed mix: what people type, by kind. Same seed, same queries.

    The common words and pairs are among the most common content words of real ML
    abstracts (``benchmarks/word_frequencies.json``: "models" in 66 % of papers, "model"
    57 %, "training" 46 %, "data" 32 %), which the corpus is generated to."""
    vocab = query_vocabulary()
    rng = random.Random(seed)
    rare = rng.sample(vocab["rare"], 6)
    mid = rng.sample(vocab["mid"], 2)
    common = [
        "model",
        "models",
        "training",
        "data",
        "language",
        "learning",
        "performance",
        "results",
        "framework",
        "model training",
        "language models",
        "training data",
        "large language",
        "performance results",
    ]
    phrases = [
        '"of the"',
        '"the model"',
        '"language models"',
        '"neural network"',
        '"large language model"',
        '"dark matter"',
        '"black hole"',
        '"quantum error correction"',
    ]
    multi = [
        "graph neural network robustness",
        "quantum circuits noise fidelity",
        "galaxy cluster redshift survey",
        "diffusion models sampling",
        "reinforcement learning reward model",
        "efficient training of large language models",
        f"learning {rare[0]}",
        f"transformer {mid[0]} attention",
    ]
    filtered = [
        "diffusion author:wang",
        "transformer cat:cs.CL",
        "quantum since:2024-01-01",
        "learning author:smith since:2020-01-01",
        '"dark matter" cat:astro-ph.CO',
        "cat:math.PR since:2023-06-01",
        f"{mid[1]} cat:cs.LG",
        "model author:li",
        "training data cat:cs.LG",
        "language models since:2025-01-01",
        '"the model" author:wang',
    ]
    return {
        "rare": rare + mid,
        "common": common,
        "phrase": phrases,
        "multi": multi,
        "filtered": filtered,
    }


# Not in the mix, timed apart: phrases of words nearly every paper has, and a common word.
WORST_CASE = '"of the" "in the" models'


def all_queries() -> list[tuple[str, str]]:
    return [(kind, q) for kind, qs in query_mix().items() for q in qs]


@dataclass
class Latencies:
    samples: list[float] = field(default_factory=list)  # seconds

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def pct(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return self.pct(99)


# -- raw SQLite FTS5: the query paperboy ran before ----------------------------------------


def fts5_search(conn: sqlite3.Connection, query: SearchQuery, limit: int = 5) -> list[str]:
    where, params = [], []
    if query.category:
        where.append("(' ' || p.categories || ' ') LIKE ?")
        params.append(f"% {query.category} %")
    if query.since:
        where.append("p.published >= ?")
        params.append(query.since)
    if query.has_text:
        sql = (
            "SELECT p.id FROM papers_fts f JOIN papers p ON p.rowid = f.rowid "
            "WHERE papers_fts MATCH ? "
            + "".join(f"AND {w} " for w in where)
            + "ORDER BY bm25(papers_fts, 10.0, 1.0, 3.0), p.published DESC LIMIT ?"
        )
        params = [query.fts_match(), *params, limit]
    else:
        sql = (
            "SELECT p.id FROM papers p "
            + ("WHERE " + " AND ".join(where) + " " if where else "")
            + "ORDER BY p.published DESC LIMIT ?"
        )
        params = [*params, limit]
    return [r[0] for r in conn.execute(sql, params)]


# -- ours, through the core ------------------------------------------------------------------


class _Sources:
    """No remote source to search or look up: the benchmark times our side only."""

    searchable: ClassVar[list] = []

    def paper_id(self, text: str) -> str | None:
        return canonical_id(text)

    def __iter__(self):
        return iter(())

    async def aclose(self) -> None:
        return None


def core_chat(
    db_path: Path, database_url: str = "", search_dir: str = ""
) -> tuple[MemoryAdapter, Store]:
    """The core on the SQLite file, or on PostgreSQL when ``database_url`` is given (its
    search index then in ``search_dir``)."""
    store = Store(open_database(str(db_path), database_url, search_dir))
    settings = Settings(db_path=str(db_path), database_url=database_url, search_dir=search_dir)
    bot = Bot(store, _Sources(), settings)  # type: ignore[arg-type]
    return MemoryAdapter(bot), store


@dataclass
class SearchResult:
    ours: Latencies
    fts5: Latencies
    tantivy: Latencies
    overlap: float  # mean overlap@5 against FTS5 BM25
    overlap_by_kind: dict[str, float]
    score_ratio: float  # FTS5 BM25 of our top 5 / of its own top 5: 1.0 is as relevant
    worst_case_ms: float = 0.0
    first: Latencies = field(default_factory=Latencies)
    cpu: Latencies = field(default_factory=Latencies)
    rss_anon_mb: float = 0.0
    peak_rss_mb: float = 0.0


def run(
    ours_db: Path,
    fts5_db: Path | None,
    repeats: int = 5,
    fts5_repeats: int = 1,
    log: Callable[[str], None] = print,
    database_url: str = "",
    search_dir: str = "",
) -> SearchResult:
    """Time every query ``repeats`` times through the core and bare tantivy (after one
    warm-up each), and ``fts5_repeats`` times with FTS5 (slow: hundreds of ms each).
    With ``database_url``, the core's store is that PostgreSQL database instead."""
    chat, store = core_chat(ours_db, database_url, search_dir)
    queries = all_queries()
    loop = asyncio.new_event_loop()
    ours, bare, fts = Latencies(), Latencies(), Latencies()
    # CPU time of the same asks (the search runs on this thread): the work itself, without
    # the waits for a core that a loaded machine adds to every figure above.
    cpu = Latencies()
    index = store.search_index
    heap = contextlib.ExitStack()  # as the running bot has it (adapters.launch)
    heap.enter_context(settled_heap())

    def ask(text: str) -> list[str]:
        reply = loop.run_until_complete(chat.command("search " + text))
        if isinstance(reply, Error) and "went wrong" in reply.message:
            raise RuntimeError(f"search {text!r} failed: see the log")  # not a figure
        return [p.paper.id for p in reply.papers] if isinstance(reply, PaperList) else []

    first = Latencies()  # each query's first ask: no common word remembered yet
    answers = {}  # warm-up, and what ours answered
    for _, text in queries:
        started = time.perf_counter()
        answers[text] = ask(text)
        first.add(time.perf_counter() - started)
    for _ in range(repeats):
        for _, text in queries:
            started, cpu_started = time.perf_counter(), time.thread_time()
            ask(text)
            ours.add(time.perf_counter() - started)
            cpu.add(time.thread_time() - cpu_started)
            compiled = index.compile(parse_search(text))
            started = time.perf_counter()
            searcher = index.index.searcher()
            if compiled is not None:
                hits = searcher.search(compiled, 5, count=False).hits
                searcher.fast_field_values("rowid", [a for _, a in hits])
            bare.add(time.perf_counter() - started)

    worst = Latencies()
    for _ in range(3):
        started = time.perf_counter()
        ask(WORST_CASE)
        worst.add(time.perf_counter() - started)
    memory = memory_mb()  # the bot's own footprint, before FTS5 adds its page cache
    heap.close()
    loop.close()
    store.db.close()
    overlaps: dict[str, list[float]] = {}
    ratios: list[float] = []
    if fts5_db is not None:
        conn = sqlite3.connect(f"file:{fts5_db}?mode=ro", uri=True)
        for _ in range(fts5_repeats):
            for kind, text in queries:
                query = parse_search(text)
                started = time.perf_counter()
                reference = fts5_search(conn, query)
                fts.add(time.perf_counter() - started)
                overlaps.setdefault(kind, []).append(_overlap(answers[text], reference))
        for _, text in queries:
            query = parse_search(text)
            if query.has_text:
                ratios.append(_score_ratio(conn, query, answers[text], fts5_search(conn, query)))
        conn.close()
    by_kind = {k: statistics.mean(v) for k, v in overlaps.items()}
    mean = statistics.mean(x for v in overlaps.values() for x in v) if overlaps else float("nan")
    ratio = statistics.mean(ratios) if ratios else float("nan")
    return SearchResult(
        ours, fts, bare, mean, by_kind, ratio, worst.p50 * 1000, first, cpu, **memory
    )


def _overlap(ours: list[str], reference: list[str]) -> float:
    if not reference:
        return 1.0 if not ours else 0.0
    return len(set(ours) & set(reference)) / len(reference)


def _score_ratio(
    conn: sqlite3.Connection, query: SearchQuery, ours: list[str], reference: list[str]
) -> float:
    """How good our top 5 is by exhaustive FTS5 BM25 itself: the sum of their scores over
    the sum of the best possible. Unlike set overlap, it does not punish a near-tie that
    went the other way."""

    def scores(ids: list[str]) -> float:
        if not ids:
            return 0.0
        marks = ",".join("?" * len(ids))
        sql = (
            "SELECT -bm25(papers_fts, 10.0, 1.0, 3.0) FROM papers_fts f JOIN papers p "
            f"ON p.rowid = f.rowid WHERE papers_fts MATCH ? AND p.id IN ({marks})"
        )
        return sum(r[0] for r in conn.execute(sql, [query.fts_match(), *ids]))

    best = scores(reference)
    return scores(ours) / best if best > 0 else 1.0


def memory_mb() -> dict[str, float]:
    """This process's anonymous memory (heap: what caching can grow) and peak resident set
    (which also counts the pages of the memory-mapped index the searches touched)."""
    figures = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("RssAnon", "VmHWM", "VmRSS"):
                figures[name] = int(value.split()[0]) / 1024
    return {"rss_anon_mb": figures["RssAnon"], "peak_rss_mb": figures["VmHWM"]}


def main() -> None:
    """``python -m benchmarks.bench_search OURS_DB [FTS5_DB] [REPEATS]``: one JSON line.

    Run in its own process so the resident-set figure is the search's alone."""
    import json
    import sys

    ours_db = Path(sys.argv[1])
    fts5_db = Path(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "-" else None
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    r = run(ours_db, fts5_db, repeats=repeats)
    print(
        json.dumps(
            {
                "ours_p50": r.ours.p50,
                "ours_p99": r.ours.p99,
                "cpu_p50": r.cpu.p50,
                "cpu_p99": r.cpu.p99,
                "first_p50": r.first.p50,
                "first_p99": r.first.p99,
                "tantivy_p50": r.tantivy.p50,
                "tantivy_p99": r.tantivy.p99,
                "fts5_p50": r.fts5.p50 if r.fts5.samples else None,
                "fts5_p99": r.fts5.p99 if r.fts5.samples else None,
                "overlap": r.overlap,
                "overlap_by_kind": r.overlap_by_kind,
                "score_ratio": r.score_ratio,
                "worst_case_ms": r.worst_case_ms,
                "rss_anon_mb": r.rss_anon_mb,
                "peak_rss_mb": r.peak_rss_mb,
                "queries": len(all_queries()),
                "samples": len(r.ours.samples),
            }
        )
    )


if __name__ == "__main__":
    main()
