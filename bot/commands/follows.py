"""Personal alerts: ``follow``, ``unfollow`` and ``follows``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import REGISTRY
from bot.commands.spec import CommandError, Param, ParsedCommand
from bot.events import CommandInvoked
from bot.model.follow import FollowError, parse_follow
from bot.replies import Reply, Text

if TYPE_CHECKING:
    from bot.core import Bot

MAX_FOLLOWS = 50
FOLLOW_HINT = "For example `/papers follow author:Hinton` or `/papers follow keyword:diffusion`."
TARGET = Param(
    "target",
    "author:NAME or keyword:WORD",
    required=True,
    min=3,
    max=110,
    many=True,
    usage="<author:NAME|keyword:WORD>",
)


def _target(command: ParsedCommand) -> str:
    value = command.values.get("target", ())
    return " ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


@REGISTRY.command(
    "follow",
    "a direct message when a new paper by this author or with this word arrives",
    TARGET,
    description="Get a direct message when a matching paper arrives",
)
async def follow(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    try:
        wanted = parse_follow(_target(command))
    except FollowError as exc:
        raise CommandError(str(exc), FOLLOW_HINT) from None
    ch, user = event.channel, event.user
    if len(bot.store.follows(ch.platform, ch.workspace, user.id)) >= MAX_FOLLOWS:
        raise CommandError(
            f"You follow {MAX_FOLLOWS} things already, the most one person can.",
            "`/papers unfollow <…>` one first; `/papers follows` lists them.",
        )
    if not bot.store.add_follow(ch.platform, ch.workspace, user.id, wanted):
        return Text(f"You already follow {wanted}.")
    return Text(
        f"Following {wanted}: I'll send you a direct message when a new paper matches, "
        "at most one message per posting round. `/papers unfollow "
        f"{wanted}` stops it."
    )


@REGISTRY.command(
    "unfollow",
    "stop following an author or word",
    Param(
        "target",
        "author:NAME, keyword:WORD, or all",
        required=True,
        min=3,
        max=110,
        many=True,
        usage="<author:NAME|keyword:WORD|all>",
    ),
    description="Stop following an author or word",
)
async def unfollow(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    ch, user = event.channel, event.user
    text = _target(command)
    if text.strip().lower() == "all":
        gone = bot.store.remove_follows(ch.platform, ch.workspace, user.id)
        return Text(f"Stopped all {gone} follow(s)." if gone else "You follow nothing here.")
    try:
        wanted = parse_follow(text)
    except FollowError as exc:
        raise CommandError(str(exc), "`/papers follows` lists what you follow.") from None
    if not bot.store.remove_follows(ch.platform, ch.workspace, user.id, wanted):
        raise CommandError(
            f"You don't follow {wanted}.", "`/papers follows` lists what you follow."
        )
    return Text(f"Stopped following {wanted}.")


@REGISTRY.command(
    "follows",
    "what you follow",
    description="What you follow",
)
async def follows(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    ch, user = event.channel, event.user
    mine = bot.store.follows(ch.platform, ch.workspace, user.id)
    if not mine:
        return Text(f"You follow nothing yet. {FOLLOW_HINT}")
    return Text("You follow: " + ", ".join(f"`{f[3]}`" for f in mine) + ".")
