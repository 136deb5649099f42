"""What a ``/papers`` command is: one spec (name, typed parameters, who may run it, help) and
one handler, kept in a ``Registry``.

Everything platform-facing is generated from the registry: help, the text parser the console
and Slack use (``Registry.parse``), the command text a typed Discord option set turns into
(``CommandSpec.text``) and, in the Discord adapter, the app-command group itself.

The text language: ``<name> <arguments>``; arguments are words, quoted phrases, flag words
(``public``) and ``key=value`` options (values may be comma-separated lists). A command with a
``rest`` parameter (search) gets everything after its name as typed. Parsing never raises
anything but ``CommandError``, whose message is shown to the user as is.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.events import CommandInvoked
    from bot.replies import Reply

MAX_COMMAND_CHARS = 1000

# How a parameter is written in command text:
#   word    a positional word ("show 2401.12345"); ``many`` takes all remaining words
#   rest    everything after the command name, raw (search reads its own filter syntax)
#   filter  ``key:value`` inside the rest text ("author:ho", "cat:cs.CL")
#   option  ``key=value``
#   flag    a bare word that switches something on ("public", "all")
Kind = Literal["word", "rest", "filter", "option", "flag"]

# (label people see, value the command gets); a callable is asked each time it is needed,
# so a list kept elsewhere (the paper sources) stays the one source of truth.
Choice = tuple[str, str]
Choices = Sequence[Choice] | Callable[[], Sequence[Choice]]

Value = str | int | bool | tuple[str | int, ...]


class CommandError(ValueError):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or "See `/papers help` for how each command is used."


@dataclass(frozen=True)
class Param:
    name: str  # also the Discord option name
    description: str  # the Discord option description (at most 100 characters)
    type: type = str  # str, int or bool
    kind: Kind = "word"
    required: bool = False
    min: int | None = None  # int: smallest value; str: shortest length
    max: int | None = None  # int: largest value; str: longest length
    choices: Choices = ()
    usage: str = ""  # how help shows it, e.g. "<arXiv id or URL>", "author:NAME"
    key: str = ""  # the text key of a filter/option, or the word of a flag; default: name
    many: bool = False  # a word parameter taking every remaining word (text only)

    @property
    def text_key(self) -> str:
        return self.key or self.name

    def choice_list(self) -> list[Choice]:
        return list(self.choices() if callable(self.choices) else self.choices)

    def help_usage(self) -> str:
        shown = (
            self.usage
            or {
                "word": self.name,
                "rest": self.name,
                "filter": f"{self.text_key}:{self.name.upper()}",
                "option": f"{self.text_key}=N" if self.type is int else f"{self.text_key}=…",
                "flag": self.text_key,
            }[self.kind]
        )
        if shown.startswith(("<", "[")):
            return shown
        return f"<{shown}>" if self.required else f"[{shown}]"

    def to_int(self, text: str) -> int:
        # Subscription ids are listed as "#3", so "#3" is read as 3.
        value = parse_int(text.removeprefix("#"), self.name, self.min or 0, _int_max(self))
        return value


def _int_max(param: Param) -> int:
    return param.max if param.max is not None else 10**12


Handler = Callable[["Bot", "CommandInvoked", "ParsedCommand"], Awaitable["Reply"]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    summary: str  # one line for help
    handler: Handler
    params: tuple[Param, ...] = ()
    admin_only: bool = False
    description: str = ""  # Discord's one line (at most 100 characters); default: summary
    # Help lines (usage, summary) when one generated line does not say it well, e.g. one
    # line per paper source; a callable is asked each time help is shown.
    help_lines: Sequence[tuple[str, str]] | Callable[[], Sequence[tuple[str, str]]] = ()

    def usage(self) -> str:
        return " ".join([self.name, *(p.help_usage() for p in self.params)])

    def help(self) -> list[tuple[str, str]]:
        lines = self.help_lines() if callable(self.help_lines) else self.help_lines
        return [(f"/papers {u}", s) for u, s in lines] or [
            (f"/papers {self.usage()}", self.summary)
        ]

    def usage_hint(self) -> str:
        return "Usage: " + "; ".join(f"`{usage}`" for usage, _ in self.help())

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def text(self, values: Mapping[str, object]) -> str:
        """The command text typed options stand for, quoted the way ``parse`` reads it."""
        parts = [self.name]
        for param in self.params:
            value = values.get(param.name)
            if value is None or value is False or value == "":
                continue
            match param.kind:
                case "flag":
                    parts.append(param.text_key)
                case "rest":
                    parts.append(str(value).strip())
                case "word":
                    parts.append(shlex.quote(str(value).strip()))
                case "option":
                    parts.append(shlex.quote(f"{param.text_key}={value}"))
                case "filter":
                    parts.append(_filter_text(param.text_key, str(value)))
        return " ".join(p for p in parts if p)


def _filter_text(key: str, value: str) -> str:
    # The search filter syntax takes key:"words"; a quote inside would end it early.
    value = value.replace('"', " ").strip()
    if value and not any(c.isspace() for c in value):
        return f"{key}:{value}"
    return f'{key}:"{value}"'


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    rest: str  # the raw text after the name
    words: tuple[str, ...]  # positional arguments
    options: dict[str, str]  # key=value arguments, keys lower-cased
    flags: frozenset[str] = frozenset()  # flag words given, lower-cased
    values: dict[str, Value] = field(default_factory=dict)  # by parameter name, typed

    def option_list(self, key: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in self.options.get(key, "").split(",") if v.strip())

    def flag(self, word: str) -> bool:
        return word in self.flags


class Registry:
    """The commands paperboy knows, in the order help lists them."""

    def __init__(self, specs: Iterable[CommandSpec] = ()) -> None:
        self._specs: dict[str, CommandSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: CommandSpec) -> CommandSpec:
        if spec.name in self._specs:
            raise ValueError(f"command {spec.name!r} is registered twice")
        self._specs[spec.name] = spec
        return spec

    def command(
        self, name: str, summary: str, *params: Param, **details: object
    ) -> Callable[[Handler], Handler]:
        """Register the decorated handler as ``name``; ``details`` are the other spec fields."""

        def register(handler: Handler) -> Handler:
            self.register(CommandSpec(name, summary, handler, params, **details))  # type: ignore[arg-type]
            return handler

        return register

    def copy(self) -> Registry:
        return Registry(self._specs.values())

    def __iter__(self):
        return iter(self._specs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __getitem__(self, name: str) -> CommandSpec:
        return self._specs[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def help(self) -> tuple[tuple[str, str], ...]:
        return tuple(line for spec in self for line in spec.help())

    def parse(self, text: str) -> ParsedCommand:
        text = text.strip()
        if len(text) > MAX_COMMAND_CHARS:
            raise CommandError(
                f"That command is {len(text):,} characters long; "
                f"the limit is {MAX_COMMAND_CHARS:,}.",
                "Shorten it and try again.",
            )
        # People paste "/papers search x" into the text box, or type the name in capitals.
        if text.lower().startswith("/papers"):
            text = text[len("/papers") :].strip()
        if not text:
            text = "help"
        name, *after = text.split(maxsplit=1)  # any whitespace separates, tabs and newlines too
        name = name.lower()
        rest = after[0].strip() if after else ""
        if name not in self._specs:
            close = difflib.get_close_matches(name, self.names, n=1)
            hint = f"Did you mean `/papers {close[0]}`?" if close else "Try `/papers help`."
            raise CommandError(f"I don't know the command `{name[:40]}`.", hint)
        return _parse_arguments(self._specs[name], rest)


def _parse_arguments(spec: CommandSpec, rest: str) -> ParsedCommand:
    raw = next((p for p in spec.params if p.kind == "rest"), None)
    if raw is not None:  # the handler reads the text itself (search and its filters)
        return ParsedCommand(spec.name, rest, (), {}, values={raw.name: rest} if rest else {})

    options_by_key = {p.text_key: p for p in spec.params if p.kind == "option"}
    flags_by_word = {p.text_key: p for p in spec.params if p.kind == "flag"}
    positional = [p for p in spec.params if p.kind == "word"]
    words: list[str] = []
    options: dict[str, str] = {}
    flags: set[str] = set()
    values: dict[str, Value] = {}
    for token in _tokens(rest):
        key, eq, value = token.partition("=")
        if eq and key and key.replace("_", "").isalpha():
            key = key.lower()
            param = options_by_key.get(key)
            if param is None:
                raise CommandError(f"`{spec.name}` has no option `{key[:40]}`.", spec.usage_hint())
            if key in options:
                raise CommandError(f"`{key}` is given twice; give it once.", spec.usage_hint())
            options[key] = value
            values[param.name] = param.to_int(value) if param.type is int else value
        elif token.lower() in flags_by_word:
            flags.add(token.lower())
            values[flags_by_word[token.lower()].name] = True
        else:
            words.append(token)
    _assign_words(spec, positional, words, values)
    return ParsedCommand(spec.name, rest, tuple(words), options, frozenset(flags), values)


def _assign_words(
    spec: CommandSpec, positional: list[Param], words: list[str], values: dict[str, Value]
) -> None:
    remaining = list(words)
    for param in positional:
        if not remaining:
            break
        taken = remaining if param.many else remaining[:1]
        remaining = remaining[len(taken) :]
        typed = tuple(param.to_int(w) if param.type is int else w for w in taken)
        values[param.name] = typed if param.many else typed[0]
    if remaining:
        raise CommandError(f"I don't understand `{remaining[0][:40]}`.", spec.usage_hint())


def _tokens(rest: str) -> list[str]:
    try:
        return shlex.split(rest)
    except ValueError:
        # An unbalanced quote: still usable word by word.
        return rest.replace('"', " ").replace("'", " ").split()


def parse_int(value: str, name: str, minimum: int = 0, maximum: int = 1_000_000) -> int:
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"`{name}` must be a whole number, not `{value[:40]}`.") from None
    if not minimum <= number <= maximum:
        raise CommandError(f"`{name}` must be between {minimum:,} and {maximum:,}.")
    return number
