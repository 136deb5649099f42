"""A channel's auto-posts: ``subscribe``, ``unsubscribe`` and ``subscriptions``."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.channel_taste import channel_taste, taste_subscribe_note
from bot.commands import REGISTRY
from bot.commands.spec import Choice, CommandError, Param, ParsedCommand
from bot.events import CommandInvoked
from bot.model.subscription import Subscription
from bot.replies import Reply, SubscriptionList, Text
from bot.sources.registry import SOURCE_TYPES
from bot.subscriptions import TASTE_MAX, TEAM_TOP_WORD, TOP_RANGE, parse_subscribe

if TYPE_CHECKING:
    from bot.core import Bot


def source_choices() -> list[Choice]:
    sources = [(kind.choice_label, kind.name) for kind in SOURCE_TYPES]
    return [*sources, ("Team top (this channel's votes)", TEAM_TOP_WORD)]


def subscribe_help() -> list[tuple[str, str]]:
    """One help line per source, so a new source shows up in help by itself."""
    return [
        *(
            (
                f"subscribe {kind.usage}{' [min_upvotes=N]' if kind.has_upvotes else ''} "
                "[keywords=a,b] [authors=x,y] [taste=N] "
                "[digest=daily@HH:MM|weekly@DAY-HH:MM] [top=N] [tz=Area/City]",
                f"auto-post new {kind.feed_noun} here, or one digest a period (admins)",
            )
            for kind in SOURCE_TYPES
        ),
        (
            f"subscribe {TEAM_TOP_WORD} <daily@HH:MM|weekly@DAY-HH:MM> [top=N] [tz=Area/City]",
            "post this channel's most voted papers of the day or week (admins)",
        ),
    ]


def channel_subscriptions(bot: Bot, event: CommandInvoked) -> list[Subscription]:
    ch = event.channel
    return bot.store.subscriptions(platform=ch.platform, workspace=ch.workspace, channel=ch.channel)


@REGISTRY.command(
    "subscribe",
    "auto-post new papers here (admins)",
    Param("source", "where papers come from", required=True, choices=source_choices),
    # Several words: team-top's schedule may be written `weekly@fri 16:00`.
    Param(
        "category",
        "category: cs.CL (arXiv), cell_biology or all (bioRxiv, medRxiv); "
        "team-top: weekly@fri-16:00",
        min=1,
        max=60,
        many=True,
    ),
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
    Param(
        "taste",
        f"post only the N a day this channel would like best (1-{TASTE_MAX})",
        type=int,
        kind="option",
        min=1,
        max=TASTE_MAX,
    ),
    Param(
        "digest",
        "one message a period: daily@09:00 or weekly@mon-09:00",
        kind="option",
        min=1,
        max=40,
    ),
    Param(
        "top",
        "papers in each digest (default 10)",
        type=int,
        kind="option",
        min=TOP_RANGE[0],
        max=TOP_RANGE[1],
    ),
    Param(
        "tz", "this channel's time zone, e.g. Europe/Berlin (default UTC)", kind="option", max=64
    ),
    admin_only=True,
    description="Auto-post new papers in this channel (Manage Channels)",
    help_lines=subscribe_help,
)
async def subscribe(bot: Bot, event: CommandInvoked, command: ParsedCommand) -> Reply:
    ch = event.channel
    parsed = parse_subscribe(command, bot.sources)
    request = parsed.subscription
    if parsed.tz is not None:
        bot.store.set_channel_tz(ch.platform, ch.workspace, ch.channel, parsed.tz)
    existing = next((s for s in channel_subscriptions(bot, event) if s.same_as(request)), None)
    if existing is not None:
        tz_note = f" Its time zone is now {parsed.tz}." if parsed.tz else ""
        return Text(f"This channel already has that subscription (#{existing.id}).{tz_note}")
    sub = bot.store.add_subscription(
        replace(request, platform=ch.platform, workspace=ch.workspace, channel=ch.channel),
        created_by=event.user.id,
    )
    bot.poster.subscribed(sub)
    text = (
        f"Subscribed this channel to {describe(bot, sub)} (subscription #{sub.id}). "
        + _what_happens_next(bot, sub)
    )
    if sub.taste:
        text += " " + taste_subscribe_note(channel_taste(bot.store, ch), sub.taste)
    return Text(text, public=True)


def _what_happens_next(bot: Bot, sub: Subscription) -> str:
    if sub.digest is None:
        return "New papers will be posted here, the first ones in a moment."
    tz = bot.store.channel_tz(sub.platform, sub.workspace, sub.channel)
    first = bot.poster.digests.next_due([sub])
    when = bot.poster.digests.local_time(sub, first) if first is not None else ""
    what = (
        "the most voted papers of this channel (nothing when nobody voted)"
        if sub.is_team_top
        else f"the top {sub.top} new papers"
    )
    return f"One message with {what} each time, the first on {when} ({tz})."


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
    subs = tuple(channel_subscriptions(bot, event))
    return SubscriptionList(subs, tuple(describe(bot, s) for s in subs))


def describe(bot: Bot, sub: Subscription) -> str:
    """The feed as its source names it, then the filters."""
    if sub.is_team_top:
        return sub.describe("the team top")
    return sub.describe(bot.sources.describe(sub.feed))
