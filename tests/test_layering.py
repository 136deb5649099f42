"""Dependencies run one way: adapters -> core (bot/) -> storage -> model (bot/model/).

The model is a leaf; storage imports only the model; the core never imports adapters or a
platform SDK. Imports are read from the source (every ``import``, also inside functions),
so a lazy import cannot slip past; a subprocess also checks what importing the core loads.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import bot
import storage

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("bot", "storage", "adapters", "tests", "benchmarks")
SDKS = ("slack_bolt", "slack_sdk", "discord", "aiohttp")

# The CLI is the composition root and still lives in bot/: it reaches the adapters only
# inside the command that runs them. It moves out of bot/ with the platform registry.
KNOWN_EXCEPTIONS = {("bot/cli.py", "adapters")}


@dataclass(frozen=True)
class Import:
    path: str  # relative to the repository, e.g. "bot/core.py"
    line: int
    module: str  # the imported module, e.g. "storage.store"

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def imports_under(folder: str) -> list[Import]:
    found = []
    for file in sorted((ROOT / folder).rglob("*.py")):
        path = file.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(file.read_text("utf-8"), path)):
            if isinstance(node, ast.Import):
                found += [Import(path, node.lineno, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append(Import(path, node.lineno, node.module))
    return found


def layer(module_or_path: str) -> str:
    """ "model", "core", "storage", "adapters", "tests", "benchmarks", or "" (not ours)."""
    name = module_or_path.removesuffix(".py").replace("/", ".")
    top = name.split(".")[0]
    if name == "bot.model" or name.startswith("bot.model."):
        return "model"
    if top == "bot":
        return "core"
    return top if top in PROJECT else ""


# For each layer, the project layers it may import.
ALLOWED = {
    "model": {"model"},
    "storage": {"storage", "model"},
    "core": {"core", "storage", "model"},
}
WHY = {
    "model": "the model (bot/model/) is a leaf: it imports nothing else of the project",
    "storage": "storage imports only the model (bot.model), never the core or adapters",
    "core": "the core (bot/) never imports adapters or tests",
}


def violations() -> list[str]:
    found = []
    for folder in ("bot", "storage"):
        for imp in imports_under(folder):
            source, target = layer(imp.path), layer(imp.module)
            if (imp.path, target) in KNOWN_EXCEPTIONS:
                continue
            if target and target not in ALLOWED[source]:
                found.append(f"{imp}: {WHY[source]}")
            if imp.module.split(".")[0] in SDKS:
                found.append(
                    f"{imp}: platform SDKs belong in adapters/, never under bot/ or storage/"
                )
    return found


def test_dependencies_run_one_way() -> None:
    found = violations()
    assert not found, "Layering broken (adapters -> core -> storage -> model):\n" + "\n".join(found)


def test_the_checker_sees_every_kind_of_import(tmp_path, monkeypatch) -> None:
    """The rule above could pass by reading nothing: prove it catches each kind."""
    fake = tmp_path / "bot" / "model"
    fake.mkdir(parents=True)
    (tmp_path / "storage").mkdir()
    (fake / "leaf.py").write_text("import storage.store\nfrom bot.core import Bot\n")
    (tmp_path / "storage" / "s.py").write_text(
        "def f():\n    from bot.poster import Poster\n    import discord\n"
    )
    (tmp_path / "bot" / "c.py").write_text("from adapters.memory import MemoryAdapter\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = violations()
    assert [line.split(":")[0:2] for line in found] == [
        ["bot/c.py", "1 imports adapters.memory"],
        ["bot/model/leaf.py", "1 imports storage.store"],
        ["bot/model/leaf.py", "2 imports bot.core"],
        ["storage/s.py", "2 imports bot.poster"],
        ["storage/s.py", "3 imports discord"],
    ]


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
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {(*SDKS, 'adapters')!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "bot.core" in modules and "bot.cli" in modules and "bot.model.feed" in modules
    assert result.stdout.strip() == "[]"
