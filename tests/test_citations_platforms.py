"""Citations through the real SDKs: slack-bolt / slack_sdk (both modes) and discord.py against
the local fakes. A ``.bib`` must reach the requester alone, and parse back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.discord.client import DiscordAdapter
from bot.core import Bot
from tests.fakes.discord import EPHEMERAL, FakeDiscord
from tests.fakes.local_server import wait_until
from tests.test_citations import ATTENTION, TITLE_ONLY, read_bib, vote
from tests.test_slack_roundtrip import SlackRun, answer_text, running

# -- Slack ---------------------------------------------------------------------------------------


@pytest.fixture(params=["socket", "http"])
async def run(request, bot: Bot) -> AsyncIterator[SlackRun]:
    async with running(bot, request.param) as slack_run:
        yield slack_run


async def test_slack_cite_answers_with_a_bibtex_code_block(run) -> None:
    hostile = ATTENTION.__class__("2605.00099", "<!channel> & } broken", authors=("Eve Evil",))
    run.bot.store.save_papers([ATTENTION, hostile])
    _, answer = await run.command("cite 1706.03762")
    assert answer["response_type"] == "ephemeral"
    block = answer["blocks"][0]["text"]["text"]
    assert block.startswith("```@misc{vaswani2017attention,") and block.endswith("}```")
    assert read_bib(block.strip("`"))["vaswani2017attention"]["primaryClass"] == "cs.CL"
    _, answer = await run.command("cite 2605.00099")
    text = answer_text(answer)
    assert "<!channel>" not in text and "&lt;!channel&gt; \\&amp; \\}" in text
    _, answer = await run.command("cite 1706.03762 apa")
    assert "Vaswani, A., Shazeer, N., &amp; Parmar, N. (2017)." in answer_text(answer)


async def test_slack_top_bibtex_goes_to_the_requesters_dm(run) -> None:
    vote(run.bot, "slack", run.team, "C1", ATTENTION, +1)
    vote(run.bot, "slack", run.team, "C1", TITLE_ONLY, +1)
    _, answer = await run.command("top month bibtex", user="UALICE")
    assert answer["response_type"] == "ephemeral"
    assert "Sent `paperboy-top-month-" in answer_text(answer)
    (shared,) = run.slack.files
    assert shared.channel == "DUALICE"  # the DM conversations.open gave, not the channel
    assert shared.name.startswith("paperboy-top-month-") and shared.name.endswith(".bib")
    assert shared.comment == "BibTeX for 2 papers: the team's top this month."
    entries = read_bib(shared.data.decode())
    assert set(entries) == {"vaswani2017attention", "anon2026only"}
    assert entries["anon2026only"]["title"] == "Only a title"
    assert run.slack.posts("C1") == [], "nothing is posted in the channel"
    (opened,) = run.slack.calls_to("conversations.open")
    assert opened.args["users"] == "UALICE"


async def test_slack_says_why_a_file_could_not_be_sent(run) -> None:
    vote(run.bot, "slack", run.team, "C1", ATTENTION, +1)
    run.slack.fail_next("files.getUploadURLExternal", status=200, error="missing_scope")
    _, answer = await run.command("top month bibtex")
    text = answer_text(answer)
    assert "couldn't send paperboy-top-month-" in text and "files:write" in text
    assert run.slack.files == []
    _, answer = await run.command("top week bibtex")  # and the next one works
    assert "Sent `paperboy-top-week-" in answer_text(answer)
    assert len(run.slack.files) == 1


async def test_slack_top_bibtex_with_nothing_to_cite_uploads_nothing(run) -> None:
    _, answer = await run.command("top month bibtex")
    assert answer_text(answer).startswith("Nothing to cite")
    assert run.slack.calls_to("files.getUploadURLExternal") == []


# -- Discord -------------------------------------------------------------------------------------


async def answers(fake: FakeDiscord, subcommand: str, options: dict) -> list[dict]:
    interaction = await fake.inject_interaction(subcommand, options)
    return await wait_until(lambda: interaction.replies)


async def test_discord_cite_answers_privately_with_a_code_block(
    adapter: DiscordAdapter, core: Bot, fake: FakeDiscord
) -> None:
    core.store.save_papers([ATTENTION])
    (reply,) = await answers(fake, "cite", {"paper": "1706.03762", "style": "bibtex"})
    assert reply["flags"] & EPHEMERAL
    content = reply["content"]
    assert content.startswith("```bibtex\n@misc{vaswani2017attention,\n")
    assert content.endswith("\n}\n```")
    entry = read_bib(content.removeprefix("```bibtex").strip("`\n"))["vaswani2017attention"]
    assert entry["author"] == "Vaswani, Ashish and Shazeer, Noam and Parmar, Niki"
    (reply,) = await answers(fake, "cite", {"paper": "1706.03762", "style": "apa"})
    assert reply["content"].startswith("Vaswani, A., Shazeer, N., & Parmar, N. (2017).")


async def test_discord_top_bibtex_attaches_the_file_to_the_private_answer(
    adapter: DiscordAdapter, core: Bot, fake: FakeDiscord
) -> None:
    guild, channel = FakeDiscord.GUILD_ID, FakeDiscord.CHANNEL_ID
    vote(core, "discord", guild, channel, ATTENTION, +1)
    vote(core, "discord", guild, channel, TITLE_ONLY, +1)
    (reply,) = await answers(fake, "top", {"period": "month", "bibtex": True})
    assert reply["flags"] & EPHEMERAL
    assert reply["content"] == "BibTeX for 2 papers: the team's top this month."
    (attachment,) = reply["attachments"]
    assert attachment["filename"].startswith("paperboy-top-month-")
    entries = read_bib(fake.attachment_data(attachment).decode())
    assert set(entries) == {"vaswani2017attention", "anon2026only"}
    assert fake.messages(channel) == [], "nothing is posted in the channel"


async def test_discord_bibtex_file_after_a_slow_search_completes_the_deferral(
    core: Bot, fake: FakeDiscord
) -> None:
    # Deferred at once: the file must ride on the edit of the "thinking…" message.
    adapter = DiscordAdapter(core, fake.settings(), guild_ready_timeout=0.05, defer_after=0.0)
    await adapter.start()
    try:
        core.store.save_papers([ATTENTION])
        interaction = await fake.inject_interaction(
            "search", {"query": "attention", "bibtex": True}
        )
        (reply,) = await wait_until(lambda: interaction.replies)
        assert interaction.deferred and reply["flags"] & EPHEMERAL
        (attachment,) = reply["attachments"]
        assert attachment["filename"] == "paperboy-search-attention.bib"
        assert "vaswani2017attention" in read_bib(fake.attachment_data(attachment).decode())
    finally:
        await adapter.stop()
