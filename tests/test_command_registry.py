"""A command registered at test time shows up everywhere: help, console, Slack and Discord.

Nothing but this file knows about ``ping``: if any platform still listed commands by hand,
it would be missing there.
"""

from __future__ import annotations

import io

import pytest

from adapters.console import ConsoleAdapter
from adapters.discord.client import DiscordAdapter
from adapters.memory import MemoryAdapter
from bot.commands import REGISTRY, CommandSpec, Param, ParsedCommand, Registry
from bot.core import Bot
from bot.events import CommandInvoked
from bot.replies import Error, Help, Reply, Text
from tests.fakes.discord import FakeDiscord
from tests.fakes.local_server import wait_until
from tests.test_slack_roundtrip import answer_text, running


async def ping(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    return Text(f"pong ×{command.values['n']}")


PING = CommandSpec(
    "ping",
    "answer pong, n times over",
    ping,
    (Param("n", "how many pongs", type=int, required=True, min=1, max=5),),
    description="Answer pong",
)


@pytest.fixture
def registry() -> Registry:
    registry = REGISTRY.copy()
    registry.register(PING)
    return registry


async def test_help_and_the_core_know_it(bot: Bot, registry: Registry) -> None:
    bot.commands = registry
    chat = MemoryAdapter(bot)
    help_reply = await chat.command("help")
    assert isinstance(help_reply, Help)
    assert ("/papers ping <n>", "answer pong, n times over") in help_reply.commands
    assert await chat.command("ping 3") == Text("pong ×3")
    too_many = await chat.command("ping 9")
    assert isinstance(too_many, Error) and "between 1 and 5" in too_many.message
    extra = await chat.command("ping 2 3")
    assert isinstance(extra, Error) and "`3`" in extra.message and "ping <n>" in extra.hint
    # The default registry is untouched.
    assert "ping" not in REGISTRY


async def test_the_console_runs_it(bot: Bot, registry: Registry) -> None:
    bot.commands = registry
    out = io.StringIO()
    console = ConsoleAdapter(bot, io.StringIO(), out)
    await console.handle_line("/papers ping 4")
    await console.handle_line("/papers help")
    assert "pong ×4" in out.getvalue()
    assert "/papers ping <n>" in out.getvalue()


async def test_slack_runs_it(bot: Bot, registry: Registry) -> None:
    bot.commands = registry
    async with running(bot, "socket") as slack:
        _, answer = await slack.command("ping 2")
        assert "pong ×2" in answer_text(answer)
        _, listed = await slack.command("help")
        assert "/papers ping" in answer_text(listed)


async def test_discord_syncs_and_runs_it(core: Bot, fake: FakeDiscord, registry: Registry) -> None:
    core.commands = registry
    adapter = DiscordAdapter(core, fake.settings(), guild_ready_timeout=0.05)
    await adapter.start()
    try:
        papers = next(c for c in fake.commands["global"] if c["name"] == "papers")
        synced = {o["name"]: o for o in papers["options"]}
        assert synced["ping"]["description"] == "Answer pong"
        (n,) = synced["ping"]["options"]
        assert (n["name"], n["type"], n["required"]) == ("n", 4, True)  # 4: integer
        assert (n["min_value"], n["max_value"]) == (1, 5)
        interaction = await fake.inject_interaction("ping", {"n": 5})
        (reply,) = await wait_until(lambda: interaction.replies)
        assert "pong ×5" in reply["content"] + str(reply.get("embeds"))
    finally:
        await adapter.stop()
