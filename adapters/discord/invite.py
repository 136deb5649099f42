"""The OAuth2 link that adds paperboy to a server, with only what it needs."""

from __future__ import annotations

import base64
import binascii
import re

import discord

SCOPES = ("bot", "applications.commands")

# Read the channel, post cards (embeds), post in threads, and read recent history (to find
# a card a crash left unconfirmed). Reactions arrive through the gateway without any of these.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    read_message_history=True,
)


# Discord ids are 64-bit numbers written in decimal: at most 20 digits.
_APPLICATION_ID = re.compile(r"[0-9]{1,20}")


def is_application_id(text: str) -> bool:
    return _APPLICATION_ID.fullmatch(text) is not None


def invite_url(application_id: str) -> str:
    # Anything else would end up inside the URL: a pasted token, or extra query parameters.
    if not is_application_id(application_id):
        raise ValueError("an application id is a number")
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)


def application_id_from_token(token: str) -> str:
    """The application id a bot token belongs to.

    A bot token's first segment is its bot user's id in base64, and a bot user's id is its
    application's id. Raises ValueError when ``token`` is not shaped like a bot token.
    """
    first = token.strip().split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if not is_application_id(decoded):
        raise ValueError("DISCORD_TOKEN does not look like a bot token; give the application id")
    return decoded
