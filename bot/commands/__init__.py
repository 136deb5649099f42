"""The ``/papers`` commands: one registry, filled by the theme modules imported below.

Adding a command: write its spec and handler in a module here (or in an existing theme
module) with ``@REGISTRY.command(...)``, and import that module below. Help, the console and
Slack parser, and the Discord app-command group all follow.
"""

from __future__ import annotations

from bot.commands.spec import (
    CommandError,
    CommandSpec,
    Param,
    ParsedCommand,
    Registry,
    parse_int,
)

REGISTRY = Registry()

# Imported for their registrations, in the order help lists them.
from bot.commands import lookups, citations, votes, taste, follows, subscriptions, help  # noqa: E402, F401, I001


def parse_command(text: str) -> ParsedCommand:
    """Parse with the default registry (a bot may be given another)."""
    return REGISTRY.parse(text)


__all__ = [
    "REGISTRY",
    "CommandError",
    "CommandSpec",
    "Param",
    "ParsedCommand",
    "Registry",
    "parse_command",
    "parse_int",
]
