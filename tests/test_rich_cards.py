"""Cards as rich as the Hugging Face page: comments, GitHub stars, the AI summary (TL;DR) and
keywords, the organization and the submitter are parsed, bounded, stored, merged and shown on
Slack, Discord and the console; each vanishes cleanly where a paper lacks it."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.render import embed_problems
from adapters.discord.render import render as discord_render
from adapters.memory import MemoryAdapter
from adapters.slack.render import render as slack_render
from bot.model.paper import (
    MAX_AI_SUMMARY_CHARS,
    MAX_COUNT,
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    MAX_NAME_CHARS,
    Paper,
    bounded,
)
from bot.model.paper_columns import PAPER_COLUMNS
from bot.plain_text import count_update, render_text
from bot.replies import PaperCard, PaperList, ScoredPaper
from bot.sources.hf import parse_daily_item, parse_daily_list, parse_paper
from bot.text_safety import compact_count
from storage.db import open_db
from storage.store import Store
from tests.conftest import close_bot, make_bot
from tests.fakes.paper_sources import hf_item
from tests.fakes.slack import block_problems

FIXTURES = Path(__file__).parent / "fixtures"
MAY_13 = date(2026, 5, 13)
NEW_COLUMNS = {"comments", "github_stars", "ai_summary", "ai_keywords", "organization"}


def may_13() -> dict[str, Paper]:
    data = json.loads((FIXTURES / "hf_daily_papers_2026-05-13.json").read_text())
    return {p.id: p for p in parse_daily_list(data, MAY_13)}


def delta_mem() -> Paper:
    """2605.12357 of 2026-05-13: has an organization, stars, comments and an AI summary."""
    return may_13()["2605.12357"]


# -- parsing ------------------------------------------------------------------------------


def test_the_recorded_day_keeps_what_the_hf_page_shows() -> None:
    paper = delta_mem()
    assert paper.comments == 1
    assert paper.github_stars == 26
    assert paper.ai_summary.startswith("A lightweight memory mechanism called δ-mem enhances")
    assert paper.ai_keywords[:3] == (
        "large language models",
        "memory mechanism",
        "frozen full-attention backbone",
    )
    assert len(paper.ai_keywords) == 9
    assert paper.organization == "Mind Lab"  # the display name, not the handle
    assert paper.submitted_by == "taesiri"
    sensenova = may_13()["2605.12500"]
    assert (sensenova.github_stars, sensenova.organization) == (1576, "")  # no organization


def test_every_recorded_paper_has_its_extras_or_leaves_them_unknown() -> None:
    papers = may_13().values()
    assert all(p.ai_summary and p.ai_keywords and p.submitted_by for p in papers)
    assert all(p.comments is not None and p.comments >= 0 for p in papers)
    assert sum(1 for p in papers if p.organization) == 32  # the items that carry one
    assert sum(1 for p in papers if p.github_stars is not None) == 26


def test_the_bare_paper_object_gives_what_it_holds() -> None:
    # /api/papers/{id} has no wrapper: no comment count, the organization from the paper.
    item = hf_item(
        "2605.00001",
        githubStars=7,
        ai_summary="Short.",
        organization={"name": "acme", "fullname": ""},
        submittedOnDailyBy={"user": "ada", "fullname": "Ada"},
    )
    paper = parse_paper(item["paper"])
    assert (paper.comments, paper.github_stars, paper.ai_summary) == (None, 7, "Short.")
    assert (paper.organization, paper.submitted_by) == ("acme", "ada")


@pytest.mark.parametrize(
    "extras",
    [
        {"githubStars": "lots", "ai_keywords": "one, two", "organization": "Acme"},
        {"githubStars": True, "ai_summary": 3, "ai_keywords": [1, None, {"k": 2}]},
        {"githubStars": None, "ai_summary": None, "ai_keywords": None, "organization": None},
        {"organization": [], "submittedOnDailyBy": "ada"},
    ],
)
def test_an_odd_extra_costs_that_field_not_the_paper(extras: dict[str, Any]) -> None:
    item = hf_item("2605.00001", **extras)
    item["numComments"] = "3"
    item["submittedBy"] = None
    paper = parse_daily_item(item)
    assert paper.title == "Paper 2605.00001"
    assert (paper.comments, paper.github_stars) == (None, None)
    assert paper.ai_keywords == () and paper.organization == "" and paper.submitted_by == ""


# -- bounds -------------------------------------------------------------------------------


def test_bounded_keeps_the_extras_in_range() -> None:
    paper = bounded(
        Paper(
            "2605.00001",
            "T",
            comments=-1,
            github_stars=10**30,
            ai_summary="s" * 10_000,
            ai_keywords=("k" * 500, "", "two\nlines", *(f"k{i}" for i in range(500))),
            organization="o" * 10_000,
            submitted_by="u" * 10_000,
        )
    )
    assert (paper.comments, paper.github_stars) == (None, None)
    assert len(paper.ai_summary) == MAX_AI_SUMMARY_CHARS and paper.ai_summary.endswith("…")
    assert len(paper.ai_keywords) <= MAX_KEYWORDS
    assert len(paper.ai_keywords[0]) == MAX_KEYWORD_CHARS
    assert paper.ai_keywords[1] == "two lines"  # one per line is how they are stored
    assert len(paper.organization) == len(paper.submitted_by) == MAX_NAME_CHARS
    assert bounded(Paper("2605.00001", "T", comments=MAX_COUNT, github_stars=0)).comments == (
        MAX_COUNT
    )


def test_a_hostile_item_is_stored_and_read_back_bounded(tmp_path) -> None:
    item = hf_item(
        "2605.00001",
        githubStars=10**40,
        ai_summary="x " * 50_000,
        ai_keywords=["k\n" * 300] * 1000,
        organization={"fullname": "\x1b]0;pwned\x07" + "O" * 10_000},
    )
    item["numComments"] = -(10**40)
    paper = parse_daily_item(item)
    store = Store(open_db(str(tmp_path / "p.db")))
    store.save_papers([paper])
    assert store.get_paper(paper.id) == paper
    assert paper.comments is None and paper.github_stars is None
    store.db.close()


# -- storage and merging ------------------------------------------------------------------


def test_an_arxiv_record_of_the_same_paper_keeps_the_hf_extras(tmp_path) -> None:
    store = Store(open_db(str(tmp_path / "p.db")))
    store.save_papers([delta_mem()])
    arxiv = Paper("2605.12357", "δ-mem (arXiv)", abstract="New.", sources=("arxiv",))
    store.save_papers([arxiv])
    merged = store.get_paper("2605.12357")
    assert merged.title == "δ-mem (arXiv)" and merged.sources == ("arxiv", "hf")
    for name in ("comments", "github_stars", "ai_summary", "ai_keywords", "organization"):
        assert getattr(merged, name) == getattr(delta_mem(), name), name
    assert merged.submitted_by == "taesiri"
    store.db.close()


def test_an_older_database_gets_the_new_columns_when_it_opens(tmp_path, monkeypatch) -> None:
    path = str(tmp_path / "old.db")
    old_columns = tuple(c for c in PAPER_COLUMNS if c.name not in NEW_COLUMNS)
    monkeypatch.setattr("storage.db.PAPER_COLUMNS", old_columns)
    open_db(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO papers (id, title, upvotes) VALUES ('2605.00009', 'Old', 4)")
        present = {row[1] for row in conn.execute("PRAGMA table_info(papers)")}
    assert not NEW_COLUMNS & present
    monkeypatch.undo()
    store = Store(open_db(path))
    old = store.get_paper("2605.00009")
    assert (old.upvotes, old.comments, old.github_stars, old.ai_keywords) == (4, None, None, ())
    store.save_papers([delta_mem()])
    assert store.get_paper("2605.12357") == delta_mem()
    store.db.close()


# -- every platform shows them ------------------------------------------------------------


def slack_text(paper: Paper, **card: Any) -> tuple[dict, str]:
    message = slack_render(PaperCard(paper, **card))
    assert block_problems(message["blocks"]) == []
    return message, json.dumps(message, ensure_ascii=False)


def discord_card(paper: Paper, **card: Any):
    embed = discord_render(PaperCard(paper, **card)).embeds[0]
    assert embed_problems(embed) == []
    return embed, {f.name: f.value for f in embed.fields}


def test_slack_shows_thumbnail_tldr_counts_organization_and_stars() -> None:
    paper = delta_mem()
    message, _ = slack_text(paper, public=True)
    blocks = message["blocks"]
    meta = blocks[1]["elements"][0]["text"]
    assert meta.startswith("Jingdi Lei, Di Zhang, Junxian Li +7 more · 10 authors · 🏢 Mind Lab")
    assert "▲ 80 HF upvotes · 💬 1 comment" in meta
    sections = [b for b in blocks if b["type"] == "section"]
    tldr, abstract = sections
    assert tldr["text"]["text"].startswith("*TL;DR:* A lightweight memory mechanism")
    assert abstract["text"]["text"].startswith("Large language models increasingly")
    assert abstract["accessory"] == {
        "type": "image",
        "image_url": "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2605.12357.png",
        "alt_text": "Thumbnail of δ-mem: Efficient Online Memory for Large Language Models",
    }
    labels = [e["text"]["text"] for e in blocks[-1]["elements"] if "url" in e]
    assert labels == ["Abstract", "PDF", "Hugging Face", "Code ★ 26"]


def test_discord_shows_tldr_counts_organization_stars_and_thumbnail() -> None:
    embed, fields = discord_card(delta_mem(), public=True)
    assert embed.description.startswith("**TL;DR:** A lightweight memory mechanism called δ")
    assert "\n\nLarge language models increasingly" in embed.description
    assert fields["Authors"].endswith("+7 more · 10 authors")
    assert fields["Organization"] == "Mind Lab"
    assert fields["Comments"] == "💬 1"
    assert fields["Links"].endswith("[Code](https://github.com/declare-lab/delta-Mem) ★ 26")
    assert embed.thumbnail.url.endswith("/papers/2605.12357.png")


def test_the_console_card_shows_tldr_counts_organization_and_stars() -> None:
    text = render_text(PaperCard(delta_mem(), public=True))
    lines = text.splitlines()
    assert lines[1] == (
        "Jingdi Lei, Di Zhang, Junxian Li +7 more · 10 authors · 🏢 Mind Lab · 2026-05-12"
        " · ▲ 80 HF upvotes · 💬 1 comment"
    )
    assert lines[2] == "team +0 (0 up, 0 down)"
    assert lines[3].startswith("TL;DR: A lightweight memory mechanism called δ-mem")
    tldr_end = next(i for i, line in enumerate(lines) if line.startswith("Large language"))
    assert " ".join(lines[3:tldr_end]).endswith("low-rank corrections to attention computations.")
    assert lines[-1].endswith("Code: https://github.com/declare-lab/delta-Mem (★ 26)")
    assert count_update(PaperCard(delta_mem(), 2, True, 3, 1)) == (
        "now +2 (3 up, 1 down) · ▲ 80 · 💬 1 · ★ 26"
    )


def test_an_arxiv_only_paper_shows_none_of_it() -> None:
    paper = Paper(
        "2401.00001",
        "Plain",
        abstract="An abstract.",
        authors=("Ada",),
        code_url="https://github.com/o/r",
        sources=("arxiv",),
    )
    message, slack = slack_text(paper)
    _, discord_fields = discord_card(paper)
    plain = render_text(PaperCard(paper))
    for name, text in {"slack": slack, "discord": str(discord_fields), "plain": plain}.items():
        for absent in ("TL;DR", "★", "💬", "🏢", "comment", "Organization", "Thumbnail"):
            assert absent not in text, (name, absent)
    assert not any("accessory" in b for b in message["blocks"])
    assert "Code" in [e["text"]["text"] for e in message["blocks"][-1]["elements"]]
    assert count_update(PaperCard(paper)) == "now +0 (0 up, 0 down)"


def test_stars_without_a_code_link_and_zero_comments_are_not_shown() -> None:
    paper = replace(delta_mem(), code_url="", comments=0)
    _, slack = slack_text(paper)
    _, fields = discord_card(paper)
    plain = render_text(PaperCard(paper))
    for text in (slack, str(fields), plain, count_update(PaperCard(paper))):
        assert "★" not in text and "💬" not in text


def test_lists_stay_one_line_per_paper() -> None:
    reply = PaperList("Search", (ScoredPaper(delta_mem()),))
    for text in (
        render_text(reply),
        json.dumps(slack_render(reply), ensure_ascii=False),
        discord_render(reply).embeds[0].description,
    ):
        assert "TL;DR" not in text and "Mind Lab" not in text and "💬" not in text


HOSTILE = "<!channel> **b** [x](https://evil.example) @everyone \u202e\x1b]0;pwned\x07\x00"


def hostile_extras(**changes: Any) -> Paper:
    return replace(
        delta_mem(),
        ai_summary=(HOSTILE + " word") * 500,
        organization=HOSTILE * 50,
        thumbnail_url="javascript:alert(1)",
        comments=MAX_COUNT,
        github_stars=MAX_COUNT,
        **changes,
    )


def test_hostile_extras_are_cleaned_escaped_and_clipped_everywhere() -> None:
    paper = hostile_extras()
    message, slack = slack_text(paper, public=True)
    embed, fields = discord_card(paper, public=True)
    plain = render_text(PaperCard(paper, public=True))
    everything = {"slack": slack, "discord": json.dumps(embed.to_dict()), "plain": plain}
    for name, text in everything.items():
        assert "javascript" not in text and "pwned" not in text, name
        assert not re.search("[\u202e\x00\x1b]", text), name
    assert not any("accessory" in b for b in message["blocks"])  # the thumbnail is dropped
    assert embed.thumbnail.url is None
    tldr = next(b for b in message["blocks"] if "TL;DR" in json.dumps(b))["text"]["text"]
    assert "<!channel>" not in tldr and "&lt;!channel&gt;" in tldr and len(tldr) < 700
    assert "@everyone" not in embed.description and "[x](https" not in embed.description
    assert len(embed.description) < 1200
    assert "\\*\\*b\\*\\*" in fields["Organization"] and len(fields["Organization"]) <= 100
    assert "★ 1B" in fields["Links"] and "💬 1,000,000,000" in fields["Comments"]


def test_a_huge_summary_is_one_short_paragraph_on_the_console() -> None:
    text = render_text(PaperCard(hostile_extras()))
    start = text.index("TL;DR:")
    tldr = text[start : text.index("\nLarge language models")]
    assert len(tldr) <= 320 and tldr.endswith("…")


# -- live: comments and stars change the card ---------------------------------------------


async def test_new_comments_and_stars_reach_the_posted_card(settings, clock, paper_sources):
    bot = make_bot(replace(settings, card_edit_interval=0.05), clock)
    chat = MemoryAdapter(bot)

    def serve(comments: int, stars: int) -> None:
        item = hf_item("2605.00001", "Paper about agents", upvotes=5, githubStars=stars)
        item["paper"]["githubRepo"] = "https://github.com/o/r"
        item["numComments"] = comments
        paper_sources.set_daily("2026-05-13", [item])
        paper_sources.set_default_daily([])

    try:
        serve(comments=0, stars=10)
        await chat.command("subscribe hf", admin=True, channel="C1")
        await bot.poster.run_once()
        [posted] = chat.cards("C1")
        serve(comments=4, stars=10)  # upvotes unchanged: only the comments moved
        await bot.poster.run_once()
        await chat.wait_until(lambda: chat.shown(posted.ref).paper.comments == 4)
        serve(comments=4, stars=1200)
        await bot.poster.run_once()
        await chat.wait_until(lambda: chat.shown(posted.ref).paper.github_stars == 1200)
        edits = len(chat.edits)
        await bot.poster.run_once()  # nothing changed: no edit
        await bot.cards.wait_idle(timeout=5)
        assert len(chat.edits) == edits
    finally:
        await close_bot(bot)


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1k"),
        (1576, "1.6k"),
        (18_739, "18.7k"),
        (99_960, "100k"),
        (123_456, "123k"),
        (999_950, "1M"),
        (1_234_567, "1.2M"),
        (10**9, "1B"),
    ],
)
def test_counts_are_compact(n: int, shown: str) -> None:
    assert compact_count(n) == shown
