"""bioRxiv and medRxiv: the life-science preprint servers, through api.biorxiv.org.

One feed per server and subject category (the papers posted in the last two days), and
lookups by DOI. Their papers are keyed by DOI (``10.1101/2024.01.01.123456``), and their
links point at the server that holds them, so a medRxiv card never links to bioRxiv.

The API answers ``/details/{server}/{from}/{to}/{cursor}`` with
``{"messages": [{"status": "ok", "count": N, "total": T, ...}], "collection": [...]}`` in
pages of 100, and ``/details/{server}/{doi}/na/json`` with every version of one paper. It
has no search; its papers are searched in the store like any other.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import ClassVar

import httpx

from bot.config import Settings
from bot.model.feed import Feed
from bot.model.ids import canonical_doi
from bot.model.paper import Paper, bounded
from bot.sources.base import PaperSource, ParamsError, no_more_words
from bot.sources.http import HttpFetcher, SourceError, ensure_ok

log = logging.getLogger(__name__)

# Subject categories as the API's ``category=`` takes them (lower case, underscores), from
# the servers' "subject area" lists. A few bioRxiv ones (clinical_trials, epidemiology) only
# hold older papers; they are kept so old subscriptions and lookups stay valid.
BIORXIV_CATEGORIES: tuple[str, ...] = (
    "animal_behavior_and_cognition",
    "biochemistry",
    "bioengineering",
    "bioinformatics",
    "biophysics",
    "cancer_biology",
    "cell_biology",
    "clinical_trials",
    "developmental_biology",
    "ecology",
    "epidemiology",
    "evolutionary_biology",
    "genetics",
    "genomics",
    "immunology",
    "microbiology",
    "molecular_biology",
    "neuroscience",
    "paleontology",
    "pathology",
    "pharmacology_and_toxicology",
    "physiology",
    "plant_biology",
    "scientific_communication_and_education",
    "synthetic_biology",
    "systems_biology",
    "zoology",
)
MEDRXIV_CATEGORIES: tuple[str, ...] = (
    "addiction_medicine",
    "allergy_and_immunology",
    "anesthesia",
    "cardiovascular_medicine",
    "dentistry_and_oral_medicine",
    "dermatology",
    "emergency_medicine",
    "endocrinology",
    "epidemiology",
    "forensic_medicine",
    "gastroenterology",
    "genetic_and_genomic_medicine",
    "geriatric_medicine",
    "health_economics",
    "health_informatics",
    "health_policy",
    "health_systems_and_quality_improvement",
    "hematology",
    "hiv_aids",
    "infectious_diseases",
    "intensive_care_and_critical_care_medicine",
    "medical_education",
    "medical_ethics",
    "nephrology",
    "neurology",
    "nursing",
    "nutrition",
    "obstetrics_and_gynecology",
    "occupational_and_environmental_health",
    "oncology",
    "ophthalmology",
    "orthopedics",
    "otolaryngology",
    "pain_medicine",
    "palliative_medicine",
    "pathology",
    "pediatrics",
    "pharmacology_and_therapeutics",
    "primary_care_research",
    "psychiatry_and_clinical_psychology",
    "public_and_global_health",
    "radiology_and_imaging",
    "rehabilitation_medicine_and_physical_therapy",
    "respiratory_medicine",
    "rheumatology",
    "sexual_and_reproductive_health",
    "sports_medicine",
    "surgery",
    "toxicology",
    "transplantation",
    "urology",
)
ALL_CATEGORIES = "all"  # `subscribe biorxiv all`: every category (stored as no parameter)

# A feed reads the papers posted on these many days up to today: a paper posted late
# yesterday (US time) would otherwise be missed, as with the other feeds.
FEED_DAYS = 2
# Pages of 100 a feed reads at most: both servers post a few hundred papers a day in all,
# so this only stops a server that claims an endless total.
MAX_PAGES = 20
MAX_VERSION = 1_000

SERVERS = ("biorxiv", "medrxiv")
# bioRxiv and medRxiv DOIs: 10.1101/ then a date and a number (since Dec 2019), or 6 digits.
_RXIV_DOI = r"10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,8}"
_DOI_WITH_VERSION = re.compile(rf"^(?P<doi>{_RXIV_DOI})(?:v\d+)?$", re.IGNORECASE)
# A paper's page at either server: /content/<doi>[vN][.full|.full.pdf|.abstract|...]
_SERVER_URL = re.compile(
    r"^\s*<?(?:https?://)?(?:www\.|connect\.)?(?:bio|med)rxiv\.org/content/(?:early/[\d/]+/)?"
    rf"(?P<doi>{_RXIV_DOI})(?:v\d+)?(?:\.full(?:\.pdf(?:\+html)?|-text)?|\.abstract|\.pdf)?"
    r"/?(?:[?#]\S*)?(?:\|[^>]*)?>?\s*$",
    re.IGNORECASE,
)


def rxiv_doi(text: str) -> str | None:
    """The lower-cased bioRxiv / medRxiv DOI ``text`` names: a DOI (bare, ``doi:``, doi.org,
    with or without a version suffix) or a link to the paper at either server."""
    if not text or len(text) > 300:
        return None
    match = _SERVER_URL.match(text)
    if match:
        return match.group("doi").lower()
    doi = canonical_doi(text)
    match = _DOI_WITH_VERSION.match(doi or "")
    return match.group("doi").lower() if match else None


def category_key(text: str) -> str:
    """The API's spelling of a category: "Cell Biology", "cell-biology" → ``cell_biology``."""
    return "_".join(re.split(r"[^a-z0-9]+", text.lower())).strip("_")


class RxivServer(PaperSource):
    """One of the two servers behind api.biorxiv.org; ``server`` says which."""

    server: ClassVar[str]  # the API's name for it: "biorxiv" | "medrxiv"
    categories: ClassVar[tuple[str, ...]]
    site: ClassVar[str]  # where its paper pages are

    def __init__(self, http: HttpFetcher, api_url: str) -> None:
        self._http = http
        self._api = api_url.rstrip("/")

    @classmethod
    def from_settings(cls, http: HttpFetcher, settings: Settings) -> RxivServer:
        return cls(http, settings.biorxiv_api_url)

    # -- feeds --------------------------------------------------------------------------

    def parse_params(self, words: Sequence[str]) -> Feed:
        if not words:
            raise ParamsError(
                f"Which {self.label} category? For example `{self.example.split()[1]}`, "
                f"or `{ALL_CATEGORIES}`.",
                self._category_list(),
            )
        # "cell biology" arrives as two words; a category is everything before the filters.
        text = " ".join(words)
        key = category_key(text)
        if key == ALL_CATEGORIES:
            return Feed(self.name)
        if key in self.categories:
            return Feed(self.name, key)
        if len(words) > 1 and category_key(words[0]) in self.categories:
            no_more_words(words[1:])
        message = f"`{text[:40]}` is not a {self.label} category."
        suggestions = difflib.get_close_matches(key, self.categories, n=3, cutoff=0.6)
        if suggestions:
            message += " Did you mean " + " or ".join(f"`{s}`" for s in suggestions) + "?"
        raise ParamsError(message, self._category_list())

    def describe(self, feed: Feed) -> str:
        if not feed.params:
            return f"{self.label} (all categories)"
        return f"{self.label} {feed.params.replace('_', ' ')}"

    async def fetch(self, feed: Feed, today: date) -> list[Paper]:
        """New papers (first versions) posted from yesterday to today, in ``feed``'s category."""
        if feed.params and feed.params not in self.categories:
            raise ValueError(f"not a {self.label} category: {feed.params[:40]!r}")
        start = (today - timedelta(days=FEED_DAYS - 1)).isoformat()
        params = {"category": feed.params} if feed.params else None
        items: list[object] = []
        cursor = 0
        for _ in range(MAX_PAGES):
            url = f"{self._api}/details/{self.server}/{start}/{today.isoformat()}/{cursor}"
            page, total = parse_page(await self._get_json(url, params))
            items.extend(page)
            cursor += len(page)
            if not page or cursor >= total:
                break
        else:
            log.warning("%s %s: stopped after %d pages", self.label, feed.params, MAX_PAGES)
        return parse_collection(items, self.server, new_only=True)

    # -- single papers ------------------------------------------------------------------

    def paper_id(self, text: str) -> str | None:
        return rxiv_doi(text)

    async def lookup(self, paper_id: str) -> Paper | None:
        doi = rxiv_doi(paper_id)
        if doi is None:
            raise ValueError(f"not a {self.label} DOI: {paper_id[:50]!r}")
        data = await self._get_json(f"{self._api}/details/{self.server}/{doi}/na/json")
        page, _ = parse_page(data)
        found = parse_collection(page, self.server)
        return next((p for p in found if p.id == doi), None)

    async def _get_json(self, url: str, params: Mapping[str, str] | None = None) -> object:
        response: httpx.Response = await self._http.get(url, params, name=self.label)
        ensure_ok(response, self.label)
        try:
            return response.json()
        except ValueError as exc:  # includes JSONDecodeError and UnicodeDecodeError
            raise SourceError(f"{self.label} returned something that is not JSON") from exc

    def _category_list(self) -> str:
        return f"{self.label} categories: " + ", ".join(f"`{c}`" for c in self.categories)


class Biorxiv(RxivServer):
    name = "biorxiv"
    label = "bioRxiv"
    server = "biorxiv"
    site = "https://www.biorxiv.org"
    categories = BIORXIV_CATEGORIES
    usage = "biorxiv <category>"
    choice_label = "bioRxiv category (give one in 'category')"
    feed_noun = "bioRxiv preprints of a category"
    example = "biorxiv cell_biology"


class Medrxiv(RxivServer):
    name = "medrxiv"
    label = "medRxiv"
    server = "medrxiv"
    site = "https://www.medrxiv.org"
    categories = MEDRXIV_CATEGORIES
    usage = "medrxiv <category>"
    choice_label = "medRxiv category (give one in 'category')"
    feed_noun = "medRxiv preprints of a category"
    example = "medrxiv epidemiology"


# -- parsing --------------------------------------------------------------------------------

BROKEN = "bioRxiv's API returned something that is not a paper list"


def parse_page(data: object) -> tuple[list[object], int]:
    """The collection items of one answer and the total the server says it has.

    "no posts found" is an empty page, not an error; any other status is a SourceError, as is
    an answer without the documented shape.
    """
    if not isinstance(data, Mapping):
        raise SourceError(BROKEN)
    messages = data.get("messages")
    message = messages[0] if isinstance(messages, list) and messages else None
    if not isinstance(message, Mapping):
        raise SourceError(BROKEN)
    status = message.get("status")
    if status != "ok":
        if isinstance(status, str) and status.strip().lower().startswith("no posts found"):
            return [], 0
        detail = " ".join(status.split())[:100] if isinstance(status, str) else "no status"
        raise SourceError(f"bioRxiv's API said: {detail}")
    collection = data.get("collection")
    if collection is None:
        return [], 0
    if not isinstance(collection, list):
        raise SourceError(BROKEN)
    return collection, _count(message.get("total"))


def parse_collection(
    items: Sequence[object], server: str, *, new_only: bool = False
) -> list[Paper]:
    """One Paper per DOI, from its newest version listed (its links, title and abstract) and
    the date of its first version listed (when it was posted).

    ``new_only`` keeps only papers whose first version is among the items: a feed lists
    revisions of older papers too, and those were new once already. A malformed item is
    logged and skipped.
    """
    versions: dict[str, list[tuple[int, Paper]]] = {}
    for index, item in enumerate(items):
        try:
            doi, version, paper = parse_item(item, server)
        except MalformedItem as exc:
            log.warning("skipping malformed %s item #%d: %s", server, index, exc)
            continue
        versions.setdefault(doi, []).append((version, paper))
    papers = []
    for listed in versions.values():
        listed.sort(key=lambda pair: pair[0])
        first_version, first = listed[0]
        if new_only and first_version > 1:
            continue
        _, newest = listed[-1]
        posted = first.published if first_version <= 1 else ""
        papers.append(bounded(replace(newest, published=posted or newest.published)))
    return papers


class MalformedItem(ValueError):
    """One collection item cannot become a Paper; the message says why (for the log)."""


def parse_item(item: object, server: str) -> tuple[str, int, Paper]:
    """(DOI, version, Paper) of one collection item; raises MalformedItem."""
    if not isinstance(item, Mapping):
        raise MalformedItem(f"item is a {type(item).__name__}, not an object")
    raw_doi = _string(item, "doi")
    doi = rxiv_doi(raw_doi)
    if doi is None:
        raise MalformedItem(f"doi {raw_doi[:40]!r} is not a bioRxiv/medRxiv DOI")
    title = _collapse(_string(item, "title"))
    if not title:
        raise MalformedItem(f"{doi} has no title")
    said = _string(item, "server").lower()
    server = said if said in SERVERS else server
    version = _version(item.get("version"))
    page = f"https://www.{server}.org/content/{doi}" + (f"v{version}" if version else "")
    category = category_key(_string(item, "category"))
    paper = Paper(
        id=doi,
        title=title,
        abstract=_collapse(_string(item, "abstract")),
        authors=split_authors(_string(item, "authors")),
        published=_string(item, "date").strip()[:10],
        categories=(category,) if category else (),
        sources=(server,),
        page_url=page,
        pdf_file_url=f"{page}.full.pdf",
    )
    return doi, version or 1, paper


def split_authors(text: str) -> tuple[str, ...]:
    """``"Smith, J. A.; van der Berg, K."`` → ``("J. A. Smith", "K. van der Berg")``: names as
    the other sources write them, so author filters, author lists and citations read them
    alike."""
    names = []
    for part in text.split(";"):
        last, _, given = (_collapse(p) for p in part.partition(","))
        name = f"{given} {last}".strip() if given else last
        if name:
            names.append(name)
    return tuple(names)


def _string(item: Mapping[str, object], key: str) -> str:
    """``item[key]`` as a string; anything else (missing, null, a number, a list) is ""."""
    value = item.get(key)
    return value if isinstance(value, str) else ""


def _version(value: object) -> int:
    """The version number ("2" or 2), or 0 when it is missing or nonsense."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 4:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return value if 1 <= value <= MAX_VERSION else 0


def _count(value: object) -> int:
    """A message's total (an int or a string of digits), bounded; 0 when unreadable."""
    if isinstance(value, str) and value.strip().isdigit():
        digits = value.strip()
        value = int(digits) if len(digits) <= 9 else MAX_PAGES * 100
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(0, min(value, MAX_PAGES * 100))


def _collapse(text: str) -> str:
    return " ".join(text.split())
