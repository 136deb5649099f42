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
from datetime import UTC, datetime
from typing import TextIO

from adapters.console import ConsoleAdapter
from bot.config import Settings
from bot.core import Bot
from bot.sources.hf import HF_FEED, load_sample_papers
from bot.sources.http import SourceError
from bot.sources.registry import Sources
from storage.db import DatabaseFileGone, file_identity, open_db
from storage.store import Store

log = logging.getLogger(__name__)

HF_CHECK_SECONDS = 10.0


def build_bot(settings: Settings) -> Bot:
    db = open_db(settings.db_path)
    identity = file_identity(db)
    if identity is not None:
        identity.on_gone = _exit_at_once
    return Bot(Store(db), Sources.from_settings(settings), settings)


def _exit_at_once() -> None:
    """PAPERBOY_DB was deleted or replaced: whatever this process writes now is lost, so it
    ends before the next write, without the usual shutdown (which itself writes)."""
    logging.shutdown()
    os._exit(DatabaseFileGone.EXIT_CODE)


def log_patterns(settings: Settings) -> tuple[re.Pattern[str], ...]:
    """The platforms' rules for secrets in their traffic, for the logging set-up."""
    if settings.slack_enabled:
        from adapters.slack.log_rules import patterns_for

        return patterns_for(settings.slack_api_url)
    return ()


def platform_adapters(bot: Bot, settings: Settings) -> list:
    adapters = []
    if settings.slack_enabled:
        from adapters.slack.app import SlackAdapter

        adapters.append(SlackAdapter(bot, settings))
    if settings.discord_enabled:
        from adapters.discord.client import DiscordAdapter

        adapters.append(DiscordAdapter(bot, settings))
    return adapters


async def run(
    settings: Settings,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """Run until end of console input, or until SIGINT/SIGTERM (or ``stop``) on platforms."""
    bot = build_bot(settings)
    try:
        adapters = platform_adapters(bot, settings)
        if adapters:
            await _run_platforms(bot, adapters, stop or asyncio.Event())
        else:
            await _run_console(bot, stdin, stdout)
    finally:
        await bot.stop()
        await bot.sources.aclose()
        bot.store.db.close()


async def _run_platforms(bot: Bot, adapters: list, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started = []
    try:
        for adapter in adapters:
            bot.attach(adapter)
            await adapter.start()
            started.append(adapter)
            log.info("%s connected", adapter.platform)
        await bot.start()
        await stop.wait()
    finally:
        for adapter in reversed(started):
            with contextlib.suppress(Exception):
                await adapter.stop()


async def _run_console(bot: Bot, stdin: TextIO | None, stdout: TextIO | None) -> None:
    console = ConsoleAdapter(bot, stdin, stdout)
    console.say(f"paperboy console · database {bot.settings.db_path} · no Slack/Discord tokens set")
    await _ensure_papers(bot, console)
    await bot.start()
    with contextlib.suppress(EOFError):
        await console.run()


async def _ensure_papers(bot: Bot, console: ConsoleAdapter) -> None:
    """Offline first runs still work: without Hugging Face, load the bundled sample papers."""
    today = datetime.now(UTC).date()
    try:
        async with asyncio.timeout(HF_CHECK_SECONDS):
            papers = (await bot.sources[HF_FEED.source].daily_list(today)).papers
    except (SourceError, TimeoutError) as exc:
        sample = load_sample_papers()
        bot.store.save_papers(sample)
        bot.store.mark_listed(HF_FEED, [p.id for p in sample])
        console.say(
            f"Hugging Face can't be reached ({exc or 'timed out'}); loaded {len(sample)} bundled "
            "sample papers so you can try everything offline."
        )
        return
    bot.store.save_papers(papers)
    console.say(f"Hugging Face is reachable: {len(papers)} papers on today's list.")
