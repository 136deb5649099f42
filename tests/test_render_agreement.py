"""Every renderer shows the same paper the same way: Slack blocks, Discord embeds, plain text.

One rule each (``bot.text_safety``) for hostile characters, links and authors; each platform
only adds its own escaping. The expectations here are written out independently of that
module, from what a reader should see.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.console import ConsoleAdapter
from adapters.discord.render import FIELD_VALUE_LIMIT, embed_problems, u16len
from adapters.discord.render import render as discord_render
from adapters.slack.render import render as slack_render
from bot.model.paper import Paper
from bot.plain_text import render_text
from bot.replies import PaperCard, PaperList, ScoredPaper
from tests.fakes.paper_sources import hf_item
from tests.fakes.slack import block_problems
from tests.hostile_text import COMMAND_HAZARDS, DISPLAY_HAZARDS, LONG_WORDS

# What no output may hold, written out apart from bot.text_safety: controls other than tab and
# newline, bidi controls, invisible characters, tag characters and lone surrogates.
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2069\ufeff\U000e0000-\U000e007f\ud800-\udfff]"
)
ALL_LINKS = ["Abstract", "PDF", "Hugging Face", "Code", "Project page"]


@dataclass
class Shown:
    """What one platform shows of a card."""

    title: str
    meta: str  # the line or field that names the authors
    abstract: str
    links: list[tuple[str, str]]
    everything: str  # the whole rendered output, serialised


def slack_card(paper: Paper) -> Shown:
    message = slack_render(PaperCard(paper))
    assert block_problems(message["blocks"]) == []
    by_type = {block["type"]: block for block in message["blocks"]}
    buttons = by_type.get("actions", {"elements": []})["elements"]
    return Shown(
        title=by_type["header"]["text"]["text"],
        meta=by_type["context"]["elements"][0]["text"],
        abstract=by_type["section"]["text"]["text"] if "section" in by_type else "",
        links=[(b["text"]["text"], b["url"]) for b in buttons if "url" in b],
        everything=json.dumps(message, ensure_ascii=False),
    )


def discord_card(paper: Paper) -> Shown:
    rendered = discord_render(PaperCard(paper))
    embed = rendered.embeds[0]
    assert embed_problems(embed) == []
    fields = {f.name: f.value for f in embed.fields}
    return Shown(
        title=embed.title,
        meta=fields["Authors"],
        abstract=embed.description or "",
        links=re.findall(r"\[([^\]]+)\]\(([^)\s]+)\)", fields["Links"]),
        everything=json.dumps(embed.to_dict(), ensure_ascii=False) + (rendered.content or ""),
    )


def plain_card(paper: Paper) -> Shown:
    text = render_text(PaperCard(paper))
    lines = text.splitlines()
    links = re.findall(r"([A-Z][A-Za-z ]*?): (https?://\S+)", lines[-1])
    return Shown(
        title=lines[0],
        meta=lines[1],
        abstract=" ".join(lines[2:-1] if links else lines[2:]),
        links=links,
        everything=text,
    )


RENDERERS = {"slack": slack_card, "discord": discord_card, "plain": plain_card}


def every_platform(paper: Paper) -> dict[str, Shown]:
    return {name: render(paper) for name, render in RENDERERS.items()}


def without_hazards(chunks: list[str]) -> str:
    """What a reader should see of ``chunks``: the hazards gone, whitespace folded."""
    return " ".join("".join(c for c in chunks if c not in DISPLAY_HAZARDS).split())


def assert_nothing_forbidden(shown: dict[str, Shown]) -> None:
    for name, card in shown.items():
        found = FORBIDDEN.findall(card.everything)
        assert not found, f"{name} shows {found!r}"


# -- characters ---------------------------------------------------------------------------


def test_the_issue_example_reads_title_everywhere() -> None:
    paper = Paper("2401.00001", "T\u200bi\x85tle", authors=("Ada",), sources=("hf",))
    for name, card in every_platform(paper).items():
        assert card.title == "Title", name


@pytest.mark.parametrize("hazard", DISPLAY_HAZARDS)
def test_each_hazard_is_removed_whole_in_title_authors_and_abstract(hazard: str) -> None:
    paper = Paper(
        "2401.00002",
        f"Safe{hazard} title{hazard}",
        abstract=f"An{hazard} abstract.{hazard}",
        authors=(f"Ada{hazard} Lovelace", f"{hazard}Bo"),
    )
    shown = every_platform(paper)
    assert_nothing_forbidden(shown)
    for name, card in shown.items():
        assert card.title == "Safe title", name
        assert card.meta.startswith("Ada Lovelace, Bo"), name
        assert "An abstract." in card.abstract, name
        assert "pwned" not in card.everything and "evil.example" not in card.everything


def test_a_trailing_or_doubled_escape_goes_too() -> None:
    for title in ("Title\x1b", "\x1b\x1b[31mTitle", "Ti\x1b\x00tle"):
        for name, card in every_platform(Paper("2401.00003", title)).items():
            assert card.title == "Title", (name, title)


def test_joiners_and_emoji_flags_are_kept() -> None:
    # ZWJ builds the scientist emoji, ZWNJ spells Persian, tags spell the flag of England.
    england = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    title = f"👩🏽\u200d🔬 می\u200cخواهم {england}"
    for name, card in every_platform(Paper("2401.00004", title)).items():
        assert card.title == title, name


words = st.sampled_from(["Deep", "nets", "learn", "T", "i", "tle", " ", "2024", "x"])
hazards = st.sampled_from([h for h in DISPLAY_HAZARDS if h != "\x1b"])  # a lone ESC: above
chunk_lists = st.lists(st.one_of(words, hazards), min_size=1, max_size=16)


@settings(max_examples=60, deadline=None)
@given(title=chunk_lists, abstract=chunk_lists, authors=st.lists(chunk_lists, max_size=7))
def test_any_mix_of_words_and_hazards_reads_the_same_everywhere(title, abstract, authors) -> None:
    paper = Paper(
        "2401.00005",
        "".join(title),
        abstract="".join(abstract),
        authors=tuple("".join(a) for a in authors),
        upvotes=3,
    )
    names = [n for n in (without_hazards(a) for a in authors) if n]
    expected_authors = ", ".join(names[:3])
    if len(names) > 3:
        expected_authors += f" +{len(names) - 3} more · {len(names)} authors"
    shown = every_platform(paper)
    assert_nothing_forbidden(shown)
    for name, card in shown.items():
        assert card.title == (without_hazards(title) or paper.id), name
        assert card.abstract.replace("\n", " ").startswith(without_hazards(abstract)), name
        if names:
            assert card.meta.startswith(expected_authors), name


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(COMMAND_HAZARDS + LONG_WORDS + DISPLAY_HAZARDS), max_size=12))
def test_no_hostile_text_reaches_any_output(pieces: list[str]) -> None:
    text = " ".join(pieces)
    paper = Paper(
        "2401.00006",
        text,
        abstract=text,
        authors=(text,) * 5,
        code_url=text,
        thumbnail_url=text,
        ai_summary=text,
        organization=text,
        github_stars=5,
        comments=2,
    )
    assert_nothing_forbidden(every_platform(paper))
    many = PaperList(text, (ScoredPaper(paper, 2),) * 3, note=text)
    assert not FORBIDDEN.search(render_text(many))
    assert not FORBIDDEN.search(json.dumps(slack_render(many), ensure_ascii=False))
    assert not FORBIDDEN.search(json.dumps(discord_render(many).embeds[0].to_dict()))


# -- authors ------------------------------------------------------------------------------


def test_long_author_lists_read_the_same_everywhere() -> None:
    paper = Paper("2401.00007", "Big team", authors=tuple(f"Person {i}" for i in range(58)))
    for name, card in every_platform(paper).items():
        assert card.meta.startswith("Person 0, Person 1, Person 2 +55 more · 58 authors"), name
        assert "Person 3" not in card.everything, name


def test_lists_name_three_authors_without_the_total() -> None:
    paper = Paper("2401.00008", "Big team", authors=tuple(f"Person {i}" for i in range(58)))
    reply = PaperList("Search", (ScoredPaper(paper),))
    outputs = {
        "slack": json.dumps(slack_render(reply), ensure_ascii=False),
        "discord": discord_render(reply).embeds[0].description,
        "plain": render_text(reply),
    }
    for name, text in outputs.items():
        assert "Person 0, Person 1, Person 2 +55 more" in text, name
        assert "58 authors" not in text and "Person 3" not in text, name


def test_few_authors_are_all_named() -> None:
    paper = Paper("2401.00009", "Small team", authors=("Ada", "", "\u200b", "Bo"))
    for name, card in every_platform(paper).items():
        assert card.meta.startswith("Ada, Bo") and "more" not in card.meta, name


# -- links --------------------------------------------------------------------------------


def full_paper(**changes) -> Paper:
    fields = dict(
        id="2401.12345",
        title="Linked",
        upvotes=7,
        sources=("hf",),
        code_url="https://github.com/o/r",
        project_url="https://o.github.io/r",
    )
    return Paper(**{**fields, **changes})


def test_links_appear_in_one_order_everywhere() -> None:
    expected = [
        ("Abstract", "https://arxiv.org/abs/2401.12345"),
        ("PDF", "https://arxiv.org/pdf/2401.12345"),
        ("Hugging Face", "https://huggingface.co/papers/2401.12345"),
        ("Code", "https://github.com/o/r"),
        ("Project page", "https://o.github.io/r"),
    ]
    for name, card in every_platform(full_paper()).items():
        assert card.links == expected, name


def test_hugging_face_link_only_when_the_paper_is_listed_there() -> None:
    arxiv_only = full_paper(upvotes=None, sources=("arxiv",))
    for name, card in every_platform(arxiv_only).items():
        assert [label for label, _ in card.links] == [
            "Abstract",
            "PDF",
            "Code",
            "Project page",
        ], name
        assert "huggingface.co" not in card.everything, name


def test_only_http_links_each_once() -> None:
    paper = full_paper(
        code_url="https://github.com/o/r",
        project_url="https://github.com/o/r",  # HF often repeats the repo as the project page
    )
    hostile = full_paper(code_url="javascript:alert(1)", project_url="ftp://o/r")
    for name, card in every_platform(paper).items():
        assert [label for label, _ in card.links] == ALL_LINKS[:4], name
    for name, card in every_platform(hostile).items():
        assert [label for label, _ in card.links] == ALL_LINKS[:3], name
        assert "javascript" not in card.everything and "ftp:" not in card.everything, name


def test_discord_leaves_out_a_link_too_long_for_the_field_instead_of_cutting_it() -> None:
    long_code = "https://github.com/o/" + "c" * 880
    paper = full_paper(code_url=long_code)
    links_field = {f.name: f.value for f in discord_render(PaperCard(paper)).embeds[0].fields}
    value = links_field["Links"]
    assert "…" not in value and "c" * 50 not in value  # no half link
    assert discord_card(paper).links == [
        ("Abstract", "https://arxiv.org/abs/2401.12345"),
        ("PDF", "https://arxiv.org/pdf/2401.12345"),
        ("Hugging Face", "https://huggingface.co/papers/2401.12345"),
        ("Project page", "https://o.github.io/r"),  # still there after the code link
    ]
    # Slack buttons and plain text have room for it.
    assert ("Code", long_code) in slack_card(paper).links
    assert ("Code", long_code) in plain_card(paper).links


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 1200), min_size=2, max_size=2))
def test_discord_links_are_whole_and_in_order_whatever_their_length(sizes) -> None:
    code, project = (f"https://example.org/{'p' * n}" for n in sizes)
    paper = full_paper(code_url=code, project_url=project)
    card = discord_card(paper)
    value = {f.name: f.value for f in discord_render(PaperCard(paper)).embeds[0].fields}["Links"]
    assert u16len(value) <= FIELD_VALUE_LIMIT
    labels = [label for label, _ in card.links]
    assert labels == [label for label in ALL_LINKS if label in labels]  # the order kept
    assert value == " · ".join(f"[{label}]({url})" for label, url in card.links)  # all whole
    assert dict(card.links).get("Code", code) == code
    assert dict(card.links).get("Project page", project) == project


# -- what Hugging Face adds ----------------------------------------------------------------


def extras_shown(paper: Paper) -> dict[str, tuple[str, str, str, str]]:
    """(TL;DR, organization, comments, code-link note) as each platform shows them."""
    slack = slack_render(PaperCard(paper))
    assert block_problems(slack["blocks"]) == []
    texts = [b["text"]["text"] for b in slack["blocks"] if b["type"] == "section"]
    meta = slack["blocks"][1]["elements"][0]["text"]
    code = [e["text"]["text"] for e in slack["blocks"][-1]["elements"] if "url" in e][3]
    shown = {
        "slack": (
            next((t.removeprefix("*TL;DR:* ") for t in texts if t.startswith("*TL;DR:*")), ""),
            next((p.removeprefix("🏢 ") for p in meta.split(" · ") if p.startswith("🏢")), ""),
            next((p.removeprefix("💬 ") for p in meta.split(" · ") if p.startswith("💬")), ""),
            code.removeprefix("Code").strip(),
        )
    }
    embed = discord_render(PaperCard(paper)).embeds[0]
    assert embed_problems(embed) == []
    fields = {f.name: f.value for f in embed.fields}
    first = (embed.description or "").split("\n\n")[0]
    shown["discord"] = (
        first.removeprefix("**TL;DR:** ") if first.startswith("**TL;DR:**") else "",
        fields.get("Organization", ""),
        fields.get("Comments", "").removeprefix("💬 "),
        fields["Links"].split(")")[-1].strip(),
    )
    lines = render_text(PaperCard(paper)).splitlines()
    meta = lines[1].split(" · ")
    shown["plain"] = (
        next((line.removeprefix("TL;DR: ") for line in lines if line.startswith("TL;DR:")), ""),
        next((p.removeprefix("🏢 ") for p in meta if p.startswith("🏢")), ""),
        next((p.removeprefix("💬 ") for p in meta if p.startswith("💬")), ""),
        next(iter(re.findall(r"Code: \S+ \(([^)]*)\)", lines[-1])), ""),
    )
    return shown


@settings(max_examples=40, deadline=None)
@given(summary=chunk_lists, organization=chunk_lists, comments=st.none() | st.integers(0, 5000))
def test_tldr_organization_and_counts_read_the_same_everywhere(
    summary, organization, comments
) -> None:
    paper = full_paper(
        project_url="",
        ai_summary="".join(summary),
        organization="".join(organization),
        comments=comments,
        github_stars=1576,
    )
    expected_comments = "" if not comments else f"{comments:,}"
    for name, (tldr, org, count, note) in extras_shown(paper).items():
        assert tldr == without_hazards(summary), name
        assert org == without_hazards(organization), name
        assert count.split(" ")[0] == expected_comments, name
        assert note == "★ 1.6k", name


# -- the console, end to end --------------------------------------------------------------


async def test_console_prints_a_hostile_hf_paper_as_plain_text(bot, paper_sources) -> None:
    paper_sources.set_daily(
        "2026-05-13",
        [
            hf_item(
                "2605.00001",
                "\x1b]0;pwned\x07\x1b[2JT\u200bi\x9ftle \u202eevil",
                authors=[f"Person {i}\x1b[31m" for i in range(58)],
                summary="Abstract\x1b]8;;https://evil.example\x1b\\ here\x1b]8;;\x1b\\.",
            )
        ],
    )
    paper_sources.set_default_daily([])
    out = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), out)
    await bot.start()
    await console.handle_line("/papers subscribe hf")
    await console.handle_line("+1\x1b[2J 1")  # an echo of typed text is cleaned too
    text = out.getvalue()
    assert "[1] Title evil" in text
    assert "Person 0, Person 1, Person 2 +55 more · 58 authors" in text
    assert "Abstract here." in text
    assert not FORBIDDEN.search(text) and "pwned" not in text and "evil.example" not in text
