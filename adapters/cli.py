"""``paperboy`` command line: run the bot, and the few chores around it.

With ``adapters/launch.py`` this is the composition root: the one place that reads every
setting, the core's and each platform's, and puts the pieces together.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from dotenv import load_dotenv

from adapters.console import console_log_path
from adapters.platform import Configured
from adapters.registry import PLATFORMS, configured
from bot.config import Settings, SettingsError
from bot.logs import setup_logging


def _settings() -> tuple[Settings, list[Configured]]:
    return Settings.from_env(os.environ), configured(os.environ)


def _setup_logging(
    settings: Settings, platforms: list[Configured], path: str | None = None
) -> None:
    from adapters.launch import log_patterns

    try:
        setup_logging(
            settings.log_level,
            [*settings.secrets(), *(secret for p in platforms for secret in p.settings.secrets())],
            patterns=log_patterns(platforms),
            quiet=[name for p in PLATFORMS for name in p.quiet_loggers],
            path=path,
        )
    except OSError as exc:
        raise SettingsError(
            f"{Settings.env_name('db_path')}={settings.db_path!r}: cannot create the log file "
            f"{path} beside the database ({exc.strerror or exc}); choose a writable place"
        ) from exc


def cmd_run(args: argparse.Namespace) -> int:
    settings, platforms = _settings()
    # The console chat is the terminal: its logs go to a file beside the database.
    console = not any(p.enabled for p in platforms)
    _setup_logging(settings, platforms, str(console_log_path(settings)) if console else None)
    from adapters.launch import run

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run(settings, platforms=platforms))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Load the arXiv metadata snapshot, so search finds any paper, not only those posted."""
    settings, platforms = _settings()
    _setup_logging(settings, platforms)
    from adapters.launch import open_store
    from storage.bulk_import import Progress, SnapshotImporter

    if not os.path.isfile(args.file):
        print(f"paperboy: no such file: {args.file}", file=sys.stderr)
        return 2
    store = open_store(settings)
    try:
        importer = SnapshotImporter(store, batch_size=args.batch_size, progress=Progress())
        result = importer.run(args.file, again=args.again)
    finally:
        store.close()
    print(result.summary(), file=sys.stderr)
    for example in result.bad_examples:
        print(f"  skipped {example}", file=sys.stderr)
    return 0


def cmd_copy_to_postgres(args: argparse.Namespace) -> int:
    """Copy the SQLite database into the PostgreSQL one DATABASE_URL names."""
    settings, platforms = _settings()
    from storage.connect import DatabaseUrlError, open_database
    from storage.copy_to_postgres import ProgressLine, copy_to_postgres
    from storage.db import open_db
    from storage.sql import PostgresDatabase, as_database

    source_path = args.source or settings.db_path
    if not os.path.isfile(source_path):
        print(f"paperboy: no such SQLite database: {source_path}", file=sys.stderr)
        return 2
    if not settings.database_url:
        print(
            "paperboy: set DATABASE_URL=postgresql://... to the database to copy into",
            file=sys.stderr,
        )
        return 2
    _setup_logging(settings, platforms)
    try:
        target = open_database("", settings.database_url, settings.search_dir)
    except DatabaseUrlError as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 2
    assert isinstance(target, PostgresDatabase)
    source = as_database(open_db(source_path))
    try:
        print(f"copying {source_path} into {target}", file=sys.stderr)
        result = copy_to_postgres(source, target, progress=ProgressLine())  # type: ignore[arg-type]
    finally:
        source.close()
        target.close()
    print(result.report())
    if not result.ok:
        print("paperboy: the row counts differ (see MISMATCH above)", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperboy", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    titles = "/".join(p.title for p in PLATFORMS)
    run = commands.add_parser(
        "run", help=f"run the bot: {titles} when their tokens are set, else the console chat"
    )
    run.set_defaults(func=cmd_run)
    for platform in PLATFORMS:
        if platform.add_commands is not None:
            platform.add_commands(commands)
    _add_import_command(commands)
    _add_db_command(commands)
    return parser


def _add_db_command(commands: argparse._SubParsersAction) -> None:
    db = commands.add_parser("db", help="move the database")
    chores = db.add_subparsers(dest="chore", required=True)
    copy = chores.add_parser(
        "copy-to-postgres",
        help="copy the SQLite database (PAPERBOY_DB) into PostgreSQL (DATABASE_URL): "
        "everything; resumable, and a second run adds nothing",
    )
    copy.add_argument(
        "source", nargs="?", default="", help="the SQLite file (default: PAPERBOY_DB)"
    )
    copy.set_defaults(func=cmd_copy_to_postgres)


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
    load_dotenv(".env", override=False)  # the real environment wins over .env
    try:
        return args.func(args)
    except SettingsError as exc:  # one line that names the setting, not a traceback
        print(f"paperboy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
