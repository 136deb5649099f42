"""The composition root: build the store, sources and core, then run the configured platforms.

It lives among the adapters because it is the one place that knows about all of them; the
core under ``bot/`` never imports a platform SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TextIO

from adapters.console import ConsoleAdapter, console_log_path
from adapters.health import HealthCheck, HealthServer
from adapters.heap import settled_heap
from adapters.platform import Configured, PlatformAdapter, PlatformStartError
from adapters.registry import PLATFORMS
from bot.config import Settings, SettingsError
from bot.core import Bot
from bot.sources.hf import HF_FEED, load_sample_papers
from bot.sources.http import SourceError, fail_fast
from bot.sources.registry import Sources
from storage.connect import open_database
from storage.db import DatabaseFileGone, file_identity
from storage.store import Store

log = logging.getLogger(__name__)

# The console asks Hugging Face once at start, this briefly, in the background; it waits
# for the answer only this long before the prompt (the bundled sample serves meanwhile).
HF_PROBE_SECONDS = 5.0
HF_PROBE_WAIT_SECONDS = 1.0


def open_store(settings: Settings) -> Store:
    """The store at DATABASE_URL (PostgreSQL) or else PAPERBOY_DB; a database paperboy cannot
    reach or write is a setting to fix."""
    if settings.database_url:
        import psycopg

        try:
            return Store(open_database("", settings.database_url, settings.search_dir))
        except (psycopg.Error, OSError) as exc:
            raise SettingsError(
                f"DATABASE_URL={settings.database_label!r}: cannot use the database there "
                f"({type(exc).__name__}: {exc})"
            ) from exc
    try:
        return Store(open_database(settings.db_path))
    except (sqlite3.Error, OSError) as exc:
        raise SettingsError(
            f"{Settings.env_name('db_path')}={settings.db_path!r}: cannot create or write the "
            f"database there ({exc}); choose a writable place"
        ) from exc


def build_bot(settings: Settings) -> Bot:
    store = open_store(settings)
    identity = file_identity(store.db)
    if identity is not None:
        identity.on_gone = _exit_at_once
    return Bot(store, Sources.from_settings(settings), settings)


def _exit_at_once() -> None:
    """PAPERBOY_DB was deleted or replaced: whatever this process writes now is lost, so it
    ends before the next write, without the usual shutdown (which itself writes)."""
    logging.shutdown()
    os._exit(DatabaseFileGone.EXIT_CODE)


def log_patterns(platforms: Iterable[Configured]) -> tuple[re.Pattern[str], ...]:
    """The platforms' rules for secrets in their traffic (and token shapes), for the logs."""
    return tuple(pattern for p in platforms for pattern in p.log_patterns())


async def run(
    settings: Settings,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    *,
    platforms: Sequence[Configured] = (),
    stop: asyncio.Event | None = None,
) -> int:
    """Run the enabled ``platforms`` until SIGINT/SIGTERM (or ``stop``); with none enabled,
    the console until end of input. Returns the exit code: 1 if no platform could start.
    """
    enabled = [p for p in platforms if p.enabled]
    bot = build_bot(settings)
    try:
        if enabled:
            return await _run_platforms(bot, enabled, stop or asyncio.Event())
        await _run_console(bot, stdin, stdout)
        return 0
    finally:
        await bot.stop()
        await bot.sources.aclose()
        bot.store.close()


async def _run_platforms(bot: Bot, platforms: list[Configured], stop: asyncio.Event) -> int:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started: list[PlatformAdapter] = []
    health: HealthServer | None = None
    try:
        for configured in platforms:
            adapter = await _start(bot, configured)
            if adapter is not None:
                started.append(adapter)
        if not started:
            return 1
        health = await _serve_health(bot, started)
        await bot.start()
        with settled_heap():
            await stop.wait()
        return 0
    finally:
        if health is not None:
            await health.stop()
        for adapter in reversed(started):
            with contextlib.suppress(Exception):
                await adapter.stop()


async def _serve_health(bot: Bot, started: list[PlatformAdapter]) -> HealthServer | None:
    """GET /healthz on every HTTP port the process has (Slack's), and on HEALTHZ_PORT."""
    check = HealthCheck(bot, started)
    for adapter in started:
        serve = getattr(adapter, "serve_health", None)
        if serve is not None:
            serve(check.answer)
    if not bot.settings.healthz_port:
        return None
    server = HealthServer(check)
    try:
        await server.start("0.0.0.0", bot.settings.healthz_port)
    except OSError as exc:  # e.g. the port is taken: the bot itself still runs
        log.error("HEALTHZ_PORT=%d: cannot listen there (%s)", bot.settings.healthz_port, exc)
        return None
    return server


async def _start(bot: Bot, configured: Configured) -> PlatformAdapter | None:
    """Start one platform; if it cannot start, say why in one line and let the others run."""
    title = configured.platform.title
    try:
        adapter = configured.build(bot)
        await adapter.start()
    except (PlatformStartError, SettingsError) as exc:
        log.error("%s did not start: %s", title, exc)
        return None
    except Exception as exc:
        log.error(
            "%s did not start: %s: %s (LOG_LEVEL=DEBUG shows the details)",
            title,
            type(exc).__name__,
            exc,
        )
        log.debug("%s start failure", title, exc_info=True)
        return None
    # Attached once started: the poster never sends to a platform that is not running.
    bot.attach(adapter)
    log.info("%s connected", title)
    return adapter


async def _run_console(bot: Bot, stdin: TextIO | None, stdout: TextIO | None) -> None:
    console = ConsoleAdapter(bot, stdin, stdout)
    titles = "/".join(p.title for p in PLATFORMS)
    console.say(
        f"paperboy console · database {bot.settings.database_label} · "
        f"log {console_log_path(bot.settings)} · no {titles} tokens set"
    )
    bot.sample_papers = load_sample_papers()
    probe = asyncio.create_task(_probe_hf(bot, console), name="probe Hugging Face")
    # A quick answer (online, or plainly offline) is said before the prompt; a slow one
    # does not hold the prompt up.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(probe), HF_PROBE_WAIT_SECONDS)
    await bot.start()
    try:
        with contextlib.suppress(EOFError):
            await console.run()
    finally:
        probe.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probe


async def _probe_hf(bot: Bot, console: ConsoleAdapter) -> None:
    """Ask Hugging Face once for the list of the day; without it, load the bundled sample
    papers, so an offline first run still has papers to subscribe to, search and vote on."""
    today = datetime.now(UTC).date()
    try:
        with fail_fast():
            async with asyncio.timeout(HF_PROBE_SECONDS):
                daily = await bot.sources[HF_FEED.source].daily_list(today)
    except (SourceError, TimeoutError) as exc:
        sample = bot.sample_papers
        bot.store.save_papers(sample)
        bot.store.mark_listed(HF_FEED, [p.id for p in sample])
        console.say(
            f"Hugging Face can't be reached ({exc or 'it did not answer in time'}); loaded "
            f"{len(sample)} bundled sample papers so you can try everything offline."
        )
        return
    bot.store.save_papers(daily.papers)
    day = "today's" if daily.day == today else "yesterday's"
    console.say(f"Hugging Face is reachable: {len(daily.papers)} papers on {day} list.")
