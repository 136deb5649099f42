"""Hugging Face Daily Papers: parsing recorded days, and the client against the local fake."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.model.ids import is_canonical
from bot.sources.hf import (
    NOT_A_LIST,
    HuggingFace,
    MalformedItem,
    load_sample_papers,
    parse_daily_item,
    parse_daily_list,
    parse_paper,
)
from bot.sources.http import HttpFetcher, SourceError
from tests.fakes.paper_sources import FakePaperSources, hf_item

FIXTURES = Path(__file__).parent / "fixtures"
MAY_13 = date(2026, 5, 13)
JUNE_1 = date(2026, 6, 1)


def recorded(day: date) -> list[Any]:
    return json.loads((FIXTURES / f"hf_daily_papers_{day.isoformat()}.json").read_text())


@pytest.fixture
async def fake() -> AsyncIterator[FakePaperSources]:
    async with FakePaperSources() as fake:
        yield fake


@pytest.fixture
async def hf(fake: FakePaperSources) -> AsyncIterator[HuggingFace]:
    async with HttpFetcher(timeout=0.5, retries=2, retry_base_delay=0.01) as http:
        yield HuggingFace(http, fake.base_urls["hf_api_url"])


# --- parsing -----------------------------------------------------------------------------


def test_recorded_days_parse_completely() -> None:
    may, june = parse_daily_list(recorded(MAY_13), MAY_13), parse_daily_list(recorded(JUNE_1))
    assert (len(may), len(june)) == (50, 49)
    for paper in may + june:
        assert is_canonical(paper.id)
        assert paper.title and paper.abstract and paper.authors
        assert paper.sources == ("hf",)
        assert paper.upvotes is not None and paper.upvotes >= 0
        assert paper.thumbnail_url.startswith("https://")
    assert {p.hf_date for p in may} == {"2026-05-13"}
    assert {p.hf_date for p in june} == {"2026-06-01"}


def test_known_paper_fields() -> None:
    paper = parse_daily_list(recorded(MAY_13), MAY_13)[0]
    assert paper.id == "2605.12500"
    assert paper.title == (
        "SenseNova-U1: Unifying Multimodal Understanding and Generation with NEO-unify Architecture"
    )
    assert paper.abstract.startswith("Recent large vision-language models (VLMs) remain")
    assert "\n" not in paper.abstract and "  " not in paper.abstract
    assert len(paper.authors) == 58
    assert paper.authors[:2] == ("Haiwen Diao", "Penghao Wu") and paper.authors[-1] == "Dahua Lin"
    assert paper.published == "2026-05-12"
    assert paper.upvotes == 97
    assert paper.hf_date == "2026-05-13"
    assert paper.code_url == "https://github.com/OpenSenseNova/SenseNova-U1"
    assert paper.project_url == ""
    assert paper.thumbnail_url == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2605.12500.png"
    )


def test_hidden_authors_are_left_out_in_order() -> None:
    (paper,) = [p for p in parse_daily_list(recorded(JUNE_1)) if p.id == "2605.28618"]
    assert "Yu Zhang" not in paper.authors
    assert len(paper.authors) == 14
    assert paper.authors[7:9] == ("Ruiqi Li", "Chenyuhao Wen")


def test_whitespace_is_collapsed_and_ids_are_canonical() -> None:
    item = hf_item("2605.00001v3", "  A\n  wrapped\ttitle ", summary="one\n\ntwo   three")
    paper = parse_daily_item(item)
    assert paper.id == "2605.00001"
    assert (paper.title, paper.abstract) == ("A wrapped title", "one two three")


def test_hf_date_falls_back_to_the_requested_day() -> None:
    item = hf_item("2605.00001")
    del item["paper"]["submittedOnDailyAt"]
    assert parse_daily_item(item, MAY_13).hf_date == "2026-05-13"
    assert parse_daily_item(item).hf_date == ""


@pytest.mark.parametrize(
    ("thumbnail", "expected"),
    [
        ("https://cdn.example/x.png", "https://cdn.example/x.png"),
        ("/papers/x.png", "https://huggingface.co/papers/x.png"),
        ("papers/x.png", "https://huggingface.co/papers/x.png"),
        ("//cdn.example/x.png", "https://cdn.example/x.png"),
        (None, ""),
    ],
)
def test_thumbnail_urls_are_absolute(thumbnail: str | None, expected: str) -> None:
    item = hf_item("2605.00001")
    item["thumbnail"] = thumbnail
    assert parse_daily_item(item).thumbnail_url == expected


def test_optional_fields_may_be_null_or_missing() -> None:
    item = hf_item("2605.00001", githubRepo=None, projectPage=None, upvotes=None)
    del item["thumbnail"]
    paper = parse_daily_item(item)
    assert (paper.code_url, paper.project_url, paper.thumbnail_url) == ("", "", "")
    assert paper.upvotes is None


def test_links_that_are_not_web_links_are_dropped() -> None:
    paper = parse_daily_item(hf_item("2605.00001", githubRepo="javascript:alert(1)"))
    assert paper.code_url == ""


def _without(key: str) -> dict[str, Any]:
    item = hf_item("2605.00001")
    del item["paper"][key]
    return item


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(_without("id"), id="no id"),
        pytest.param(hf_item("not-an-id"), id="bad id"),
        pytest.param(
            {**hf_item("2605.00001"), "title": None, "paper": {**_without("title")["paper"]}},
            id="no title",
        ),
        pytest.param(hf_item("2605.00001", upvotes="many"), id="upvotes str"),
        pytest.param(hf_item("2605.00001", title=["a list"]), id="title list"),  # type: ignore[arg-type]
        pytest.param({**hf_item("2605.00001"), "paper": "2605.00001"}, id="paper str"),
        pytest.param(["2605.00001"], id="item list"),
    ],
)
def test_malformed_items_raise_malformed_item(item: Any) -> None:
    with pytest.raises(MalformedItem):
        parse_daily_item(item)


def test_a_malformed_item_is_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    items = [hf_item("2605.00001"), hf_item("2605.00002", upvotes="lots"), hf_item("2605.00003")]
    with caplog.at_level(logging.WARNING, logger="bot.sources.hf"):
        papers = parse_daily_list(items)
    assert [p.id for p in papers] == ["2605.00001", "2605.00003"]
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and "#1" in record.getMessage()
    assert "\n" not in record.getMessage()


def test_a_body_that_is_not_a_list_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=NOT_A_LIST):
        parse_daily_list({"error": "oops"})


def test_bare_paper_object_parses() -> None:
    bare = copy.deepcopy(recorded(JUNE_1)[0]["paper"])
    paper = parse_paper(bare)
    assert paper.id == "2605.29307" and paper.hf_date == "2026-06-01" and paper.thumbnail_url == ""


def test_bundled_sample_papers() -> None:
    papers = load_sample_papers()
    assert 10 <= len(papers) <= 15
    assert len({p.id for p in papers}) == len(papers)
    assert all(p.title and p.authors and p.upvotes for p in papers)


# --- against the fake --------------------------------------------------------------------


async def test_daily_over_http(hf: HuggingFace, fake: FakePaperSources) -> None:
    papers = await hf.daily(JUNE_1)
    assert len(papers) == 49
    assert fake.requests_for("daily")[0].query == {"date": "2026-06-01"}


async def test_empty_day_is_an_empty_list(hf: HuggingFace, fake: FakePaperSources) -> None:
    fake.set_daily(date(2026, 6, 7), [])
    assert await hf.daily(date(2026, 6, 7)) == []


async def test_daily_retries_a_500(hf: HuggingFace, fake: FakePaperSources) -> None:
    fake.fail("daily", 500)
    assert len(await hf.daily(MAY_13)) == 50


async def test_daily_500_forever_is_a_source_error(hf: HuggingFace, fake: FakePaperSources) -> None:
    fake.fail("daily", 500, times=5)
    with pytest.raises(SourceError, match="Hugging Face answered 500"):
        await hf.daily(MAY_13)


async def test_daily_timeout_then_success(hf: HuggingFace, fake: FakePaperSources) -> None:
    fake.delay("daily", 30)
    assert len(await hf.daily(MAY_13)) == 50


async def test_daily_malformed_json_is_a_source_error(
    hf: HuggingFace, fake: FakePaperSources
) -> None:
    fake.malformed("daily")
    with pytest.raises(SourceError, match=NOT_A_LIST):
        await hf.daily(MAY_13)


async def test_daily_truncated_json_is_a_source_error(
    hf: HuggingFace, fake: FakePaperSources
) -> None:
    fake.truncate("daily")
    with pytest.raises(SourceError, match=NOT_A_LIST):
        await hf.daily(MAY_13)


async def test_daily_html_error_page_is_a_source_error(
    hf: HuggingFace, fake: FakePaperSources
) -> None:
    fake.malformed("daily", "<html>maintenance</html>", content_type="text/html")
    with pytest.raises(SourceError, match=NOT_A_LIST):
        await hf.daily(MAY_13)


async def test_daily_client_error_is_a_source_error(
    hf: HuggingFace, fake: FakePaperSources
) -> None:
    fake.fail("daily", 400)
    with pytest.raises(SourceError, match="Hugging Face answered 400"):
        await hf.daily(MAY_13)
    assert fake.count("daily") == 1


async def test_one_malformed_item_among_good_ones_is_skipped(
    hf: HuggingFace, fake: FakePaperSources, caplog: pytest.LogCaptureFixture
) -> None:
    items = recorded(MAY_13)[:3]
    items.insert(1, {"paper": {"id": 12345, "title": "numeric id"}})
    fake.set_daily(MAY_13, items)
    with caplog.at_level(logging.WARNING, logger="bot.sources.hf"):
        papers = await hf.daily(MAY_13)
    assert [p.id for p in papers] == ["2605.12500", "2605.09530", "2605.12357"]
    assert len(caplog.records) == 1


async def test_paper_found(hf: HuggingFace, fake: FakePaperSources) -> None:
    paper = await hf.paper("arXiv:2605.12500v2")
    assert paper is not None and paper.id == "2605.12500" and paper.upvotes == 97
    assert fake.requests_for("paper")[0].path == "/api/papers/2605.12500"


async def test_paper_not_indexed_is_none(hf: HuggingFace, fake: FakePaperSources) -> None:
    assert await hf.paper("2401.00001") is None
    assert fake.count("paper") == 1  # a 404 is an answer, not a failure to retry


async def test_paper_with_a_non_id_is_a_value_error(hf: HuggingFace) -> None:
    with pytest.raises(ValueError, match="not an arXiv id"):
        await hf.paper("hello")


async def test_paper_malformed_body_is_a_source_error(
    hf: HuggingFace, fake: FakePaperSources
) -> None:
    fake.set_paper("2605.12500", {"id": "2605.12500"})
    with pytest.raises(SourceError, match="not a paper"):
        await hf.paper("2605.12500")


async def test_search(hf: HuggingFace, fake: FakePaperSources) -> None:
    papers = await hf.search("  SenseNova   unifying ")
    assert [p.id for p in papers] == ["2605.12500"]
    assert fake.requests_for("search")[0].query == {"q": "SenseNova unifying"}


async def test_empty_search_asks_nobody(hf: HuggingFace, fake: FakePaperSources) -> None:
    assert await hf.search("   ") == []
    assert fake.count() == 0
