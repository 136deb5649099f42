"""The paper record every part of paperboy shares."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta

from bot.model.ids import is_canonical, is_doi


@dataclass(frozen=True)
class Paper:
    """One paper, keyed by its version-less arXiv id or, for papers not on arXiv, its
    lower-cased DOI (see ``bot.model.ids``).

    ``upvotes`` is None when no source has told us (arXiv knows nothing of HF upvotes),
    which is not the same as zero.

    Where the paper's pages are follows from an arXiv id; for any other paper its source
    stores them in ``page_url`` and ``pdf_file_url`` (bioRxiv's carry the version).
    """

    id: str
    title: str
    abstract: str = ""
    authors: tuple[str, ...] = ()
    published: str = ""  # YYYY-MM-DD
    categories: tuple[str, ...] = ()
    upvotes: int | None = None
    hf_date: str = ""  # the day it was on HF Daily Papers, YYYY-MM-DD
    code_url: str = ""
    project_url: str = ""
    thumbnail_url: str = ""
    sources: tuple[str, ...] = field(default=())  # "hf", "arxiv", "biorxiv", "medrxiv"
    # What the Hugging Face page shows besides: None / "" / () when no source has said.
    comments: int | None = None  # HF discussion comments
    github_stars: int | None = None  # stars of code_url's repository, as HF last saw them
    ai_summary: str = ""  # HF's one-sentence AI summary (the cards' "TL;DR")
    ai_keywords: tuple[str, ...] = ()
    organization: str = ""  # the HF organization it was submitted under, by display name
    submitted_by: str = ""  # the HF user who put it on Daily Papers (their user name)
    # Where its pages are, for papers whose id does not say (a DOI): set by their source.
    page_url: str = ""  # its abstract page, when the id does not say where that is
    pdf_file_url: str = ""  # likewise its PDF

    @property
    def on_arxiv(self) -> bool:
        return is_canonical(self.id)

    @property
    def abstract_url(self) -> str:
        """The paper's own page at the server that holds it ("" when unknown)."""
        if self.page_url:
            return self.page_url
        if self.on_arxiv:
            return f"https://arxiv.org/abs/{self.id}"
        return f"https://doi.org/{self.id}" if is_doi(self.id) else ""

    @property
    def pdf_url(self) -> str:
        if self.pdf_file_url:
            return self.pdf_file_url
        return f"https://arxiv.org/pdf/{self.id}" if self.on_arxiv else ""

    @property
    def hf_url(self) -> str:
        """Hugging Face's page for it; HF only has pages for arXiv papers."""
        return f"https://huggingface.co/papers/{self.id}" if self.on_arxiv else ""

    @property
    def listed_on_hf(self) -> bool:
        """Whether Hugging Face has a page for it: only then is the HF link worth showing."""
        listed = "hf" in self.sources or self.upvotes is not None or bool(self.hf_date)
        return listed and self.on_arxiv

    def merged(self, newer: Paper) -> Paper:
        """Fields from ``newer`` win where it has them; gaps are filled from ``self``.

        Upvotes and the other HF-only fields (comments, stars, AI summary, organization...)
        only come from HF, so a newer arXiv record never erases them.
        """
        changes = {}
        for f in fields(self):
            value = getattr(newer, f.name)
            if f.name == "sources":
                value = tuple(sorted(set(self.sources) | set(newer.sources)))
            elif value in ("", (), None):
                continue
            changes[f.name] = value
        return replace(self, **changes)


# What a paper record may hold, whatever a source sends. Past these a value is garbage or an
# attack: SQLite stores integers up to 2**63 - 1 only, and a 100 MB abstract fills a channel.
MAX_TITLE_CHARS = 1_000
MAX_ABSTRACT_CHARS = 20_000
MAX_AUTHORS = 5_000  # ATLAS and CMS papers list about 3,000
MAX_AUTHOR_CHARS = 300
MAX_CATEGORIES = 50
MAX_CATEGORY_CHARS = 50
MAX_URL_CHARS = 2_000
MAX_UPVOTES = 10**9
MAX_COUNT = 10**9  # comments, GitHub stars
MAX_AI_SUMMARY_CHARS = 2_000  # HF's run to about 300
MAX_KEYWORDS = 50
MAX_KEYWORD_CHARS = 100
MAX_NAME_CHARS = 200  # organization, submitter
EARLIEST_DAY = date(1900, 1, 1)
# A day in the future is a source's clock or data gone wrong; a little margin covers time zones.
FUTURE_MARGIN = timedelta(days=2)


def bounded(paper: Paper, *, today: date | None = None) -> Paper:
    """``paper`` with every field inside the limits above: over-long text clipped, lists cut,
    impossible numbers and dates dropped (unknown), non-web links dropped.

    Every source passes what it parsed through here, so one hostile item cannot break
    storage, rendering or a posting round.
    """
    latest = (today or datetime.now(UTC).date()) + FUTURE_MARGIN
    authors = tuple(_clip(a, MAX_AUTHOR_CHARS) for a in paper.authors[:MAX_AUTHORS] if a)
    categories = tuple(
        c for c in paper.categories[:MAX_CATEGORIES] if 0 < len(c) <= MAX_CATEGORY_CHARS
    )
    keywords = (" ".join(k.split()) for k in paper.ai_keywords[:MAX_KEYWORDS])
    return replace(
        paper,
        title=_clip(paper.title, MAX_TITLE_CHARS),
        abstract=_clip(paper.abstract, MAX_ABSTRACT_CHARS),
        authors=authors,
        categories=categories,
        upvotes=_count(paper.upvotes, MAX_UPVOTES),
        published=_day(paper.published, latest),
        hf_date=_day(paper.hf_date, latest),
        code_url=_web_url(paper.code_url),
        project_url=_web_url(paper.project_url),
        thumbnail_url=_web_url(paper.thumbnail_url),
        comments=_count(paper.comments, MAX_COUNT),
        github_stars=_count(paper.github_stars, MAX_COUNT),
        ai_summary=_clip(paper.ai_summary, MAX_AI_SUMMARY_CHARS),
        # One line each: the column stores them one per line.
        ai_keywords=tuple(_clip(k, MAX_KEYWORD_CHARS) for k in keywords if k),
        organization=_clip(paper.organization, MAX_NAME_CHARS),
        submitted_by=_clip(paper.submitted_by, MAX_NAME_CHARS),
        page_url=_web_url(paper.page_url),
        pdf_file_url=_web_url(paper.pdf_file_url),
    )


def _count(value: int | None, limit: int) -> int | None:
    """``value`` if it is a whole number from 0 to ``limit``, else None (unknown)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        return None
    return value


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _day(text: str, latest: date) -> str:
    """A YYYY-MM-DD between EARLIEST_DAY and ``latest``, else "" (unknown)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return ""
    return day.isoformat() if EARLIEST_DAY <= day <= latest else ""


def _web_url(url: str) -> str:
    ok = url.startswith(("https://", "http://")) and len(url) <= MAX_URL_CHARS
    return url if ok and not any(c.isspace() for c in url) else ""
