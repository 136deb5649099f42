"""arXiv: the daily RSS announcement feed per category, and the export API for lookups.

Both speak XML. We parse it with the standard library, which has no switch to turn off
entity expansion, so any document that declares a DOCTYPE (the only place entities can
be defined) is refused before it reaches the parser. arXiv never sends one.
"""

from __future__ import annotations

import email.utils
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

import httpx

from bot.config import Settings
from bot.model.arxiv_taxonomy import UnknownCategory, arxiv_category
from bot.model.feed import Feed
from bot.model.ids import canonical_id
from bot.model.paper import Paper, bounded
from bot.sources.base import PaperSource, ParamsError, no_more_words
from bot.sources.http import HttpFetcher, SourceError, ensure_ok

log = logging.getLogger(__name__)

NAME = "arXiv"
BROKEN = "arXiv returned a feed that cannot be read"

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"

# The export API is happiest with modest id lists; longer ones are split into batches.
LOOKUP_BATCH = 50

CATEGORY_EXAMPLES = "Categories look like `cs.CL`, `cs.LG`, `stat.ML` or `quant-ph`."
_DOCTYPE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_OAI_PREFIX = re.compile(r"^oai:arxiv\.org:", re.IGNORECASE)


class Arxiv(PaperSource):
    """One feed per category (its daily announcement); looks up any arXiv id."""

    name = "arxiv"
    label = NAME
    usage = "arxiv <category>"
    choice_label = "arXiv category (give one in 'category')"
    feed_noun = "arXiv papers of a category"
    example = "arxiv cs.CL"

    def __init__(
        self, http: HttpFetcher, api_url: str, rss_url: str, min_interval: float = 3.0
    ) -> None:
        self._http = http
        self._api_url = api_url
        self._rss_url = rss_url.rstrip("/")
        self._min_interval = min_interval

    @classmethod
    def from_settings(cls, http: HttpFetcher, settings: Settings) -> Arxiv:
        return cls(
            http,
            settings.arxiv_api_url,
            settings.arxiv_rss_url,
            min_interval=settings.arxiv_min_interval,
        )

    def parse_params(self, words: Sequence[str]) -> Feed:
        if not words:
            raise ParamsError("Which arXiv category? For example `cs.CL` or `quant-ph`.")
        try:
            category = arxiv_category(words[0])
        except UnknownCategory as exc:
            raise ParamsError(str(exc), "" if exc.suggestions else CATEGORY_EXAMPLES) from None
        no_more_words(words[1:])
        return Feed(self.name, category)

    def describe(self, feed: Feed) -> str:
        return f"arXiv {feed.params}"

    async def fetch(self, feed: Feed, today: date) -> list[Paper]:
        return await self.new_in_category(feed.params)

    def paper_id(self, text: str) -> str | None:
        return canonical_id(text)

    async def lookup(self, paper_id: str) -> Paper | None:
        found = await self.lookup_many([paper_id])
        return next((p for p in found if p.id == paper_id), None)

    async def new_in_category(self, category: str) -> list[Paper]:
        """Today's new submissions in ``category`` (not replacements or cross-lists).

        An empty list on days arXiv announces nothing (weekends, holidays). Raises
        UnknownCategory (a ValueError) for a name that is not in arXiv's taxonomy.
        """
        # Stored feeds hold arXiv's own spelling; anything else never reaches a URL.
        if arxiv_category(category) != category:
            raise UnknownCategory(category, (arxiv_category(category),))
        response = await self._get(f"{self._rss_url}/{category}")
        ensure_ok(response, NAME)
        return parse_rss(response.content)

    async def lookup_many(self, ids: Iterable[str]) -> list[Paper]:
        """Papers for the given ids, via the export API; ids arXiv does not know are absent.

        Raises ValueError for a string that is no arXiv id.
        """
        wanted = _canonical_ids(ids)
        papers: list[Paper] = []
        for start in range(0, len(wanted), LOOKUP_BATCH):
            batch = wanted[start : start + LOOKUP_BATCH]
            params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
            response = await self._get(self._api_url, params)
            if not response.is_success:
                # The API explains bad requests in an Atom body; prefer its words to a number.
                _raise_api_error(response.content)
                ensure_ok(response, NAME)
            papers.extend(parse_atom(response.content))
        return papers

    async def _get(self, url: str, params: dict[str, str] | None = None) -> httpx.Response:
        return await self._http.get(url, params, min_interval=self._min_interval, name=NAME)


def parse_rss(data: bytes | str, *, announce_types: Iterable[str] = ("new",)) -> list[Paper]:
    """Papers from an arXiv RSS feed whose ``arxiv:announce_type`` is one of ``announce_types``."""
    root = _parse_xml(data)
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise SourceError(BROKEN)
    keep = set(announce_types)
    papers = []
    for index, item in enumerate(channel.iter("item")):
        if _text(item, f"{ARXIV}announce_type") not in keep:
            continue
        paper = _rss_paper(item)
        if paper is None:
            log.warning("skipping arXiv RSS item #%d without id or title", index)
            continue
        papers.append(paper)
    return papers


def parse_atom(data: bytes | str) -> list[Paper]:
    """Papers from an export API response; raises SourceError for the API's "Error" entry."""
    root = _parse_xml(data)
    if root.tag != f"{ATOM}feed":
        raise SourceError(BROKEN)
    _raise_if_error_entry(root)
    papers = []
    for index, entry in enumerate(root.iter(f"{ATOM}entry")):
        paper = _atom_paper(entry)
        if paper is None:
            log.warning("skipping arXiv API entry #%d without id or title", index)
            continue
        papers.append(paper)
    return papers


def split_authors(creators: str) -> tuple[str, ...]:
    """Names from RSS ``dc:creator``: comma separated, affiliations in parentheses dropped.

    Affiliations contain commas of their own, so only commas outside parentheses split.
    """
    names, depth, current = [], 0, []
    for char in creators:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and char == ",":
            names.append("".join(current))
            current = []
        elif depth == 0:
            current.append(char)
    names.append("".join(current))
    return tuple(name for name in (_collapse(n) for n in names) if name)


def _rss_paper(item: ET.Element) -> Paper | None:
    paper_id = canonical_id(_text(item, "link")) or canonical_id(
        _OAI_PREFIX.sub("", _text(item, "guid"))
    )
    title = _collapse(_text(item, "title"))
    if paper_id is None or not title:
        return None
    return bounded(
        Paper(
            id=paper_id,
            title=title,
            abstract=_rss_abstract(_text(item, "description")),
            authors=tuple(a for c in _texts(item, f"{DC}creator") for a in split_authors(c)),
            published=_rfc822_day(_text(item, "pubDate")),
            categories=tuple(_unique(_texts(item, "category"))),
            sources=("arxiv",),
        )
    )


def _atom_paper(entry: ET.Element) -> Paper | None:
    paper_id = canonical_id(_text(entry, f"{ATOM}id"))
    title = _collapse(_text(entry, f"{ATOM}title"))
    if paper_id is None or not title:
        return None
    categories = [c.get("term", "") for c in entry.iter(f"{ATOM}category")]
    primary = entry.find(f"{ARXIV}primary_category")
    if primary is not None and primary.get("term"):
        categories.insert(0, primary.get("term", ""))  # the primary one first, as arXiv shows it
    return bounded(
        Paper(
            id=paper_id,
            title=title,
            abstract=_collapse(_text(entry, f"{ATOM}summary")),
            authors=tuple(
                name
                for a in entry.iter(f"{ATOM}author")
                if (name := _collapse(_text(a, f"{ATOM}name")))
            ),
            published=_iso_day(_text(entry, f"{ATOM}published")),
            categories=tuple(_unique(c for c in categories if c)),
            sources=("arxiv",),
        )
    )


def _parse_xml(data: bytes | str) -> ET.Element:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    # Also refuse encodings that hide markup from the byte-level DOCTYPE check (UTF-16...).
    if _DOCTYPE.search(raw) or not raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise SourceError(BROKEN)
    try:
        return ET.fromstring(raw)
    except ET.ParseError as exc:
        raise SourceError(BROKEN) from exc


def _raise_if_error_entry(root: ET.Element) -> None:
    for entry in root.iter(f"{ATOM}entry"):
        entry_id = _text(entry, f"{ATOM}id")
        # A paper may be titled "Error" too; the API's error entries have no paper id.
        is_error = "/api/errors" in entry_id or canonical_id(entry_id) is None
        if _text(entry, f"{ATOM}title").strip() == "Error" and is_error:
            detail = _collapse(_text(entry, f"{ATOM}summary")) or "unknown error"
            raise SourceError(f"arXiv said: {detail[:200]}")


def _raise_api_error(data: bytes) -> None:
    try:
        root = _parse_xml(data)
    except SourceError:
        return
    _raise_if_error_entry(root)


def _canonical_ids(ids: Iterable[str]) -> list[str]:
    wanted = []
    for raw in ids:
        paper_id = canonical_id(raw)
        if paper_id is None:
            raise ValueError(f"not an arXiv id: {raw[:50]!r}")
        wanted.append(paper_id)
    return list(_unique(wanted))


def _rss_abstract(description: str) -> str:
    # "arXiv:2504.17830v1 Announce Type: new \nAbstract: We introduce ..."
    _, marker, abstract = description.partition("Abstract:")
    return _collapse(abstract if marker else description)


def _rfc822_day(text: str) -> str:
    try:
        return email.utils.parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def _iso_day(text: str) -> str:
    match = re.match(r"\s*(\d{4}-\d{2}-\d{2})", text)
    return match.group(1) if match else ""


def _text(element: ET.Element, path: str) -> str:
    found = element.find(path)
    return "".join(found.itertext()) if found is not None else ""


def _texts(element: ET.Element, path: str) -> Iterator[str]:
    for found in element.findall(path):
        yield "".join(found.itertext())


def _unique(values: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for value in values:
        if value not in seen:
            seen.add(value)
            yield value


def _collapse(text: str) -> str:
    return " ".join(text.split())
