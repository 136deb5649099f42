"""One hostile source item never stops auto-posting: every field is bounded where it enters.

An HF item with ``"upvotes": 10**30`` once made every posting round fail in ``save_papers``
(SQLite holds 64-bit integers), for every feed and every channel.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory import MemoryAdapter
from bot.model.feed import Feed
from bot.model.paper import (
    MAX_AUTHORS,
    MAX_COUNT,
    MAX_TITLE_CHARS,
    MAX_UPVOTES,
    Paper,
    bounded,
)
from bot.replies import Text
from bot.sources.arxiv import parse_atom, parse_rss
from bot.sources.biorxiv import parse_collection, parse_page
from bot.sources.hf import parse_daily_list
from bot.sources.http import SourceError
from storage.bulk_import import BadLine, parse_snapshot_line
from storage.db import open_db
from storage.store import Store
from tests.conftest import close_bot, make_bot
from tests.fakes.paper_sources import hf_item, rss_feed, rxiv_item

HUGE = 10**30


def test_bounded_drops_impossible_numbers_and_dates_and_clips_sizes() -> None:
    paper = bounded(
        Paper(
            id="2605.00001",
            title="T" * 100_000,
            abstract="a" * 10_000_000,
            authors=(*(f"Author {i}" for i in range(50_000)), "x" * 5_000),
            published="9999-12-31",
            hf_date="2026-02-30",
            categories=("cs.LG",) * 500 + ("c" * 500,),
            upvotes=HUGE,
            code_url="javascript:alert(1)",
            project_url="https://example.org/" + "p" * 10_000,
            thumbnail_url="https://example.org/ok.png",
        ),
        today=date(2026, 5, 13),
    )
    assert paper.upvotes is None  # unknown, not a wrong number
    assert len(paper.title) == MAX_TITLE_CHARS and paper.title.endswith("…")
    assert len(paper.abstract) <= 20_000
    assert len(paper.authors) == MAX_AUTHORS
    assert paper.published == "" and paper.hf_date == ""
    assert len(paper.categories) <= 50
    assert paper.code_url == "" and paper.project_url == ""
    assert paper.thumbnail_url == "https://example.org/ok.png"


@pytest.mark.parametrize("upvotes", [-1, MAX_UPVOTES + 1, HUGE, -HUGE, True])
def test_out_of_range_upvotes_are_unknown(upvotes: int) -> None:
    assert bounded(Paper("2605.00001", "T", upvotes=upvotes)).upvotes is None


def test_ordinary_papers_pass_unchanged() -> None:
    paper = Paper(
        "2605.00001",
        "A title",
        "An abstract.",
        ("Ada Lovelace",),
        "2026-05-12",
        ("cs.LG",),
        97,
        "2026-05-13",
        "https://github.com/o/r",
        sources=("hf",),
    )
    assert bounded(paper, today=date(2026, 5, 13)) == paper


# -- every parser, fed generated hostile items, returns storable papers or a SourceError ----

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
HOSTILE_TEXT = st.text(max_size=300) | st.sampled_from(
    ["", " ", "9999-99-99", "2026-05-13T00:00:00Z", "0000-01-01", "x" * 5000, "\x00\u202e"]
)


def hf_fields() -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(
        {},
        optional={
            "title": HOSTILE_TEXT | JSON_VALUES,
            "summary": HOSTILE_TEXT | JSON_VALUES,
            "upvotes": st.integers(min_value=-(10**40), max_value=10**40) | JSON_VALUES,
            "publishedAt": HOSTILE_TEXT | JSON_VALUES,
            "submittedOnDailyAt": HOSTILE_TEXT | JSON_VALUES,
            "authors": st.lists(st.fixed_dictionaries({"name": HOSTILE_TEXT | JSON_VALUES}))
            | JSON_VALUES,
            "githubRepo": HOSTILE_TEXT | JSON_VALUES,
            "projectPage": HOSTILE_TEXT | JSON_VALUES,
            "githubStars": st.integers(min_value=-(10**40), max_value=10**40) | JSON_VALUES,
            "ai_summary": HOSTILE_TEXT | JSON_VALUES,
            "ai_keywords": st.lists(HOSTILE_TEXT | JSON_VALUES, max_size=5) | JSON_VALUES,
            "organization": st.fixed_dictionaries({"fullname": HOSTILE_TEXT | JSON_VALUES})
            | JSON_VALUES,
        },
    )


def hf_wrapper_fields() -> st.SearchStrategy[dict]:
    """What the daily item holds around the paper: the comment count and the submitter."""
    return st.fixed_dictionaries(
        {},
        optional={
            "numComments": st.integers(min_value=-(10**40), max_value=10**40) | JSON_VALUES,
            "submittedBy": st.fixed_dictionaries({"name": HOSTILE_TEXT | JSON_VALUES})
            | JSON_VALUES,
            "thumbnail": HOSTILE_TEXT | JSON_VALUES,
        },
    )


@pytest.fixture(scope="module")
def store() -> Store:
    folder = tempfile.mkdtemp(prefix="paperboy-bounds-")
    return Store(open_db(str(Path(folder) / "bounds.db")))


def assert_storable(store: Store, papers: list[Paper]) -> None:
    store.save_papers(papers)  # raises (OverflowError, ...) if any field is out of bounds
    for paper in papers:
        assert len(paper.title) <= MAX_TITLE_CHARS
        assert paper.upvotes is None or 0 <= paper.upvotes <= MAX_UPVOTES
        for count in (paper.comments, paper.github_stars):
            assert count is None or 0 <= count <= MAX_COUNT
        assert all(k and "\n" not in k for k in paper.ai_keywords)
        assert store.get_paper(paper.id) is not None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.tuples(hf_fields(), hf_wrapper_fields()) | JSON_VALUES, max_size=5))
def test_hf_parser_survives_hostile_items(store: Store, items: list) -> None:
    wrapped = []
    for i, item in enumerate(items):
        if isinstance(item, tuple):
            base = hf_item(f"2605.{i:05d}")
            base["paper"].update(item[0])
            base.update(item[1])
            wrapped.append(base)
        else:
            wrapped.append(item)
    papers = parse_daily_list(wrapped, day=date(2026, 5, 13))
    assert_storable(store, papers)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(
        st.fixed_dictionaries(
            {"title": HOSTILE_TEXT, "abstract": HOSTILE_TEXT},
            optional={
                "authors": st.lists(HOSTILE_TEXT, max_size=5),
                "categories": st.lists(HOSTILE_TEXT, max_size=5),
            },
        ),
        max_size=4,
    )
)
def test_arxiv_rss_parser_survives_hostile_items(store: Store, entries: list[dict]) -> None:
    items = [{"id": f"2504.{i:05d}", **entry} for i, entry in enumerate(entries)]
    try:
        papers = parse_rss(rss_feed(items, "cs.LG"))
    except SourceError:
        return  # e.g. a control character XML cannot carry: the whole feed is "broken"
    assert_storable(store, papers)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(published=HOSTILE_TEXT, title=HOSTILE_TEXT, authors=st.lists(HOSTILE_TEXT, max_size=4))
def test_arxiv_api_parser_survives_hostile_entries(
    store: Store, published: str, title: str, authors: list[str]
) -> None:
    from xml.sax.saxutils import escape

    names = "".join(f"<author><name>{escape(a)}</name></author>" for a in authors)
    document = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        "<id>http://arxiv.org/abs/2401.12345v1</id>"
        f"<title>{escape(title)}</title><summary>s</summary>"
        f"<published>{escape(published)}</published>{names}</entry></feed>"
    )
    try:
        papers = parse_atom(document)
    except SourceError:
        return
    assert_storable(store, papers)


RXIV_FIELDS = ("doi", "title", "authors", "date", "version", "category", "abstract", "server")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(
        st.dictionaries(st.sampled_from(RXIV_FIELDS), HOSTILE_TEXT | JSON_VALUES) | JSON_VALUES,
        max_size=5,
    ),
    total=JSON_VALUES,
)
def test_biorxiv_parser_survives_hostile_items(store: Store, items: list, total: object) -> None:
    collection = [
        {**rxiv_item(f"10.1101/2026.05.12.{600000 + i}"), **item}
        if isinstance(item, dict)
        else item
        for i, item in enumerate(items)
    ]
    answer = {"messages": [{"status": "ok", "total": total}], "collection": collection}
    try:
        page, claimed = parse_page(answer)
    except SourceError:
        return
    assert 0 <= claimed <= 2_000
    papers = parse_collection(page, "biorxiv", new_only=True)
    assert_storable(store, papers)
    for paper in papers:
        assert paper.id.startswith("10.1101/") and paper.abstract_url.startswith("https://www.")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=st.dictionaries(st.sampled_from(["title", "abstract", "authors"]), JSON_VALUES))
def test_snapshot_lines_survive_hostile_records(store: Store, record: dict) -> None:
    record = {"id": "2401.12345", "title": "T", **record}
    try:
        paper = parse_snapshot_line(json.dumps(record))
    except BadLine:
        return
    assert_storable(store, [paper])


# -- a posting round with one poisoned item still posts everything ------------------------


async def test_a_poisoned_hf_item_stops_no_feed_and_no_channel(settings, clock, paper_sources):
    poisoned = hf_item("2605.00001", "Poisoned upvotes", upvotes=HUGE)
    fine = hf_item("2605.00002", "A fine paper", upvotes=5)
    paper_sources.set_daily("2026-05-13", [poisoned, fine])
    paper_sources.set_default_daily([])
    paper_sources.set_rss("cs.CL", rss_feed([{"id": "2504.00001"}], "cs.CL"))
    bot = make_bot(settings, clock)
    chat = MemoryAdapter(bot)
    await chat.command("subscribe hf", admin=True, channel="C1")
    await chat.command("subscribe arxiv cs.CL", admin=True, channel="C2")
    report = await bot.poster.run_once()
    assert report.failed_feeds == {}
    assert sorted(chat.card_ids("C1")) == ["2605.00001", "2605.00002"]
    assert chat.card_ids("C2") == ["2504.00001"]
    assert bot.store.get_paper("2605.00001").upvotes is None
    today = await chat.command("today")
    assert "2605.00001" in [item.paper.id for item in today.papers]
    shown = await chat.command("show 2605.00001")
    assert shown.paper.title == "Poisoned upvotes"
    await close_bot(bot)


async def test_an_unexpected_error_in_one_feed_fails_that_feed_only_and_alerts(
    settings, clock, paper_sources
):
    paper_sources.set_daily("2026-05-13", [hf_item("2605.00002", upvotes=5)])
    paper_sources.set_default_daily([])
    paper_sources.set_rss("cs.CL", rss_feed([{"id": "2504.00001"}], "cs.CL"))
    bot = make_bot(settings, clock)
    chat = MemoryAdapter(bot)
    await chat.command("subscribe hf", admin=True, channel="C1")
    await chat.command("subscribe arxiv cs.CL", admin=True, channel="C2")

    real_save = bot.store.save_papers

    def save_breaking_on_hf(papers):
        papers = list(papers)
        if any("hf" in p.sources for p in papers):
            raise sqlite3.IntegrityError("something nobody foresaw")
        return real_save(papers)

    bot.store.save_papers = save_breaking_on_hf
    report = await bot.poster.run_once()
    assert list(report.failed_feeds) == [Feed("hf")]
    assert chat.card_ids("C2") == ["2504.00001"]
    clock.advance(settings.source_alert_after + 60)
    await bot.poster.run_once()
    notices = [s.reply.text for s in chat.sent if isinstance(s.reply, Text)]
    # The new subscription's first fetch failing, then the alert after SOURCE_ALERT_AFTER.
    assert len(notices) == 2 and "keeps trying every" in notices[0]
    assert "Hugging Face" in notices[1] and "unreachable for" in notices[1]
    await close_bot(bot)
