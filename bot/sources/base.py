"""What every paper source offers, so the core, the poster and the commands can use any of
them by name (see ``bot.sources.registry`` for the list of sources)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar, Self

from bot.config import Settings
from bot.model.calendar_period import CalendarPeriod
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.sources.http import HttpFetcher


class ParamsError(ValueError):
    """The words after ``/papers subscribe <source>`` name no feed; shown to the user as is."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class DailyList:
    """A source's list of the day: the newest day that has papers."""

    day: date
    papers: list[Paper]


class PaperSource(ABC):
    name: ClassVar[str]  # what users type and the store keeps: "hf", "arxiv"
    label: ClassVar[str]  # the site, in messages: "Hugging Face", "arXiv"
    aliases: ClassVar[tuple[str, ...]] = ()  # other names users type for it
    usage: ClassVar[str]  # its subscribe arguments, e.g. "arxiv <category>"
    choice_label: ClassVar[str]  # offered in a list of sources (Discord's choices)
    feed_noun: ClassVar[str]  # what its feeds bring, in help: "arXiv papers of a category"
    example: ClassVar[str]  # a subscribe example, e.g. "arxiv cs.CL"
    has_upvotes: ClassVar[bool] = False  # whether `min_upvotes=` means anything for it
    can_search: ClassVar[bool] = False
    daily_name: ClassVar[str] = ""  # set when it has a list of the day: "Hugging Face Daily Papers"

    @classmethod
    @abstractmethod
    def from_settings(cls, http: HttpFetcher, settings: Settings) -> Self:
        """The source as configured, fetching through the shared ``http`` client."""

    # -- feeds --------------------------------------------------------------------------

    @abstractmethod
    def parse_params(self, words: Sequence[str]) -> Feed:
        """The feed named by the words after the source's name; raises ParamsError."""

    @abstractmethod
    def describe(self, feed: Feed) -> str:
        """The feed as users read it: "Hugging Face Daily Papers", "arXiv cs.CL"."""

    @abstractmethod
    async def fetch(self, feed: Feed, today: date) -> list[Paper]:
        """The papers ``feed`` currently lists; raises SourceError when it can't be read."""

    # -- single papers ------------------------------------------------------------------

    @abstractmethod
    def paper_id(self, text: str) -> str | None:
        """The paper id ``text`` names, if it is one this source can look up."""

    @abstractmethod
    async def lookup(self, paper_id: str) -> Paper | None:
        """One paper by an id ``paper_id`` accepted; None when the source doesn't know it."""

    # -- optional -----------------------------------------------------------------------

    async def search(self, text: str) -> list[Paper]:
        """Papers the source finds for ``text``, best first (only if ``can_search``)."""
        raise NotImplementedError(f"{self.name} cannot search")

    async def daily_list(self, today: date) -> DailyList:
        """The source's list of the day (``/papers today``), only if ``daily_name`` is set."""
        raise NotImplementedError(f"{self.name} has no list of the day")

    async def period_list(self, period: CalendarPeriod) -> list[Paper]:
        """The source's list of one day, ISO week or month (``/papers today 2026-05-13``,
        ``week``, ``month``), only if ``daily_name`` is set."""
        raise NotImplementedError(f"{self.name} has no lists of past days")


def no_more_words(words: Sequence[str]) -> None:
    if words:
        raise ParamsError(f"I don't understand `{words[0][:40]}`.")
