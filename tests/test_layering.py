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
import tomllib
from dataclasses import dataclass
from pathlib import Path

import bot
import storage

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("bot", "storage", "adapters", "tests", "benchmarks")
SDKS = ("slack_bolt", "slack_sdk", "discord", "aiohttp")


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
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {(*SDKS, 'adapters')!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "bot.core" in modules and "bot.model.feed" in modules
    assert result.stdout.strip() == "[]"


PLATFORM_WORDS = ("slack", "discord")


def _names_in(tree: ast.AST) -> list[tuple[int, str]]:
    """Every identifier, attribute, argument, imported name and (non-docstring) string."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name):
            found.append((line, node.id))
        elif isinstance(node, ast.Attribute):
            found.append((line, node.attr))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.append((line, node.name))
        elif isinstance(node, ast.arg | ast.keyword) and node.arg:
            found.append((line, node.arg))
        elif isinstance(node, ast.alias):
            found.extend((line, n) for n in (node.name, node.asname) if n)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((line, node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            is_docstring = id(node) in docstrings
            found.extend([] if is_docstring else [(line, node.value)])
    return found


def test_the_core_names_no_platform() -> None:
    """Platforms live in their adapter packages: bot/ code never names one."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {name!r}"
        for path in sorted((ROOT / "bot").rglob("*.py"))
        for line, name in _names_in(ast.parse(path.read_text(), str(path)))
        if any(word in name.lower() for word in PLATFORM_WORDS)
    ]
    assert offenders == []


def test_the_platform_check_sees_identifiers_and_strings() -> None:
    tree = ast.parse(
        '"""Docs may say Slack."""\n'
        "from adapters.slack import x\n"
        "def f(discord_token):\n    return settings.slack_enabled or 'discord'\n"
    )
    hits = [n for _, n in _names_in(tree) if any(w in n.lower() for w in PLATFORM_WORDS)]
    assert sorted(hits) == ["adapters.slack", "discord", "discord_token", "slack_enabled"]


def test_the_composition_root_lives_outside_the_core() -> None:
    """The CLI and the wiring are adapters/cli.py and adapters/launch.py, not under bot/."""
    assert not (ROOT / "bot" / "cli.py").exists()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"paperboy": "adapters.cli:main"}


def test_each_platform_is_one_package_listed_in_the_registry() -> None:
    from adapters.registry import PLATFORMS

    packages = {
        path.parent.name
        for path in (ROOT / "adapters").glob("*/__init__.py")
        if (path.parent / "settings.py").exists()
    }
    assert {p.name for p in PLATFORMS} == packages == {"slack", "discord"}
    for platform in PLATFORMS:
        # Its settings, secrets and log needs come from its own package.
        module = sys.modules[f"adapters.{platform.name}"]
        assert module.PLATFORM is platform
        assert platform.read_settings({}).enabled is False
        assert platform.env_names and platform.quiet_loggers
