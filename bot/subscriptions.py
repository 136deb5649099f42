"""``/papers subscribe <source> <parameters> [filters]``: from command words to a Subscription.

The source (from the registry) reads its own parameters; the filters are the same for all.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.spec import CommandError, ParsedCommand, parse_int
from bot.model.schedule import SCHEDULE_FORMS, ScheduleError, parse_schedule, parse_tz
from bot.model.subscription import DEFAULT_DIGEST_TOP, TEAM_TOP, Subscription
from bot.sources.base import ParamsError
from bot.sources.registry import Sources

MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 100
FILTERS = ("min_upvotes", "keywords", "authors", "taste")
TASTE_MAX = 25
DIGEST_OPTIONS = ("digest", "top", "tz")
TOP_RANGE = (1, 25)  # a digest longer than 25 papers is no longer read, and breaks limits
_EXAMPLES = {"keywords": "agents,memory", "authors": "hinton,lecun"}
TEAM_TOP_WORD = "team-top"
TEAM_TOP_EXAMPLE = "`/papers subscribe team-top weekly@fri-16:00`"


@dataclass(frozen=True)
class SubscribeRequest:
    subscription: Subscription  # not saved: ``id`` 0, no channel yet
    tz: str | None = None  # the channel's new time zone, when ``tz=`` was given


def parse_subscribe(command: ParsedCommand, sources: Sources) -> SubscribeRequest:
    """The subscription ``command`` asks for, and the time zone it sets for the channel."""
    tz = _tz(command)
    if command.words and command.words[0].lower() == TEAM_TOP_WORD:
        return SubscribeRequest(_team_top(command), tz)
    examples = [f"`/papers subscribe {s.example}`" for s in sources]
    hint = "Try " + " or ".join(examples) + "."
    try:
        source, feed = sources.parse_feed(command.words)
    except ParamsError as exc:
        raise CommandError(exc.message, exc.hint or hint) from None
    unknown = set(command.options) - set(FILTERS) - set(DIGEST_OPTIONS)
    if unknown:
        raise CommandError(f"Unknown option `{sorted(unknown)[0][:40]}`.", hint)
    if "min_upvotes" in command.options and not source.has_upvotes:
        with_upvotes = " or ".join(f"`{s.name}`" for s in sources if s.has_upvotes)
        raise CommandError(
            f"{source.label} has no upvotes; `min_upvotes` only works with {with_upvotes}.", hint
        )
    digest = _schedule(command.options["digest"]) if "digest" in command.options else None
    if digest is not None and "taste" in command.options:
        raise CommandError(
            "A subscription is either a digest (`digest=`) or picked by taste (`taste=`), "
            "not both.",
            "A digest lists the most upvoted; `taste=N` posts the N a day the channel would like.",
        )
    if digest is None and "top" in command.options:
        raise CommandError(
            "`top=` is how many papers each digest lists; it needs `digest=`.",
            "For example `/papers subscribe hf digest=daily@09:00 top=10`.",
        )
    sub = Subscription(
        feed=feed,
        min_upvotes=parse_int(command.options.get("min_upvotes", "0"), "min_upvotes"),
        keywords=_values(command, "keywords"),
        authors=_values(command, "authors"),
        taste=parse_int(command.options.get("taste", "0"), "taste", 1, TASTE_MAX)
        if "taste" in command.options
        else 0,
        digest=digest,
        top=_top(command),
    )
    return SubscribeRequest(sub, tz)


def _team_top(command: ParsedCommand) -> Subscription:
    """``team-top weekly@fri-16:00`` (or ``weekly@fri 16:00``, or ``digest=...``)."""
    hint = f"For example {TEAM_TOP_EXAMPLE}."
    words = " ".join(command.words[1:])
    if words and "digest" in command.options:
        raise CommandError("Give the schedule once: after `team-top` or as `digest=`.", hint)
    unknown = set(command.options) - set(DIGEST_OPTIONS)
    if unknown:
        raise CommandError(
            f"`team-top` takes no `{sorted(unknown)[0][:40]}`; only a schedule, `top=` and `tz=`.",
            hint,
        )
    text = words or command.options.get("digest", "")
    if not text:
        raise CommandError("When should the team top be posted?", f"{hint} {SCHEDULE_FORMS}")
    return Subscription(feed=TEAM_TOP, digest=_schedule(text), top=_top(command))


def _schedule(text: str):
    try:
        return parse_schedule(text)
    except ScheduleError as exc:
        raise CommandError(exc.message, exc.hint) from None


def _top(command: ParsedCommand) -> int:
    if "top" not in command.options:
        return DEFAULT_DIGEST_TOP
    low, high = TOP_RANGE
    try:
        return parse_int(command.options["top"], "top", low, high)
    except CommandError as exc:
        raise CommandError(
            exc.message, f"A digest lists {low}-{high} papers; the default is 10."
        ) from None


def _tz(command: ParsedCommand) -> str | None:
    if "tz" not in command.options:
        return None
    try:
        return parse_tz(command.options["tz"])
    except ScheduleError as exc:
        raise CommandError(exc.message, exc.hint) from None


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
