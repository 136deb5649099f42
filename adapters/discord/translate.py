"""Discord payloads to core events.

Typed slash-command options become command text in the core (``CommandSpec.text``), so the
command language is written down once for every platform.
"""

from __future__ import annotations

import discord

from bot.events import ChannelRef, MessageRef, ReactionChanged, User

PLATFORM = "discord"


def channel_ref(guild_id: int | None, channel_id: int) -> ChannelRef:
    return ChannelRef(PLATFORM, str(guild_id or ""), str(channel_id))


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
