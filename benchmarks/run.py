"""``make bench``: every performance figure, its target, and its baseline from the same run.

    python -m benchmarks.run            # 100k and 1M papers (corpora cached in .data/)
    python -m benchmarks.run --quick    # tiny sizes: checks the code, proves nothing

Baselines are measured here, in this run, on this machine: a naive import (json.loads,
executemany, FTS5 rebuild) for import; raw FTS5 BM25 and bare tantivy for search; the
rate-limit bound for fan-out. Medians of repeats where a figure is cheap enough to repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import bench_bot, bench_import, bench_taste
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
    small: int  # import figure, repeated
    scale: int  # search, memory and start-up run on this many papers
    repeats: int
    votes: int
    slack_votes: int
    fan_papers: int
    fan_channels: int
    search_repeats: int


FULL = Sizes(100_000, 1_000_000, 3, 20_000, 5_000, 10, 100, 5)
QUICK = Sizes(500, 1_000, 1, 300, 100, 2, 5, 1)


def bench_imports(sizes: Sizes, data: Path, work: Path) -> tuple[list[Row], Path, Path]:
    rows = []
    small = ensure_snapshot(data, sizes.small)
    ours_rates, naive_rates = [], []
    for i in range(sizes.repeats):
        log(f"import {sizes.small:,} papers, run {i + 1}/{sizes.repeats}: naive, then ours")
        naive_rates.append(bench_import.naive_import(small, work / "naive-small.db").rate)
        ours_rates.append(bench_import.paperboy_import(small, work / "ours-small.db").rate)
    ours, naive = statistics.median(ours_rates), statistics.median(naive_rates)
    rows.append(
        Row(
            f"Import {sizes.small:,} papers, end to end incl. index (median of {sizes.repeats})",
            _rate(ours),
            "≥ baseline",
            _rate(naive),
            f"{ours / naive:.2f}×",
            ours >= naive,
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

    big = ensure_snapshot(data, sizes.scale)
    log(f"import {sizes.scale:,} papers: naive (FTS5), then ours (tantivy)")
    naive_big = bench_import.naive_import(big, work / "naive-scale.db")
    ours_big = bench_import.paperboy_import(big, work / "ours-scale.db")
    arxiv = 2_700_000 / ours_big.rate / 60
    rows.append(
        Row(
            f"Import {sizes.scale:,} papers, end to end incl. index",
            f"{ours_big.seconds:.0f} s ({_rate(ours_big.rate)}; all of arXiv ≈ {arxiv:.1f} min)",
            "≥ baseline",
            f"{naive_big.seconds:.0f} s ({_rate(naive_big.rate)})",
            f"{ours_big.rate / naive_big.rate:.2f}×",
            ours_big.rate >= naive_big.rate,
        )
    )
    return rows, work / "ours-scale.db", work / "naive-scale.db"


def bench_search(sizes: Sizes, ours_db: Path, fts5_db: Path) -> list[Row]:
    log(f"search mix on {sizes.scale:,} papers: ours, bare tantivy, raw FTS5 (own process)")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_search",
            str(ours_db),
            str(fts5_db),
            str(sizes.search_repeats),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    n = f"{sizes.scale:,}"
    mix = f"{r['queries']} queries × {sizes.search_repeats}"
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in r["overlap_by_kind"].items())
    return [
        Row(
            f"Search p50 through the core, {n} papers ({mix})",
            _ms(r["ours_p50"]),
            "≤ 10 ms",
            f"FTS5 {_ms(r['fts5_p50'])}",
            f"{r['fts5_p50'] / r['ours_p50']:.0f}× faster",
            r["ours_p50"] <= 0.010,
        ),
        Row(
            "Search p99 through the core",
            _ms(r["ours_p99"]),
            "≤ 30 ms",
            f"FTS5 {_ms(r['fts5_p99'])}",
            f"{r['fts5_p99'] / r['ours_p99']:.0f}× faster",
            r["ours_p99"] <= 0.030,
        ),
        Row(
            "Search p50 vs bare tantivy, same queries",
            _ms(r["ours_p50"]),
            "≤ 2× tantivy",
            f"tantivy {_ms(r['tantivy_p50'])}",
            f"{r['ours_p50'] / r['tantivy_p50']:.2f}×",
            r["ours_p50"] <= 2 * r["tantivy_p50"],
        ),
        Row(
            "Search p99 vs bare tantivy, same queries",
            _ms(r["ours_p99"]),
            "≤ 2× tantivy",
            f"tantivy {_ms(r['tantivy_p99'])}",
            f"{r['ours_p99'] / r['tantivy_p99']:.2f}×",
            r["ours_p99"] <= 2 * r["tantivy_p99"],
        ),
        Row(
            "Relevance: exhaustive-BM25 score of our top 5 / of its top 5",
            f"{r['score_ratio']:.3f}",
            "as relevant (≥ 0.95)",
            "FTS5 BM25 = 1.000",
            met=r["score_ratio"] >= 0.95,
        ),
        Row(
            "Relevance: overlap@5 with exhaustive FTS5 BM25",
            f"{r['overlap']:.2f} ({kinds})",
            "report",
            "1.00",
        ),
        Row(
            'Worst case, not in the mix: phrase "of the"', f"{r['worst_case_ms']:.0f} ms", "report"
        ),
        Row(
            f"Resident set while searching {n} papers",
            f"{r['rss_mb']:.0f} MB",
            "≤ 200 MB",
            met=r["rss_mb"] <= 200,
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
            f"({sizes.slack_votes:,} events)",
            _rate(slack),
            "≥ 1,000/s",
            met=slack >= 1000,
        )
    )
    log(f"fan-out: {sizes.fan_papers} papers to {sizes.fan_channels} channels")
    fan = asyncio.run(bench_bot.fan_out(work / "fanout.db", sizes.fan_papers, sizes.fan_channels))
    ok = fan.seconds <= 1.2 * fan.bound and fan.posted == fan.expected
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke run)")
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="where corpora and databases go (default benchmarks/.data)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    data: Path = args.data
    work = data / ("quick" if args.quick else "work")
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    rows, ours_db, fts5_db = bench_imports(sizes, data, work)
    rows += bench_search(sizes, ours_db, fts5_db)
    rows += bench_bot_paths(sizes, ours_db, work)
    rows += bench_taste.table_rows(args.quick, Row, log)
    minutes = (time.perf_counter() - started) / 60
    print(
        f"\npaperboy benchmarks, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores, load average at the end "
        f"{os.getloadavg()[0]:.1f}, {minutes:.0f} min\n"
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
