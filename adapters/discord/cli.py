"""``paperboy discord-invite``: the link that adds the bot to a Discord server."""

from __future__ import annotations

import argparse
import os
import sys

from adapters.discord.settings import DiscordSettings

WHERE_TO_FIND = (
    "the Developer Portal shows it under your application → General Information → Application ID"
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    invite = commands.add_parser(
        "discord-invite", help="print the link that adds the bot to a Discord server"
    )
    invite.add_argument("application_id", nargs="?", help="default: read from DISCORD_TOKEN")
    invite.set_defaults(func=cmd_discord_invite)


def cmd_discord_invite(args: argparse.Namespace) -> int:
    # Imported here: only this chore needs discord.py's OAuth helper.
    from adapters.discord.invite import application_id_from_token, invite_url, is_application_id

    if args.application_id is not None:
        app_id = args.application_id.strip()
        if not is_application_id(app_id):
            # Not echoed: what was pasted may well be the bot token.
            print(f"paperboy: the application id is a number; {WHERE_TO_FIND}", file=sys.stderr)
            return 2
    else:
        token = DiscordSettings.from_env(os.environ).token
        try:
            app_id = application_id_from_token(token)
        except ValueError:
            print(
                "paperboy: set DISCORD_TOKEN in .env, or give the application id: "
                f"paperboy discord-invite APPLICATION_ID ({WHERE_TO_FIND})",
                file=sys.stderr,
            )
            return 2
    print(invite_url(app_id))
    return 0
