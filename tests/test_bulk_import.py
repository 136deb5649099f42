"""``paperboy import arxiv-snapshot``: parsing snapshot lines, batches, resuming, merging."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.cli import main
from bot.config import Settings
from bot.model.paper import Paper
from bot.model.search_query import parse_search
from storage.bulk_import import BadLine, Progress, SnapshotImporter, parse_snapshot_line
from storage.db import open_db
from storage.store import Store
from tests.conftest import BACKENDS, database_settings, open_store


def record(paper_id: str = "2401.00001", **fields) -> dict:
    base = {
        "id": paper_id,
        "submitter": "Ada Lovelace",
        "authors": "Ada Lovelace, Charles Babbage and Mary Somerville",
        "title": "  Engines that\n  compute ",
        "abstract": "  We describe an engine.\nIt computes.\n",
        "categories": "cs.LG stat.ML",
        "versions": [
            {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
            {"version": "v2", "created": "Tue, 3 Jul 2007 10:00:00 GMT"},
        ],
        "update_date": "2008-11-13",
        "authors_parsed": [
            ["Lovelace", "Ada", ""],
            ["Babbage", "Charles", ""],
            ["King", "Martin Luther", "Jr."],
        ],
    }
    base.update(fields)
    return base


def line(**fields) -> str:
    return json.dumps(record(**fields))


def write(path: Path, lines: list[str]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write("".join(text + "\n" for text in lines))
    return path


# -- one line ---------------------------------------------------------------------------


def test_a_snapshot_line_becomes_a_paper() -> None:
    paper = parse_snapshot_line(line())
    assert paper == Paper(
        id="2401.00001",
        title="Engines that compute",
        abstract="We describe an engine. It computes.",
        authors=("Ada Lovelace", "Charles Babbage", "Martin Luther King Jr."),
        published="2007-04-02",  # the first version, not the update date
        categories=("cs.LG", "stat.ML"),
        sources=("arxiv",),
    )


def test_old_style_and_versioned_ids_become_canonical() -> None:
    assert parse_snapshot_line(line(paper_id="math.GT/0309136")).id == "math/0309136"
    assert parse_snapshot_line(line(paper_id="hep-th/9901001")).id == "hep-th/9901001"
    assert parse_snapshot_line(line(paper_id="0704.0001v3")).id == "0704.0001"
    assert parse_snapshot_line(line(paper_id="1501.00001")).id == "1501.00001"


def test_authors_fall_back_to_the_author_string() -> None:
    paper = parse_snapshot_line(line(authors_parsed=None))
    assert paper.authors == ("Ada Lovelace", "Charles Babbage", "Mary Somerville")
    assert parse_snapshot_line(line(authors_parsed=[[1, 2]])).authors[0] == "Ada Lovelace"
    assert parse_snapshot_line(line(authors_parsed=[], authors="")).authors == ()


def test_published_falls_back_to_the_update_date() -> None:
    assert parse_snapshot_line(line(versions=[])).published == "2008-11-13"
    odd = [{"version": "v1", "created": "2 Apr 2007 19:18:42 +0200"}]
    assert parse_snapshot_line(line(versions=odd)).published == "2007-04-02"
    junk = [{"version": "v1", "created": "yesterday"}]
    assert parse_snapshot_line(line(versions=junk, update_date="n/a")).published == ""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        "null",
        '"2401.00001"',
        json.dumps({"title": "no id"}),
        line(paper_id="not-an-id"),
        line(paper_id=12345),
        line(title=""),
        line(title=None),
        '{"id": "2401.00001", "title": "cut',
        b"\xff\xfe{}",
    ],
)
def test_lines_that_are_not_papers_are_refused_with_a_reason(text) -> None:
    with pytest.raises(BadLine):
        parse_snapshot_line(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(
            [
                "id",
                "title",
                "abstract",
                "authors",
                "authors_parsed",
                "categories",
                "versions",
                "update_date",
            ]
        ),
        json_values,
    )
)
def test_any_json_object_is_a_paper_or_a_bad_line(fields) -> None:
    try:
        paper = parse_snapshot_line(json.dumps({"id": "2401.00001", "title": "T", **fields}))
    except BadLine:
        return
    assert paper.id and paper.title
    assert all(isinstance(a, str) and a for a in paper.authors)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_a_paper_or_a_bad_line(raw) -> None:
    with contextlib.suppress(BadLine):
        parse_snapshot_line(raw)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x1fab\xa0\u2009é")), max_size=30))
def test_whitespace_is_collapsed_exactly_as_split_and_join_would(text) -> None:
    from storage.bulk_import import _text

    assert _text(text) == " ".join(text.split())


_SPACY = st.text(alphabet=st.sampled_from(list(" \t\n\r\x0b\x1fab\xa0é")), max_size=8)


@settings(max_examples=300, deadline=None)
@given(_SPACY, _SPACY, _SPACY)
def test_author_names_are_single_spaced_exactly_as_split_and_join_would(last, first, suffix):
    from storage.bulk_import import _name

    whole = f"{first} {last} {suffix}" if suffix else f"{first} {last}"
    assert _name(last, first, suffix) == " ".join(whole.split())


# -- whole files ------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def db_settings(request: pytest.FixtureRequest, tmp_path) -> Settings:
    return database_settings(request.param, request, tmp_path)


@pytest.fixture
def store(db_settings) -> Iterator[Store]:
    store = open_store(db_settings)
    yield store
    store.close()


def snapshot(tmp_path: Path, count: int, name: str = "snap.jsonl", bad: int = 0) -> Path:
    lines = [
        line(paper_id=f"2401.{i:05d}", title=f"Paper number {i} about engines")
        for i in range(1, count + 1)
    ]
    for i in range(bad):
        lines.insert(3 * i + 1, "{broken" if i % 2 else '{"id": "nope", "title": "x"}')
    return write(tmp_path / name, lines)


@pytest.mark.parametrize("name", ["snap.jsonl", "snap.jsonl.gz"])
def test_import_counts_adds_and_indexes(tmp_path, store, name) -> None:
    path = snapshot(tmp_path, 25, name, bad=3)
    result = SnapshotImporter(store, batch_size=7).run(path)
    assert (result.added, result.bad, result.lines) == (25, 3, 28)
    assert len(result.bad_examples) == 3 and "line 2" in result.bad_examples[0]
    assert store.paper_count() == 25
    assert [p.id for p in store.search(parse_search('"number 17"'))] == ["2401.00017"]
    assert "25 added" in result.summary() and "3 bad" in result.summary()


def test_a_second_run_adds_nothing(tmp_path, store) -> None:
    path = snapshot(tmp_path, 12)
    SnapshotImporter(store, batch_size=5).run(path)
    again = SnapshotImporter(store, batch_size=5).run(path)
    assert again.already_done and again.added == 0
    forced = SnapshotImporter(store, batch_size=5).run(path, again=True)
    assert (forced.added, forced.updated, forced.unchanged) == (0, 0, 12)
    assert store.paper_count() == 12
    assert store.search_index.doc_count() == 12


def test_an_interrupted_import_resumes_where_it_stopped(tmp_path, store, db_settings) -> None:
    path = snapshot(tmp_path, 30, "snap.jsonl.gz")
    batches = []

    def stop_after_two(done: int, total: int, lines: int, result) -> None:
        batches.append(lines)
        if len(batches) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        SnapshotImporter(store, batch_size=8, progress=stop_after_two).run(path)
    assert store.paper_count() == 16

    reopened = open_store(db_settings)
    result = SnapshotImporter(reopened, batch_size=8).run(path)
    assert result.resumed_at == 16 and result.lines == 14 and result.added == 14
    assert reopened.paper_count() == 30
    assert reopened.search_index.doc_count() == 30
    assert [p.id for p in reopened.search(parse_search('"number 3 about"'))] == ["2401.00003"]


def test_imported_papers_merge_with_what_hf_told_us(tmp_path, store) -> None:
    store.save_papers(
        [
            Paper(
                "2401.00002",
                "Paper number 2 about engines",
                upvotes=42,
                code_url="https://github.com/a/b",
                sources=("hf",),
            )
        ]
    )
    result = SnapshotImporter(store).run(snapshot(tmp_path, 3))
    assert (result.added, result.updated) == (2, 1)
    merged = store.get_paper("2401.00002")
    assert merged.upvotes == 42 and merged.code_url == "https://github.com/a/b"
    assert merged.categories == ("cs.LG", "stat.ML") and merged.sources == ("arxiv", "hf")
    assert [p.id for p in store.search(parse_search("babbage number 2"))] == ["2401.00002"]


def test_the_same_id_twice_in_a_file_is_one_paper(tmp_path, store) -> None:
    path = write(tmp_path / "dup.jsonl", [line(abstract=""), line(title="Newer title")])
    result = SnapshotImporter(store).run(path)
    assert result.added == 1
    paper = store.get_paper("2401.00001")
    assert paper.title == "Newer title" and paper.abstract == "We describe an engine. It computes."


def test_the_index_commits_in_large_steps_yet_shows_other_writers_within_a_minute(
    tmp_path, store, db_settings, monkeypatch
) -> None:
    """Commits cut segments short (merging them costs CPU), so a bulk import commits its own
    papers rarely; a paper another writer saves meanwhile is searchable within a minute."""
    import types

    from storage import search_index

    now = [1000.0]
    monkeypatch.setattr(search_index, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    other = open_store(db_settings)
    seen: list[tuple[list[str], list[str]]] = []

    def step(done: int, total: int, lines: int, result) -> None:
        found = (
            [p.id for p in other.search(parse_search('"number 2 about"'))],
            [p.id for p in other.search(parse_search("zymurgy"))],
        )
        seen.append(found)
        if lines == 5:
            now[0] += 120  # minutes pass, with only the import's own papers waiting
        if lines == 10:
            other.save_papers([Paper("2402.00001", "Zymurgy of engines")])
        if lines == 15:
            now[0] += 61

    SnapshotImporter(store, batch_size=5, progress=step).run(snapshot(tmp_path, 25))
    assert seen[:3] == [([], [])] * 3  # nothing committed, though minutes passed
    assert seen[3] == (["2401.00002"], ["2402.00001"])  # the other writer's waited a minute
    assert [p.id for p in other.search(parse_search('"number 25 about"'))] == ["2401.00025"]
    other.close()


def test_progress_shows_rate_and_eta(tmp_path, store) -> None:
    out = io.StringIO()
    SnapshotImporter(store, batch_size=4, progress=Progress(out, always=True, every=0)).run(
        snapshot(tmp_path, 10)
    )
    text = out.getvalue()
    assert "100.0%" in text and "/s" in text and "ETA" in text and text.endswith("\n")


def test_the_cli_imports_and_reports(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("PAPERBOY_DB", str(tmp_path / "cli.db"))
    path = snapshot(tmp_path, 5, bad=1)
    assert main(["import", "arxiv-snapshot", str(path)]) == 0
    err = capsys.readouterr().err
    assert "5 added" in err and "1 bad" in err
    assert main(["import", "arxiv-snapshot", str(path)]) == 0
    assert "already imported" in capsys.readouterr().err
    assert main(["import", "arxiv-snapshot", str(tmp_path / "missing.jsonl")]) == 2
    assert Store(open_db(str(tmp_path / "cli.db"))).paper_count() == 5


_PAUSING_IMPORT = """
import sys
from storage.bulk_import import SnapshotImporter
from storage.db import open_db
from storage.store import Store

def pause_after_three(done, total, lines, result):
    if lines == 60:  # three batches in SQLite, none committed to the search index
        print("paused", flush=True)
        sys.stdin.readline()

SnapshotImporter(Store(open_db(sys.argv[1])), batch_size=20, progress=pause_after_three).run(
    sys.argv[2]
)
"""


def test_an_import_killed_mid_batch_resumes_exactly(tmp_path) -> None:
    """kill -9 between SQLite's commit and the search index's: the resumed import adds
    every paper once, the index has each once, and other writers are still logged."""
    import subprocess
    import sys

    db_path = str(tmp_path / "kill.db")
    path = snapshot(tmp_path, 100)
    child = subprocess.Popen(
        [sys.executable, "-c", _PAUSING_IMPORT, db_path, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert child.stdout.readline().strip() == "paused"
        child.kill()
    finally:
        child.wait()
    store = Store(open_db(db_path))
    assert store.paper_count() == 60
    result = SnapshotImporter(store, batch_size=20).run(path)
    assert (result.resumed_at, result.added) == (60, 40)
    assert store.paper_count() == store.search_index.doc_count() == 100
    for i in (1, 59, 60, 61, 100):
        found = store.search(parse_search(f'"number {i} about"'))
        assert [p.id for p in found] == [f"2401.{i:05d}"]
    # The insert trigger the import set aside is back for everyone else.
    other = Store(open_db(db_path))
    other.db.execute("INSERT INTO papers (id, title) VALUES ('2402.00001', 'Zymurgy')")
    assert [p.id for p in store.search(parse_search("zymurgy"))] == ["2402.00001"]


def test_on_postgresql_the_import_logs_each_new_paper_once_for_other_processes(
    tmp_path, request
) -> None:
    """The importer writes the search log itself, one statement per batch, instead of the
    per-row trigger: every new paper is logged exactly once, other processes' indexes
    follow it, and inserts by anyone else are still logged by the trigger."""
    from dataclasses import replace

    settings = database_settings("postgresql", request, tmp_path)
    store = open_store(settings)
    other = open_store(replace(settings, search_dir=str(tmp_path / "other-search")))
    try:
        assert other.search(parse_search("engines")) == []  # its index exists: it follows
        SnapshotImporter(store, batch_size=7).run(snapshot(tmp_path, 20))
        logged = store.sql.execute(
            "SELECT paper_rowid, count(*) FROM search_log GROUP BY paper_rowid"
        ).fetchall()
        rowids = {r[0] for r in store.sql.execute("SELECT rowid FROM papers")}
        assert len(rowids) == 20
        assert {rowid for rowid, _ in logged} == rowids and {n for _, n in logged} == {1}
        assert [p.id for p in other.search(parse_search('"number 17"'))] == ["2401.00017"]
        store.save_papers([Paper("2402.00001", "Zymurgy")])
        assert [p.id for p in other.search(parse_search("zymurgy"))] == ["2402.00001"]
    finally:
        other.close()
        store.close()


def test_on_postgresql_a_nul_character_is_dropped_and_the_paper_kept(tmp_path, request) -> None:
    """PostgreSQL cannot store NUL in text (JSON can carry it as \\u0000): the character goes,
    the paper and the rest of its batch go in."""
    store = open_store(database_settings("postgresql", request, tmp_path))
    try:
        path = write(
            tmp_path / "nul.jsonl",
            [
                line(paper_id="2401.00001", title="Zero\u0000byte engines"),
                line(paper_id="2401.00002"),
            ],
        )
        result = SnapshotImporter(store).run(path)
        assert (result.added, result.bad) == (2, 0)
        assert store.get_paper("2401.00001").title == "Zerobyte engines"
        assert store.paper_count() == 2
    finally:
        store.close()
