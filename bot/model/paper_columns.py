"""The one list of the ``papers`` table's columns: name, SQL type, default, and how a Paper
field becomes a column value and back. The schema, the store's SELECTs and row conversion,
and the bulk importer are all derived from it, so a new Paper field is one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, fields
from operator import attrgetter
from typing import Any

from bot.model.paper import Paper


def _same(value: Any) -> Any:
    return value


def _text(value: str | None) -> str:
    return value or ""


def _joined(separator: str) -> Callable[[tuple[str, ...]], str]:
    return separator.join


def _split(separator: str | None) -> Callable[[str | None], tuple[str, ...]]:
    def split(value: str | None) -> tuple[str, ...]:
        return tuple(v for v in (value or "").split(separator) if v)

    return split


@dataclass(frozen=True)
class Column:
    name: str  # the Paper field and the column, named alike
    sql_type: str  # "TEXT" | "INTEGER"
    default: str | None  # the column's DEFAULT; None: no default (NULL)
    to_sql: Callable[[Any], Any] = _same
    from_sql: Callable[[Any], Any] = _same
    not_null: bool = False


PAPER_COLUMNS: tuple[Column, ...] = (
    Column("id", "TEXT", None, not_null=True),  # the primary key (see bot.model.ids)
    Column("title", "TEXT", None, not_null=True),
    Column("abstract", "TEXT", "", from_sql=_text),
    Column("authors", "TEXT", "", _joined("\n"), _split("\n")),  # one name per line
    Column("published", "TEXT", "", from_sql=_text),  # YYYY-MM-DD
    Column("categories", "TEXT", "", _joined(" "), _split(None)),  # space-separated
    Column("upvotes", "INTEGER", None),  # NULL: unknown (arXiv-only papers)
    Column("hf_date", "TEXT", "", from_sql=_text),
    Column("code_url", "TEXT", "", from_sql=_text),
    Column("project_url", "TEXT", "", from_sql=_text),
    Column("thumbnail_url", "TEXT", "", from_sql=_text),
    Column("sources", "TEXT", "", _joined(","), _split(",")),  # comma-separated
    Column("comments", "INTEGER", None),  # NULL: unknown
    Column("github_stars", "INTEGER", None),  # NULL: unknown
    Column("ai_summary", "TEXT", "", from_sql=_text),
    Column("ai_keywords", "TEXT", "", _joined("\n"), _split("\n")),  # one per line
    Column("organization", "TEXT", "", from_sql=_text),
    Column("submitted_by", "TEXT", "", from_sql=_text),
    Column("page_url", "TEXT", "", from_sql=_text),  # "" for arXiv papers: the id says
    Column("pdf_file_url", "TEXT", "", from_sql=_text),
)
PAPER_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in PAPER_COLUMNS)


_FIELDS = attrgetter(*PAPER_COLUMN_NAMES)
# Only these columns convert their value; the bulk import runs this for millions of papers.
_CONVERTED = tuple((i, c.to_sql) for i, c in enumerate(PAPER_COLUMNS) if c.to_sql is not _same)


def paper_values(paper: Paper) -> tuple[Any, ...]:
    """The column values of ``paper``, in ``PAPER_COLUMNS`` order."""
    values = list(_FIELDS(paper))
    for i, to_sql in _CONVERTED:
        values[i] = to_sql(values[i])
    return tuple(values)


_DEFAULTS = {f.name: f.default for f in fields(Paper) if f.default is not MISSING}


def values_of(given: Mapping[str, Any]) -> tuple[Any, ...]:
    """What ``paper_values(Paper(**given))`` returns, without building the Paper (about four
    times faster: the bulk import inserts millions of new papers this way)."""
    merged = {**_DEFAULTS, **given}
    values = [merged[name] for name in PAPER_COLUMN_NAMES]
    for i, to_sql in _CONVERTED:
        values[i] = to_sql(values[i])
    return tuple(values)


def paper_to_row(paper: Paper) -> dict[str, Any]:
    return dict(zip(PAPER_COLUMN_NAMES, paper_values(paper), strict=True))


def row_to_paper(row: Mapping[str, Any]) -> Paper:
    return Paper(**{c.name: c.from_sql(row[c.name]) for c in PAPER_COLUMNS})
