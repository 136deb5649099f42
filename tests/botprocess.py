"""The real paperboy process (``python -m bot.cli run``) driven from a test.

The fakes (Slack, Discord, paper sources) run in the test process and outlive the bot, so a
test can kill the bot with SIGKILL at any moment, start it again and look at what the fakes
saw. Output goes to one log file per process, appended across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.fakes.paper_sources import FakePaperSources

ROOT = Path(__file__).resolve().parent.parent

# What a test process passes on to the bot: enough to run Python, nothing that could carry
# a developer's real tokens (SLACK_*, DISCORD_* or a .env in the working directory).
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def sources_env(sources: FakePaperSources) -> dict[str, str]:
    """Paper sources at the fake, with test-speed timeouts and retries."""
    urls = sources.base_urls
    return {
        "HF_API_URL": urls["hf_api_url"],
        "ARXIV_API_URL": urls["arxiv_api_url"],
        "ARXIV_RSS_URL": urls["arxiv_rss_url"],
        "ARXIV_MIN_INTERVAL": "0",
        "HTTP_TIMEOUT": "2",
        "HTTP_RETRIES": "1",
    }


class BotProcess:
    """One bot, started and stopped (or killed) as often as a test likes."""

    def __init__(self, env: Mapping[str, str], workdir: Path, name: str = "bot") -> None:
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.env = {
            **{k: os.environ[k] for k in _INHERITED if k in os.environ},
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.starts = 0
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def db_path(self) -> str:
        return self.env["PAPERBOY_DB"]

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def crashed(self) -> bool:
        """It ended without being asked to."""
        return self._proc is not None and self._proc.returncode is not None

    async def start(self) -> None:
        assert not self.running, "already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            # The working directory has no .env: the bot sees exactly self.env.
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run",
                cwd=self.workdir, env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=log,
            )

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the bot."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()

    async def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, the way a service manager stops it; returns the exit code."""
        proc, self._proc = self._proc, None
        assert proc is not None, "not started"
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(
                f"the bot did not stop within {timeout}s\n{self.log_tail()}"
            ) from None

    async def aclose(self) -> None:
        await self.kill()

    def log(self) -> str:
        with contextlib.suppress(FileNotFoundError):
            return self.log_path.read_text(errors="replace")
        return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def read_rows(db_path: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the bot's database from outside, as Datasette would (read-only, WAL allows it)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
