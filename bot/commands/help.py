"""``help``: every registered command, with its usage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import REGISTRY
from bot.commands.spec import ParsedCommand
from bot.events import CommandInvoked
from bot.replies import Help, Reply

if TYPE_CHECKING:
    from bot.core import Bot


@REGISTRY.command("help", "this list", description="What paperboy can do")
async def help_(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    return Help(bot.commands.help())
