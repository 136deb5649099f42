"""Citing papers: ``cite``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.citations import STYLES, apa, bibtex
from bot.commands import REGISTRY
from bot.commands.bib import file_slug
from bot.commands.lookups import find_paper, not_found, paper_argument
from bot.commands.spec import CommandError, Param, ParsedCommand
from bot.events import CommandInvoked
from bot.replies import Citation, FileReply, Reply

if TYPE_CHECKING:
    from bot.core import Bot

# Past this a citation (thousands of authors) is no longer a chat message: it comes as a file.
# Below Discord's 2,000 characters per message, with room for the code block around it.
CHAT_CITATION_CHARS = 1_800


@REGISTRY.command(
    "cite",
    "a paper's citation, as BibTeX (default) or APA",
    Param(
        "paper",
        "an arXiv id (2401.12345), a bioRxiv/medRxiv DOI, or a link to the paper",
        required=True,
        min=1,
        max=200,
        usage="<paper id or URL>",
    ),
    Param(
        "style",
        "bibtex (default) or apa",
        choices=[("BibTeX", "bibtex"), ("APA", "apa")],
        usage="[bibtex|apa]",
    ),
    description="Cite a paper as BibTeX or APA",
)
async def cite(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    paper_id = paper_argument(bot, command, "Cite which paper?", "`/papers cite 2401.12345 apa`")
    style = str(command.values.get("style", "bibtex")).lower()
    if style not in STYLES:
        raise CommandError(f"`{style[:40]}` is not a citation style.", "Use bibtex or apa.")
    paper = await find_paper(bot, paper_id)
    if paper is None:
        return not_found(bot, paper_id)
    text = bibtex(paper) if style == "bibtex" else apa(paper)
    if len(text) > CHAT_CITATION_CHARS:
        extension = "bib" if style == "bibtex" else "txt"
        return FileReply(
            name=f"paperboy-{file_slug(paper.id)}.{extension}",
            data=(text + "\n").encode(),
            message=f"The citation of {paper.id} is too long for a message; here it is as a file.",
        )
    return Citation(paper.id, style, text)
