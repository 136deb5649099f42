"""``make bench``: every performance figure, its target, and its baseline from the same run.

    python -m benchmarks.run            # 100k and 1M papers (corpora cached in .data/)
    python -m benchmarks.run --full     # and 2.7M papers, all of arXiv (bench-full)
    python -m benchmarks.run --quick    # tiny sizes: checks the code, proves nothing
    python -m benchmarks.run --only votes   # the vote figures alone (a few minutes)

Baselines are measured here, in this run, on this machine: a naive import (json.loads,
executemany, FTS5 rebuild) for import; raw FTS5 BM25 and bare tantivy for search, and
``/papers help`` for search through Slack HTTP; the rate-limit bound for fan-out; round 1's
figure for votes through Slack HTTP. Medians of repeats where a figure is cheap enough to repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import bench_bot, bench_discord_shards, bench_import, bench_postgres, bench_taste
from benchmarks.bench_startup import offline_prompt_seconds, startup_seconds
from benchmarks.corpus import ensure_snapshot

DATA = Path(__file__).resolve().parent / ".data"


@dataclass
class Row:
    figure: str
    measured: str
    target: str
    baseline: str = "—"
    ratio: str = "—"
    met: bool | None = None  # None: reported, no target

    def cells(self) -> list[str]:
        mark = {True: "yes", False: "**no**", None: "—"}[self.met]
        return [self.figure, self.measured, self.target, self.baseline, self.ratio, mark]


def table(rows: list[Row]) -> str:
    head = ["Figure", "Measured", "Target", "Baseline (same run)", "Ratio", "Met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _rate(x: float) -> str:
    return f"{x:,.0f}/s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


@dataclass
class Sizes:
    small: int  # import figure, repeated; the harsh corpus's search
    scale: int  # search, memory and start-up run on this many papers
    repeats: int
    votes: int
    slack_votes: int
    fan_papers: int
    fan_channels: int
    search_repeats: int
    larger: tuple[int, ...] = ()  # bench-full: import and search again at these sizes
    discord_guilds: int = 1_000  # over 2 shards, for the shard start time
    discord_posts: int = 100  # from each of 2 processes, under the shared REST budget
    workspaces: int = 1_000  # Slack workspaces installed on one deployment (issue 15)


FULL = Sizes(100_000, 1_000_000, 3, 20_000, 5_000, 10, 100, 5)
ARXIV = Sizes(100_000, 1_000_000, 3, 20_000, 5_000, 10, 100, 5, larger=(2_700_000,))
QUICK = Sizes(500, 1_000, 1, 300, 100, 2, 5, 1, discord_guilds=20, discord_posts=10, workspaces=4)
IMPORT_TARGET = 20_000  # papers/s at the scale size, and at most half the naive time
PREVIOUS_SLACK_VOTES = 1_081  # /s, README's round-1 table: the figure not to fall below
# SQLite figures of this run that PostgreSQL's rows are set beside.
SAME_RUN: dict[str, float] = {}
ROUND_PAPERS = 5  # new papers in the many-workspaces posting round


def bench_imports(sizes: Sizes, data: Path, work: Path) -> tuple[list[Row], Path, Path]:
    rows = []
    small = ensure_snapshot(data, sizes.small)
    ours_rates, naive_rates = [], []
    for i in range(sizes.repeats):
        log(f"import {sizes.small:,} papers, run {i + 1}/{sizes.repeats}: naive, then ours")
        naive_rates.append(bench_import.naive_import(small, work / "naive-small.db").rate)
        ours_rates.append(bench_import.paperboy_import(small, work / "ours-small.db").rate)
    ours, naive = statistics.median(ours_rates), statistics.median(naive_rates)
    SAME_RUN["import small"] = ours
    rows.append(
        Row(
            f"Import {sizes.small:,} papers, end to end incl. index (median of {sizes.repeats})",
            _rate(ours),
            "≥ 2× baseline",
            _rate(naive),
            f"{ours / naive:.2f}×",
            ours >= 2 * naive,
        )
    )
    changed, seconds = bench_import.reimport(work / "ours-small.db", small)
    rows.append(
        Row(
            "Second import of the same file",
            f"adds {changed} ({seconds:.0f} s to re-read)",
            "adds nothing",
            met=changed == 0,
        )
    )
    big_rows, ours_db, fts5_db = import_at(sizes.scale, data, work, "scale")
    return rows + big_rows, ours_db, fts5_db


def import_at(count: int, data: Path, work: Path, name: str) -> tuple[list[Row], Path, Path]:
    big = ensure_snapshot(data, count)
    log(f"import {count:,} papers: naive (FTS5), then ours (tantivy)")
    naive_big = bench_import.naive_import(big, work / f"naive-{name}.db")
    ours_big = bench_import.paperboy_import(big, work / f"ours-{name}.db")
    SAME_RUN[f"import {count}"] = ours_big.rate
    arxiv = 2_700_000 / ours_big.rate / 60
    ratio = ours_big.seconds / naive_big.seconds
    row = Row(
        f"Import {count:,} papers, end to end incl. index",
        f"{ours_big.seconds:.0f} s ({_rate(ours_big.rate)}; all of arXiv ≈ {arxiv:.1f} min)",
        f"≥ {IMPORT_TARGET:,}/s, ≤ 0.5× baseline time",
        f"{naive_big.seconds:.0f} s ({_rate(naive_big.rate)})",
        f"{ratio:.2f}× the time",
        ours_big.rate >= IMPORT_TARGET and ratio <= 0.5,
    )
    index_cpu = ours_big.cpu - ours_big.main_cpu
    cpu = Row(
        "the same, CPU seconds (parse and SQLite + index threads); load average at the end",
        f"{ours_big.cpu:.0f} s ({ours_big.main_cpu:.0f} + {index_cpu:.0f}); "
        f"load {ours_big.load:.1f}",
        "report",
        f"{naive_big.cpu:.0f} s, one thread; load {naive_big.load:.1f}",
        f"{ours_big.cpu / naive_big.cpu:.2f}× the CPU",
    )
    return [row, cpu], work / f"ours-{name}.db", work / f"naive-{name}.db"


def _json_of(module: str, *args: object) -> dict:
    """Run ``python -m module args`` in its own process (so memory figures are its own)
    and return the JSON of its last line."""
    out = subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_search(
    sizes: Sizes, ours_db: Path, fts5_db: Path, label: str = "", figures: dict | None = None
) -> list[Row]:
    """The search rows; ``figures`` (if given) receives the in-core figures."""
    n = f"{sizes.scale:,}"
    log(f"search mix on {n} papers{label}: ours, bare tantivy, raw FTS5 (own process)")
    r = _json_of("benchmarks.bench_search", ours_db, fts5_db, sizes.search_repeats)
    if figures is not None:
        figures.update(r)
    log(f"search mix on {n} papers{label} through Slack HTTP (own process)")
    slack_repeats = max(1, sizes.search_repeats - 2)
    slack = _json_of("benchmarks.bench_slack_search", ours_db, slack_repeats)
    log("the same with the bot in a process of its own, apart from the fake Slack")
    apart = _json_of("benchmarks.bench_slack_search", ours_db, slack_repeats, "--own-process")
    mix = f"{r['queries']} queries × {sizes.search_repeats}"
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in r["overlap_by_kind"].items())
    slowest = "; ".join(f"{q} {ms:.0f} ms" for q, ms in slack["slowest"].items())
    return [
        Row(
            f"Search p50 end to end through Slack HTTP, {n} papers{label} "
            f"({slack['queries']} queries × {slack['samples'] // slack['queries']})",
            _ms(slack["p50"]),
            "≤ 6 ms",
            f"/papers help {_ms(slack['help_p50'])}",
            f"{slack['p50'] / slack['help_p50']:.1f}× help",
            slack["p50"] <= 0.006,
        ),
        Row(
            f"Search p99 end to end through Slack HTTP{label} (slowest: {slowest})",
            _ms(slack["p99"]),
            "≤ 15 ms",
            f"/papers help {_ms(slack['help_p99'])}",
            f"{slack['p99'] / slack['help_p99']:.1f}× help",
            slack["p99"] <= 0.015,
        ),
        Row(
            f"The same, CPU time a search request{label}, the bot and the fake Slack "
            "together, p50 / p99 (the work, without the waits for a core)",
            f"{_ms(slack['cpu_p50'])} / {_ms(slack['cpu_p99'])}",
            "report",
        ),
        Row(
            f"The same, first ask of each query{label} (no common word remembered yet), p50 / p99",
            f"{_ms(slack['first_p50'])} / {_ms(slack['first_p99'])}",
            "report",
        ),
        Row(
            f"The same, the bot in its own process apart from the fake Slack{label}, "
            f"p50 / p99 (CPU a request: bot {apart['cpu_ms_bot']:.1f} ms, fake "
            f"{apart['cpu_ms_fake']:.1f} ms)",
            f"{_ms(apart['p50'])} / {_ms(apart['p99'])}",
            "report",
            f"/papers help {_ms(apart['help_p50'])} / {_ms(apart['help_p99'])}",
        ),
        Row(
            f"Search p50 through the core, {n} papers{label} ({mix})",
            _ms(r["ours_p50"]),
            "report",
            f"FTS5 {_ms(r['fts5_p50'])}",
            f"{r['fts5_p50'] / r['ours_p50']:.0f}× faster",
        ),
        Row(
            f"Search p99 through the core{label}",
            _ms(r["ours_p99"]),
            "≤ 10 ms",
            f"FTS5 {_ms(r['fts5_p99'])}; bare tantivy {_ms(r['tantivy_p99'])}",
            f"{r['fts5_p99'] / r['ours_p99']:.0f}× faster than FTS5",
            r["ours_p99"] <= 0.010,
        ),
        Row(
            f"The same, CPU time an ask{label}, p50 / p99 (the work, without the waits for a core)",
            f"{_ms(r['cpu_p50'])} / {_ms(r['cpu_p99'])}",
            "report",
        ),
        Row(
            f"The same, first ask of each query{label}, p50 / p99",
            f"{_ms(r['first_p50'])} / {_ms(r['first_p99'])}",
            "report",
        ),
        Row(
            f"Relevance{label}: exhaustive-BM25 score of our top 5 / of its top 5",
            f"{r['score_ratio']:.3f}",
            "≥ 0.95",
            "FTS5 BM25 = 1.000",
            met=r["score_ratio"] >= 0.95,
        ),
        Row(
            f"Relevance{label}: overlap@5 with exhaustive FTS5 BM25",
            f"{r['overlap']:.2f} ({kinds})",
            "report",
            "1.00",
        ),
        Row(
            f'Worst case{label}, not in the mix: `"of the" "in the" models` through Slack HTTP',
            f"{slack['worst_case_ms']:.0f} ms",
            "report",
        ),
        Row(
            f"Memory while searching {n} papers{label}: anonymous (peak resident set)",
            f"{r['rss_anon_mb']:.0f} MB ({r['peak_rss_mb']:.0f} MB)",
            "≤ 60 MB anonymous",
            f"Slack HTTP process {slack['rss_anon_mb']:.0f} MB ({slack['peak_rss_mb']:.0f} MB)",
            met=r["rss_anon_mb"] <= 60,
        ),
    ]


def _search_cell(p50: float, p99: float, score_ratio: float, overlap: float) -> str:
    return f"p50 {_ms(p50)}, p99 {_ms(p99)}, relevance {score_ratio:.3f} (overlap@5 {overlap:.2f})"


def bench_postgres_search(sizes: Sizes, ours_db: Path, fts5_db: Path, sqlite: dict) -> list[Row]:
    """Issue 14's choice, measured: paperboy's tantivy index following the log on PostgreSQL
    against PostgreSQL's own full-text search, beside ``sqlite``'s figures of this run."""
    from benchmarks.bench_pg_search import RANKING
    from tests.pg_server import find_bindir

    if find_bindir() is None:
        log("no PostgreSQL search figures: PostgreSQL is not installed")
        return []
    n = f"{sizes.scale:,}"
    log(f"search on PostgreSQL, {n} papers: tantivy following the log, and full-text search")
    work = ours_db.parent
    r = _json_of("benchmarks.bench_pg_search", ours_db, fts5_db, sizes.search_repeats, work)
    fts = r["full_text"][RANKING]
    empty = f"; no answer to {', '.join(fts['empty'])}" if fts["empty"] else ""
    slowest = "; ".join(f"{q} {ms:.0f} ms" for q, ms in fts["slowest"].items())
    rebuild = r["rebuild"]
    sqlite_cell = _search_cell(
        sqlite["ours_p50"], sqlite["ours_p99"], sqlite["score_ratio"], sqlite["overlap"]
    )
    return [
        Row(
            f"Search on PostgreSQL, tantivy following the log, through the core, {n} papers "
            f"(`Store.search` alone: p50 {_ms(r['store_p50'])}, p99 {_ms(r['store_p99'])})",
            _search_cell(
                r["tantivy_p50"], r["tantivy_p99"], r["tantivy_score_ratio"], r["tantivy_overlap"]
            ),
            "report (the choice)",
            f"SQLite: {sqlite_cell}",
            f"p99 {r['tantivy_p99'] / sqlite['ours_p99']:.1f}× SQLite's",
        ),
        Row(
            f"PostgreSQL full-text search, {n} papers: weighted tsvector + GIN, {RANKING}, "
            f"the SQL alone (slowest: {slowest}{empty})",
            _search_cell(fts["p50"], fts["p99"], fts["score_ratio"], fts["overlap"]),
            "report (the choice)",
            f"tantivy on PostgreSQL, `Store.search`: p50 {_ms(r['store_p50'])}, "
            f"p99 {_ms(r['store_p99'])}",
            f"p99 {fts['p99'] / r['store_p99']:.1f}× tantivy's",
        ),
        Row(
            f"Search index rebuild from PostgreSQL, {n} papers, streamed: time, "
            f"anonymous memory (peak resident set)",
            f"{rebuild['seconds']:.0f} s, {rebuild['rss_anon_mb']:.0f} MB "
            f"({rebuild['peak_rss_mb']:.0f} MB)",
            "report",
            f"load {r['load_seconds']:.0f} s (COPY); "
            f"tsvectors + GIN {r['fts_build_seconds']:.0f} s",
        ),
    ]


def postgres_votes(sizes: Sizes, work: Path) -> float | None:
    """Votes/s through the core into a private PostgreSQL (tests/pg_server.py); None, with
    the reason logged, where PostgreSQL is not installed."""
    from tests.pg_server import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        log(f"no PostgreSQL figures: {exc}")
        return None
    try:
        return statistics.median(
            asyncio.run(bench_bot.votes_core(work / "votes-pg", sizes.votes, server.new_database()))
            for _ in range(sizes.repeats)
        )
    finally:
        server.stop()


def bench_postgres_paths(sizes: Sizes, data: Path, work: Path, sqlite_db: Path) -> list[Row]:
    """Moving up and several processes on a private PostgreSQL (tests/pg_server.py), each
    beside SQLite's figure of this run; no rows, with the reason logged, without PostgreSQL."""
    from tests.pg_server import PostgresServer, PostgresUnavailable

    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        log(f"no PostgreSQL figures: {exc}")
        return []
    try:
        log(f"copy-to-postgres of the {sizes.scale:,}-paper SQLite database")
        copied = bench_postgres.copy_sqlite(sqlite_db, server.new_database())
        log(f"import {sizes.small:,} papers into PostgreSQL")
        imported = bench_postgres.import_snapshot(
            ensure_snapshot(data, sizes.small), server.new_database(), work / "pg-import-search"
        )
        log(
            f"fan-out with 3 processes on PostgreSQL: {sizes.fan_papers} papers to "
            f"{sizes.fan_channels} channels"
        )
        # Fresh: the bots append to their logs, and a log of an earlier run's posting
        # round would count as a second process posting.
        shutil.rmtree(work / "pg-fanout", ignore_errors=True)
        (work / "pg-fanout").mkdir()
        fan = asyncio.run(
            bench_postgres.fan_out_processes(
                server.new_database(), work / "pg-fanout", sizes.fan_papers, sizes.fan_channels
            )
        )
    finally:
        server.stop()
    sqlite_import = SAME_RUN[f"import {sizes.scale}"]
    copy_rate = copied.papers / copied.seconds
    small_import = SAME_RUN["import small"]
    return [
        Row(
            f"`copy-to-postgres` of the {sizes.scale:,}-paper SQLite database (COPY per "
            "10,000 rows, every table, count check)",
            f"{copied.seconds:.0f} s: {copy_rate:,.0f} papers/s, "
            f"{copied.rows / copied.seconds:,.0f} rows/s in all; counts "
            f"{'match' if copied.counts_match else 'DIFFER'}",
            "report; counts match",
            f"import into SQLite {_rate(sqlite_import)}",
            f"{copy_rate / sqlite_import:.1f}×",
            copied.counts_match,
        ),
        Row(
            f"Import {sizes.small:,} papers into PostgreSQL, end to end incl. index (COPY per "
            "batch)",
            _rate(imported.rate),
            "report",
            f"SQLite {_rate(small_import)} (median of {sizes.repeats})",
            f"{imported.rate / small_import:.2f}×",
        ),
        Row(
            f"Fan-out on PostgreSQL: 3 `paperboy run` processes, {sizes.fan_papers} papers × "
            f"{sizes.fan_channels} channels, 1 msg/s/channel, 50 ms answers",
            f"{fan.seconds:.1f} s, {fan.posted}/{fan.expected} posted, "
            f"{fan.posters} process posted, {fan.rate_limited} 429s",
            "≤ 1.2× bound",
            f"bound {fan.bound:.0f} s; 1 process on SQLite {SAME_RUN['fan-out']:.1f} s",
            f"{fan.seconds / fan.bound:.2f}×",
            fan.seconds <= 1.2 * fan.bound and fan.posted == fan.expected and fan.posters == 1,
        ),
    ]


def bench_harsh(sizes: Sizes, data: Path, work: Path) -> list[Row]:
    """The search figures again on the harsh corpus: common words 2.2× as common."""
    snapshot = ensure_snapshot(data, sizes.small, skew="harsh")
    log(f"harsh corpus, {sizes.small:,} papers: naive and ours imports for the search figures")
    bench_import.naive_import(snapshot, work / "naive-harsh.db")
    bench_import.paperboy_import(snapshot, work / "ours-harsh.db")
    harsh = Sizes(**{**sizes.__dict__, "scale": sizes.small})
    return bench_search(
        harsh, work / "ours-harsh.db", work / "naive-harsh.db", label=" (harsh corpus)"
    )


def bench_votes(sizes: Sizes, work: Path) -> list[Row]:
    """Votes through the core on SQLite and on PostgreSQL (same run), and through Slack HTTP."""
    rows = []
    log("votes through the core and through Slack HTTP")
    core = statistics.median(
        asyncio.run(bench_bot.votes_core(work / "votes.db", sizes.votes))
        for _ in range(sizes.repeats)
    )
    rows.append(
        Row(
            f"Votes through the core, memory adapter ({sizes.votes:,} events, median "
            f"of {sizes.repeats})",
            _rate(core),
            "≥ 5,000/s",
            met=core >= 5000,
        )
    )
    pg = postgres_votes(sizes, work)
    if pg is not None:
        rows.append(
            Row(
                f"Votes through the core on PostgreSQL, server on this machine "
                f"({sizes.votes:,} events, median of {sizes.repeats})",
                _rate(pg),
                "≥ 3,000/s",
                baseline=f"SQLite {_rate(core)}",
                ratio=f"{pg / core:.2f}×",
                met=pg >= 3000,
            )
        )
    slack = statistics.median(
        asyncio.run(bench_bot.votes_slack_http(work / "slack.db", sizes.slack_votes))
        for _ in range(sizes.repeats)
    )
    rows.append(
        Row(
            f"Votes through Slack HTTP, signed, fake Slack on loopback "
            f"({sizes.slack_votes:,} events, median of {sizes.repeats})",
            _rate(slack),
            "≥ 1,000/s, not below round 1",
            f"round 1: {_rate(PREVIOUS_SLACK_VOTES)}",
            f"{slack / PREVIOUS_SLACK_VOTES:.2f}×",
            slack >= max(1000, PREVIOUS_SLACK_VOTES),
        )
    )
    return rows


def bench_bot_paths(sizes: Sizes, ours_db: Path, work: Path) -> list[Row]:
    log("start-up to ready")
    start = startup_seconds(ours_db)
    rows = [
        Row(
            f"Start-up to ready, {sizes.scale:,}-paper database (median of 3)",
            f"{start:.2f} s",
            "≤ 2 s",
            met=start <= 2.0,
        )
    ]
    log("offline console start to prompt")
    offline = offline_prompt_seconds(work)
    rows.append(
        Row(
            "Offline start to prompt: `paperboy run` console, fresh database, sources "
            "unreachable (median of 3)",
            f"{offline:.2f} s",
            "≤ 2 s",
            met=offline <= 2.0,
        )
    )
    rows += bench_votes(sizes, work)
    log(f"fan-out: {sizes.fan_papers} papers to {sizes.fan_channels} channels")
    fan = asyncio.run(bench_bot.fan_out(work / "fanout.db", sizes.fan_papers, sizes.fan_channels))
    ok = fan.seconds <= 1.2 * fan.bound and fan.posted == fan.expected
    SAME_RUN["fan-out"] = fan.seconds
    rows.append(
        Row(
            f"Fan-out: {sizes.fan_papers} papers × {sizes.fan_channels} channels, 1 "
            f"msg/s/channel, 50 ms answers",
            f"{fan.seconds:.1f} s, {fan.posted}/"
            f"{fan.expected} posted, {fan.rate_limited} 429s (all retried)",
            "≤ 1.2× bound",
            f"bound {fan.bound:.0f} s",
            f"{fan.seconds / fan.bound:.2f}×",
            ok,
        )
    )
    return rows


def bench_discord(sizes: Sizes, work: Path, quick: bool) -> list[Row]:
    # Quick: Discord's 5 s between IDENTIFYs and discord.py's 2 s wait for guilds shortened.
    pacing = {"identify_interval": 0.2, "guild_ready_timeout": 0.05} if quick else {}
    guilds = sizes.discord_guilds
    log(f"Discord shard start: {guilds:,} guilds over 2 shards, 2 processes")
    start = asyncio.run(bench_discord_shards.shard_start(work, guilds, **pacing))
    bound = start.bound + start.guild_wait
    log(f"Discord REST budget: {sizes.discord_posts} posts from each of 2 processes")
    posting = asyncio.run(bench_discord_shards.shared_posting(work, sizes.discord_posts))
    return [
        Row(
            f"Discord shard start time: {guilds:,} guilds over 2 shards, 2 processes on one "
            "database, fake Discord (max_concurrency 1)",
            f"{start.seconds:.2f} s ({start.guilds_seen:,} guilds, "
            f"{start.refused} IDENTIFYs refused)",
            "report; every guild, none refused",
            f"bound {bound:.2f} s ({start.bound:.2f} s IDENTIFY pacing + "
            f"{start.guild_wait:.2f} s guild wait)",
            f"{start.seconds / bound:.2f}×",
            start.guilds_seen == guilds and start.refused == 0,
        ),
        Row(
            f"Discord REST from 2 processes sharing the budget: {posting.posts} posts at once",
            f"{posting.seconds:.1f} s ({posting.posts / posting.seconds:.0f}/s), busiest "
            f"second {posting.busiest_second}, {posting.global_refusals} global 429s",
            "≤ 50 requests in any second",
            "Discord's global 50/s",
            f"{posting.busiest_second / 50:.2f}×",
            posting.busiest_second <= 50 and posting.global_refusals == 0,
        ),
    ]


class Results:
    """The rows so far, each part's shown on stderr and saved to ``path`` as soon as it is
    measured: a run of an hour or more is not lost to a failure near its end, and one part
    failing is a row saying so, not the end of the run."""

    def __init__(self, path: Path) -> None:
        self.rows: list[Row] = []
        self.path = path
        path.write_text(table([]) + "\n")

    def add(self, rows: list[Row]) -> None:
        self.rows += rows
        self.path.write_text(table(self.rows) + "\n")
        for row in rows:
            log("| " + " | ".join(row.cells()) + " |")

    def part(self, name: str, measure: Callable[[], list[Row]]) -> None:
        try:
            rows = measure()
        except Exception as exc:
            log(f"{name} failed:\n{traceback.format_exc()}")
            rows = [Row(f"{name}: failed ({exc.__class__.__name__}: {exc})", "—", "—", met=False)]
        self.add(rows)


def everything(sizes: Sizes, data: Path, work: Path, *, harsh: bool, quick: bool) -> list[Row]:
    results = Results(work / "results.md")
    rows, ours_db, fts5_db = bench_imports(sizes, data, work)  # everything else needs these
    results.add(rows)
    by_size: dict[int, dict] = {sizes.small: {}, sizes.scale: {}}
    results.part(
        "search", lambda: bench_search(sizes, ours_db, fts5_db, figures=by_size[sizes.scale])
    )
    small = Sizes(**{**sizes.__dict__, "scale": sizes.small})
    results.part(
        f"search at {sizes.small:,} papers",
        lambda: bench_search(
            small, work / "ours-small.db", work / "naive-small.db", figures=by_size[sizes.small]
        ),
    )
    results.part(
        "search on PostgreSQL",
        lambda: bench_postgres_search(sizes, ours_db, fts5_db, by_size[sizes.scale]),
    )
    if harsh:
        results.part("harsh corpus", lambda: bench_harsh(sizes, data, work))
    results.part("bot paths", lambda: bench_bot_paths(sizes, ours_db, work))
    results.part("PostgreSQL paths", lambda: bench_postgres_paths(sizes, data, work, ours_db))
    results.part("many workspaces", lambda: bench_many_workspaces(sizes, work))
    results.part("taste", lambda: bench_taste.table_rows(quick, Row, log))
    results.part("Discord shards", lambda: bench_discord(sizes, work, quick))
    for count in sizes.larger:
        by_size[count] = {}
        results.part(
            f"{count:,} papers",
            lambda count=count: bench_larger(sizes, data, work, count, by_size[count]),
        )
    results.part("growth", lambda: [growth_row(by_size)])
    return results.rows


def bench_larger(sizes: Sizes, data: Path, work: Path, count: int, figures: dict) -> list[Row]:
    """Import and search again at ``count`` papers (bench-full: all of arXiv)."""
    rows, ours_big, fts5_big = import_at(count, data, work, f"{count}")
    larger = Sizes(**{**sizes.__dict__, "scale": count})
    return rows + bench_search(larger, ours_big, fts5_big, figures=figures)


def growth_row(by_size: dict[int, dict]) -> Row:
    """How search through the core costs more as the corpus grows: its p99 should grow
    less than the number of papers does, step by step."""
    sizes = sorted(n for n, r in by_size.items() if r)
    cells = [
        f"{n:,}: {_ms(by_size[n]['ours_p50'])} / {_ms(by_size[n]['ours_p99'])} "
        f"(CPU {_ms(by_size[n]['cpu_p50'])} / {_ms(by_size[n]['cpu_p99'])})"
        for n in sizes
    ]
    steps = [
        (a, b, by_size[b]["cpu_p99"] / by_size[a]["cpu_p99"]) for a, b in itertools.pairwise(sizes)
    ]
    return Row(
        "How search cost grows: p50 / p99 through the core at each size (CPU time an ask)",
        "; ".join(cells),
        "p99 grows less than linearly",
        "; ".join(f"{b / a:.0f}× the papers" for a, b, _ in steps),
        "; ".join(f"CPU p99 {g:.1f}×" for _, _, g in steps),
        bool(steps) and all(g < b / a for a, b, g in steps),
    )


def bench_many_workspaces(sizes: Sizes, work: Path) -> list[Row]:
    """Issue 15: OAuth installs, a posting round and memory, for many Slack workspaces on
    two processes sharing PostgreSQL; none where PostgreSQL is not installed."""
    from tests.pg_server import find_bindir

    if find_bindir() is None:
        log("no many-workspaces figures: PostgreSQL is not installed")
        return []
    n = sizes.workspaces
    log(f"{n:,} Slack workspaces on two processes and PostgreSQL (own process)")
    r = _json_of("benchmarks.bench_many_workspaces", work / "many-workspaces", n, ROUND_PAPERS)
    ratio = r["round_seconds"] / r["bound"]
    return [
        Row(
            f"Slack install flow, {n:,} workspaces: full OAuth round trips (install page, "
            "fake Slack's oauth.v2.access, redirect) at two processes on PostgreSQL",
            f"{r['installs_per_second']:.0f}/s",
            "report",
        ),
        Row(
            f"Posting round: {ROUND_PAPERS} new papers to {n:,} Slack channels (one per "
            "workspace), first post to last",
            f"{r['round_seconds']:.1f} s ({r['round_posts']:,} posts, {r['round_cpu']:.1f} CPU s)",
            "≤ 1.2× bound",
            f"bound {r['bound']:.0f} s (the larger of Discord's 50 req/s for as many guilds "
            f"and Slack's 1 msg/s per channel: {r['slack_bound']:.0f} s)",
            f"{ratio:.2f}×",
            ratio <= 1.2,
        ),
        Row(
            "Memory per 1,000 installed Slack workspaces (RSS of both processes, before and "
            "after the installs)",
            f"{r['rss_per_1000_mib']:.1f} MiB",
            "report",
            f"both processes {r['rss_after_mib']:.0f} MiB",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="where corpora and databases go (default benchmarks/.data)",
    )
    parser.add_argument(
        "--full", action="store_true", help="also 2,700,000 papers (all of arXiv), once"
    )
    parser.add_argument("--no-harsh", action="store_true", help="skip the harsh corpus")
    parser.add_argument(
        "--only",
        choices=["votes"],
        help="only these figures (votes: through the core on SQLite and PostgreSQL, and "
        "through Slack HTTP; a few minutes)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else ARXIV if args.full else FULL
    data: Path = args.data
    work = data / ("quick" if args.quick else "work")
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    if args.only == "votes":
        rows = bench_votes(sizes, work)
    else:
        rows = everything(sizes, data, work, harsh=not args.no_harsh, quick=args.quick)
    minutes = (time.perf_counter() - started) / 60
    print(
        f"\npaperboy benchmarks, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores, load average at the start "
        f"{load_at_start:.1f}, at the end {os.getloadavg()[0]:.1f}, {minutes:.0f} min\n"
    )
    print(table(rows))
    missed = [r.figure for r in rows if r.met is False]
    print(
        f"\n{len(rows) - len(missed)} of {len(rows)} rows met or reported; missed: "
        f"{'; '.join(missed) if missed else 'none'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
