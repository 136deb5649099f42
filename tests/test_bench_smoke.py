"""``make bench`` at tiny sizes: the benchmark code runs end to end and prints its table.

Nothing here is timed or compared: on a handful of papers the figures mean nothing, and a
shared test machine makes any timing assertion flaky. ``make bench`` is where they count.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from benchmarks import run, word_frequencies
from benchmarks.bench_import import naive_import, paperboy_import
from benchmarks.bench_search import all_queries, query_mix
from benchmarks.corpus import Corpus, ensure_snapshot, write_snapshot
from storage.bulk_import import parse_snapshot_line
from tests.pg_server import find_bindir


def test_the_corpus_is_deterministic_and_in_snapshot_format(tmp_path) -> None:
    a = write_snapshot(tmp_path / "a.jsonl", 50, seed=3).read_bytes()
    b = write_snapshot(tmp_path / "b.jsonl.gz", 50, seed=3)
    import gzip

    assert gzip.decompress(b.read_bytes()) == a
    assert write_snapshot(tmp_path / "c.jsonl", 50, seed=4).read_bytes() != a
    lines = a.decode().splitlines()
    papers = [parse_snapshot_line(line) for line in lines]
    assert len({p.id for p in papers}) == 50
    assert [p.published for p in papers] == sorted(p.published for p in papers)
    record = json.loads(lines[-1])
    assert {
        "id",
        "title",
        "abstract",
        "authors",
        "authors_parsed",
        "categories",
        "versions",
        "update_date",
    } <= set(record)
    assert 30 <= len(record["abstract"].split()) <= 400


def test_common_words_are_as_common_as_in_real_abstracts() -> None:
    """The corpus is generated to the measured table: each common word in its share of
    papers (within sampling noise), and the harsh variant about twice as often."""
    table = word_frequencies.load()["words"]
    n = 1000

    def document_frequencies(skew: str) -> Counter[str]:
        df: Counter[str] = Counter()
        for paper in Corpus(n, skew=skew).papers():
            df.update(set(word_frequencies.words(paper["title"] + " " + paper["abstract"])))
        return df

    real = document_frequencies("real")
    for word in ("training", "model", "models", "data", "results", "performance", "framework"):
        assert abs(real[word] / n - table[word][0]) < 0.06, word
    assert real["the"] / n > 0.95  # running text, not inserted: as common as ever
    harsh = document_frequencies("harsh")
    assert harsh["training"] / n > 0.9 and 0.6 < harsh["data"] / n < 0.8


def test_the_query_mix_covers_every_kind() -> None:
    mix = query_mix()
    assert set(mix) == {"rare", "common", "phrase", "multi", "filtered"}
    assert all(mix.values()) and len(all_queries()) == sum(map(len, mix.values()))
    assert any("author:" in q for q in mix["filtered"])
    assert any("cat:" in q for q in mix["filtered"])
    assert any("since:" in q for q in mix["filtered"])
    assert mix == query_mix()  # fixed


def test_both_imports_load_the_same_papers(tmp_path) -> None:
    snapshot = ensure_snapshot(tmp_path, 200)
    assert naive_import(snapshot, tmp_path / "n.db").papers == 200
    assert paperboy_import(snapshot, tmp_path / "o.db").papers == 200
    assert len(Corpus(200).tail) > 1000


# Eight benchmark processes, two corpora and a PostgreSQL server: about 60 s alone, far more
# on a loaded machine.
@pytest.mark.timeout(480)
def test_make_bench_runs_end_to_end_at_tiny_sizes(tmp_path, capsys) -> None:
    assert run.main(["--quick", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| Figure | Measured | Target |" in out
    for figure in (
        "Import",
        "Second import",
        "Search p50 end to end through Slack HTTP",
        "Search p99 through the core",
        "tantivy",
        "overlap@5",
        "harsh corpus",
        "Memory while searching",
        "Start-up",
        "Votes through the core",
        "Votes through Slack HTTP",
        "Fan-out",
        "Discord shard start time",
        "Discord REST from 2 processes",
        "Slack install flow",
        "Posting round",
        "Memory per 1,000 installed Slack workspaces",
    ):
        assert figure in out, figure
    if find_bindir() is not None or os.environ.get("CI") == "true":  # PostgreSQL's rows
        for figure in (
            "`copy-to-postgres` of the 1,000-paper SQLite database",
            "Import 500 papers into PostgreSQL",
            "Fan-out on PostgreSQL: 3 `paperboy run` processes",
            "Search on PostgreSQL, tantivy following the log",
            "PostgreSQL full-text search",
            "Search index rebuild from PostgreSQL",
        ):
            assert figure in out, figure
