"""bioRxiv and medRxiv (api.biorxiv.org): parsing its answers, feeds and their pages, lookups by
DOI, the ids and links its papers get, and subscribe parameters."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date

import pytest

from bot.model.feed import Feed
from bot.model.paper import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS
from bot.sources.base import ParamsError
from bot.sources.biorxiv import (
    BIORXIV_CATEGORIES,
    MAX_PAGES,
    MEDRXIV_CATEGORIES,
    parse_collection,
    parse_page,
    rxiv_doi,
    split_authors,
)
from bot.sources.http import SourceError
from bot.sources.registry import Sources
from tests.fakes.paper_sources import FakePaperSources, fixture_json

MAY_13 = date(2026, 5, 13)
DOI = "10.1101/2024.01.01.123456"


@pytest.fixture
async def fake() -> AsyncIterator[FakePaperSources]:
    async with FakePaperSources() as fake:
        yield fake


@pytest.fixture
async def sources(fake: FakePaperSources) -> AsyncIterator[Sources]:
    async with Sources.from_settings(fake.settings(), retry_base_delay=0.01) as sources:
        yield sources


# -- parsing --------------------------------------------------------------------------------


def test_a_details_answer_becomes_papers_with_links_to_their_server() -> None:
    items, total = parse_page(fixture_json("biorxiv_details_2026-05-12_2026-05-13.json"))
    assert total == 6 and len(items) == 6
    papers = {p.id: p for p in parse_collection(items, "biorxiv", new_only=True)}
    # The revision (v3) of a paper first posted in 2025 is not new; v1 + v2 of one paper are
    # one paper.
    assert sorted(papers) == [
        "10.1101/2026.05.11.593001",
        "10.1101/2026.05.11.593017",
        "10.1101/2026.05.12.593102",
        "10.1101/2026.05.13.593240",
    ]
    first = papers["10.1101/2026.05.11.593001"]
    assert first.title == "Mitochondrial fission tracks membrane tension in migrating cells"
    assert first.authors == ("J. A. Smith", "L. Chen", "K. van der Berg")
    assert first.categories == ("cell_biology",)
    assert first.published == "2026-05-12" and first.sources == ("biorxiv",)
    assert first.abstract_url == "https://www.biorxiv.org/content/10.1101/2026.05.11.593001v1"
    assert first.pdf_url == "https://www.biorxiv.org/content/10.1101/2026.05.11.593001v1.full.pdf"
    assert first.hf_url == "" and not first.listed_on_hf
    revised = papers["10.1101/2026.05.12.593102"]
    assert revised.title.endswith("bound to target DNA")  # the newest version's
    assert revised.published == "2026-05-12"  # the day it was first posted
    assert revised.abstract_url.endswith("593102v2")


def test_medrxiv_papers_link_to_medrxiv_and_a_string_total_counts() -> None:
    items, total = parse_page(fixture_json("medrxiv_details_2026-05-12_2026-05-13.json"))
    assert total == 3
    papers = parse_collection(items, "medrxiv")
    assert [p.sources for p in papers] == [("medrxiv",)] * 3
    assert all(
        p.abstract_url.startswith("https://www.medrxiv.org/content/10.1101/") for p in papers
    )
    assert papers[1].categories == ("public_and_global_health",)


def test_edge_cases_keep_the_good_items_and_bound_every_field() -> None:
    items, total = parse_page(fixture_json("biorxiv_details_edge_cases.json"))
    assert total == MAX_PAGES * 100  # a claimed 10**20 papers is capped
    papers = {p.id.rsplit(".", 1)[-1]: p for p in parse_collection(items, "biorxiv")}
    # Dropped: a DOI that is a number, a title that is a list, a DOI not of bioRxiv, an empty
    # title, and two items that are no objects.
    assert sorted(papers) == ["600001", "600004", "600005", "600006", "600007", "600008", "600013"]
    assert papers["600004"].abstract_url.endswith("/10.1101/2026.05.12.600004")  # no version
    assert papers["600005"].published == ""  # 30 February
    assert papers["600006"].published == ""  # the year 9999
    assert len(papers["600007"].title) == MAX_TITLE_CHARS
    assert len(papers["600007"].abstract) == MAX_ABSTRACT_CHARS
    odd = papers["600008"]
    assert (odd.authors, odd.categories, odd.abstract) == ((), (), "")
    # The item's own server wins: its links must work.
    assert papers["600013"].abstract_url.startswith("https://www.medrxiv.org/")
    assert papers["600013"].sources == ("medrxiv",)


@pytest.mark.parametrize(
    "answer",
    [
        {"messages": [{"status": "error: bad interval"}], "collection": []},
        {"messages": [], "collection": []},
        {"messages": "ok", "collection": []},
        {"messages": [{"status": "ok"}], "collection": {"doi": DOI}},
        ["not", "an", "object"],
        None,
    ],
)
def test_answers_without_the_documented_shape_are_source_errors(answer: object) -> None:
    with pytest.raises(SourceError):
        parse_page(answer)


def test_no_posts_found_is_an_empty_page() -> None:
    assert parse_page(fixture_json("biorxiv_no_posts_found.json")) == ([], 0)


def test_authors_are_turned_into_given_then_last_names() -> None:
    assert split_authors("Smith, J. A.; van der Berg, K.;  ; Consortium X") == (
        "J. A. Smith",
        "K. van der Berg",
        "Consortium X",
    )
    assert split_authors("") == ()


@pytest.mark.parametrize(
    "text",
    [
        DOI,
        DOI.upper(),
        f"doi:{DOI}",
        f"https://doi.org/{DOI}",
        f"{DOI}v2",
        f"https://www.biorxiv.org/content/{DOI}v2",
        f"https://www.biorxiv.org/content/{DOI}v2.full",
        f"https://www.biorxiv.org/content/{DOI}v2.full.pdf",
        f"https://biorxiv.org/content/{DOI}.abstract",
        f"https://www.medrxiv.org/content/{DOI}v1?versioned=true",
        f"<https://www.medrxiv.org/content/{DOI}v1.full.pdf|medrxiv.org/content/...>",
    ],
)
def test_dois_and_server_links_name_the_doi(text: str) -> None:
    assert rxiv_doi(text) == DOI


@pytest.mark.parametrize(
    "text",
    [
        "2401.12345",
        "10.1038/s41586-026-00001-1",  # a DOI, but not a preprint on either server
        "10.1101/gr.123456.110",  # Cold Spring Harbor's journals share the prefix
        "https://www.example.org/content/10.1101/2024.01.01.123456",
        "10.1101/2024.01.01.123456 and more",
        "",
        "1" * 400,
    ],
)
def test_other_text_names_no_preprint(text: str) -> None:
    assert rxiv_doi(text) is None


# -- feeds ----------------------------------------------------------------------------------


async def test_feed_reads_two_days_of_one_category_page_by_page(
    sources: Sources, fake: FakePaperSources
) -> None:
    fake.rxiv_page_size = 1  # the real API pages by 100; the cursor logic is the same
    papers = await sources.fetch_feed(Feed("biorxiv", "cell_biology"), MAY_13)
    assert [p.id for p in papers] == ["10.1101/2026.05.11.593001", "10.1101/2026.05.13.593240"]
    asked = fake.requests_for("rxiv")
    # Three items in cell biology (one a revision), one per page, then a page past the end.
    assert [r.path for r in asked] == [
        f"/details/biorxiv/2026-05-12/2026-05-13/{n}" for n in (0, 1, 2)
    ]
    assert {r.query["category"] for r in asked} == {"cell_biology"}


async def test_all_categories_and_medrxiv(sources: Sources, fake: FakePaperSources) -> None:
    everything = await sources.fetch_feed(Feed("biorxiv"), MAY_13)
    assert len(everything) == 4
    assert "category" not in fake.requests_for("rxiv")[0].query
    medical = await sources.fetch_feed(Feed("medrxiv", "epidemiology"), MAY_13)
    assert [p.sources for p in medical] == [("medrxiv",), ("medrxiv",)]


async def test_an_endless_total_stops_after_the_page_cap(
    sources: Sources, fake: FakePaperSources
) -> None:
    fake.set_rxiv_answer("biorxiv", fixture_json("biorxiv_details_edge_cases.json"))
    papers = await sources.fetch_feed(Feed("biorxiv", "genomics"), MAY_13)
    assert fake.count("rxiv") == MAX_PAGES
    assert len({p.id for p in papers}) == len(papers) == 7


async def test_a_quiet_window_is_empty_and_a_failing_server_a_source_error(
    sources: Sources, fake: FakePaperSources
) -> None:
    fake.set_rxiv("biorxiv", [])
    assert await sources.fetch_feed(Feed("biorxiv", "zoology"), MAY_13) == []
    fake.fail("rxiv", 503, times=10)
    with pytest.raises(SourceError, match="bioRxiv answered 503"):
        await sources.fetch_feed(Feed("biorxiv", "zoology"), MAY_13)
    fake.clear_faults()
    fake.malformed("rxiv", b"<html>maintenance</html>", content_type="text/html")
    with pytest.raises(SourceError, match="not JSON"):
        await sources.fetch_feed(Feed("biorxiv", "zoology"), MAY_13)


async def test_a_stored_feed_that_is_no_category_is_refused(sources: Sources) -> None:
    with pytest.raises(ValueError):
        await sources.fetch_feed(Feed("biorxiv", "../../etc"), MAY_13)


# -- lookups --------------------------------------------------------------------------------


async def test_lookup_by_doi_gives_the_newest_version_posted_on_the_first_day(
    sources: Sources, fake: FakePaperSources
) -> None:
    paper = await sources.lookup(sources.paper_id(f"https://www.biorxiv.org/content/{DOI}v1"))
    assert paper is not None and paper.id == DOI
    assert paper.authors == ("E. Lindqvist", "J. Park", "A. Osei")
    assert paper.published == "2024-01-02"
    assert paper.abstract_url == f"https://www.biorxiv.org/content/{DOI}v2"
    assert [r.path for r in fake.requests_for("rxiv_doi")] == [f"/details/biorxiv/{DOI}/na/json"]


async def test_a_medrxiv_paper_is_found_on_medrxiv(
    sources: Sources, fake: FakePaperSources
) -> None:
    doi = "10.1101/2026.05.11.26301301"
    paper = await sources.lookup(doi)
    assert paper is not None and paper.abstract_url.startswith("https://www.medrxiv.org/")
    servers = [r.path.split("/")[2] for r in fake.requests_for("rxiv_doi")]
    assert servers == ["biorxiv", "medrxiv"]  # the DOI does not say which server has it


async def test_an_unknown_doi_is_none_and_unreachable_servers_say_so(
    sources: Sources, fake: FakePaperSources
) -> None:
    assert await sources.lookup("10.1101/2026.01.01.000000") is None
    fake.fail("rxiv_doi", 500, times=20)
    with pytest.raises(SourceError, match="bioRxiv or medRxiv"):
        await sources.lookup("10.1101/2026.01.01.000000")


# -- subscribe parameters -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "feed"),
    [
        (["biorxiv", "cell_biology"], Feed("biorxiv", "cell_biology")),
        (["bioRxiv", "Cell", "Biology"], Feed("biorxiv", "cell_biology")),
        (["biorxiv", "cell-biology"], Feed("biorxiv", "cell_biology")),
        (["biorxiv", "all"], Feed("biorxiv")),
        (["medrxiv", "HIV/AIDS"], Feed("medrxiv", "hiv_aids")),
        (["medrxiv", "infectious", "diseases"], Feed("medrxiv", "infectious_diseases")),
    ],
)
def test_categories_are_read_as_the_api_spells_them(
    sources: Sources, words: list[str], feed: Feed
) -> None:
    assert sources.parse_feed(words)[1] == feed


def test_an_unknown_category_gets_suggestions_or_the_list(sources: Sources) -> None:
    with pytest.raises(ParamsError) as close:
        sources.parse_feed(["biorxiv", "cel_biology"])
    assert "Did you mean `cell_biology` or" in close.value.message  # the closest first
    with pytest.raises(ParamsError) as listed:
        sources.parse_feed(["medrxiv", "xyzzy"])
    assert listed.value.message == "`xyzzy` is not a medRxiv category."
    assert all(f"`{c}`" in listed.value.hint for c in MEDRXIV_CATEGORIES)
    with pytest.raises(ParamsError) as missing:
        sources.parse_feed(["biorxiv"])
    assert all(f"`{c}`" in missing.value.hint for c in BIORXIV_CATEGORIES)
    with pytest.raises(ParamsError, match="don't understand `extra`"):
        sources.parse_feed(["biorxiv", "genomics", "extra"])


def test_feeds_are_described_by_server_and_category(sources: Sources) -> None:
    assert sources.describe(Feed("biorxiv", "cell_biology")) == "bioRxiv cell biology"
    assert sources.describe(Feed("medrxiv")) == "medRxiv (all categories)"


def test_category_lists_are_api_spellings() -> None:
    for category in (*BIORXIV_CATEGORIES, *MEDRXIV_CATEGORIES):
        assert re.fullmatch(r"[a-z]+(?:_[a-z]+)*", category), category
