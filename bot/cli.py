"""``paperboy`` command line: run the bot, and the few chores around it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from dotenv import load_dotenv

from bot.config import Settings, SettingsError
from bot.logs import setup_logging


def _settings() -> Settings:
    load_dotenv(".env", override=False)  # the real environment wins over .env
    try:
        return Settings.from_env(os.environ)
    except SettingsError as exc:
        sys.exit(f"paperboy: {exc}")


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings()
    # The platform wiring imports the SDKs; it is loaded only when the bot really runs.
    from adapters.launch import log_patterns, run

    setup_logging(settings.log_level, settings.secrets(), patterns=log_patterns(settings))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings))
    return 0


def cmd_discord_invite(args: argparse.Namespace) -> int:
    # Imported here: only this chore needs discord.py's OAuth helper.
    from adapters.discord.invite import application_id_from_token, invite_url

    app_id = args.application_id
    if not app_id:
        try:
            app_id = application_id_from_token(_settings().discord_token)
        except ValueError:
            sys.exit(
                "paperboy: set DISCORD_TOKEN in .env, or give the application id: "
                "paperboy discord-invite APPLICATION_ID"
            )
    print(invite_url(app_id))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Load the arXiv metadata snapshot, so search finds any paper, not only those posted."""
    settings = _settings()
    setup_logging(settings.log_level, settings.secrets())
    from storage.bulk_import import Progress, SnapshotImporter
    from storage.db import open_db
    from storage.store import Store

    if not os.path.isfile(args.file):
        print(f"paperboy: no such file: {args.file}", file=sys.stderr)
        return 2
    store = Store(open_db(settings.db_path))
    try:
        importer = SnapshotImporter(store, batch_size=args.batch_size, progress=Progress())
        result = importer.run(args.file, again=args.again)
    finally:
        store.db.close()
    print(result.summary(), file=sys.stderr)
    for example in result.bad_examples:
        print(f"  skipped {example}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperboy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the bot: Slack/Discord when their tokens are set, else the console chat"
    )
    run.set_defaults(func=cmd_run)
    invite = commands.add_parser(
        "discord-invite", help="print the link that adds the bot to a Discord server"
    )
    invite.add_argument("application_id", nargs="?", help="default: read from DISCORD_TOKEN")
    invite.set_defaults(func=cmd_discord_invite)
    _add_import_command(commands)
    return parser


def _add_import_command(commands: argparse._SubParsersAction) -> None:
    imports = commands.add_parser("import", help="load papers in bulk into the database")
    kinds = imports.add_subparsers(dest="kind", required=True)
    snapshot = kinds.add_parser(
        "arxiv-snapshot",
        help="the arXiv metadata snapshot (JSON Lines, plain or .gz); resumable, and a "
        "second run of the same file adds nothing",
    )
    snapshot.add_argument("file", help="e.g. arxiv-metadata-oai-snapshot.json")
    snapshot.add_argument(
        "--again", action="store_true", help="re-read a file imported before (merging any changes)"
    )
    snapshot.add_argument("--batch-size", type=int, default=10_000, help=argparse.SUPPRESS)
    snapshot.set_defaults(func=cmd_import)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
