"""The real paperboy process (``python -m adapters.cli run``) driven from a test.

The fakes (Slack, Discord, paper sources) run in the test process and outlive the bot, so a
test can kill the bot with SIGKILL at any moment, start it again and look at what the fakes
saw. Output goes to one log file per process, appended across restarts.

A bot starts either as a fresh interpreter (``python -m adapters.cli run``) or, when given a
``Zygote``, forked from a process that has already imported paperboy: the same
``adapters.cli.main(["run"])`` in a separate process, minus a second of imports per start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

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
        "BIORXIV_API_URL": urls["biorxiv_api_url"],
        "ARXIV_MIN_INTERVAL": "0",
        "HTTP_TIMEOUT": "2",
        "HTTP_RETRIES": "1",
    }


def clean_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    return {
        **{k: os.environ[k] for k in _INHERITED if k in os.environ},
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }


class Process(Protocol):
    """What BotProcess needs of a child process (asyncio's, or a forked one)."""

    pid: int

    @property
    def returncode(self) -> int | None: ...
    def kill(self) -> None: ...
    def send_signal(self, signum: int) -> None: ...
    async def wait(self) -> int: ...


class Zygote:
    """The test side of ``tests/zygote.py``: forks bots on request, reports their exits."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._pids: asyncio.Queue[int] = asyncio.Queue()
        self._exits: dict[int, int] = {}
        self._exited = asyncio.Condition()
        self._lock = asyncio.Lock()

    async def start(self) -> Zygote:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.zygote",
            cwd=ROOT,
            env=clean_env(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        ready = await asyncio.wait_for(self._proc.stdout.readline(), 30)
        assert ready.strip() == b"ready", ready
        self._reader = asyncio.create_task(self._read())
        return self

    async def aclose(self) -> None:
        if self._proc is None:
            return
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        await self._proc.wait()
        if self._reader is not None:
            await self._reader

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for line in self._proc.stdout:
            kind, *values = line.decode().split()
            if kind == "pid":
                self._pids.put_nowait(int(values[0]))
            elif kind == "exit":
                async with self._exited:
                    self._exits[int(values[0])] = int(values[1])
                    self._exited.notify_all()

    async def spawn(self, env: Mapping[str, str], cwd: Path, log: Path) -> Process:
        assert self._proc is not None and self._proc.stdin is not None, "start it first"
        async with self._lock:  # pids come back in request order
            request = {"env": dict(env), "cwd": str(cwd), "log": str(log)}
            self._proc.stdin.write((json.dumps(request) + "\n").encode())
            await self._proc.stdin.drain()
            pid = await asyncio.wait_for(self._pids.get(), 10)
        return _Forked(self, pid)

    def exit_code(self, pid: int) -> int | None:
        return self._exits.get(pid)

    async def wait(self, pid: int) -> int:
        async with self._exited:
            await self._exited.wait_for(lambda: pid in self._exits)
        return self._exits[pid]


class _Forked:
    def __init__(self, zygote: Zygote, pid: int) -> None:
        self.zygote = zygote
        self.pid = pid

    @property
    def returncode(self) -> int | None:
        return self.zygote.exit_code(self.pid)

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        return await self.zygote.wait(self.pid)


class BotProcess:
    """One bot, started and stopped (or killed) as often as a test likes."""

    def __init__(
        self, env: Mapping[str, str], workdir: Path, name: str = "bot", zygote: Zygote | None = None
    ) -> None:
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.env = clean_env({"LOG_LEVEL": "WARNING", **env})
        self.zygote = zygote
        self.starts = 0
        self._proc: Process | None = None

    @property
    def db_path(self) -> str:
        return self.env["PAPERBOY_DB"]

    @property
    def pid(self) -> int | None:
        """The running bot's process id (None before a start and after a stop or kill)."""
        return self._proc.pid if self.running and self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def exit_code(self) -> int | None:
        return None if self._proc is None else self._proc.returncode

    @property
    def crashed(self) -> bool:
        """It ended without being asked to."""
        return self._proc is not None and self._proc.returncode is not None

    async def start(self) -> None:
        """Start the bot: forked from the zygote if there is one, else a fresh interpreter."""
        assert not self.running, "already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
        # The working directory has no .env: the bot sees exactly self.env.
        if self.zygote is not None:
            self._proc = await self.zygote.spawn(self.env, self.workdir, self.log_path)
            return
        with self.log_path.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "adapters.cli",
                "run",
                cwd=self.workdir,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
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
