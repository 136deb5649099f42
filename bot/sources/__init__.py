"""Where papers come from: Hugging Face Daily Papers and arXiv, behind one object.

Feeds are named by strings so they can be stored and typed in chat:
``"hf"`` (HF Daily Papers) and ``"arxiv:<category>"`` (arXiv's new submissions, e.g.
``"arxiv:cs.LG"``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.config import Settings
from bot.papers import Paper
from bot.sources.arxiv import Arxiv
from bot.sources.hf import HuggingFace, load_sample_papers
from bot.sources.http import HttpFetcher, SourceError

__all__ = [
    "Arxiv",
    "HttpFetcher",
    "HuggingFace",
    "SourceError",
    "Sources",
    "check_feed",
    "load_sample_papers",
    "merge_days",
]

HF_FEED = "hf"
ARXIV_PREFIX = "arxiv:"


def check_feed(feed: str) -> str:
    """The feed name in its stored form; raises ValueError (with a showable message) if unknown."""
    name = feed.strip()
    if name.lower() == HF_FEED:
        return HF_FEED
    if name.lower().startswith(ARXIV_PREFIX):
        category = name[len(ARXIV_PREFIX) :].strip()
        if Arxiv.is_category(category):
            return f"{ARXIV_PREFIX}{category}"
    raise ValueError(
        f'unknown feed {feed[:50]!r}: use "hf" or "arxiv:<category>" (e.g. arxiv:cs.LG)'
    )


class Sources:
    """The paper sources, sharing one HTTP client (and so its per-host rate limits)."""

    def __init__(self, hf: HuggingFace, arxiv: Arxiv, http: HttpFetcher | None = None) -> None:
        self.hf = hf
        self.arxiv = arxiv
        self._http = http

    @classmethod
    def from_settings(cls, settings: Settings, *, retry_base_delay: float = 1.0) -> Sources:
        http = HttpFetcher(
            timeout=settings.http_timeout,
            retries=settings.http_retries,
            retry_base_delay=retry_base_delay,
        )
        return cls(
            hf=HuggingFace(http, settings.hf_api_url),
            arxiv=Arxiv(
                http,
                settings.arxiv_api_url,
                settings.arxiv_rss_url,
                min_interval=settings.arxiv_min_interval,
            ),
            http=http,
        )

    async def fetch_feed(self, feed: str, today: date) -> list[Paper]:
        """The current papers of ``feed``; raises ValueError for an unknown feed name.

        For "hf" that is today's and yesterday's Daily Papers: today's list fills up during
        the day, and papers submitted late yesterday would otherwise be missed.
        """
        name = check_feed(feed)
        if name == HF_FEED:
            fresh = await self.hf.daily(today)
            older = await self.hf.daily(today - timedelta(days=1))
            return merge_days(fresh, older)
        return await self.arxiv.new_in_category(name[len(ARXIV_PREFIX) :])

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> Sources:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


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
