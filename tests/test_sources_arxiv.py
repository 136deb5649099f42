"""arXiv: parsing the recorded RSS feed and API answer, and the client against the local fake."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.model.ids import is_canonical
from bot.sources.arxiv import BROKEN, Arxiv, parse_atom, parse_rss, split_authors
from bot.sources.http import HttpFetcher, SourceError
from tests.fakes.paper_sources import EMPTY_RSS, FakePaperSources, fixture_bytes, rss_feed

FIXTURES = Path(__file__).parent / "fixtures"
RSS = (FIXTURES / "arxiv_rss_quant-ph_2025-04-28.xml").read_bytes()
API = (FIXTURES / "arxiv_api_cs_lg.xml").read_bytes()
API_ERROR = (FIXTURES / "arxiv_api_error.xml").read_bytes()


@pytest.fixture
async def fake() -> AsyncIterator[FakePaperSources]:
    async with FakePaperSources() as fake:
        yield fake


@pytest.fixture
async def arxiv(fake: FakePaperSources) -> AsyncIterator[Arxiv]:
    urls = fake.base_urls
    async with HttpFetcher(timeout=0.5, retries=2, retry_base_delay=0.01) as http:
        yield Arxiv(http, urls["arxiv_api_url"], urls["arxiv_rss_url"], min_interval=0)


# --- RSS ---------------------------------------------------------------------------------


def test_rss_keeps_only_new_submissions() -> None:
    papers = parse_rss(RSS)
    assert len(papers) == 40
    assert len({p.id for p in papers}) == 40
    assert "2312.01259" not in {p.id for p in papers}  # a replace-cross item


def test_rss_announce_types_can_be_widened() -> None:
    everything = parse_rss(RSS, announce_types=("new", "replace", "cross", "replace-cross"))
    assert len(everything) == 81


def test_rss_paper_fields() -> None:
    papers = {p.id: p for p in parse_rss(RSS)}
    paper = papers["2504.17837"]
    assert paper.title == (
        "Statistical noise enhances quantumness benefits in spin-network quantum reservoir"
        " computing"
    )
    assert paper.abstract.startswith("Quantum reservoir computing offers a promising approach")
    assert "Announce Type" not in paper.abstract and "\n" not in paper.abstract
    assert paper.authors == ("Youssef Kora", "Christoph Simon")
    assert paper.categories == ("quant-ph", "physics.comp-ph")
    assert paper.published == "2025-04-28"
    assert paper.sources == ("arxiv",)
    assert paper.upvotes is None
    assert all(is_canonical(p.id) and p.title and p.abstract and p.authors for p in papers.values())


def test_rss_authors_with_affiliations() -> None:
    (paper,) = [p for p in parse_rss(RSS) if p.authors and p.authors[0] == "M. R. Nirmal"]
    assert paper.authors == (
        "M. R. Nirmal",
        "Ankit Khandelwal",
        "Manoj Nambiar",
        "Sharma S. R. K. C. Yamijala",
    )


@pytest.mark.parametrize(
    ("creators", "names"),
    [
        ("Ada Lovelace", ("Ada Lovelace",)),
        ("A. One, B. Two ,  C.\n Three", ("A. One", "B. Two", "C. Three")),
        ("A. One (Uni X, Dept Y), B. Two (Lab (Z), W)", ("A. One", "B. Two")),
        ("", ()),
    ],
)
def test_split_authors(creators: str, names: tuple[str, ...]) -> None:
    assert split_authors(creators) == names


def test_rss_id_from_guid_when_link_is_odd() -> None:
    feed = RSS.replace(b"<link>https://arxiv.org/abs/2504.17830</link>", b"<link></link>")
    assert "2504.17830" in {p.id for p in parse_rss(feed)}


def test_empty_rss_feed_is_an_empty_list() -> None:
    assert parse_rss(EMPTY_RSS) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(RSS[: len(RSS) // 2], id="truncated"),
        pytest.param(b"", id="empty body"),
        pytest.param(b"<html><body>Service unavailable</body></html>", id="html"),
        pytest.param(API, id="atom instead of rss"),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaa">]><rss>&a;</rss>',
            id="doctype",
        ),
        pytest.param("<rss/>".encode("utf-16"), id="utf-16"),
    ],
)
def test_unreadable_rss_is_a_source_error(body: bytes) -> None:
    with pytest.raises(SourceError, match=BROKEN):
        parse_rss(body)


# --- Atom API ----------------------------------------------------------------------------


def test_api_entries_parse() -> None:
    papers = parse_atom(API)
    assert len(papers) == 20
    first = papers[0]
    assert first.id == "2604.26951"
    assert first.title.startswith("Turning the TIDE: Cross-Architecture Distillation")
    assert first.authors == ("Gongbo Zhang", "Wen Wang", "Ye Tian", "Li Yuan")
    assert first.categories == ("cs.CL", "cs.AI", "cs.LG")
    assert first.published == "2026-04-29"
    assert first.abstract.startswith("Diffusion large language models (dLLMs)")
    assert first.sources == ("arxiv",) and first.upvotes is None
    for paper in papers:
        assert is_canonical(paper.id) and paper.title and paper.abstract and paper.authors
        assert "\n" not in paper.title and "\n" not in paper.abstract


def test_primary_category_comes_first() -> None:
    papers = {p.id: p for p in parse_atom(API)}
    assert papers["2604.26942"].categories[0] == "cs.LG"


def test_api_error_entry_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=r"arXiv said: incorrect id format for 1234\.error"):
        parse_atom(API_ERROR)


def test_a_paper_titled_error_is_a_paper() -> None:
    feed = API.replace(
        b"<title>Turning the TIDE: Cross-Architecture Distillation for Diffusion Large Language "
        b"Models</title>",
        b"<title>Error</title>",
    )
    assert parse_atom(feed)[0].title == "Error"


def test_api_with_no_entries_is_an_empty_list() -> None:
    feed = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>arXiv Query</title></feed>'
    assert parse_atom(feed) == []


def test_truncated_api_answer_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=BROKEN):
        parse_atom(API[:-200])


# --- against the fake --------------------------------------------------------------------


async def test_new_in_category(arxiv: Arxiv, fake: FakePaperSources) -> None:
    papers = await arxiv.new_in_category("quant-ph")
    assert len(papers) == 40
    assert fake.requests_for("rss")[0].path == "/rss/quant-ph"


async def test_new_in_category_serves_custom_feeds(arxiv: Arxiv, fake: FakePaperSources) -> None:
    fake.set_rss(
        "cs.LG",
        rss_feed(
            [
                {"id": "2605.00001", "title": "Fresh"},
                {"id": "2605.00002", "announce_type": "replace"},
                {"id": "2605.00003", "announce_type": "cross"},
            ]
        ),
    )
    papers = await arxiv.new_in_category("cs.LG")
    assert [(p.id, p.title, p.categories) for p in papers] == [("2605.00001", "Fresh", ("cs.LG",))]


async def test_weekend_feed_is_empty(arxiv: Arxiv, fake: FakePaperSources) -> None:
    fake.set_rss("quant-ph", EMPTY_RSS)
    assert await arxiv.new_in_category("quant-ph") == []


async def test_truncated_rss_over_http_is_a_source_error(
    arxiv: Arxiv, fake: FakePaperSources
) -> None:
    fake.truncate("rss")
    with pytest.raises(SourceError, match=BROKEN):
        await arxiv.new_in_category("quant-ph")


async def test_rss_500_then_success(arxiv: Arxiv, fake: FakePaperSources) -> None:
    fake.fail("rss", 502)
    assert len(await arxiv.new_in_category("quant-ph")) == 40


async def test_rss_not_found_is_a_source_error(arxiv: Arxiv, fake: FakePaperSources) -> None:
    fake.fail("rss", 404)
    with pytest.raises(SourceError, match="arXiv answered 404"):
        await arxiv.new_in_category("quant-ph")


@pytest.mark.parametrize("category", ["", "../etc", "cs.LG/x", "cs.LG?x=1", "CS", "cs.LG\n"])
async def test_bad_category_is_a_value_error(arxiv: Arxiv, category: str) -> None:
    with pytest.raises(ValueError, match="not an arXiv category"):
        await arxiv.new_in_category(category)


async def test_lookup(arxiv: Arxiv, fake: FakePaperSources) -> None:
    ids = ["https://arxiv.org/abs/2604.26951v1", "arXiv:2604.26942", "2604.26951", "2401.00001"]
    papers = await arxiv.lookup_many(ids)
    assert sorted(p.id for p in papers) == ["2604.26942", "2604.26951"]
    (request,) = fake.requests_for("api")
    assert request.query == {
        "id_list": "2604.26951,2604.26942,2401.00001",
        "max_results": "3",
    }


async def test_lookup_of_nothing_asks_nobody(arxiv: Arxiv, fake: FakePaperSources) -> None:
    assert await arxiv.lookup_many([]) == []
    assert fake.count() == 0


async def test_lookup_rejects_non_ids(arxiv: Arxiv) -> None:
    with pytest.raises(ValueError, match="not an arXiv id"):
        await arxiv.lookup_many(["2604.26951", "banana"])


async def test_lookup_batches_long_lists(arxiv: Arxiv, fake: FakePaperSources) -> None:
    await arxiv.lookup_many([f"2604.{n:05d}" for n in range(120)])
    sizes = [len(r.query["id_list"].split(",")) for r in fake.requests_for("api")]
    assert sizes == [50, 50, 20]


async def test_lookup_error_entry_is_a_source_error(arxiv: Arxiv, fake: FakePaperSources) -> None:
    fake.set_api(fixture_bytes("arxiv_api_error.xml"))
    with pytest.raises(SourceError, match="arXiv said: incorrect id format"):
        await arxiv.lookup_many(["2604.26951"])


async def test_lookup_error_entry_with_status_400(arxiv: Arxiv, fake: FakePaperSources) -> None:
    fake.fail("api", 400, body=API_ERROR)
    with pytest.raises(SourceError, match="arXiv said: incorrect id format"):
        await arxiv.lookup_many(["2604.26951"])


async def test_lookup_truncated_is_a_source_error(arxiv: Arxiv, fake: FakePaperSources) -> None:
    fake.truncate("api")
    with pytest.raises(SourceError, match=BROKEN):
        await arxiv.lookup_many(["2604.26951"])


async def test_lookup_respects_min_interval(fake: FakePaperSources) -> None:
    urls = fake.base_urls
    async with HttpFetcher(timeout=0.5, retries=0) as http:
        arxiv = Arxiv(http, urls["arxiv_api_url"], urls["arxiv_rss_url"], min_interval=0.2)
        await arxiv.lookup_many(["2604.26951"])
        await arxiv.lookup_many(["2604.26942"])
    first, second = fake.requests_for("api")
    assert second.at - first.at >= 0.19


def test_recorded_rss_counts_match_the_readme() -> None:
    # Guards the fixture itself: the RSS numbers above are only meaningful if it is intact.
    counts = Counter(
        line.strip().removeprefix(b"<arxiv:announce_type>").removesuffix(b"</arxiv:announce_type>")
        for line in RSS.splitlines()
        if b"<arxiv:announce_type>" in line
    )
    assert counts == {b"new": 40, b"replace": 22, b"cross": 10, b"replace-cross": 9}
