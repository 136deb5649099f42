"""Every /papers command through the core, as a platform would drive it (memory adapter)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.memory import MemoryAdapter
from bot.events import CommandInvoked, User
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.replies import (
    Error,
    Help,
    Leaderboard,
    PaperCard,
    PaperList,
    SubscriptionList,
    Text,
)
from tests.conftest import close_bot, make_bot
from tests.fakes.paper_sources import hf_item


async def test_empty_text_and_help_list_every_command(chat: MemoryAdapter) -> None:
    for text in ("", "help", "HELP", "/papers help"):
        reply = await chat.command(text)
        assert isinstance(reply, Help)
        usages = " ".join(usage for usage, _ in reply.commands)
        for name in ("search", "show", "top", "today", "subscribe", "unsubscribe", "subscriptions"):
            assert f"/papers {name}" in usages


async def test_unknown_command_suggests_the_closest(chat: MemoryAdapter) -> None:
    reply = await chat.command("serch diffusion")
    assert isinstance(reply, Error)
    assert "serch" in reply.message
    assert "/papers search" in reply.hint


async def test_oversized_command_is_refused_politely(chat: MemoryAdapter) -> None:
    reply = await chat.command("search " + "x" * 20_000)
    assert isinstance(reply, Error)
    assert "limit" in reply.message


async def test_show_finds_a_paper_by_any_id_form_and_keeps_it(chat, paper_sources) -> None:
    for text in (
        "2605.12500",
        "arXiv:2605.12500v2",
        "https://arxiv.org/abs/2605.12500",
        "https://huggingface.co/papers/2605.12500",
        "arxiv.org/pdf/2605.12500v1",
    ):
        reply = await chat.command(f"show {text}")
        assert isinstance(reply, PaperCard), reply
        assert reply.paper.id == "2605.12500"
        assert reply.paper.title.startswith("SenseNova-U1")
        assert reply.paper.code_url == "https://github.com/OpenSenseNova/SenseNova-U1"
    # Fetched from HF once; every later show came from the store.
    assert paper_sources.count("paper") == 1


async def test_show_falls_back_to_arxiv_when_hf_does_not_know_it(chat, paper_sources) -> None:
    reply = await chat.command("show 2604.26951")  # in the recorded arXiv API answer only
    assert isinstance(reply, PaperCard), reply
    assert reply.paper.id == "2604.26951"
    assert "arxiv" in reply.paper.sources
    assert paper_sources.count("paper") == 1 and paper_sources.count("api") == 1


async def test_show_unknown_and_malformed_ids(chat, paper_sources) -> None:
    paper_sources.set_api(b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>')
    unknown = await chat.command("show 2401.99999")
    assert isinstance(unknown, Error) and "2401.99999" in unknown.message
    for text in ("show", "show banana", "show 12345", "show https://example.com/x"):
        reply = await chat.command(text)
        assert isinstance(reply, Error), text
        assert "paper id" in reply.message or "arXiv id" in reply.hint


async def test_show_says_when_sources_are_unreachable(chat, paper_sources) -> None:
    paper_sources.fail("paper", 500, times=10)
    paper_sources.fail("api", 500, times=10)
    reply = await chat.command("show 2401.99999")
    assert isinstance(reply, Error)
    assert "can't reach" in reply.message


async def test_search_ranks_local_papers_and_applies_filters(chat, bot) -> None:
    bot.store.save_papers(
        [
            Paper(
                "2401.00001",
                "Diffusion models for video",
                "We study diffusion.",
                ("Jonathan Ho",),
                "2024-01-02",
                ("cs.CV",),
            ),
            Paper(
                "2301.00002",
                "Attention is all you need again",
                "Diffusion appears once.",
                ("Ashish Vaswani",),
                "2023-01-05",
                ("cs.CL",),
            ),
            Paper(
                "2401.00003",
                "Diffusion diffusion diffusion",
                "Diffusion, more diffusion.",
                ("Someone Else",),
                "2024-01-09",
                ("cs.LG",),
            ),
        ]
        + [
            Paper(f"2402.{i:05d}", f"Diffusion filler {i}", "diffusion", ("X",), "2024-02-01")
            for i in range(10)
        ]
    )
    reply = await chat.command("search diffusion")
    assert isinstance(reply, PaperList)
    assert len(reply.papers) == 5
    assert reply.papers[0].paper.id == "2401.00003"  # most about diffusion, in its title

    by_author = await chat.command("search diffusion author:ho")
    assert [p.paper.id for p in by_author.papers] == ["2401.00001"]
    by_cat = await chat.command("search diffusion cat:cs.CL")
    assert [p.paper.id for p in by_cat.papers] == ["2301.00002"]
    since = await chat.command("search diffusion since:2024-01-05 cat:cs.LG")
    assert [p.paper.id for p in since.papers] == ["2401.00003"]


async def test_search_asks_hf_when_local_hits_are_few_and_keeps_them(
    chat, bot, paper_sources
) -> None:
    reply = await chat.command("search privacy memory")
    assert isinstance(reply, PaperList)
    assert "2605.09530" in [p.paper.id for p in reply.papers]  # MemPrivacy, from HF search
    assert paper_sources.count("search") == 1
    assert bot.store.get_paper("2605.09530") is not None


async def test_search_with_hf_down_still_answers_locally(chat, bot, paper_sources) -> None:
    bot.store.save_papers([Paper("2401.00001", "Privacy for agents", "x", ("A",), "2024-01-01")])
    paper_sources.fail("search", 503, times=10)
    reply = await chat.command("search privacy")
    assert isinstance(reply, PaperList)
    assert [p.paper.id for p in reply.papers] == ["2401.00001"]
    assert "can't be reached" in reply.note


@pytest.mark.parametrize(
    "text",
    [
        'search "unbalanced',
        "search AND OR NOT",
        "search NEAR(a b)",
        "search -foo",
        "search a:b",
        "search *",
        "search 🔥🔥",
        'search "" ""',
        "search ' OR 1=1 --",
        "search title:x",
        "search " + "word " * 2000,
        "search " + "é" * 900,
    ],
)
async def test_search_never_breaks_on_hostile_text(chat, text) -> None:
    reply = await chat.command(text)
    assert isinstance(reply, PaperList | Error), reply


async def test_search_needs_words_and_valid_filters(chat) -> None:
    for text, needle in (
        ("search", "Search for what"),
        ("search since:yesterday", "date"),
        ("search cat:'; DROP", "category"),
    ):
        reply = await chat.command(text)
        assert isinstance(reply, Error), text
        assert needle in reply.message


async def test_today_ranks_hf_daily_by_upvotes(chat, paper_sources) -> None:
    reply = await chat.command("today")
    assert isinstance(reply, PaperList)
    upvotes = [p.paper.upvotes for p in reply.papers]
    assert upvotes == sorted(upvotes, reverse=True) and len(upvotes) == 10
    assert reply.papers[0].paper.id == "2605.12500"
    assert not reply.public
    assert (await chat.command("today public")).public


async def test_today_early_in_the_day_shows_yesterday(chat, paper_sources) -> None:
    paper_sources.set_daily("2026-05-13", [])
    paper_sources.set_daily("2026-05-12", [hf_item("2605.00001", upvotes=3)])
    reply = await chat.command("today")
    assert [p.paper.id for p in reply.papers] == ["2605.00001"]
    assert "2026-05-12" in reply.title


async def test_today_with_hf_down_is_a_clear_error(chat, paper_sources) -> None:
    paper_sources.fail("daily", 502, times=10)
    reply = await chat.command("today")
    assert isinstance(reply, Error) and "can't be reached" in reply.message


async def test_subscribe_needs_an_admin(chat, bot) -> None:
    refused = await chat.command("subscribe hf", user="U9")
    assert isinstance(refused, Error) and "admins" in refused.message
    assert bot.store.subscriptions() == []
    refused = await chat.command("unsubscribe all", user="U9")
    assert isinstance(refused, Error)
    ok = await chat.command("subscribe hf", admin=True)
    assert isinstance(ok, Text) and ok.public


async def test_configured_admins_and_platform_admin_checks(settings, clock) -> None:
    bot = make_bot(replace(settings, admins=frozenset({"U7", "memory:U8"})), clock)
    chat = MemoryAdapter(bot)
    try:
        assert isinstance(await chat.command("subscribe hf", user="U7"), Text)
        assert isinstance(await chat.command("subscribe arxiv cs.CL", user="U8"), Text)

        answers = []

        async def respond(reply):
            answers.append(reply)

        async def yes() -> bool:
            return True

        await bot.handle(
            CommandInvoked(
                chat.channel(),
                User("memory", "U5"),
                "subscribe arxiv cs.LG",
                respond,
                check_admin=yes,
            )
        )
        assert isinstance(answers[0], Text)
        assert len(bot.store.subscriptions()) == 3
    finally:
        await close_bot(bot)


async def test_subscription_lifecycle(chat, bot) -> None:
    first = await chat.command("subscribe hf min_upvotes=10 keywords=agents,memory", admin=True)
    assert "#1" in first.text
    again = await chat.command("subscribe hf min_upvotes=10 keywords=memory,agents", admin=True)
    assert "already" in again.text
    await chat.command("subscribe arxiv CS.cl authors=hinton", admin=True)
    listed = await chat.command("subscriptions")
    assert isinstance(listed, SubscriptionList)
    assert [(s.feed, s.min_upvotes, s.keywords) for s in listed.subscriptions] == [
        (Feed("hf"), 10, ("agents", "memory")),
        (Feed("arxiv", "cs.CL"), 0, ()),
    ]
    assert listed.descriptions == (
        "Hugging Face Daily Papers min_upvotes=10 keywords=agents,memory",
        "arXiv cs.CL authors=hinton",
    )
    other_channel = await chat.command("subscriptions", channel="C2")
    assert other_channel.subscriptions == ()

    assert isinstance(await chat.command("unsubscribe 99", admin=True), Error)
    assert isinstance(await chat.command("unsubscribe 1", admin=True, channel="C2"), Error)
    assert "Removed subscription #1" in (await chat.command("unsubscribe #1", admin=True)).text
    assert "1 subscription" in (await chat.command("unsubscribe all", admin=True)).text
    assert (await chat.command("subscriptions")).subscriptions == ()


@pytest.mark.parametrize(
    "text",
    [
        "subscribe",
        "subscribe rss",
        "subscribe arxiv",
        "subscribe arxiv not/a/cat",
        "subscribe arxiv cs.CL min_upvotes=3",
        "subscribe hf min_upvotes=lots",
        "subscribe hf min_upvotes=-1",
        "subscribe hf colour=blue",
        "subscribe hf extra words",
        "subscribe hf keywords=" + ",".join(["k"] * 50),
        "unsubscribe",
        "unsubscribe banana",
        "unsubscribe 99999999999999999999999",
        "top fortnight",
        "top week month",
    ],
)
async def test_bad_arguments_get_a_one_line_error_with_a_hint(chat, text) -> None:
    reply = await chat.command(text, admin=True)
    assert isinstance(reply, Error), (text, reply)
    assert "\n" not in reply.message and reply.hint


@pytest.mark.parametrize(
    ("text", "says", "suggests"),
    [
        ("subscribe arxiv bogus.XX", "`bogus.XX` is not an arXiv category.", "cs.CL"),
        ("subscribe arxiv cs.LM", "Did you mean `cs.LG` or `cs.LO` or `cs.CL`?", ""),
        ("subscribe arxiv quantph", "Did you mean `quant-ph`?", ""),
    ],
)
async def test_subscribe_checks_arxiv_categories_and_suggests(chat, bot, text, says, suggests):
    reply = await chat.command(text, admin=True)
    assert isinstance(reply, Error) and says in reply.message, reply
    assert suggests in reply.hint
    assert bot.store.subscriptions() == []


@pytest.mark.parametrize("text", ["search diffusion cat:cs.XY", "search cat:cs"])
async def test_search_checks_categories_the_same_way(chat, text) -> None:
    reply = await chat.command(text)
    assert isinstance(reply, Error) and "is not an arXiv category" in reply.message


@pytest.mark.parametrize(
    "text",
    [
        "subscribe hf authors=",
        "subscribe hf keywords=",
        "subscribe hf keywords=,, ",
        "subscribe arxiv cs.CL authors=",
        "subscribe hf min_upvotes=",
    ],
)
async def test_an_empty_filter_is_refused_not_dropped(chat, bot, text) -> None:
    reply = await chat.command(text, admin=True)
    assert isinstance(reply, Error) and reply.hint, reply
    assert "=" in reply.message or "whole number" in reply.message
    assert bot.store.subscriptions() == []


async def test_top_defaults_to_week_and_is_public_on_request(chat) -> None:
    reply = await chat.command("top")
    assert isinstance(reply, Leaderboard) and reply.period == "week" and not reply.public
    assert reply.entries == ()
    for period in ("day", "week", "month", "all"):
        assert (await chat.command(f"top {period} public")).public


async def test_a_crashing_handler_answers_and_the_bot_lives_on(chat, bot, monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bot.store, "subscriptions", boom)
    reply = await chat.command("subscriptions")
    assert isinstance(reply, Error) and "went wrong" in reply.message
    monkeypatch.undo()
    assert isinstance(await chat.command("subscriptions"), SubscriptionList)


@pytest.mark.parametrize("separator", ["\t", "\n", "  \t "])
async def test_any_whitespace_ends_the_command_name(chat, bot, separator) -> None:
    bot.store.save_papers([Paper("2605.00001", "Sparse agents", published="2026-05-10")])
    reply = await chat.command(f"search{separator}sparse")
    assert isinstance(reply, PaperList), reply
    assert reply.title == "Search: sparse"
    assert reply.papers[0].paper.id == "2605.00001"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("subscribe hf min_upvotes=10 min_upvotes=20", "min_upvotes"),
        ("subscribe hf keywords=a keywords=b", "keywords"),
        ("search agents since:2024-01-01 since:2025-01-01", "since:"),
        ("search agents cat:cs.CL cat:cs.LG", "cat:"),
        ("today 2026-05-01 tomorrow", "tomorrow"),
        ("today public 2026-05-01 tomorrow", "tomorrow"),
        ("show 2605.12500 extra words", "extra"),
        ("subscriptions mine", "mine"),
        ("help me", "me"),
    ],
)
async def test_what_cannot_be_honoured_is_refused_with_usage(chat, bot, text, named) -> None:
    reply = await chat.command(text, admin=True)
    assert isinstance(reply, Error), (text, reply)
    assert named in reply.message
    assert "twice" in reply.message or "understand" in reply.message
    assert bot.store.subscriptions() == []


async def test_a_repeated_option_is_refused_with_the_usage(chat) -> None:
    reply = await chat.command("subscribe hf min_upvotes=10 min_upvotes=20", admin=True)
    assert isinstance(reply, Error) and "/papers subscribe hf" in reply.hint


async def test_unsubscribe_takes_several_ids_all_or_nothing(chat, bot) -> None:
    for source in ("hf", "arxiv cs.CL", "arxiv cs.LG"):
        await chat.command(f"subscribe {source}", admin=True)
    missing = await chat.command("unsubscribe 1 7", admin=True)
    assert isinstance(missing, Error) and "#7" in missing.message
    assert [s.id for s in bot.store.subscriptions()] == [1, 2, 3]
    both = await chat.command("unsubscribe 1 #3", admin=True)
    assert both == Text("Removed subscriptions #1, #3.", public=True)
    assert [s.id for s in bot.store.subscriptions()] == [2]
    mixed = await chat.command("unsubscribe 2 all", admin=True)
    assert isinstance(mixed, Error)
    assert [s.id for s in bot.store.subscriptions()] == [2]
