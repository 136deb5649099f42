"""The search index beside SQLite: kept in step with every writer, rebuilt when it must be,
and ranking the way FTS5 BM25 did (title first, newer first on ties)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.model.paper import Paper
from bot.model.search_query import QueryError, parse_search
from storage.db import open_db
from storage.search_index import SearchIndex
from storage.store import Store


def ids(papers: list[Paper]) -> list[str]:
    return [p.id for p in papers]


@pytest.fixture
def path(tmp_path) -> str:
    return str(tmp_path / "p.db")


@pytest.fixture
def store(path) -> Store:
    return Store(open_db(path))


def search(store: Store, text: str, limit: int = 5) -> list[str]:
    return ids(store.search(parse_search(text), limit))


PAPERS = [
    Paper(
        "2401.00001",
        "Diffusion models for video",
        "We study diffusion in video.",
        ("Jonathan Ho", "Ajay Jain"),
        "2024-01-02",
        ("cs.CV",),
    ),
    Paper(
        "2301.00002",
        "Attention is all you need again",
        "Transformers and attention.",
        ("Ashish Vaswani",),
        "2023-01-05",
        ("cs.CL", "cs.LG"),
    ),
    Paper(
        "2402.00003",
        "Schrödinger bridges",
        "Optimal transport meets modelling.",
        ("Erwin Bridge",),
        "2024-02-09",
        ("math.PR",),
    ),
    Paper(
        "hep-th/9901001",
        "Strings at the boundary",
        "A holographic model.",
        ("Juan Maldacena",),
        "1999-01-01",
        ("hep-th",),
    ),
]


def test_words_stems_accents_and_phrases_match_as_fts5_did(store) -> None:
    store.save_papers(PAPERS)
    assert search(store, "diffusion") == ["2401.00001"]
    assert search(store, "models") == ["2401.00001", "hep-th/9901001"] or set(
        search(store, "models")
    ) == {"2401.00001", "hep-th/9901001", "2402.00003"}
    assert search(store, "modeling") == search(store, "models")  # one stem
    assert search(store, "schrodinger") == ["2402.00003"]  # accents folded
    assert search(store, "SCHRÖDINGER") == ["2402.00003"]
    assert search(store, '"attention is all"') == ["2301.00002"]
    assert search(store, '"all attention"') == []  # a phrase keeps its order
    assert search(store, "attention video") == []  # every word is required
    assert search(store, "vaswani") == ["2301.00002"]  # authors are searched too


def test_filters_narrow_without_changing_the_order(store) -> None:
    store.save_papers(PAPERS)
    assert search(store, "author:ho") == ["2401.00001"]
    assert search(store, 'author:"jonathan ho"') == ["2401.00001"]
    assert search(store, 'author:"ho ajay"') == []  # a phrase never spans two names
    assert search(store, "attention cat:cs.lg") == ["2301.00002"]  # any case
    with pytest.raises(QueryError, match="not an arXiv category"):
        search(store, "attention cat:cs")  # whole categories only: an archive is refused
    assert search(store, "cat:hep-th") == ["hep-th/9901001"]
    assert search(store, "since:2024-01-01") == ["2402.00003", "2401.00001"]  # newest first
    assert search(store, "since:2024-01-03 cat:cs.CV") == []


def test_the_title_weighs_most_and_ties_go_to_the_newer_paper(store) -> None:
    store.save_papers(
        [
            Paper(
                "2101.00001", "Graphs", "Nothing about the topic at all, really.", (), "2021-01-01"
            ),
            Paper("2201.00002", "Nothing here", "Graphs are everywhere in this.", (), "2022-01-01"),
        ]
        + [
            Paper(
                f"23{m:02d}.00003",
                "Same title on trees",
                "Same abstract.",
                ("A",),
                f"2023-{m:02d}-01",
            )
            for m in range(1, 10)
        ]
    )
    assert search(store, "graphs") == ["2101.00001", "2201.00002"]  # title first, though older
    same = search(store, '"same title"', 9)
    assert same == [f"23{m:02d}.00003" for m in range(9, 0, -1)]


def test_text_that_analyses_to_nothing_matches_nothing(store) -> None:
    store.save_papers(PAPERS)
    assert search(store, "__ diffusion") == ["2401.00001"]
    assert search(store, "x" * 150) == []  # longer than any indexed word
    assert search(store, "diffusion " + "x" * 150) == []


def test_writes_by_other_programs_are_found_at_the_next_search(store, path) -> None:
    store.save_papers(PAPERS[:1])
    assert search(store, "diffusion") == ["2401.00001"]
    other = sqlite3.connect(path, isolation_level=None)  # e.g. the sqlite-utils CLI
    other.execute("INSERT INTO papers (id, title) VALUES ('2405.00009', 'Diffusion again')")
    other.execute("UPDATE papers SET title = 'Video only' WHERE id = '2401.00001'")
    assert search(store, "diffusion") == ["2405.00009", "2401.00001"]  # abstract still
    other.execute(
        "INSERT INTO papers (id, title, abstract, authors, categories, published) "
        "VALUES ('2405.00010', 'Nulls', NULL, NULL, NULL, NULL)"
    )
    assert search(store, "nulls") == ["2405.00010"]
    other.execute("DELETE FROM papers WHERE id = '2405.00009'")
    assert search(store, "diffusion") == ["2401.00001"]
    other.close()


def test_vote_and_upvote_updates_do_not_touch_the_index(store) -> None:
    store.save_papers(PAPERS)
    store.search_index.catch_up()
    seq = store.search_index.state.seq
    store.save_papers([Paper("2401.00001", "Diffusion models for video", upvotes=99)])
    store.db.execute("UPDATE papers SET hf_date = '2026-01-01'")
    assert store.db.execute("SELECT count(*) FROM search_log").fetchone()[0] == 0
    assert store.search_index._max_seq() == seq


def test_the_log_is_pruned_once_applied(store) -> None:
    store.save_papers(PAPERS)
    assert store.db.execute("SELECT count(*) FROM search_log").fetchone()[0] == 4
    search(store, "diffusion")
    assert store.db.execute("SELECT count(*) FROM search_log").fetchone()[0] == 0


def test_the_index_survives_a_restart_without_a_rebuild(store, path, monkeypatch) -> None:
    store.save_papers(PAPERS)
    assert search(store, "strings") == ["hep-th/9901001"]
    store.db.close()

    def no_rebuild(self) -> None:
        raise AssertionError("rebuilt")

    monkeypatch.setattr(SearchIndex, "rebuild", no_rebuild)
    again = Store(open_db(path))
    again.save_papers([Paper("2406.00001", "Strings again")])
    assert search(again, "strings") == ["2406.00001", "hep-th/9901001"]


def test_a_missing_or_foreign_index_is_rebuilt_from_the_table(store, path, tmp_path) -> None:
    store.save_papers(PAPERS)
    search(store, "strings")
    store.db.close()
    shutil.rmtree(path + "-search")
    assert search(Store(open_db(path)), "strings") == ["hep-th/9901001"]

    # Another database's index must not answer for this one.
    other = Store(open_db(str(tmp_path / "other.db")))
    other.save_papers([Paper("2407.00001", "Strings of another file")])
    search(other, "strings")
    other.db.close()
    shutil.rmtree(path + "-search")
    shutil.copytree(str(tmp_path / "other.db") + "-search", path + "-search")
    assert search(Store(open_db(path)), "strings") == ["hep-th/9901001"]


def test_an_old_fts5_database_is_migrated_and_indexed(path, monkeypatch) -> None:
    from storage import db as dbmod

    monkeypatch.setattr(dbmod, "MIGRATIONS", dbmod.MIGRATIONS[:1])
    old = Store(open_db(path))
    old.db["papers"].insert({"id": "2301.00001", "title": "Legacy diffusion", "abstract": ""})
    old.db.close()
    monkeypatch.undo()
    store = Store(open_db(path))
    assert "papers_fts" not in store.db.table_names()
    assert search(store, "legacy") == ["2301.00001"]


def test_in_memory_databases_get_an_in_memory_index() -> None:
    store = Store(open_db(":memory:"))
    store.save_papers(PAPERS)
    assert store.search_index.path is None
    assert search(store, "holographic") == ["hep-th/9901001"]


def test_a_busy_index_still_answers_from_its_last_commit(store, path) -> None:
    store.save_papers(PAPERS)
    search(store, "diffusion")
    held = store.search_index.index.writer(15_000_000, 1)  # as an import in another process
    store.save_papers([Paper("2408.00001", "Diffusion later")])
    assert search(store, "diffusion") == ["2401.00001"]
    del held
    assert search(store, "diffusion") == ["2408.00001", "2401.00001"]


def test_many_papers_keep_exact_counts(store) -> None:
    store.save_papers(
        Paper(f"2409.{i:05d}", f"Bulk paper {i}", "common words here", ("X",), "2024-09-01")
        for i in range(1500)
    )
    assert store.search_index.doc_count() == 1500
    assert len(search(store, "bulk common", 50)) == 50
    store.save_papers([Paper("2409.00007", "Renamed entirely")])
    assert store.search_index.doc_count() == 1500
    assert "2409.00007" not in search(store, '"bulk paper 7"', 50)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=80))
def test_any_user_text_searches_or_is_refused_politely(store, text) -> None:
    if not store.paper_count():
        store.save_papers(PAPERS)
    try:
        query = parse_search(text)
    except QueryError:
        return
    results = store.search(query, 5)
    assert len(results) <= 5


def test_the_search_folder_sits_beside_the_file(store, path) -> None:
    store.save_papers(PAPERS[:1])
    search(store, "diffusion")
    assert Path(path + "-search").is_dir()


def test_the_title_first_shortcut_gives_exactly_the_full_ranking(store) -> None:
    from benchmarks.corpus import SUBJECTS, Corpus
    from storage.bulk_import import parse_snapshot_line

    store.save_papers(
        parse_snapshot_line(__import__("json").dumps(p))
        for p in Corpus(1500, seed=5, skew="kind").papers()
    )
    index = store.search_index
    index.catch_up()
    searcher = index.index.searcher()
    phrases = [p for _, text in SUBJECTS.values() for p in text.split("|")[1].split(";")]
    used = 0
    for phrase in phrases:
        for text in (f'"{phrase}"', f'"{phrase}" cat:cs.LG', f'"{phrase}" author:wang'):
            query = parse_search(text)
            clauses = index.clauses(query)
            full = searcher.search(index._compile(clauses, query), 8, count=False).hits
            fast = index._title_first(searcher, clauses, query, 8)
            if fast is not None:
                used += 1
                assert [round(s, 4) for s, _ in fast] == [round(s, 4) for s, _ in full], text
    assert used > 5  # the shortcut was exercised, not always declined


def test_phrases_run_per_field_and_rank_exactly_as_one_query(store) -> None:
    """A phrase with another clause or a filter runs once per field it must match in; the
    merged hits are the single query's, score for score."""
    from benchmarks.corpus import Corpus
    from storage.bulk_import import parse_snapshot_line

    store.save_papers(
        parse_snapshot_line(__import__("json").dumps(p)) for p in Corpus(800, seed=9).papers()
    )
    index = store.search_index
    index.catch_up()
    searcher = index.index.searcher()
    for text in (
        '"the model" author:wang',
        '"language models" cat:cs.CL',
        '"of the" training',
        '"large language" since:2015-01-01',
    ):
        query = parse_search(text)
        clauses = index._matchable(searcher, index.clauses(query))
        full = searcher.search(index._compile(clauses, query), 12, count=False).hits
        split = index._top(searcher, clauses, query, 12)
        assert full, text
        assert [round(s, 4) for s, _ in split] == [round(s, 4) for s, _ in full], text


def test_too_costly_queries_rank_the_newest_papers(store, monkeypatch) -> None:
    """Over the work budget, a query ranks the most recently added papers only, looking
    further back when they hold too few matches; within it, it ranks them all. (One word
    alone, without a filter, is never held back: block-max WAND does better over all
    papers.)"""
    from storage import search_index

    monkeypatch.setattr(search_index, "ERA_BITS", 6)  # eras of 64 papers
    store.save_papers(
        [Paper(f"2401.{i:05d}", f"Common words {i}", "model " * (1 + i % 7)) for i in range(600)]
    )
    store.save_papers([Paper("2402.00001", "A rare word: zyzzyva", "model")])
    index = store.search_index
    index.catch_up()
    everything = store.search(parse_search("common model"), 20)
    monkeypatch.setattr(search_index, "WORK_BUDGET", 100)
    newest = store.search(parse_search("common model"), 20)
    rowid = dict(store.db.execute("SELECT id, rowid FROM papers").fetchall())
    assert len(newest) == 20
    assert min(rowid[p.id] for p in newest) >= 601 - 4 * 64  # the newest eras only
    assert {p.id for p in everything} != {p.id for p in newest}
    assert [p.id for p in store.search(parse_search("zyzzyva model"))] == ["2402.00001"]
    assert {p.id for p in store.search(parse_search("model"), 20)} == {p.id for p in everything}


def test_one_word_with_a_filter_is_held_to_the_budget_too(store, monkeypatch) -> None:
    """A ``cat:`` or ``since:`` filter makes the search an intersection, inside which
    block-max WAND skips nothing: a word with a filter is ranked among the newest papers
    when scoring all its matches is over the budget (at 2.7M papers, "learning
    since:2020-01-01" took 35 ms over all of them, 2.4 ms among the newest)."""
    from storage import search_index

    monkeypatch.setattr(search_index, "ERA_BITS", 6)  # eras of 64 papers
    store.save_papers(
        [
            Paper(
                f"2401.{i:05d}",
                f"Paper {i}",
                "model " * (1 + i % 7),
                published="2024-01-02",
                categories=("cs.CL",),
            )
            for i in range(600)
        ]
    )
    rowid = dict(store.db.execute("SELECT id, rowid FROM papers").fetchall())
    for text in ("model since:2024-01-01", "model cat:cs.CL"):
        monkeypatch.setattr(search_index, "WORK_BUDGET", 10**9)
        everything = store.search(parse_search(text), 20)
        monkeypatch.setattr(search_index, "WORK_BUDGET", 100)
        newest = store.search(parse_search(text), 20)
        assert len(newest) == 20, text
        assert min(rowid[p.id] for p in newest) >= 601 - 4 * 64, text  # the newest eras
        assert min(rowid[p.id] for p in everything) < 601 - 4 * 64, text


def test_a_query_just_over_the_budget_still_ranks_every_paper(store, monkeypatch) -> None:
    """Holding a query to most of the papers would save little and cost a union of most
    eras: under twice the budget, every paper is ranked."""
    from storage import search_index

    monkeypatch.setattr(search_index, "ERA_BITS", 6)  # eras of 64 papers
    store.save_papers(
        [Paper(f"2401.{i:05d}", f"Common words {i}", "model " * (1 + i % 7)) for i in range(600)]
    )
    index = store.search_index
    index.catch_up()
    query = parse_search("common model")
    searcher = index.index.searcher()
    work = index._work(searcher, index._matchable(searcher, index.clauses(query)), filtered=False)
    everything = store.search(query, 20)
    monkeypatch.setattr(search_index, "WORK_BUDGET", work * 2 // 3)
    assert store.search(query, 20) == everything
    monkeypatch.setattr(search_index, "WORK_BUDGET", work // 3)
    assert store.search(query, 20) != everything


def test_a_common_word_alone_is_answered_from_memory_until_the_papers_change(
    store, path, monkeypatch
) -> None:
    """One very common word alone costs milliseconds over a million papers, and is what
    people type most: its answer is remembered, exactly as ranked, and forgotten as soon as
    any paper changes, whoever changes it."""
    from storage import search_index

    store.save_papers(
        [Paper(f"2401.{i:05d}", f"Words {i}", "model " * (1 + i % 5)) for i in range(40)]
    )
    index = store.search_index
    ranked = []
    real = index._ranked
    monkeypatch.setattr(index, "_ranked", lambda *a: ranked.append(a[2]) or real(*a))
    exact = search(store, "model")
    assert len(ranked) == 1  # a word in 40 papers is not common: ranked every time
    assert search(store, "model") == exact and len(ranked) == 2

    monkeypatch.setattr(search_index, "COMMON_WORD_PAPERS", 10)
    assert search(store, "model") == exact and len(ranked) == 3
    assert search(store, "models") == exact and len(ranked) == 3  # the same stem
    assert search(store, "model", limit=3) == exact[:3] and len(ranked) == 4
    assert search(store, "model cat:cs.LG") == [] and len(ranked) == 5  # filters: not kept
    assert search(store, "model -words") == [] and len(ranked) == 6

    other = sqlite3.connect(path, isolation_level=None)  # e.g. the sqlite-utils CLI
    other.execute("INSERT INTO papers (id, title) VALUES ('2405.00009', 'Model')")
    assert search(store, "model")[0] == "2405.00009" and len(ranked) == 7
    other.execute("DELETE FROM papers WHERE id = '2405.00009'")
    assert search(store, "model") == exact and len(ranked) == 8
    other.close()


def test_a_phrase_in_fewer_titles_than_wanted_still_takes_the_title_first_shortcut(
    store, monkeypatch
) -> None:
    """With fewer papers holding the phrase in their title than the search looks at, those
    papers are all of them: when the best of them outscore every paper without the phrase
    in its title, they are the answer, exactly as the full ranking has it."""
    from storage import search_index

    titled = [
        Paper(f"2401.{i:05d}", f"Quantum error correction {i}", "codes", (), f"2024-01-{i:02d}")
        for i in range(1, 4)
    ]
    abstracts = [
        Paper(f"2402.{i:05d}", f"Codes {i}", "We study quantum error correction. " * (i % 3 + 1))
        for i in range(40)
    ]
    store.save_papers(titled + abstracts)
    index = store.search_index
    used = []
    real = index._title_first
    monkeypatch.setattr(index, "_title_first", lambda *a: used.append(real(*a)) or used[-1])
    shortcut = {n: search(store, '"quantum error correction"', n) for n in (2, 3, 5)}
    assert [hits is not None for hits in used] == [True, True, False]  # 5 > 3 titles

    monkeypatch.setattr(index, "_title_first", lambda *a: None)
    monkeypatch.setattr(search_index, "WORK_BUDGET", 10**9)  # rank every paper
    for n, answer in shortcut.items():
        assert answer == search(store, '"quantum error correction"', n)
    assert shortcut[3] == ["2401.00003", "2401.00002", "2401.00001"]  # ties: newer first
