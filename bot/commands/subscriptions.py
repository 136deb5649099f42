"""A channel's auto-posts: ``subscribe``, ``unsubscribe`` and ``subscriptions``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands import REGISTRY
from bot.commands.spec import Choice, CommandError, Param, ParsedCommand
from bot.events import CommandInvoked
from bot.replies import Reply, SubscriptionInfo, SubscriptionList, Text
from bot.subscriptions import parse_subscribe, same_request
from storage.store import Subscription

if TYPE_CHECKING:
    from bot.core import Bot


def source_choices() -> list[Choice]:
    return [
        ("Hugging Face Daily Papers", "hf"),
        ("arXiv category (give one in 'category')", "arxiv"),
    ]


def channel_subscriptions(bot: Bot, event: CommandInvoked) -> list[Subscription]:
    ch = event.channel
    return bot.store.subscriptions(platform=ch.platform, workspace=ch.workspace, channel=ch.channel)


@REGISTRY.command(
    "subscribe",
    "auto-post new papers here (admins)",
    Param("source", "where papers come from", required=True, choices=source_choices),
    Param("category", "arXiv category, e.g. cs.CL (arXiv only)", min=1, max=40),
    Param(
        "min_upvotes",
        "only papers with at least this many HF upvotes (HF only)",
        type=int,
        kind="option",
        min=0,
        max=100_000,
    ),
    Param("keywords", "comma-separated; a paper must mention one", kind="option", min=1, max=500),
    Param(
        "authors", "comma-separated; a paper must have one of them", kind="option", min=1, max=500
    ),
    admin_only=True,
    description="Auto-post new papers in this channel (Manage Channels)",
    help_lines=(
        (
            "subscribe hf [min_upvotes=N] [keywords=a,b] [authors=x,y]",
            "auto-post new Hugging Face Daily Papers here (admins)",
        ),
        (
            "subscribe arxiv <category> [keywords=a,b] [authors=x,y]",
            "auto-post new arXiv papers of a category here (admins)",
        ),
    ),
)
async def subscribe(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    request = parse_subscribe(command)
    existing = next(
        (s for s in channel_subscriptions(bot, event) if same_request(s, request)), None
    )
    if existing is not None:
        return Text(f"This channel already has that subscription (#{existing.id}).")
    ch = event.channel
    sub = bot.store.add_subscription(
        platform=ch.platform,
        workspace=ch.workspace,
        channel=ch.channel,
        source=request.source,
        category=request.category,
        min_upvotes=request.min_upvotes,
        keywords=request.keywords,
        authors=request.authors,
        created_by=event.user.id,
    )
    bot.poster.poke()
    return Text(
        f"Subscribed this channel to {info(sub).describe()} (subscription #{sub.id}). "
        "New papers will be posted here, the first ones in a moment.",
        public=True,
    )


UNSUBSCRIBE_HINT = (
    "See the ids with `/papers subscriptions`; `/papers unsubscribe all` stops them all."
)


@REGISTRY.command(
    "unsubscribe",
    "stop subscriptions (admins)",
    Param(
        "id",
        "the subscription's number, from /papers subscriptions",
        type=int,
        min=1,
        max=10**12,
        many=True,
    ),
    Param("all", "stop every subscription of this channel", type=bool, kind="flag"),
    admin_only=True,
    description="Stop auto-posts in this channel (Manage Channels)",
    help_lines=(("unsubscribe <id …|all>", "stop subscriptions (admins)"),),
)
async def unsubscribe(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    ids = tuple(int(i) for i in command.values.get("id", ()))  # type: ignore[union-attr]
    ch = event.channel
    if command.flag("all"):
        if ids:
            raise CommandError("Give subscription ids or `all`, not both.", UNSUBSCRIBE_HINT)
        removed = bot.store.remove_subscriptions(ch.platform, ch.workspace, ch.channel)
        if not removed:
            return Text("This channel has no subscriptions.")
        return Text(f"Removed all {removed} subscription(s) of this channel.", public=True)
    if not ids:
        raise CommandError(
            "Unsubscribe from what? Give a subscription id or `all`.", UNSUBSCRIBE_HINT
        )
    ids = tuple(dict.fromkeys(ids))
    known = {s.id for s in channel_subscriptions(bot, event)}
    missing = [i for i in ids if i not in known]
    if missing:  # nothing is removed unless all of them can be
        raise CommandError(f"This channel has no subscription #{missing[0]}.", UNSUBSCRIBE_HINT)
    for sub_id in ids:
        bot.store.remove_subscriptions(ch.platform, ch.workspace, ch.channel, sub_id)
    named = ", ".join(f"#{i}" for i in ids)
    return Text(f"Removed subscription{'s' if len(ids) > 1 else ''} {named}.", public=True)


@REGISTRY.command(
    "subscriptions",
    "what this channel is subscribed to",
    description="What this channel is subscribed to",
)
async def subscriptions(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    return SubscriptionList(tuple(info(s) for s in channel_subscriptions(bot, event)))


def info(sub: Subscription) -> SubscriptionInfo:
    return SubscriptionInfo(
        id=sub.id,
        source=sub.source,
        category=sub.category,
        min_upvotes=sub.min_upvotes,
        keywords=sub.keywords,
        authors=sub.authors,
    )
