"""Citations: ``/papers cite`` and the ``bibtex`` option of ``top`` and ``search``.

Every ``.bib`` the tests get is read back with bibtexparser (LaTeX decoded by pylatexenc, as
a reference manager would), so "valid BibTeX with the right fields" is checked by a parser
that is not ours.
"""

from __future__ import annotations

import io
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware

from adapters.console import ConsoleAdapter
from bot.citations import apa, bibtex, bibtex_file, citation_key, unique_keys
from bot.core import Bot
from bot.model.paper import Paper
from bot.replies import Citation, Error, FileReply, Text
from tests.hostile_text import COMMAND_HAZARDS

ATTENTION = Paper(
    "1706.03762",
    "Attention Is All You Need",
    authors=("Ashish Vaswani", "Noam Shazeer", "Niki Parmar"),
    published="2017-06-12",
    categories=("cs.CL", "cs.LG"),
)
TITLE_ONLY = Paper("2605.00042", "Only a title")
HOSTILE_TITLES = [
    "Closing } brace",
    "Opening { brace",
    "Back\\slash and \\end{document}",
    "100% & #1 _under_ $x^2$ ~tilde `tick`",
    "}}}{{{ \\\\ %%% ```",
    "Newline\nand\ttab and \x00 control",
    " ".join(COMMAND_HAZARDS),
]
INVISIBLE = "\x00\u202e\u200b"  # dropped from citations: they hide or reorder text


def read_bib(text: str) -> dict[str, dict[str, str]]:
    """Entries by key, fields LaTeX-decoded; fails on anything the parser could not read."""
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert library.failed_blocks == [], [b.error for b in library.failed_blocks]
    # pylatexenc writes \textasciicircum as the modifier letter; LaTeX prints a plain caret.
    return {
        entry.key: {f.key: str(f.value).replace("ˆ", "^") for f in entry.fields}
        for entry in library.entries
    }


def vote(bot: Bot, platform: str, workspace: str, channel: str, paper: Paper, value: int) -> None:
    """A posted card of ``paper`` with one reaction worth ``value`` on it."""
    bot.store.save_papers([paper])
    post_id = bot.store.claim_post(platform, workspace, channel, paper.id)
    assert post_id is not None
    bot.store.complete_post(post_id, f"m-{paper.id}")
    post = bot.store.post_for_message(platform, workspace, channel, f"m-{paper.id}")
    assert post is not None
    bot.store.set_reaction(post, "U1", "+1" if value > 0 else "-1", value, True)


# -- the citation text ------------------------------------------------------------------------


def test_bibtex_follows_arxiv_conventions_and_parses_back() -> None:
    text = bibtex(ATTENTION)
    assert text.startswith("@misc{vaswani2017attention,\n")
    (entry,) = read_bib(text).values()
    assert entry == {
        "title": "Attention Is All You Need",
        "author": "Vaswani, Ashish and Shazeer, Noam and Parmar, Niki",
        "year": "2017",
        "eprint": "1706.03762",
        "archivePrefix": "arXiv",
        "primaryClass": "cs.CL",
        "url": "https://arxiv.org/abs/1706.03762",
    }


def test_apa_lists_authors_year_title_and_link() -> None:
    assert apa(ATTENTION) == (
        "Vaswani, A., Shazeer, N., & Parmar, N. (2017). Attention Is All You Need "
        "(arXiv:1706.03762). arXiv. https://arxiv.org/abs/1706.03762"
    )


def test_a_paper_with_only_a_title_cites_with_the_fields_it_has() -> None:
    (entry,) = read_bib(bibtex(TITLE_ONLY)).values()
    # The year comes from the id itself (26 = 2026); no author, category or date is made up.
    assert entry == {
        "title": "Only a title",
        "year": "2026",
        "eprint": "2605.00042",
        "archivePrefix": "arXiv",
        "url": "https://arxiv.org/abs/2605.00042",
    }
    assert citation_key(TITLE_ONLY) == "anon2026only"
    assert apa(TITLE_ONLY).startswith("Only a title (arXiv:2605.00042). (2026). arXiv.")


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_titles_and_names_stay_one_valid_field(title: str) -> None:
    paper = Paper("2401.12345", title, authors=(f"Eve {title}", "Bob O'Brien"))
    entries = read_bib(bibtex_file([paper, ATTENTION]))
    assert len(entries) == 2, "a title must not swallow or split entries"
    cited = next(e for e in entries.values() if e["eprint"] == "2401.12345")
    expected = " ".join("".join(ch for ch in title if ch not in INVISIBLE).split())
    # LaTeX reads "--" as an en dash, which is what arXiv titles (written in LaTeX) mean by it.
    expected = expected.replace("--", "–")
    assert cited["title"] == expected
    assert cited["url"] == "https://arxiv.org/abs/2401.12345"
    assert "```" not in bibtex(paper), "a chat code block would end early"


def test_keys_are_ascii_stable_and_suffixed_on_collision_in_id_order() -> None:
    zoe = Paper("2401.00002", "The Émigré Model", authors=("Zoë Ångström",), published="2024-01-05")
    twin = Paper("2401.00001", "Émigré models again", authors=("Zoë Ångström",))
    assert citation_key(zoe) == "angstrom2024emigre"
    assert citation_key(zoe) == citation_key(
        Paper(zoe.id, zoe.title, authors=zoe.authors, published=zoe.published)
    )
    assert unique_keys([zoe, ATTENTION, twin]) == [
        "angstrom2024emigreb",
        "vaswani2017attention",
        "angstrom2024emigrea",
    ]
    assert list(read_bib(bibtex_file([zoe, ATTENTION, twin]))) == unique_keys(
        [zoe, ATTENTION, twin]
    )


def test_a_doi_paper_cites_as_an_article_with_its_doi() -> None:
    paper = Paper(
        "10.1101/2024.05.01.592000",
        "Cells & things",
        authors=("Ada Lovelace",),
        published="2024-05-03",
        sources=("biorxiv",),
    )
    (entry,) = read_bib(bibtex(paper)).values()
    assert bibtex(paper).startswith("@article{lovelace2024cells,")
    assert entry["doi"] == "10.1101/2024.05.01.592000"
    assert entry["journal"] == "bioRxiv"
    assert entry["url"] == "https://doi.org/10.1101/2024.05.01.592000"
    assert "eprint" not in entry and "archivePrefix" not in entry


# -- the commands -------------------------------------------------------------------------------


async def test_cite_answers_privately_in_either_style(chat, bot) -> None:
    bot.store.save_papers([ATTENTION])
    reply = await chat.command("cite 1706.03762")
    assert reply == Citation("1706.03762", "bibtex", bibtex(ATTENTION))
    assert not reply.public
    reply = await chat.command("cite https://arxiv.org/abs/1706.03762v5 APA")
    assert reply == Citation("1706.03762", "apa", apa(ATTENTION))


async def test_cite_looks_an_unknown_paper_up_and_says_when_there_is_none(
    chat, paper_sources
) -> None:
    reply = await chat.command("cite 2605.99999")
    assert isinstance(reply, Error) and "couldn't find 2605.99999 locally" in reply.message
    for bad, words in (("cite", "Cite which paper"), ("cite nonsense", "not a paper id")):
        reply = await chat.command(bad)
        assert isinstance(reply, Error) and words in reply.message
    reply = await chat.command("cite 1706.03762 mla")
    assert isinstance(reply, Error) and "`mla` is not a citation style" in reply.message


async def test_a_citation_too_long_for_chat_comes_as_a_file(chat, bot) -> None:
    crowd = Paper("2605.00077", "Big physics", authors=tuple(f"Author{i} Name" for i in range(400)))
    bot.store.save_papers([crowd])
    reply = await chat.command("cite 2605.00077")
    assert isinstance(reply, FileReply) and reply.name == "paperboy-2605-00077.bib"
    (entry,) = read_bib(reply.data.decode()).values()
    assert entry["author"].count(" and ") == 399


async def test_top_bibtex_is_one_private_file_of_the_papers_voted_up(chat, bot) -> None:
    ch = chat.channel()
    vote(bot, ch.platform, ch.workspace, ch.channel, ATTENTION, +1)
    vote(bot, ch.platform, ch.workspace, ch.channel, TITLE_ONLY, +1)
    disliked = Paper("2605.00050", "Disliked", authors=("Dee Down",))
    vote(bot, ch.platform, ch.workspace, ch.channel, disliked, -1)
    reply = await chat.command("top month bibtex")
    assert isinstance(reply, FileReply) and not reply.public
    assert reply.name == "paperboy-top-month-2026-05-13.bib"
    assert reply.message == "BibTeX for 2 papers: the team's top this month."
    entries = read_bib(reply.data.decode())
    assert {e["eprint"] for e in entries.values()} == {"1706.03762", "2605.00042"}
    assert entries["vaswani2017attention"]["author"].startswith("Vaswani, Ashish")


async def test_top_bibtex_with_nothing_to_cite_says_so(chat, bot) -> None:
    reply = await chat.command("top month bibtex")
    assert isinstance(reply, Text) and reply.text.startswith("Nothing to cite")
    ch = chat.channel()
    vote(bot, ch.platform, ch.workspace, ch.channel, ATTENTION, -1)
    reply = await chat.command("top all bibtex")
    assert isinstance(reply, Text) and "no paper was voted up all time" in reply.text


async def test_search_bibtex_cites_the_results(chat, bot, paper_sources) -> None:
    paper_sources.set_search([])  # Hugging Face finds nothing more: local results only
    bot.store.save_papers(
        [ATTENTION, Paper("2605.00060", "Attention sinks", published="2026-05-01")]
    )
    reply = await chat.command("search attention bibtex")
    assert isinstance(reply, FileReply) and reply.name == "paperboy-search-attention.bib"
    entries = read_bib(reply.data.decode())
    assert {e["eprint"] for e in entries.values()} == {"1706.03762", "2605.00060"}
    # Only a last word after others asks for a file: this searches for the word.
    reply = await chat.command("search bibtex")
    assert isinstance(reply, Error) and "No papers match “bibtex”" in reply.message


async def test_console_writes_the_bib_beside_the_database(bot, settings) -> None:
    vote(bot, "console", "local", "console", ATTENTION, +1)
    out = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), out)
    await console.handle_line("/papers top month bibtex")
    await console.handle_line("/papers top month bibtex")
    folder = Path(settings.db_path).parent
    first = folder / "paperboy-top-month-2026-05-13.bib"
    second = folder / "paperboy-top-month-2026-05-13-2.bib"
    assert f"Wrote {first}" in out.getvalue() and f"Wrote {second}" in out.getvalue()
    assert read_bib(first.read_text()) == read_bib(second.read_text())
    assert list(read_bib(first.read_text())) == ["vaswani2017attention"]
    await console.handle_line("/papers cite 1706.03762")
    assert "@misc{vaswani2017attention," in out.getvalue()
