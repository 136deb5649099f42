"""Tokens and secrets never reach a log line or a reply, even inside an error.

In process: a handler raises an error that carries the tokens; the log (through paperboy's
own logging set-up) and the user's answer, on Slack and on Discord, must not show them.
As a process: Slack answers with errors that echo the tokens back (as a misbehaving proxy
might) and the real bot's output must not contain them.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.discord.client import DiscordAdapter
from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core import Bot
from bot.logs import setup_logging
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.subscription import Subscription
from storage.db import open_db
from storage.store import Store
from tests.botprocess import BotProcess, sources_env
from tests.conftest import FakeClock, close_bot, make_bot
from tests.fakes.discord import FakeDiscord
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources
from tests.fakes.slack import FakeSlack
from tests.isolation import logger_levels_restored  # noqa: F401 (autouse)

# A user token of someone else's app: not one of our settings, but token-shaped.
FOREIGN_TOKEN = "xoxp-1111-2222-3333-foreign-user-token"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What paperboy's log handler writes; the root logger is restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield io.StringIO()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
async def both() -> AsyncIterator[tuple[FakeSlack, FakeDiscord]]:
    async with FakeSlack() as slack, FakeDiscord() as discord:
        yield slack, discord


@pytest.fixture
async def core(
    settings: Settings, clock: FakeClock, both: tuple[FakeSlack, FakeDiscord]
) -> AsyncIterator[Bot]:
    bot = make_bot(settings, clock)
    yield bot
    await close_bot(bot)


async def test_an_error_carrying_tokens_reaches_neither_log_nor_reply(
    core: Bot,
    both: tuple[FakeSlack, FakeDiscord],
    log_output: io.StringIO,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack, discord = both
    slack_settings, discord_settings = slack.settings(socket_mode=False), discord.settings()
    secrets = [*slack_settings.secrets(), *discord_settings.secrets(), FOREIGN_TOKEN]
    setup_logging("DEBUG", secrets, log_output)

    def leaky_search(*args: object, **kwargs: object) -> list[Paper]:
        raise RuntimeError(f"search backend refused {' and '.join(secrets)}")

    monkeypatch.setattr(core.store, "search", leaky_search)
    slack_adapter = SlackAdapter(core, slack_settings, http_host="127.0.0.1", post_interval=0.0)
    discord_adapter = DiscordAdapter(core, discord_settings, guild_ready_timeout=0.05)
    await slack_adapter.start()
    await discord_adapter.start()
    try:
        payload = slack.command_payload("search diffusion")
        url = f"http://127.0.0.1:{slack_adapter.http_port}/slack/events"
        await slack.deliver(payload, to=url)
        slack_answer = str(await slack.wait_response(payload["response_url"]))
        interaction = await discord.inject_interaction("search", {"query": "diffusion"})
        discord_answer = str(await wait_until(lambda: interaction.replies))
    finally:
        await discord_adapter.stop()
        await slack_adapter.stop()

    for answer in (slack_answer, discord_answer):
        assert "Something went wrong on my side" in answer
        assert "search backend refused" not in answer  # no internals in replies at all
        assert not [s for s in secrets if s in answer]
    output = log_output.getvalue()
    assert "RuntimeError: search backend refused [redacted]" in output  # logged, blanked
    assert not [s for s in secrets if s in output]


async def test_the_bot_process_never_prints_a_token(tmp_path: Path) -> None:
    async with FakeSlack() as slack, FakePaperSources() as sources:
        echo = f"invalid_auth: {slack.bot_token} / {slack.app_token} / {FOREIGN_TOKEN}"
        db_path = str(tmp_path / "paperboy.db")
        store = Store(open_db(db_path))
        store.add_subscription(
            Subscription(platform="slack", workspace=slack.team_id, channel="C1", feed=Feed("hf"))
        )
        store.claim_post("slack", slack.team_id, "C1", "2605.12500")  # a crash left it pending
        store.db.close()
        # Settling the pending post reads history: Slack's error echoes the tokens (logged
        # with a traceback); so does users.info when a member tries to subscribe.
        slack.fail_next("conversations.history", 200, error=echo)
        slack.fail_next("users.info", 200, error=echo)
        bot = BotProcess(
            {
                "PAPERBOY_DB": db_path,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_SIGNING_SECRET": slack.signing_secret,
                "SLACK_API_URL": slack.api_url,
                "LOG_LEVEL": "DEBUG",
                **sources_env(sources),
            },
            tmp_path,
        )
        try:
            await bot.start()
            await wait_until(lambda: slack.calls_to("conversations.history"), timeout=15)
            await wait_until(lambda: slack.connections, timeout=15)
            payload = slack.command_payload("subscribe arxiv cs.CL", user="UMEMBER")
            await slack.deliver(payload)
            answer = str(await slack.wait_response(payload["response_url"], timeout=10))
            await wait_until(lambda: "could not check" in bot.log(), timeout=10)
            assert await bot.stop() == 0
        finally:
            await bot.aclose()
    output = bot.log()
    assert "users.info failed" in output and "[redacted]" in output  # the errors were logged
    for secret in (slack.bot_token, slack.app_token, slack.signing_secret, FOREIGN_TOKEN):
        assert secret not in output
        assert secret not in answer
