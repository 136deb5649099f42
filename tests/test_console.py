"""The console chat, in-process and as the real `paperboy run` process driven through a pipe."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from dataclasses import replace
from pathlib import Path

from adapters.console import ConsoleAdapter
from adapters.launch import run
from bot.config import Settings
from bot.model.paper import Paper
from bot.replies import PaperCard
from tests.conftest import close_bot, make_bot
from tests.fakes.paper_sources import FakePaperSources, hf_item

ROOT = Path(__file__).resolve().parent.parent


async def test_subscribe_posts_react_top_and_search(bot, paper_sources) -> None:
    paper_sources.set_daily(
        "2026-05-13",
        [
            hf_item("2605.00001", "Agents that remember", upvotes=9),
            hf_item("2605.00002", "Agents that forget", upvotes=4),
        ],
    )
    paper_sources.set_default_daily([])
    out = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), out)
    await bot.start()
    for line in (
        "/papers subscribe hf",
        "+1 1",
        "fire 2",
        "-1 2",
        "/papers top",
        "unreact 2",
        "/papers top all",
        "/papers search remember",
        "+1 9",
        "hello there friend",
        "/papers nope",
    ):
        await console.handle_line(line)
    text = out.getvalue()
    assert "[1] Agents that remember" in text and "[2] Agents that forget" in text
    assert "1. +1  Agents that remember" in text
    assert "Agents that forget (2605.00002" not in text.split("Top papers all time")[1]
    assert "There is no post 9" in text
    assert "I don't understand that" in text
    assert "I don't know the command `nope`" in text


def run_console(script: str, settings: Settings) -> str:
    out = io.StringIO()
    asyncio.run(run(settings, io.StringIO(script), out))
    return out.getvalue()


async def test_offline_first_run_loads_the_bundled_sample(tmp_path) -> None:
    fake = FakePaperSources()
    await fake.start()
    settings = fake.settings(Settings(db_path=str(tmp_path / "p.db")), http_retries=0)
    await fake.stop()  # nothing listens there any more: HF "can't be reached"
    out = io.StringIO()
    await run(settings, io.StringIO("/papers subscribe hf\n/papers top\n"), out)
    text = out.getvalue()
    assert "bundled sample papers" in text
    assert "[1] " in text and "[10] " in text  # the round limit applies to the sample too
    assert "No votes this week yet" in text


async def test_the_real_process_reads_piped_commands(tmp_path, paper_sources) -> None:
    # The process runs on the real clock: whatever day it is, HF lists one paper.
    paper_sources.set_default_daily([hf_item("2611.00001", "Piped paper", upvotes=3)])
    paper_sources.set_daily("2026-05-13", [])
    env = {
        **os.environ,
        "PAPERBOY_DB": str(tmp_path / "p.db"),
        "HF_API_URL": paper_sources.base_urls["hf_api_url"],
        "ARXIV_API_URL": paper_sources.base_urls["arxiv_api_url"],
        "ARXIV_RSS_URL": paper_sources.base_urls["arxiv_rss_url"],
        "BIORXIV_API_URL": paper_sources.base_urls["biorxiv_api_url"],
        "LOG_LEVEL": "WARNING",
    }
    for key in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN"):
        env.pop(key, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        "run",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    stdout, stderr = await asyncio.wait_for(
        process.communicate(b"/papers subscribe hf\n+1 1\n/papers top\n"), timeout=60
    )
    text = stdout.decode()
    assert process.returncode == 0, stderr.decode()
    assert "Subscribed this channel" in text
    assert "Piped paper" in text
    assert "1. +1" in text


async def test_votes_say_what_the_vote_now_is(bot) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), out)
    paper = Paper("2605.00001", "Agents that remember", published="2026-05-10")
    bot.store.save_papers([paper])
    post_id = bot.store.claim_post("console", "local", "console", paper.id)
    ref = await console.send(console.channel, PaperCard(paper))
    bot.store.complete_post(post_id, ref.message)
    await console.handle_line("/papers show 2605.00001")
    await console.handle_line("unreact 1")
    await console.handle_line("-1 1")
    await console.handle_line("/papers top day")
    await console.handle_line("+1 1")
    await console.handle_line("unreact 1")
    lines = out.getvalue().splitlines()
    assert "You have no reactions on post 1 to take back." in lines
    assert "Your vote on post 1 is now -1." in lines
    assert "Top papers today" in lines
    assert any(line.startswith("1. -1  Agents that remember") for line in lines)
    assert "Your vote on post 1 is now 0 (👍 and 👎 cancel out)." in lines
    assert "Took back your reactions on post 1. You have no vote on post 1 now." in lines
    assert not any("Voted" in line for line in lines)


async def test_share_n_posts_from_the_last_answer_and_counts_are_reprinted(
    settings, clock, paper_sources
) -> None:
    paper_sources.set_daily(
        "2026-05-13",
        [
            hf_item("2605.00001", "Agents that remember", upvotes=9),
            hf_item("2605.00002", "Agents that forget", upvotes=4),
        ],
    )
    paper_sources.set_default_daily([])
    bot = make_bot(replace(settings, card_edit_interval=0.05), clock)
    out = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), out)
    await console.handle_line("share 1")  # nothing shown yet
    await console.handle_line("/papers today")
    await console.handle_line("share 2")
    await console.handle_line("share 2")
    await console.handle_line("+1 1")
    await bot.cards.wait_idle(timeout=5)
    await console.handle_line("share 2605.00001")
    await close_bot(bot)
    text = out.getvalue()
    assert "There is no paper 1 in the last answer" in text
    assert "share N posts paper N here" in text
    assert "[1] Agents that forget" in text and "team +0 (0 up, 0 down) · shared by you" in text
    assert "That paper is already in this channel: post [1] above" in text
    assert "[1] now +1 (1 up, 0 down) · ▲ 4" in text
    assert "[2] Agents that remember" in text


async def test_follow_prints_a_dm_line_and_recommend_says_why(bot, clock) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), out)
    await console.handle_line("/papers follow keyword:diffusion")
    clock.advance(1)
    liked = [
        Paper(f"2605.0000{i}", f"Diffusion models, part {i}", published="2026-05-12")
        for i in range(1, 5)
    ]
    bot.store.save_papers(liked)
    await bot.poster.run_once()
    for paper in liked[:3]:
        post_id = bot.store.claim_post("console", "local", "console", paper.id)
        ref = await console.send(console.channel, PaperCard(paper))
        bot.store.complete_post(post_id, ref.message)
    for n in (1, 2, 3):
        await console.handle_line(f"+1 {n}")
    await console.handle_line("/papers recommend 1")
    text = out.getvalue()
    assert "[DM to you] New papers for what you follow (4)" in text
    assert "you follow keyword:diffusion" in text
    assert "Recommended for this channel" in text
    assert "Diffusion models, part 4" in text.split("Recommended for this channel")[1]
    assert "like “Diffusion models, part" in text


async def test_pasted_links_get_cards_and_up_n_votes_like_a_button(
    settings, clock, paper_sources
) -> None:
    paper_sources.set_daily(
        "2026-05-13",
        [
            hf_item("2605.00001", "Agents that remember", upvotes=9),
            hf_item("2605.00002", "Agents that forget", upvotes=4),
        ],
    )
    paper_sources.set_default_daily([])
    bot = make_bot(settings, clock)
    out = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), out)
    await console.handle_line("up 1")  # no cards yet
    await console.handle_line(
        "see https://arxiv.org/abs/2605.00002 and <https://www.alphaxiv.org/abs/2605.00001>"
    )
    await console.handle_line("up 2")
    await console.handle_line("up 2")
    await console.handle_line("down 1")
    await console.handle_line("just words, https://example.com")
    votes = bot.store.leaderboard("console", "local", None)
    await close_bot(bot)
    text = out.getvalue()
    assert "There is no card 1" in text
    assert "(1) Agents that forget" in text and "(2) Agents that remember" in text
    assert "up N / down N votes on card N" in text
    assert "Your 👍 on “Agents that remember” counts: your vote is +1." in text
    assert "You took back your 👍 on “Agents that remember”; your vote is now 0." in text
    assert "No paper links in that message" in text
    assert [(t.paper_id, t.score) for t in votes] == [("2605.00002", -1)]
    assert console.last_number == 0  # cards for links are answers, never posts
