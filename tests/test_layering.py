"""The core stays platform-neutral: nothing under bot/ or storage/ pulls in a platform SDK."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import bot
import storage

ROOT = Path(__file__).resolve().parent.parent
SDKS = ("slack_bolt", "slack_sdk", "discord", "adapters")


def test_core_modules_import_no_platform_sdk() -> None:
    modules = [
        m.name
        for package in (bot, storage)
        for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    ]
    # bot.cli is the entry point: it reaches the adapters only inside the command that runs
    # them, and is checked the same way (its import alone must not load them).
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {SDKS!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "bot.core" in modules and "bot.cli" in modules
    assert result.stdout.strip() == "[]"
