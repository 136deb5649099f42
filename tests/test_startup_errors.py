"""Start-up errors: what a new user gets wrong gives one line that says what to fix.

Each test runs the real command line (``main()`` or the process) and reads its stderr and
exit code: a bad setting, an unwritable database, a bad platform token or no network.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.cli import main
from adapters.registry import PLATFORMS
from bot.config import Settings
from tests.botprocess import BotProcess, clean_env, sources_env
from tests.fakes.discord import FakeDiscord
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources
from tests.fakes.slack import FakeSlack

ALL_SETTINGS = [
    (cls, f)
    for cls in (Settings, *(type(p.read_settings({})) for p in PLATFORMS))
    for f in cls.__dataclass_fields__
]


def _bad_values() -> list[tuple[str, str]]:
    """A value that cannot work for every setting that can be wrong, from its type and name."""
    cases = [
        ("LOG_LEVEL", "bogus"),
        ("POLL_INTERVAL", "0"),
        ("POLL_INTERVAL", "nan"),
        ("MAX_POSTS_PER_POLL", "-3"),
        ("HTTP_RETRIES", "-1"),
        ("PORT", "70000"),
        ("DISCORD_GUILD_ID", "my-server"),
        ("DISCORD_GATEWAY_URL", "https://gateway.discord.gg/"),
        ("DISCORD_SHARD_IDS", "0-3"),  # without DISCORD_SHARD_COUNT
        ("DISCORD_SHARD_COUNT", "-1"),
        ("DISCORD_REQUESTS_PER_SECOND", "80"),
    ]
    for cls, name in ALL_SETTINGS:
        default = cls.__dataclass_fields__[name].default
        if isinstance(default, int | float):
            cases.append((cls.env_name(name), "often"))
        elif name.endswith("_url"):
            cases.append((cls.env_name(name), "example.org/api"))
    return cases


def _run_main(argv: list[str], env: dict[str, str], monkeypatch, tmp_path) -> int:
    monkeypatch.chdir(tmp_path)  # no .env here
    for key in [k for k in os.environ if k.startswith(("SLACK_", "DISCORD_", "PAPERBOY_"))]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return main(argv)


@pytest.mark.parametrize(("name", "value"), _bad_values())
def test_a_bad_setting_is_one_line_that_names_it(name, value, monkeypatch, tmp_path, capsys):
    assert _run_main(["run"], {name: value}, monkeypatch, tmp_path) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"paperboy: {name}=")
    assert "Traceback" not in err


def test_log_level_bogus_in_the_real_process(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "run"],
        env=clean_env({"LOG_LEVEL": "bogus", "PAPERBOY_DB": str(tmp_path / "p.db")}),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "paperboy: LOG_LEVEL='bogus' is not one of DEBUG, INFO, WARNING, ERROR\n"
    )
    assert not (tmp_path / "p.db").exists()  # stopped before touching anything


def _unwritable(tmp_path: Path) -> str:
    if os.geteuid() == 0:  # root writes anywhere a permission would stop others
        return "/proc/paperboy/paperboy.db"
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    return str(locked / "paperboy.db")


def test_a_database_in_a_read_only_place_is_one_line(tmp_path) -> None:
    db_path = _unwritable(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "run"],
        env=clean_env({"PAPERBOY_DB": db_path}),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"paperboy: PAPERBOY_DB={db_path!r}: cannot create")
    assert "choose a writable place" in result.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _problems(log: str) -> list[str]:
    """The log's lines that are not INFO chatter (and not BotProcess's start marker)."""
    return [
        line
        for line in log.splitlines()
        if line.strip() and not line.startswith("---") and " INFO " not in line
    ]


async def test_a_bad_slack_token_is_one_line_and_discord_keeps_running(tmp_path) -> None:
    async with FakePaperSources() as sources, FakeSlack() as slack, FakeDiscord() as discord:
        env = {
            "PAPERBOY_DB": str(tmp_path / "p.db"),
            "LOG_LEVEL": "INFO",
            "SLACK_BOT_TOKEN": "xoxb-revoked-0000",
            "SLACK_APP_TOKEN": slack.app_token,
            "SLACK_API_URL": slack.api_url,
            **discord.env(),
            **sources_env(sources),
        }
        bot = BotProcess(env, tmp_path)
        try:
            await bot.start()
            await wait_until(lambda: "Discord connected" in bot.log(), timeout=30)
            interaction = await discord.inject_interaction("help")
            await wait_until(lambda: interaction.replies, timeout=10)  # Discord answers
            assert bot.running
            assert await bot.stop() == 0
        finally:
            await bot.aclose()
    problems = _problems(bot.log())
    assert len(problems) == 1, problems
    assert "ERROR" in problems[0]
    assert "Slack did not start: Slack refused SLACK_BOT_TOKEN (invalid_auth)" in problems[0]
    assert "check the token" in problems[0]
    assert "xoxb-revoked-0000" not in bot.log()
    assert "will be unused" not in bot.log()  # Bolt is not given both a token and a client
    assert slack.connections == 0


async def test_no_network_is_one_line_per_platform_and_exit_1(tmp_path) -> None:
    nowhere = f"http://127.0.0.1:{_closed_port()}"
    env = clean_env(
        {
            "PAPERBOY_DB": str(tmp_path / "p.db"),
            "LOG_LEVEL": "INFO",
            "SLACK_BOT_TOKEN": "xoxb-1-2-3",
            "SLACK_APP_TOKEN": "xapp-1-2-3",
            "SLACK_API_URL": f"{nowhere}/api/",
            "DISCORD_TOKEN": "MTIz.abc.def",
            "DISCORD_API_URL": f"{nowhere}/api/v10",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:1/",
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        "run",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert stdout == b""
    problems = _problems(stderr.decode())
    assert len(problems) == 2, problems
    slack_line, discord_line = problems
    assert f"Slack did not start: could not reach Slack at {nowhere}/api/" in slack_line
    assert "check the network connection and SLACK_API_URL" in slack_line
    assert f"Discord did not start: could not reach Discord at {nowhere}/api/v10" in discord_line
    assert "check the network connection and DISCORD_API_URL" in discord_line
    assert "Traceback" not in stderr.decode()
