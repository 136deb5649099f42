"""The ``bibtex`` option of list commands (``top``, ``search``): their papers as a ``.bib`` file."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.citations import bibtex_file
from bot.commands.spec import Param
from bot.model.paper import Paper
from bot.replies import FileReply

BIBTEX = Param(
    "bibtex",
    "send these papers as a .bib file, to you only",
    type=bool,
    kind="flag",
    usage="[bibtex]",
)


def bib_reply(papers: Sequence[Paper], name: str, what: str) -> FileReply:
    """``papers`` as one ``.bib`` file called ``paperboy-<name>.bib``; ``what`` names the list."""
    count = f"{len(papers)} paper" + ("" if len(papers) == 1 else "s")
    return FileReply(
        name=f"paperboy-{file_slug(name)}.bib",
        data=bibtex_file(papers).encode(),
        message=f"BibTeX for {count}: {what}.",
    )


def file_slug(text: str, limit: int = 60) -> str:
    """A file-name part: lower-case ASCII letters, digits and single dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")
    return slug or "papers"


def today(clock_now: float) -> str:
    return datetime.fromtimestamp(clock_now, UTC).date().isoformat()
