"""Discord payloads to core events, and typed slash-command options back to command text.

The core parses one command language for every platform (``bot.commands``); Discord's typed
options are turned back into that text here, quoted the way the core's ``shlex`` parser and
the search filter syntax (``author:"..."``) expect.
"""

from __future__ import annotations

import shlex

import discord

from bot.events import ChannelRef, MessageRef, ReactionChanged, User

PLATFORM = "discord"


def channel_ref(guild_id: int | None, channel_id: int) -> ChannelRef:
    return ChannelRef(PLATFORM, str(guild_id or ""), str(channel_id))


# -- options → command text -------------------------------------------------------------


def _option(key: str, value: str) -> str:
    return shlex.quote(f"{key}={value}")


def _filter(key: str, value: str) -> str:
    # The search filter syntax takes key:"words"; a quote inside would end it early.
    return f'{key}:"{value.replace(chr(34), " ").strip()}"'


def search_text(
    query: str, author: str | None = None, category: str | None = None, since: str | None = None
) -> str:
    # Search text is read raw by the core (not split), so the query goes in as typed.
    parts = ["search", query.strip()]
    if author:
        parts.append(_filter("author", author))
    if category:
        parts.append(f"cat:{category.strip()}")
    if since:
        parts.append(f"since:{since.strip()}")
    return " ".join(p for p in parts if p)


def show_text(paper: str) -> str:
    return f"show {shlex.quote(paper.strip())}"


def top_text(period: str | None = None, public: bool = False) -> str:
    return " ".join(["top", *([period] if period else []), *(["public"] if public else [])])


def today_text(public: bool = False) -> str:
    return "today public" if public else "today"


def subscribe_text(
    source: str,
    category: str | None = None,
    min_upvotes: int | None = None,
    keywords: str | None = None,
    authors: str | None = None,
) -> str:
    parts = ["subscribe", source]
    if category:
        parts.append(shlex.quote(category.strip()))
    if min_upvotes is not None:
        parts.append(_option("min_upvotes", str(min_upvotes)))
    if keywords:
        parts.append(_option("keywords", keywords))
    if authors:
        parts.append(_option("authors", authors))
    return " ".join(parts)


def unsubscribe_text(subscription: int | None = None, everything: bool = False) -> str:
    if everything:
        return "unsubscribe all"
    # Without an id the core answers with how to find one.
    return "unsubscribe" if subscription is None else f"unsubscribe {subscription}"


# -- who is asking ----------------------------------------------------------------------


def interaction_user(interaction: discord.Interaction) -> User:
    """The invoking user; Manage Channels in this channel makes them a subscription admin."""
    user = interaction.user
    return User(
        platform=PLATFORM,
        id=str(user.id),
        name=user.display_name,
        is_admin=interaction.permissions.manage_channels,
        is_bot=user.bot,
    )


# -- reactions --------------------------------------------------------------------------


def emoji_name(emoji: discord.PartialEmoji) -> str:
    """Unicode emoji as the character itself, a custom emoji by its name (``party_parrot``)."""
    return emoji.name or ""


def reaction_event(
    payload: discord.RawReactionActionEvent, own_user_id: int | None
) -> ReactionChanged | None:
    """The vote-relevant part of a raw reaction event; None for reactions that cannot be votes."""
    if payload.guild_id is None or payload.user_id == own_user_id:
        return None  # DMs hold no posts; the bot's own reactions are not votes
    name = emoji_name(payload.emoji)
    if not name:
        return None  # custom emoji from a deleted or unknown set arrive nameless
    member = payload.member
    user = User(
        platform=PLATFORM,
        id=str(payload.user_id),
        name=member.display_name if member is not None else "",
        is_bot=bool(member is not None and member.bot),
    )
    target = MessageRef(channel_ref(payload.guild_id, payload.channel_id), str(payload.message_id))
    return ReactionChanged(
        target=target, user=user, emoji=name, added=payload.event_type == "REACTION_ADD"
    )
