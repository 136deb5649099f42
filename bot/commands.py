"""The ``/papers`` command language, parsed once for every platform.

A command is ``<name> <arguments>``; arguments are words, quoted phrases and ``key=value``
options (values may be comma-separated lists). Parsing never raises anything but
``CommandError``, whose message is shown to the user as is.
"""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass

MAX_COMMAND_CHARS = 1000


class CommandError(ValueError):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or "See `/papers help` for how each command is used."


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    admin_only: bool = False


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "search",
        "search <words> [author:NAME] [cat:cs.CL] [since:YYYY-MM-DD]",
        "find papers (best 5 matches)",
    ),
    CommandSpec("show", "show <arXiv id or URL>", "one paper as a card"),
    CommandSpec("top", "top [day|week|month|all] [public]", "what this team upvoted most"),
    CommandSpec("today", "today [public]", "today's Hugging Face Daily Papers by upvotes"),
    CommandSpec(
        "subscribe",
        "subscribe hf [min_upvotes=N] [keywords=a,b] [authors=x,y]",
        "auto-post new Hugging Face Daily Papers here (admins)",
        admin_only=True,
    ),
    CommandSpec(
        "subscribe",
        "subscribe arxiv <category> [keywords=a,b] [authors=x,y]",
        "auto-post new arXiv papers of a category here (admins)",
        admin_only=True,
    ),
    CommandSpec(
        "unsubscribe", "unsubscribe <id|all>", "stop a subscription (admins)", admin_only=True
    ),
    CommandSpec("subscriptions", "subscriptions", "what this channel is subscribed to"),
    CommandSpec("help", "help", "this list"),
)
COMMAND_NAMES = tuple(dict.fromkeys(spec.name for spec in COMMANDS))
ADMIN_COMMANDS = frozenset(spec.name for spec in COMMANDS if spec.admin_only)


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    rest: str  # the raw text after the name
    words: tuple[str, ...]  # positional arguments
    options: dict[str, str]  # key=value arguments, keys lower-cased

    def option_list(self, key: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in self.options.get(key, "").split(",") if v.strip())


def parse_command(text: str) -> ParsedCommand:
    text = text.strip()
    if len(text) > MAX_COMMAND_CHARS:
        raise CommandError(
            f"That command is {len(text):,} characters long; the limit is {MAX_COMMAND_CHARS:,}.",
            "Shorten it and try again.",
        )
    # People paste "/papers search x" into the text box, or type the name in capitals.
    if text.lower().startswith("/papers"):
        text = text[len("/papers") :].strip()
    if not text:
        return ParsedCommand("help", "", (), {})
    name, _, rest = text.partition(" ")
    name = name.lower()
    if name not in COMMAND_NAMES:
        close = difflib.get_close_matches(name, COMMAND_NAMES, n=1)
        hint = f"Did you mean `/papers {close[0]}`?" if close else "Try `/papers help`."
        raise CommandError(f"I don't know the command `{name[:40]}`.", hint)
    words, options = _split_arguments(rest)
    return ParsedCommand(name, rest.strip(), tuple(words), options)


def _split_arguments(rest: str) -> tuple[list[str], dict[str, str]]:
    try:
        tokens = shlex.split(rest)
    except ValueError:
        # An unbalanced quote: still usable word by word.
        tokens = rest.replace('"', " ").replace("'", " ").split()
    words: list[str] = []
    options: dict[str, str] = {}
    for token in tokens:
        key, eq, value = token.partition("=")
        if eq and key and key.replace("_", "").isalpha():
            options[key.lower()] = value
        else:
            words.append(token)
    return words, options


def parse_int(value: str, name: str, minimum: int = 0, maximum: int = 1_000_000) -> int:
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"`{name}` must be a whole number, not `{value[:40]}`.") from None
    if not minimum <= number <= maximum:
        raise CommandError(f"`{name}` must be between {minimum} and {maximum:,}.")
    return number
