"""Start-up to ready: a new ``paperboy`` process, its database opened, its search index
opened (not rebuilt), one ``/papers search`` answered. Python's own start is included."""

from __future__ import annotations

import os
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
