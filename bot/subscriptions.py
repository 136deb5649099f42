"""``/papers subscribe <source> <parameters> [filters]``: from command words to a Subscription.

The source (from the registry) reads its own parameters; the filters are the same for all.
"""

from __future__ import annotations

from bot.commands.spec import CommandError, ParsedCommand, parse_int
from bot.model.subscription import Subscription
from bot.sources.base import ParamsError
from bot.sources.registry import Sources

MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 100
FILTERS = ("min_upvotes", "keywords", "authors", "taste")
TASTE_MAX = 25
_EXAMPLES = {"keywords": "agents,memory", "authors": "hinton,lecun"}


def parse_subscribe(command: ParsedCommand, sources: Sources) -> Subscription:
    """The subscription ``command`` asks for (not saved: ``id`` 0, no channel yet)."""
    examples = [f"`/papers subscribe {s.example}`" for s in sources]
    hint = "Try " + " or ".join(examples) + "."
    try:
        source, feed = sources.parse_feed(command.words)
    except ParamsError as exc:
        raise CommandError(exc.message, exc.hint or hint) from None
    unknown = set(command.options) - set(FILTERS)
    if unknown:
        raise CommandError(f"Unknown option `{sorted(unknown)[0][:40]}`.", hint)
    if "min_upvotes" in command.options and not source.has_upvotes:
        with_upvotes = " or ".join(f"`{s.name}`" for s in sources if s.has_upvotes)
        raise CommandError(
            f"{source.label} has no upvotes; `min_upvotes` only works with {with_upvotes}.", hint
        )
    return Subscription(
        feed=feed,
        min_upvotes=parse_int(command.options.get("min_upvotes", "0"), "min_upvotes"),
        keywords=_values(command, "keywords"),
        authors=_values(command, "authors"),
        taste=parse_int(command.options.get("taste", "0"), "taste", 1, TASTE_MAX)
        if "taste" in command.options
        else 0,
    )


def _values(command: ParsedCommand, key: str) -> tuple[str, ...]:
    if key not in command.options:
        return ()
    values = command.option_list(key)
    if not values:
        # `keywords=` with nothing after it would quietly let every paper through.
        raise CommandError(
            f"`{key}=` needs at least one value.",
            f"For example `{key}={_EXAMPLES[key]}`; leave `{key}` out to keep every paper.",
        )
    if len(values) > MAX_FILTER_VALUES or any(len(v) > MAX_FILTER_CHARS for v in values):
        raise CommandError(
            f"`{key}` takes at most {MAX_FILTER_VALUES} values of {MAX_FILTER_CHARS} characters."
        )
    return values
