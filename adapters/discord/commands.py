"""The ``/papers`` slash-command group, generated from the core's command registry.

Each subcommand has the typed options its spec describes (int ranges, string lengths,
choices, booleans); its callback only turns the options back into command text
(``CommandSpec.text``) and hands it to ``run``; the core does the parsing, checking and
answering, the same as on Slack and in the console.

discord.py reads a command's options from its callback's signature, so each callback gets a
signature built from the spec (``__signature__``, which ``inspect.signature`` honours); the
descriptions and choices go through discord.py's own ``describe`` and ``choices``.

Subscription changes are checked at run time (Manage Channels in the channel, or
``PAPERBOY_ADMINS``). They cannot also be hidden by "default permissions": Discord only
accepts those on a top-level command, and ``/papers`` must stay usable by everyone.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from bot.commands import CommandSpec, Param, Registry

Runner = Callable[[discord.Interaction, str], Awaitable[None]]

DESCRIPTION_LIMIT = 100  # Discord's limit for command and option descriptions


def build_group(run: Runner, registry: Registry) -> app_commands.Group:
    papers = app_commands.Group(
        name="papers",
        description="Research papers: search, top voted, auto-posts",
        # Subscriptions and votes belong to a server's channels: no DMs, no user installs.
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
    )
    for spec in registry:
        papers.add_command(subcommand(spec, run))
    return papers


def subcommand(spec: CommandSpec, run: Runner) -> app_commands.Command:
    async def callback(interaction: discord.Interaction, **options: Any) -> None:
        await run(interaction, spec.text(options))

    interaction = inspect.Parameter(
        "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
    )
    # Discord lists required options first, and Python wants them before defaulted ones.
    params = sorted(spec.params, key=lambda p: not p.required)
    callback.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [interaction, *(_parameter(p) for p in params)]
    )
    app_commands.describe(**{p.name: _clip(p.description) for p in params})(callback)
    choices = {
        p.name: [Choice(name=label, value=value) for label, value in p.choice_list()]
        for p in params
        if p.choices
    }
    if choices:
        app_commands.choices(**choices)(callback)
    return app_commands.Command(
        name=spec.name, description=_clip(spec.description or spec.summary), callback=callback
    )


def _parameter(param: Param) -> inspect.Parameter:
    annotation = _annotation(param)
    if param.required:
        default: Any = inspect.Parameter.empty
    elif param.type is bool:
        default = False
    else:
        annotation = annotation | None
        default = None
    return inspect.Parameter(
        param.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def _annotation(param: Param) -> Any:
    if param.type is bool:
        return bool
    if param.choices:  # Discord takes no length or range limits beside a fixed list
        return param.type
    if param.min is None and param.max is None:
        return param.type
    if param.type is int:
        return Range[int, param.min, param.max]
    return Range[str, param.min, param.max]


def _clip(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"
