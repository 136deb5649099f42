"""A local fake of Hugging Face, arXiv and api.biorxiv.org: real HTTP on 127.0.0.1, recorded
answers, faults.

Start it as an async context manager and point Settings at it::

    from tests.fakes.paper_sources import FakePaperSources

    @pytest.fixture
    async def fake():
        async with FakePaperSources() as fake:
            yield fake

    async def test_something(fake):
        sources = Sources.from_settings(fake.settings(), retry_base_delay=0.01)
        fake.fail("daily", status=503, times=1)           # next daily request answers 503
        papers = await sources.fetch_feed("hf", date(2026, 5, 13))
        assert fake.count("daily") == 3                   # 503, retry, then yesterday
        await sources.aclose()

Routes, by the name used in ``fail``/``delay``/``malformed``/``truncate``/``requests``:

========  ======================================  =============================================
route     path                                    default answer
========  ======================================  =============================================
daily     GET /api/daily_papers?date=YYYY-MM-DD   the day's recorded file (2026-05-13, 2026-06-01);
                                                  any other date gets ``default_daily`` (05-13)
          GET /api/daily_papers?week=YYYY-Www     the days served (recorded or ``set_daily``) that
          GET /api/daily_papers?month=YYYY-MM     fall in that week or month, one list, as HF
                                                  answers; ``set_period`` overrides
paper     GET /api/papers/{id}                    the bare ``paper`` object of any daily item
                                                  with that id, else 404
search    GET /api/papers/search?q=               daily items whose title+summary contain every
                                                  word of q, as wrapped items
rss       GET /rss/{category}                     the recorded quant-ph feed for every category
api       GET /api/query?id_list=a,b              the entries of the recorded cs.LG API answer
                                                  whose id is in id_list (all without id_list)
rxiv      GET /details/{server}/{from}/{to}/{n}   the server's fixture collection (bioRxiv 6
          [?category=cell_biology]                items, medRxiv 3) for any window, filtered by
                                                  category, ``rxiv_page_size`` items from n
rxiv_doi  GET /details/{server}/{doi}/na/json     every version of that DOI the server's items
                                                  or ``set_rxiv_doi`` hold, else "no posts found"
========  ======================================  =============================================

Faults are queued per route and used up one per request, in order; requests with no fault
queued get the normal answer. Every request is recorded in ``fake.requests``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

from bot.config import Settings
from bot.model.ids import canonical_id
from tests.fakes.local_server import LocalServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

HF_DAILY_FILES = {
    "2026-05-13": "hf_daily_papers_2026-05-13.json",
    "2026-06-01": "hf_daily_papers_2026-06-01.json",
}
DEFAULT_DAILY_FILE = "hf_daily_papers_2026-05-13.json"
RSS_FILE = "arxiv_rss_quant-ph_2025-04-28.xml"
EMPTY_RSS_FILE = "arxiv_rss_empty.xml"
API_FILE = "arxiv_api_cs_lg.xml"
API_ERROR_FILE = "arxiv_api_error.xml"
RXIV_FILES = {
    "biorxiv": "biorxiv_details_2026-05-12_2026-05-13.json",
    "medrxiv": "medrxiv_details_2026-05-12_2026-05-13.json",
}
RXIV_DOI_FILE = "biorxiv_details_doi_10.1101_2024.01.01.123456.json"
RXIV_PAGE_SIZE = 100  # the real API's

ROUTES = ("daily", "paper", "search", "rss", "api", "rxiv", "rxiv_doi")

JSON = "application/json"
RSS = "application/rss+xml"
ATOM = "application/atom+xml"


def fixture_bytes(name: str) -> bytes:
    """The bytes of ``tests/fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


@dataclass(frozen=True)
class Fault:
    """What one request gets instead of the normal answer.

    ``status`` None means "the normal answer" (useful with ``delay`` or ``truncate``).
    ``delay`` stalls before answering; ``truncate`` sends the first half of the normal body
    (with a matching Content-Length, so the client sees a complete but broken document).
    """

    status: int | None = 500
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: bool = False
    content_type: str = "text/plain"


@dataclass(frozen=True)
class FakeRequest:
    route: str
    path: str
    query: dict[str, str]
    at: float  # time.monotonic() when the fake received it


class FakePaperSources:
    """HF and arXiv on one local port. See the module docstring for routes and examples."""

    def __init__(
        self,
        *,
        daily_files: Mapping[str, str] = HF_DAILY_FILES,
        default_daily_file: str | None = DEFAULT_DAILY_FILE,
        rss_file: str = RSS_FILE,
        api_file: str = API_FILE,
    ) -> None:
        self.requests: list[FakeRequest] = []
        self._daily: dict[str, list[Any]] = {d: fixture_json(f) for d, f in daily_files.items()}
        self._default_daily: list[Any] = (
            fixture_json(default_daily_file) if default_daily_file else []
        )
        self._periods: dict[str, list[Any]] = {}
        self._papers: dict[str, Any] = {}
        self._search: list[Any] | None = None
        self._rss: dict[str, bytes] = {}
        self._default_rss = fixture_bytes(rss_file)
        self._api_body = fixture_bytes(api_file)
        self._api_override: bytes | None = None
        self._rxiv: dict[str, list[Any]] = {
            server: fixture_json(name)["collection"] for server, name in RXIV_FILES.items()
        }
        self._rxiv_doi: dict[str, list[Any]] = {
            "biorxiv": fixture_json(RXIV_DOI_FILE)["collection"],
            "medrxiv": [],
        }
        self._rxiv_override: dict[str, Any] = {}
        self.rxiv_page_size = RXIV_PAGE_SIZE
        self._faults: dict[str, deque[Fault]] = {route: deque() for route in ROUTES}
        self._closing = asyncio.Event()
        self._server = LocalServer()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakePaperSources:
        app = web.Application()
        app.router.add_get("/api/daily_papers", self._daily_route)
        # Before {id}: the first matching route wins.
        app.router.add_get("/api/papers/search", self._search_route)
        app.router.add_get("/api/papers/{id:.+}", self._paper_route)
        app.router.add_get("/api/query", self._api_route)
        app.router.add_get("/rss/{category}", self._rss_route)
        app.router.add_get("/details/{server}/{rest:.+}", self._rxiv_route)
        # A client that timed out should not leave a stalled handler behind.
        await self._server.start(app, handler_cancellation=True)
        return self

    async def stop(self) -> None:
        self._closing.set()  # wakes handlers stalled by delay()
        await self._server.close()

    async def __aenter__(self) -> FakePaperSources:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- where it is -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def base_urls(self) -> dict[str, str]:
        """Settings field -> URL of this fake: ``replace(settings, **fake.base_urls)``."""
        return {
            "hf_api_url": f"{self.base_url}/api",
            "arxiv_api_url": f"{self.base_url}/api/query",
            "arxiv_rss_url": f"{self.base_url}/rss",
            "biorxiv_api_url": self.base_url,
        }

    def settings(self, base: Settings | None = None, **overrides: Any) -> Settings:
        """``base`` (default Settings()) pointed at the fake, with test-speed timing.

        No arXiv rate limit, a 2 s timeout and 2 retries unless ``overrides`` say otherwise.
        """
        timing: dict[str, Any] = {"arxiv_min_interval": 0.0, "http_timeout": 2.0, "http_retries": 2}
        return replace(base or Settings(), **{**self.base_urls, **timing, **overrides})

    # --- what it serves --------------------------------------------------------------------

    def set_daily(self, day: date | str, items: list[Any]) -> None:
        """Serve ``items`` (raw HF daily items, see ``hf_item``) for ``day``; [] is a quiet day."""
        self._daily[str(day)] = items

    def set_period(self, key: str, items: list[Any]) -> None:
        """Serve ``items`` for ``?week=key`` or ``?month=key`` (e.g. "2026-W20", "2026-05")."""
        self._periods[key] = items

    def set_default_daily(self, items: list[Any]) -> None:
        """What dates without their own list get; [] makes every unknown day empty."""
        self._default_daily = items

    def set_paper(self, paper_id: str, paper: Mapping[str, Any] | None) -> None:
        """Serve this bare paper object at /api/papers/{id}; None makes it a 404."""
        self._papers[paper_id] = paper

    def set_search(self, items: list[Any] | None) -> None:
        """Answer every search with ``items``; None restores searching the daily lists."""
        self._search = items

    def set_rss(self, category: str, body: bytes | str | None) -> None:
        """Serve ``body`` as the feed of ``category`` (see ``rss_feed``, ``EMPTY_RSS``);
        None restores the recorded feed."""
        if body is None:
            self._rss.pop(category, None)
        else:
            self._rss[category] = body.encode() if isinstance(body, str) else body

    def set_api(self, body: bytes | str | None) -> None:
        """Answer every /api/query with ``body`` (e.g. ``fixture_bytes(API_ERROR_FILE)``);
        None restores filtering the recorded answer."""
        self._api_override = body.encode() if isinstance(body, str) else body

    def set_rxiv(self, server: str, items: list[Any]) -> None:
        """Serve ``items`` (raw collection items, see ``rxiv_item``) as ``server``'s papers
        for every window; [] makes every window empty ("no posts found")."""
        self._rxiv[server] = items

    def set_rxiv_answer(self, server: str, answer: Any | None) -> None:
        """Answer every window of ``server`` with this whole document (e.g. an edge-case
        fixture); None restores paging through its items."""
        if answer is None:
            self._rxiv_override.pop(server, None)
        else:
            self._rxiv_override[server] = answer

    def set_rxiv_doi(self, server: str, items: list[Any]) -> None:
        """Versions ``server`` knows by DOI besides the items its windows list."""
        self._rxiv_doi[server] = items

    # --- faults ----------------------------------------------------------------------------

    def queue(self, route: str, fault: Fault, *, times: int = 1) -> None:
        """The next ``times`` requests to ``route`` get ``fault`` (after any already queued)."""
        if route not in self._faults:
            raise ValueError(f"unknown route {route!r}; routes are {ROUTES}")
        self._faults[route].extend([fault] * times)

    def fail(
        self,
        route: str,
        status: int = 500,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        body: bytes | str = b"fake failure",
    ) -> None:
        """Answer ``status``; ``retry_after`` sets the Retry-After header (seconds or HTTP date)."""
        headers = {} if retry_after is None else {"Retry-After": _retry_after(retry_after)}
        payload = body.encode() if isinstance(body, str) else body
        self.queue(route, Fault(status=status, body=payload, headers=headers), times=times)

    def delay(self, route: str, seconds: float, *, times: int = 1) -> None:
        """Stall ``seconds`` before the normal answer; longer than the client's timeout makes
        a timeout. Stalled requests end at once when the fake stops, so tests stay fast."""
        self.queue(route, Fault(status=None, delay=seconds), times=times)

    def malformed(
        self,
        route: str,
        body: bytes | str = b'{"paper": [not json',
        *,
        times: int = 1,
        content_type: str = JSON,
    ) -> None:
        """Answer 200 with ``body`` instead of the real document."""
        payload = body.encode() if isinstance(body, str) else body
        fault = Fault(status=200, body=payload, content_type=content_type)
        self.queue(route, fault, times=times)

    def truncate(self, route: str, *, times: int = 1) -> None:
        """Answer 200 with the first half of the normal body."""
        self.queue(route, Fault(status=None, truncate=True), times=times)

    def clear_faults(self) -> None:
        for faults in self._faults.values():
            faults.clear()

    # --- what it got -----------------------------------------------------------------------

    def requests_for(self, route: str) -> list[FakeRequest]:
        return [r for r in self.requests if r.route == route]

    def count(self, route: str | None = None) -> int:
        """How many requests ``route`` (or any route) got."""
        return len(self.requests) if route is None else len(self.requests_for(route))

    # --- handlers --------------------------------------------------------------------------

    async def _daily_route(self, request: web.Request) -> web.Response:
        async def answer() -> web.Response:
            for kind in ("week", "month"):
                if kind in request.query:
                    return _json_response(self._period_items(kind, request.query[kind]))
            items = self._daily.get(request.query.get("date", ""), self._default_daily)
            return _json_response(items)

        return await self._serve("daily", request, answer)

    async def _paper_route(self, request: web.Request) -> web.Response:
        async def answer() -> web.Response:
            paper_id = request.match_info["id"]
            paper = self._papers[paper_id] if paper_id in self._papers else self._find(paper_id)
            if paper is None:
                return _json_response({"error": "Paper not found"}, status=404)
            return _json_response(paper)

        return await self._serve("paper", request, answer)

    async def _search_route(self, request: web.Request) -> web.Response:
        async def answer() -> web.Response:
            if self._search is not None:
                return _json_response(self._search)
            return _json_response(self._matching(request.query.get("q", "")))

        return await self._serve("search", request, answer)

    async def _rss_route(self, request: web.Request) -> web.Response:
        async def answer() -> web.Response:
            body = self._rss.get(request.match_info["category"], self._default_rss)
            return web.Response(body=body, content_type=RSS, charset="utf-8")

        return await self._serve("rss", request, answer)

    async def _api_route(self, request: web.Request) -> web.Response:
        async def answer() -> web.Response:
            if self._api_override is not None:
                body = self._api_override
            else:
                body = _filter_entries(self._api_body, request.query.get("id_list", ""))
            return web.Response(body=body, content_type=ATOM, charset="utf-8")

        return await self._serve("api", request, answer)

    async def _rxiv_route(self, request: web.Request) -> web.Response:
        server, rest = request.match_info["server"], request.match_info["rest"]
        route = "rxiv_doi" if rest.endswith("/na/json") else "rxiv"

        async def answer() -> web.Response:
            if route == "rxiv_doi":
                doi = rest.removesuffix("/na/json").lower()
                known = [*self._rxiv.get(server, []), *self._rxiv_doi.get(server, [])]
                found = [i for i in known if str(i.get("doi", "")).lower() == doi]
                return _json_response(_rxiv_answer(found, 0, len(found)))
            if server in self._rxiv_override:
                return _json_response(self._rxiv_override[server])
            cursor = int(rest.rstrip("/").split("/")[-1])
            category = request.query.get("category", "")
            items = [
                i
                for i in self._rxiv.get(server, [])
                if not category or str(i.get("category", "")).replace(" ", "_") == category
            ]
            page = items[cursor : cursor + self.rxiv_page_size]
            return _json_response(_rxiv_answer(page, cursor, len(items)))

        return await self._serve(route, request, answer)

    async def _serve(self, route: str, request: web.Request, answer: Any) -> web.Response:
        self.requests.append(
            FakeRequest(route, request.path, dict(request.query), time.monotonic())
        )
        fault = self._faults[route].popleft() if self._faults[route] else None
        if fault is None:
            return await answer()
        if fault.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault.delay)
            if self._closing.is_set():
                return web.Response(status=503, text="fake is stopping")
        if fault.truncate:
            normal = await answer()
            body = normal.body if isinstance(normal.body, bytes) else b""
            return web.Response(
                body=body[: len(body) // 2], status=200, content_type=normal.content_type
            )
        if fault.status is None:
            return await answer()
        return web.Response(
            status=fault.status,
            body=fault.body,
            headers=dict(fault.headers),
            content_type=fault.content_type,
        )

    def _period_items(self, kind: str, key: str) -> list[Any]:
        """HF's week or month list: every served day in it, each paper once, most upvoted
        first (built from the recorded daily files, so the items have their real shape)."""
        if key in self._periods:
            return self._periods[key]
        found: dict[str, Any] = {}
        for day, items in sorted(self._daily.items()):
            if _day_key(kind, day) == key:
                for item in items:
                    found.setdefault(str(item["paper"]["id"]), item)
        return sorted(found.values(), key=lambda i: -int(i["paper"].get("upvotes") or 0))

    def _all_items(self) -> Iterable[Any]:
        yield from self._default_daily
        for items in self._daily.values():
            yield from items

    def _find(self, paper_id: str) -> Any:
        wanted = canonical_id(paper_id)
        for item in self._all_items():
            paper = item.get("paper") if isinstance(item, dict) else None
            if isinstance(paper, dict) and canonical_id(str(paper.get("id", ""))) == wanted:
                return paper
        return None

    def _matching(self, query: str) -> list[Any]:
        words = query.lower().split()
        found: dict[str, Any] = {}
        for item in self._all_items():
            paper = item.get("paper") if isinstance(item, dict) else None
            if not isinstance(paper, dict):
                continue
            text = f"{paper.get('title', '')} {paper.get('summary', '')}".lower()
            if words and all(word in text for word in words):
                found.setdefault(str(paper.get("id")), item)
        return list(found.values())


EMPTY_RSS = fixture_bytes(EMPTY_RSS_FILE)


def hf_item(
    paper_id: str,
    title: str = "",
    *,
    upvotes: int = 0,
    day: date | str = "2026-05-13",
    authors: Iterable[str] = ("Ada Lovelace",),
    summary: str = "An abstract.",
    **paper_fields: Any,
) -> dict[str, Any]:
    """A minimal raw HF daily item, as ``/api/daily_papers`` returns them.

    ``paper_fields`` land in the inner ``paper`` object (e.g. ``githubRepo=...``).
    """
    title = title or f"Paper {paper_id}"
    paper = {
        "id": paper_id,
        "authors": [
            {"_id": f"a{i}", "name": name, "hidden": False} for i, name in enumerate(authors)
        ],
        "publishedAt": f"{day}T00:00:00.000Z",
        "submittedOnDailyAt": f"{day}T08:00:00.000Z",
        "title": title,
        "summary": summary,
        "upvotes": upvotes,
        **paper_fields,
    }
    return {
        "paper": paper,
        "publishedAt": f"{day}T00:00:00.000Z",
        "title": title,
        "summary": summary,
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{paper_id}.png",
        "numComments": 0,
        "isAuthorParticipating": False,
    }


def rss_feed(items: Iterable[Mapping[str, Any]], category: str = "cs.LG") -> bytes:
    """An arXiv RSS document; each item is a mapping with ``id`` and optional ``title``,
    ``abstract``, ``authors`` (list), ``categories`` (list), ``announce_type`` (default "new")."""
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>',
        f"<title>{escape(category)} updates on arXiv.org</title>",
    ]
    for item in items:
        paper_id = item["id"]
        kind = item.get("announce_type", "new")
        categories = "".join(
            f"<category>{escape(c)}</category>" for c in item.get("categories", [category])
        )
        parts.append(
            "<item>"
            f"<title>{escape(item.get('title', f'Paper {paper_id}'))}</title>"
            f"<link>https://arxiv.org/abs/{paper_id}</link>"
            f"<description>arXiv:{paper_id}v1 Announce Type: {kind} \n"
            f"Abstract: {escape(item.get('abstract', 'An abstract.'))}</description>"
            f'<guid isPermaLink="false">oai:arXiv.org:{paper_id}v1</guid>'
            f"{categories}"
            "<pubDate>Mon, 28 Apr 2025 00:00:00 -0400</pubDate>"
            f"<arxiv:announce_type>{kind}</arxiv:announce_type>"
            f"<dc:creator>{escape(', '.join(item.get('authors', ['Ada Lovelace'])))}</dc:creator>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


def rxiv_item(
    doi: str,
    title: str = "",
    *,
    version: int = 1,
    day: date | str = "2026-05-13",
    category: str = "cell biology",
    server: str = "biorxiv",
    authors: str = "Lovelace, A.",
    abstract: str = "An abstract.",
    **fields: Any,
) -> dict[str, Any]:
    """A collection item of api.biorxiv.org's details answer, as documented."""
    return {
        "doi": doi,
        "title": title or f"Preprint {doi}",
        "authors": authors,
        "author_corresponding": authors.split(";")[0],
        "author_corresponding_institution": "Example University",
        "date": str(day),
        "version": str(version),
        "type": "new results",
        "license": "cc_by",
        "category": category,
        "jatsxml": f"https://www.{server}.org/content/early/{doi}.source.xml",
        "abstract": abstract,
        "published": "NA",
        "server": server,
        **fields,
    }


def _rxiv_answer(page: list[Any], cursor: int, total: int) -> dict[str, Any]:
    if not page:
        return {"messages": [{"status": "no posts found"}], "collection": []}
    message = {"status": "ok", "cursor": cursor, "count": len(page), "total": total}
    return {"messages": [message], "collection": page}


def _day_key(kind: str, day: str) -> str:
    parsed = date.fromisoformat(day)
    if kind == "month":
        return f"{parsed:%Y-%m}"
    year, week, _ = parsed.isocalendar()
    return f"{year}-W{week:02d}"


def _json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), status=status, content_type=JSON)


def _retry_after(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


_ENTRY = re.compile(rb"\s*<entry>.*?</entry>", re.DOTALL)
_ENTRY_ID = re.compile(rb"<id>(.*?)</id>")


def _filter_entries(feed: bytes, id_list: str) -> bytes:
    """The recorded Atom answer with only the entries whose id is in ``id_list``."""
    if not id_list:
        return feed
    wanted = {canonical_id(part) for part in id_list.split(",")}
    entries = list(_ENTRY.finditer(feed))
    if not entries:
        return feed
    kept = []
    for entry in entries:
        found = _ENTRY_ID.search(entry.group())
        if found and canonical_id(found.group(1).decode()) in wanted:
            kept.append(entry.group())
    return feed[: entries[0].start()] + b"".join(kept) + feed[entries[-1].end() :]
