"""Sources: the registry, feeds named by words, the two-day HF feed, arXiv category feeds,
built from Settings."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.sources.base import PaperSource, ParamsError
from bot.sources.hf import merge_days
from bot.sources.http import SourceError
from bot.sources.registry import Sources, SourcesUnreachable
from tests.fakes.paper_sources import FakePaperSources, hf_item

MAY_13 = date(2026, 5, 13)
JUNE_1 = date(2026, 6, 1)


@pytest.fixture
async def fake() -> AsyncIterator[FakePaperSources]:
    async with FakePaperSources() as fake:
        yield fake


@pytest.fixture
async def sources(fake: FakePaperSources) -> AsyncIterator[Sources]:
    async with Sources.from_settings(fake.settings(), retry_base_delay=0.01) as sources:
        yield sources


async def test_hf_feed_asks_for_today_and_yesterday(
    sources: Sources, fake: FakePaperSources
) -> None:
    fake.set_default_daily([])
    papers = await sources.fetch_feed(Feed("hf"), JUNE_1 + timedelta(days=1))
    assert len(papers) == 49  # nothing yet today, all of yesterday
    asked = [r.query["date"] for r in fake.requests_for("daily")]
    assert asked == ["2026-06-02", "2026-06-01"]


async def test_hf_feed_merges_a_paper_on_both_days_once(
    sources: Sources, fake: FakePaperSources
) -> None:
    today, yesterday = date(2026, 6, 2), JUNE_1
    fake.set_daily(today, [hf_item("2605.00001", upvotes=9, day=today), hf_item("2605.00002")])
    fake.set_daily(
        yesterday, [hf_item("2605.00003"), hf_item("2605.00001", upvotes=4, day=yesterday)]
    )
    papers = await sources.fetch_feed(Feed("hf"), today)
    assert [p.id for p in papers] == ["2605.00001", "2605.00002", "2605.00003"]
    both = papers[0]
    assert both.upvotes == 9  # today's count is the current one
    assert both.hf_date == "2026-06-01"  # but it first appeared yesterday


async def test_hf_feed_fails_when_a_day_fails(sources: Sources, fake: FakePaperSources) -> None:
    fake.fail("daily", 503, times=10)
    with pytest.raises(SourceError, match="Hugging Face answered 503"):
        await sources.fetch_feed(Feed("hf"), MAY_13)


async def test_hf_feed_rides_out_one_failure(sources: Sources, fake: FakePaperSources) -> None:
    fake.set_default_daily([])
    fake.fail("daily", 429, retry_after=0)
    assert len(await sources.fetch_feed(Feed("hf"), MAY_13)) == 50


async def test_arxiv_feed(sources: Sources, fake: FakePaperSources) -> None:
    papers = await sources.fetch_feed(Feed("arxiv", "quant-ph"), MAY_13)
    assert len(papers) == 40
    assert [r.path for r in fake.requests] == ["/rss/quant-ph"]


@pytest.mark.parametrize("feed", [Feed("hn"), Feed("arxiv", "bogus.XX"), Feed("arxiv", "../x")])
async def test_a_feed_no_source_has_is_a_value_error(sources: Sources, feed: Feed) -> None:
    with pytest.raises(ValueError):
        await sources.fetch_feed(feed, MAY_13)


@pytest.mark.parametrize(
    ("words", "feed"),
    [
        (["hf"], Feed("hf")),
        (["HF"], Feed("hf")),
        (["huggingface"], Feed("hf")),
        (["arxiv", "cs.LG"], Feed("arxiv", "cs.LG")),
        (["ArXiv", "CS.lg"], Feed("arxiv", "cs.LG")),
        (["arxiv", "quant-ph"], Feed("arxiv", "quant-ph")),
        (["arxiv", "cond-mat.STR-EL"], Feed("arxiv", "cond-mat.str-el")),
        (["arxiv", "math"], Feed("arxiv", "math")),  # a whole archive: arXiv's RSS serves it
    ],
)
def test_words_name_a_normalised_feed(sources: Sources, words: list[str], feed: Feed) -> None:
    source, parsed = sources.parse_feed(words)
    assert parsed == feed and source.name == feed.source


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ([], "Subscribe to what?"),
        (["rss"], "not a source"),
        (["arxiv"], "Which arXiv category?"),
        (["arxiv", "bogus.XX"], "`bogus.XX` is not an arXiv category"),
        (["arxiv", "cs.CL", "cs.LG"], "I don't understand `cs.LG`"),
        (["hf", "extra"], "I don't understand `extra`"),
    ],
)
def test_words_that_name_no_feed(sources: Sources, words: list[str], says: str) -> None:
    with pytest.raises(ParamsError, match=re.escape(says)):
        sources.parse_feed(words)


def test_the_registry_describes_feeds_by_their_source(sources: Sources) -> None:
    assert [s.name for s in sources] == ["hf", "arxiv", "biorxiv", "medrxiv"]
    assert sources.describe(Feed("hf")) == "Hugging Face Daily Papers"
    assert sources.describe(Feed("arxiv", "cs.CL")) == "arXiv cs.CL"
    assert str(Feed("arxiv", "cs.CL")) == "arxiv:cs.CL" and str(Feed("hf")) == "hf"


def test_merge_days_keeps_fresh_order_and_fills_gaps() -> None:
    fresh = [Paper("2605.00002", "B", upvotes=3, hf_date="2026-06-02", sources=("hf",))]
    older = [
        Paper("2605.00001", "A", hf_date="2026-06-01", sources=("hf",)),
        Paper("2605.00002", "B", abstract="kept", upvotes=1, hf_date="2026-06-01", sources=("hf",)),
    ]
    merged = merge_days(fresh, older)
    assert [p.id for p in merged] == ["2605.00002", "2605.00001"]
    assert merged[0].abstract == "kept" and merged[0].upvotes == 3
    assert merged[0].hf_date == "2026-06-01"


async def test_settings_reach_the_fetcher(fake: FakePaperSources) -> None:
    settings = fake.settings(http_timeout=7.0, http_retries=5, arxiv_min_interval=3.0)
    async with Sources.from_settings(settings, retry_base_delay=0.5) as sources:
        assert sources["arxiv"]._min_interval == 3.0
        assert sources._http is not None and sources._http.retries == 5


class Shelf(PaperSource):
    """A throwaway source, defined at test time: the interface is all a source needs."""

    name = "shelf"
    label = "the shelf"
    usage = "shelf <aisle>"
    choice_label = "A shelf"
    feed_noun = "papers on a shelf"
    example = "shelf a1"

    def __init__(self, papers: dict[str, Paper], *, down: bool = False) -> None:
        self.papers, self.down = papers, down

    @classmethod
    def from_settings(cls, http, settings):
        return cls({})

    def parse_params(self, words):
        if len(words) != 1:
            raise ParamsError("Which aisle?")
        return Feed(self.name, words[0].lower())

    def describe(self, feed: Feed) -> str:
        return f"shelf aisle {feed.params}"

    async def fetch(self, feed: Feed, today: date) -> list[Paper]:
        return list(self.papers.values())

    def paper_id(self, text: str) -> str | None:
        return text if text.startswith("shelf/") else None

    async def lookup(self, paper_id: str) -> Paper | None:
        if self.down:
            raise SourceError("the shelf fell over")
        return self.papers.get(paper_id)


async def test_a_source_defined_at_test_time_works_through_the_registry() -> None:
    paper = Paper("shelf/1", "On shelves")
    sources = Sources([Shelf({"shelf/1": paper})])
    source, feed = sources.parse_feed(["SHELF", "A1"])
    assert source.name == "shelf" and feed == Feed("shelf", "a1")
    assert sources.describe(feed) == "shelf aisle a1"
    assert await sources.fetch_feed(feed, MAY_13) == [paper]
    assert sources.paper_id("shelf/1") == "shelf/1" and sources.paper_id("2401.12345") is None
    assert await sources.lookup("shelf/1") == paper
    assert await sources.lookup("shelf/2") is None
    assert sources.searchable == [] and sources.daily_source is None


async def test_lookup_asks_each_source_in_turn_and_says_when_none_answered() -> None:
    paper = Paper("shelf/1", "On shelves")
    first, second = Shelf({}, down=True), Shelf({"shelf/1": paper})
    second.name = "shelf2"
    assert await Sources([first, second]).lookup("shelf/1") == paper  # one down: the next
    second.down = True
    with pytest.raises(SourcesUnreachable) as raised:
        await Sources([first, second]).lookup("shelf/1")
    assert raised.value.labels == ("the shelf", "the shelf")
