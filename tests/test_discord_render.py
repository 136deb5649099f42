"""Discord rendering stays within Discord's limits for any paper; options rebuild command text."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord import translate
from adapters.discord.invite import application_id_from_token, invite_url
from adapters.discord.render import Rendered, embed_problems, render, u16len
from bot.commands import REGISTRY, parse_command
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.subscription import Subscription
from bot.replies import (
    Error,
    Help,
    Leaderboard,
    LeaderboardEntry,
    PaperCard,
    PaperList,
    ScoredPaper,
    SubscriptionList,
    Text,
)
from tests.fakes.discord import message_problems

HOSTILE = "**bold** __u__ ~~s~~ `code` [link](https://evil.example) @everyone @here <@123> # h\n> q"


def subscription_list(subs: Iterable[Subscription]) -> SubscriptionList:
    subs = tuple(subs)
    return SubscriptionList(subs, tuple(s.describe("Hugging Face Daily Papers") for s in subs))


def monster_paper(**changes: object) -> Paper:
    values: dict = {
        "id": "2401.12345",
        "title": ("A very long title " * 20)[:300] + HOSTILE,
        "abstract": ("Lorem ipsum dolor sit amet. " * 400)[:10_000] + HOSTILE,
        "authors": tuple(f"Author Number {i} {HOSTILE[:20]}" for i in range(2000)),
        "published": "2024-01-23",
        "categories": tuple(f"cs.X{i}" for i in range(400)),
        "upvotes": 123456,
        "code_url": "https://github.com/x/y (evil)",
        "project_url": "javascript:alert(1)",
        "thumbnail_url": "https://cdn.example/" + "t" * 3000,
        "sources": ("hf", "arxiv"),
        "comments": 10**9,
        "github_stars": 10**9,
        "ai_summary": ("An AI summary. " * 700)[:10_000] + HOSTILE,
        "ai_keywords": (HOSTILE,) * 50,
        "organization": HOSTILE * 20,
        "submitted_by": HOSTILE,
    }
    values.update(changes)
    return Paper(**values)


def every_reply(paper: Paper) -> list:
    many = tuple(ScoredPaper(paper, votes=i) for i in range(60))
    return [
        Text(HOSTILE * 200),
        Error(HOSTILE * 100, hint=HOSTILE * 100),
        PaperCard(paper, votes=-3),
        PaperList(HOSTILE * 20, many, note=HOSTILE * 100),
        PaperList("empty", ()),
        Leaderboard("week", tuple(LeaderboardEntry(paper, 9, 10, 1) for _ in range(60))),
        Leaderboard("all", ()),
        subscription_list(
            Subscription(
                id=i,
                feed=Feed("hf"),
                min_upvotes=5,
                keywords=(HOSTILE,) * 20,
                authors=("x" * 100,) * 20,
            )
            for i in range(60)
        ),
        SubscriptionList(()),
        Help(
            tuple((usage + "`" * 3, summary + HOSTILE * 10) for usage, summary in REGISTRY.help())
            * 10
        ),
        Help(),
    ]


def wire(rendered: Rendered) -> dict:
    """The JSON body discord.py would send for this message."""
    body: dict = {"content": rendered.content}
    body["embeds"] = [e.to_dict() for e in rendered.embeds]
    return body


def assert_within_limits(rendered: Rendered) -> None:
    assert rendered.content or rendered.embeds, "Discord refuses an empty message"
    assert rendered.content is None or u16len(rendered.content) <= 2000
    assert len(rendered.embeds) <= 10
    for embed in rendered.embeds:
        assert embed_problems(embed) == []
        assert len(embed) <= 6000
    # And the fake's independent check of what Discord would accept:
    assert message_problems(wire(rendered)) == {}


@pytest.mark.parametrize("reply", every_reply(monster_paper()), ids=lambda r: type(r).__name__)
def test_every_reply_type_fits_discord_limits_for_a_monster_paper(reply) -> None:
    assert_within_limits(render(reply))


def test_card_has_linked_title_trimmed_abstract_authors_and_links() -> None:
    paper = monster_paper()
    embed = render(PaperCard(paper, votes=4)).embeds[0]
    assert embed.url == "https://arxiv.org/abs/2401.12345"
    assert len(embed.title) <= 256 and embed.title.endswith("…")
    assert embed.description.startswith("**TL;DR:** An AI summary.")
    assert len(embed.description) <= 1200
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Organization"].startswith("\\*\\*bold\\*\\*")  # shown, not formatted
    assert fields["Comments"] == "💬 1,000,000,000"
    assert fields["Authors"].endswith("+1,997 more · 2,000 authors")
    assert "Author Number 0" in fields["Authors"]
    assert fields["HF upvotes"] == "▲ 123,456"
    assert fields["Team votes"] == "+4"
    assert fields["Published"] == "2024-01-23"
    links = fields["Links"]
    assert "[Abstract](https://arxiv.org/abs/2401.12345)" in links
    assert "[PDF](https://arxiv.org/pdf/2401.12345)" in links
    assert "[Hugging Face](https://huggingface.co/papers/2401.12345)" in links
    assert "[Code](https://github.com/x/y%20%28evil%29) ★ 1B" in links
    assert "javascript" not in links  # only http(s) links
    assert embed.thumbnail.url is None  # longer than Discord accepts: left out
    assert embed.footer.text.startswith("arXiv 2401.12345")


def test_paper_text_cannot_format_or_mention() -> None:
    paper = Paper("2401.00001", HOSTILE, abstract=HOSTILE, authors=("@everyone",))
    embed = render(PaperCard(paper)).embeds[0]
    for text in (embed.title, embed.description, embed.fields[0].value):
        assert "@everyone" not in text  # a zero-width space breaks the mention
        assert "**bold**" not in text and "[link](" not in text  # shown, not formatted
    assert render(Text("hi @everyone")).kwargs()["allowed_mentions"].everyone is False
    assert "@everyone" not in render(Text("hi @everyone")).content


def test_core_wording_keeps_its_code_spans() -> None:
    rendered = render(Error("`cat:xx` is not a category", hint="Try `/papers help`."))
    assert rendered.content == "⚠️ `cat:xx` is not a category\nTry `/papers help`."


def test_minimal_paper_and_unknown_upvotes() -> None:
    embed = render(PaperCard(Paper("2401.00002", "   "))).embeds[0]
    assert embed.title == "2401.00002"  # no printable title: the id, as on every platform
    names = [f.name for f in embed.fields]
    assert "HF upvotes" not in names and "Published" not in names
    assert "Organization" not in names and "Comments" not in names
    assert embed.description is None  # no abstract, no TL;DR
    assert {f.name: f.value for f in embed.fields}["Authors"] == "—"
    assert_within_limits(render(PaperCard(Paper("2401.00002", "   "))))


def test_lists_say_how_many_were_left_out() -> None:
    many = tuple(ScoredPaper(monster_paper(id=f"2401.{i:05d}")) for i in range(60))
    description = render(PaperList("Search: x", many)).embeds[0].description
    assert description.rstrip().endswith("more")
    assert "**1.** [" in description


def test_astral_characters_count_as_two() -> None:
    paper = Paper("2401.00003", "😀" * 300, abstract="😀" * 5000, authors=("😀" * 500,) * 50)
    assert_within_limits(render(PaperCard(paper)))


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=texts,
    abstract=st.text(max_size=6000),
    authors=st.lists(texts, max_size=300),
    categories=st.lists(st.text(max_size=30), max_size=30),
    upvotes=st.none() | st.integers(-(10**12), 10**12),
    votes=st.integers(-(10**9), 10**9),
    url=texts,
    counts=st.tuples(*[st.none() | st.integers(-(10**12), 10**12)] * 2),
)
def test_any_paper_renders_within_limits(
    title, abstract, authors, categories, upvotes, votes, url, counts
) -> None:
    paper = Paper(
        "2401.12345",
        title,
        abstract=abstract,
        authors=tuple(authors),
        categories=tuple(categories),
        upvotes=upvotes,
        code_url=url,
        thumbnail_url=url,
        published=url[:20],
        comments=counts[0],
        github_stars=counts[1],
        ai_summary=abstract[::-1],
        organization=title,
    )
    for reply in (
        PaperCard(paper, votes),
        PaperList(title, (ScoredPaper(paper, votes),) * 30, note=abstract[:3000]),
        Leaderboard(title[:10], (LeaderboardEntry(paper, votes, 1, 2),) * 30),
        Text(abstract),
        Error(title, abstract),
    ):
        assert_within_limits(render(reply))


# -- options → command text, checked with the core's own parser -------------------------


def text(name: str, **options: object) -> str:
    return REGISTRY[name].text(options)


def test_subscribe_text_survives_the_core_parser() -> None:
    options = {"keywords": "large language models,rlhf", "authors": "Jonathan Ho,X"}
    command = parse_command(text("subscribe", source="hf", min_upvotes=5, **options))
    assert command.name == "subscribe"
    assert command.words == ("hf",)
    assert command.option_list("keywords") == ("large language models", "rlhf")
    assert command.option_list("authors") == ("Jonathan Ho", "X")
    assert command.options["min_upvotes"] == "5"

    arxiv = parse_command(text("subscribe", source="arxiv", category="cs.CL", keywords="it's"))
    assert arxiv.words == ("arxiv", "cs.CL")
    assert arxiv.option_list("keywords") == ("it's",)


def test_search_text_keeps_filters() -> None:
    typed = text(
        "search",
        query='diffusion "models"',
        author='Jonathan "J" Ho',
        category="cs.LG",
        since="2024-01-01",
    )
    assert typed == 'search diffusion "models" author:"Jonathan  J  Ho" cat:cs.LG since:2024-01-01'
    assert parse_command(typed).name == "search"


def test_other_command_texts() -> None:
    assert text("show", paper="2401.12345") == "show 2401.12345"
    assert parse_command(text("show", paper="a b")).words == ("a b",)
    assert text("top") == "top"
    assert text("top", period="month", public=True) == "top month public"
    assert text("today", public=True) == "today public"
    assert text("unsubscribe", id=3) == "unsubscribe 3"
    assert text("unsubscribe", all=True) == "unsubscribe all"
    assert text("unsubscribe") == "unsubscribe"
    assert shlex.split(text("subscribe", source="hf")) == ["subscribe", "hf"]


def test_reaction_translation() -> None:
    def raw(emoji: discord.PartialEmoji, user_id: int = 7, guild_id: int | None = 1):
        data = {"user_id": user_id, "channel_id": 2, "message_id": 3, "type": 0}
        if guild_id is not None:  # DM reactions come without one
            data["guild_id"] = guild_id
        return discord.RawReactionActionEvent(data, emoji, "REACTION_ADD")

    event = translate.reaction_event(raw(discord.PartialEmoji(name="👍")), own_user_id=99)
    assert event is not None and event.emoji == "👍" and event.added
    assert (event.target.channel.workspace, event.target.channel.channel) == ("1", "2")
    assert event.target.message == "3" and event.user.id == "7"
    custom = translate.reaction_event(raw(discord.PartialEmoji(name="fire", id=555)), 99)
    assert custom is not None and custom.emoji == "fire"
    assert translate.reaction_event(raw(discord.PartialEmoji(name="👍"), user_id=99), 99) is None
    assert translate.reaction_event(raw(discord.PartialEmoji(name="👍"), guild_id=None), 99) is None


# -- invite link ---------------------------------------------------------------------------


def test_invite_url_has_exactly_the_needed_scopes_and_permissions() -> None:
    url = invite_url("800000000000000001")
    assert url.startswith("https://discord.com/oauth2/authorize?client_id=800000000000000001")
    assert "scope=bot+applications.commands" in url
    permissions = int(url.split("permissions=")[1].split("&")[0])
    # view channel, send messages, embed links, read message history, send in threads
    assert permissions == (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 38)


def test_application_id_comes_from_the_token() -> None:
    assert application_id_from_token("ODAwMDAwMDAwMDAwMDAwMDAx.Gx.y") == "800000000000000001"
    with pytest.raises(ValueError):
        application_id_from_token("not-a-token")
