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
    setup_logging(settings.log_level, settings.secrets())
    # The platform wiring imports the SDKs; it is loaded only when the bot really runs.
    from adapters.launch import run

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(settings))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperboy", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run the bot: Slack/Discord when their tokens are set, else the console chat"
    )
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
