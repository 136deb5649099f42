"""Start-up to ready: a new ``paperboy`` process, its database opened, its search index
opened (not rebuilt), one ``/papers search`` answered. Python's own start is included.
And the console's start offline, to its prompt."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

_CHILD = """
import asyncio
from adapters.launch import build_bot
from adapters.memory import MemoryAdapter
from bot.config import Settings
bot = build_bot(Settings(db_path={db!r}))
chat = MemoryAdapter(bot)
reply = asyncio.run(chat.command("search model"))  # enough local hits: no HF call
print("ready", type(reply).__name__, flush=True)
"""


def startup_seconds(db_path: Path, repeats: int = 3) -> float:
    """Median wall time from spawning the process to its first answer."""
    times = []
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for _ in range(repeats):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _CHILD.format(db=str(db_path))],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        times.append(time.perf_counter() - started)
        if not out.stdout.startswith("ready"):
            raise RuntimeError(f"start-up failed: {out.stdout} {out.stderr}")
    return statistics.median(times)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def offline_prompt_seconds(work: Path, repeats: int = 3) -> float:
    """Median wall time from ``paperboy run`` (the console, a fresh database, every paper
    source at a closed port) to its prompt line: what a new user offline waits."""
    times = []
    for attempt in range(repeats):
        dead = f"http://127.0.0.1:{_closed_port()}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
            "PAPERBOY_DB": str(work / f"offline-{attempt}.db"),
            "HF_API_URL": f"{dead}/api",
            "ARXIV_API_URL": f"{dead}/api/query",
            "ARXIV_RSS_URL": f"{dead}/rss",
        }
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "run"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert process.stdout is not None and process.stdin is not None
        for line in process.stdout:
            if line.startswith("Type /papers help"):
                break
        else:
            raise RuntimeError("the console ended before its prompt")
        times.append(time.perf_counter() - started)
        process.stdin.close()
        process.wait(timeout=60)
    return statistics.median(times)
