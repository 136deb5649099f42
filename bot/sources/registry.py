"""The paper sources paperboy knows, and the one object the rest of the bot asks.

Adding a source is one module implementing ``PaperSource`` plus one line in ``SOURCE_TYPES``.
All sources share one HTTP client, and so its per-host rate limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from bot.config import Settings
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.sources.arxiv import Arxiv
from bot.sources.base import PaperSource, ParamsError
from bot.sources.biorxiv import Biorxiv, Medrxiv
from bot.sources.hf import HuggingFace
from bot.sources.http import HttpFetcher, SourceError

# In the order ``show`` asks them for a paper and help lists them.
SOURCE_TYPES: tuple[type[PaperSource], ...] = (HuggingFace, Arxiv, Biorxiv, Medrxiv)


class SourcesUnreachable(SourceError):
    """Every source that could have had the paper failed to answer."""

    def __init__(self, labels: Sequence[str]) -> None:
        super().__init__(" or ".join(labels))
        self.labels = tuple(labels)


class Sources:
    """The registered sources, by name."""

    def __init__(self, sources: Iterable[PaperSource], http: HttpFetcher | None = None) -> None:
        self._sources = {source.name: source for source in sources}
        self._by_alias = {
            alias: source for source in self._sources.values() for alias in source.aliases
        }
        self._http = http

    @classmethod
    def from_settings(cls, settings: Settings, *, retry_base_delay: float = 1.0) -> Sources:
        http = HttpFetcher(
            timeout=settings.http_timeout,
            retries=settings.http_retries,
            retry_base_delay=retry_base_delay,
        )
        return cls((kind.from_settings(http, settings) for kind in SOURCE_TYPES), http=http)

    def __iter__(self) -> Iterator[PaperSource]:
        return iter(self._sources.values())

    def __getitem__(self, name: str) -> PaperSource:
        return self._sources[name]

    def find(self, name: str) -> PaperSource | None:
        """The source users call ``name`` (its name or an alias, any case)."""
        name = name.lower()
        return self._sources.get(name) or self._by_alias.get(name)

    # -- feeds --------------------------------------------------------------------------

    def parse_feed(self, words: Sequence[str]) -> tuple[PaperSource, Feed]:
        """The feed ``<source> <parameters...>`` names; raises ParamsError."""
        if not words:
            names = " or ".join(f"`{s.usage}`" for s in self)
            raise ParamsError(f"Subscribe to what? Name a source: {names}.")
        source = self.find(words[0])
        if source is None:
            raise ParamsError(f"`{words[0].lower()[:40]}` is not a source I know.")
        return source, source.parse_params(words[1:])

    def for_feed(self, feed: Feed) -> PaperSource:
        source = self._sources.get(feed.source)
        if source is None:
            raise ValueError(f"no source named {feed.source[:40]!r}")
        return source

    def describe(self, feed: Feed) -> str:
        source = self._sources.get(feed.source)
        return source.describe(feed) if source else str(feed)

    async def fetch_feed(self, feed: Feed, today: date) -> list[Paper]:
        """The current papers of ``feed``; raises ValueError for a feed no source has."""
        return await self.for_feed(feed).fetch(feed, today)

    # -- single papers ------------------------------------------------------------------

    def paper_id(self, text: str) -> str | None:
        """The paper id ``text`` names (an id or a link), if any source can look it up."""
        return next((pid for s in self if (pid := s.paper_id(text)) is not None), None)

    async def lookup(self, paper_id: str) -> Paper | None:
        """Ask each source that takes ``paper_id``, in order, until one has the paper.

        None if none has it; SourcesUnreachable if none could be asked.
        """
        unreachable = []
        asked = [s for s in self if s.paper_id(paper_id) == paper_id]
        for source in asked:
            try:
                paper = await source.lookup(paper_id)
            except SourceError:
                unreachable.append(source.label)
                continue
            if paper is not None:
                return paper
        if asked and len(unreachable) == len(asked):
            raise SourcesUnreachable(unreachable)
        return None

    @property
    def searchable(self) -> list[PaperSource]:
        return [s for s in self if s.can_search]

    @property
    def daily_source(self) -> PaperSource | None:
        """The source whose list of the day ``/papers today`` shows."""
        return next((s for s in self if s.daily_name), None)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> Sources:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
