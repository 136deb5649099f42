"""Hugging Face Daily Papers: the daily list, single papers and search.

HF's JSON is loosely typed and grows fields over time, so parsing is strict only about
what a post cannot do without (an arXiv id and a title) and forgiving about the rest.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from importlib import resources

import httpx

from bot.config import Settings
from bot.model.calendar_period import CalendarPeriod
from bot.model.feed import Feed
from bot.model.ids import canonical_id
from bot.model.paper import Paper, bounded
from bot.sources.base import DailyList, PaperSource, no_more_words
from bot.sources.http import HttpFetcher, SourceError, ensure_ok

log = logging.getLogger(__name__)

NAME = "Hugging Face"
SITE = "https://huggingface.co"
NOT_A_LIST = "Hugging Face returned something that is not a paper list"
NOT_A_PAPER = "Hugging Face returned something that is not a paper"


class MalformedItem(ValueError):
    """One HF item cannot become a Paper; the message says why (for the log)."""


class HuggingFace(PaperSource):
    """Hugging Face Daily Papers: one feed, the daily list. Its papers are arXiv papers."""

    name = "hf"
    label = NAME
    aliases = ("huggingface", "hugging-face", "hf-daily")
    usage = "hf"
    choice_label = "Hugging Face Daily Papers"
    feed_noun = "Hugging Face Daily Papers"
    example = "hf min_upvotes=10"
    has_upvotes = True
    can_search = True
    daily_name = "Hugging Face Daily Papers"

    def __init__(self, http: HttpFetcher, base_url: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")

    @classmethod
    def from_settings(cls, http: HttpFetcher, settings: Settings) -> HuggingFace:
        return cls(http, settings.hf_api_url)

    def parse_params(self, words: Sequence[str]) -> Feed:
        no_more_words(words)
        return HF_FEED

    def describe(self, feed: Feed) -> str:
        return self.daily_name

    async def fetch(self, feed: Feed, today: date) -> list[Paper]:
        """Today's and yesterday's Daily Papers: today's list fills up during the day, and
        papers submitted late yesterday would otherwise be missed."""
        fresh = await self.daily(today)
        older = await self.daily(today - timedelta(days=1))
        return merge_days(fresh, older)

    async def daily_list(self, today: date) -> DailyList:
        """Today's list, else yesterday's: the list fills during the day, so early on
        yesterday's is the one worth showing."""
        papers = await self.daily(today)
        if papers:
            return DailyList(today, papers)
        yesterday = today - timedelta(days=1)
        return DailyList(yesterday, await self.daily(yesterday))

    async def period_list(self, period: CalendarPeriod) -> list[Paper]:
        """A day's list, or the papers of an ISO week or a month (``?week=2026-W20``,
        ``?month=2026-05``, the parameters huggingface_hub's ``list_daily_papers`` sends)."""
        if period.kind == "day":
            return await self.daily(period.first)
        response = await self._get("/daily_papers", {period.kind: period.key})
        ensure_ok(response, NAME)
        return parse_daily_list(_json(response, NOT_A_LIST))

    def paper_id(self, text: str) -> str | None:
        return canonical_id(text)

    async def lookup(self, paper_id: str) -> Paper | None:
        return await self.paper(paper_id)

    async def daily(self, day: date) -> list[Paper]:
        """The Daily Papers list of ``day`` (empty early in the day and on quiet days)."""
        response = await self._get("/daily_papers", {"date": day.isoformat()})
        ensure_ok(response, NAME)
        return parse_daily_list(_json(response, NOT_A_LIST), day=day)

    async def paper(self, paper_id: str) -> Paper | None:
        """One paper by arXiv id, or None when HF has not indexed it.

        Raises ValueError when ``paper_id`` names no arXiv paper at all.
        """
        pid = canonical_id(paper_id)
        if pid is None:
            raise ValueError(f"not an arXiv id: {paper_id[:50]!r}")
        response = await self._get(f"/papers/{pid}")
        if response.status_code == 404:
            return None
        ensure_ok(response, NAME)
        try:
            return parse_paper(_json(response, NOT_A_PAPER))
        except MalformedItem as exc:
            log.warning("Hugging Face paper %s is malformed: %s", pid, exc)
            raise SourceError(NOT_A_PAPER) from exc

    async def search(self, text: str) -> list[Paper]:
        """Papers HF finds for ``text``, best match first."""
        query = " ".join(text.split())
        if not query:
            return []
        response = await self._get("/papers/search", {"q": query})
        ensure_ok(response, NAME)
        return parse_daily_list(_json(response, NOT_A_LIST))

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        return await self._http.get(f"{self._base}{path}", params, name=NAME)


HF_FEED = Feed(HuggingFace.name)


def merge_days(fresh: list[Paper], older: list[Paper]) -> list[Paper]:
    """One list, each paper once: ``fresh`` order first, then what only ``older`` has.

    A paper on both days keeps the fresher record (current upvotes) but the earlier
    ``hf_date``, the day it first appeared.
    """
    merged = {paper.id: paper for paper in fresh}
    for paper in older:
        newer = merged.get(paper.id)
        if newer is None:
            merged[paper.id] = paper
            continue
        days = [d for d in (paper.hf_date, newer.hf_date) if d]
        merged[paper.id] = replace(paper.merged(newer), hf_date=min(days, default=""))
    return list(merged.values())


def load_sample_papers() -> list[Paper]:
    """Real HF papers bundled with the package, so a first offline run has something to show."""
    text = resources.files("bot").joinpath("data/sample_papers.json").read_text("utf-8")
    return parse_daily_list(json.loads(text))


def parse_daily_list(data: object, day: date | None = None) -> list[Paper]:
    """Papers from a list of wrapped items (``daily_papers`` and ``papers/search``).

    A malformed item is logged and skipped: one bad record must not hide a day's papers.
    """
    if not isinstance(data, list):
        raise SourceError(NOT_A_LIST)
    papers: dict[str, Paper] = {}
    for index, item in enumerate(data):
        try:
            paper = parse_daily_item(item, day)
        except MalformedItem as exc:
            log.warning("skipping malformed Hugging Face item #%d: %s", index, exc)
            continue
        papers[paper.id] = papers[paper.id].merged(paper) if paper.id in papers else paper
    return list(papers.values())


def parse_daily_item(obj: object, day: date | None = None) -> Paper:
    """A Paper from one wrapped item ``{"paper": {...}, "thumbnail": ..., ...}``.

    ``day`` is the Daily Papers date the item was requested for; it is the fallback for
    ``hf_date`` when the item does not say when it was submitted. Raises MalformedItem.
    """
    if not isinstance(obj, Mapping):
        raise MalformedItem(f"item is a {type(obj).__name__}, not an object")
    paper = obj.get("paper")
    if not isinstance(paper, Mapping):
        raise MalformedItem("item has no paper object")
    return parse_paper(paper, day=day, thumbnail=_string(obj, "thumbnail"), wrapper=obj)


def parse_paper(
    obj: object,
    *,
    day: date | None = None,
    thumbnail: str = "",
    wrapper: Mapping[str, object] | None = None,
) -> Paper:
    """A Paper from HF's bare paper object (``/api/papers/{id}``). Raises MalformedItem.

    ``wrapper`` is the daily item around it, whose title and summary stand in for missing ones.
    """
    if not isinstance(obj, Mapping):
        raise MalformedItem(f"paper is a {type(obj).__name__}, not an object")
    wrapper = wrapper or {}
    raw_id = _string(obj, "id")
    paper_id = canonical_id(raw_id)
    if paper_id is None:
        raise MalformedItem(f"id {raw_id[:40]!r} is not an arXiv id")
    title = _collapse(_string(obj, "title") or _string(wrapper, "title"))
    if not title:
        raise MalformedItem(f"paper {paper_id} has no title")
    paper = Paper(
        id=paper_id,
        title=title,
        abstract=_collapse(_string(obj, "summary") or _string(wrapper, "summary")),
        authors=_authors(obj.get("authors")),
        published=_day(_string(obj, "publishedAt")),
        upvotes=_upvotes(obj.get("upvotes")),
        hf_date=_day(_string(obj, "submittedOnDailyAt")) or (day.isoformat() if day else ""),
        code_url=_web_link(_string(obj, "githubRepo")),
        project_url=_web_link(_string(obj, "projectPage")),
        thumbnail_url=_thumbnail(thumbnail),
        sources=("hf",),
        # The extras of the HF page: a wrong type costs that field, never the paper.
        comments=_count(wrapper.get("numComments", obj.get("numComments"))),
        github_stars=_count(obj.get("githubStars")),
        ai_summary=_collapse(_text(obj.get("ai_summary"))),
        ai_keywords=_keywords(obj.get("ai_keywords")),
        organization=_display_name(obj.get("organization") or wrapper.get("organization")),
        submitted_by=_user_name(wrapper.get("submittedBy") or obj.get("submittedOnDailyBy")),
    )
    return bounded(paper)


def _json(response: httpx.Response, complaint: str) -> object:
    try:
        return response.json()
    except ValueError as exc:  # includes JSONDecodeError and UnicodeDecodeError
        raise SourceError(complaint) from exc


def _string(obj: Mapping[str, object], key: str) -> str:
    """``obj[key]`` as a string; missing and null are ""; any other type is malformed."""
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedItem(f"{key} is a {type(value).__name__}, not a string")
    return value


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _authors(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MalformedItem(f"authors is a {type(value).__name__}, not a list")
    names = []
    for author in value:
        # An odd author entry costs us one name, not the whole paper.
        if not isinstance(author, Mapping) or author.get("hidden") is True:
            continue
        name = author.get("name")
        if isinstance(name, str) and name.strip():
            names.append(_collapse(name))
    return tuple(names)


def _upvotes(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedItem(f"upvotes is a {type(value).__name__}, not an integer")
    return value


def _count(value: object) -> int | None:
    """A count HF gives (comments, stars); None when missing or not a whole number."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _keywords(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(k for k in (_collapse(_text(v)) for v in value) if k)


def _display_name(value: object) -> str:
    """An organization's name as HF shows it: ``fullname`` ("Mind Lab"), else its handle."""
    if not isinstance(value, Mapping):
        return ""
    return _collapse(_text(value.get("fullname")) or _text(value.get("name")))


def _user_name(value: object) -> str:
    """A user's HF handle (``name``, or ``user`` in the paper object's copy)."""
    if not isinstance(value, Mapping):
        return ""
    return _collapse(_text(value.get("name")) or _text(value.get("user")))


def _day(timestamp: str) -> str:
    """YYYY-MM-DD of an ISO timestamp such as ``2026-05-12T00:00:00.000Z``, or ""."""
    try:
        return date.fromisoformat(timestamp[:10]).isoformat()
    except ValueError:
        return ""


def _web_link(url: str) -> str:
    # These links end up clickable in chat, so only plain web links pass.
    url = url.strip()
    return url if url.startswith(("https://", "http://")) else ""


def _thumbnail(url: str) -> str:
    url = url.strip()
    if not url or url.startswith(("https://", "http://")):
        return url
    if url.startswith("//"):
        return f"https:{url}"
    return f"{SITE}/{url.lstrip('/')}"
