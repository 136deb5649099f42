"""What a channel subscribes to, and which papers a subscription lets through."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.commands.spec import CommandError, ParsedCommand, parse_int
from bot.papers import Paper
from storage.store import Subscription

_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z-]{2,})?$")
MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 100


@dataclass(frozen=True)
class SubscriptionRequest:
    source: str
    category: str = ""
    min_upvotes: int = 0
    keywords: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()


def parse_subscribe(command: ParsedCommand) -> SubscriptionRequest:
    hint = "Try `/papers subscribe hf min_upvotes=10` or `/papers subscribe arxiv cs.CL`."
    if not command.words:
        raise CommandError("Subscribe to what? Name a source: `hf` or `arxiv <category>`.", hint)
    source = command.words[0].lower()
    if source in ("huggingface", "hugging-face", "hf-daily"):
        source = "hf"
    if source not in ("hf", "arxiv"):
        raise CommandError(f"`{source[:40]}` is not a source I know.", hint)
    unknown = set(command.options) - {"min_upvotes", "keywords", "authors"}
    if unknown:
        raise CommandError(f"Unknown option `{sorted(unknown)[0][:40]}`.", hint)

    category = ""
    if source == "arxiv":
        if len(command.words) < 2:
            raise CommandError("Which arXiv category? For example `cs.CL` or `quant-ph`.", hint)
        category = _category(command.words[1])
        if "min_upvotes" in command.options:
            raise CommandError("arXiv has no upvotes; `min_upvotes` only works with `hf`.", hint)
    extra = command.words[2 if source == "arxiv" else 1 :]
    if extra:
        raise CommandError(f"I don't understand `{extra[0][:40]}`.", hint)
    return SubscriptionRequest(
        source=source,
        category=category,
        min_upvotes=parse_int(command.options.get("min_upvotes", "0"), "min_upvotes"),
        keywords=_values(command, "keywords"),
        authors=_values(command, "authors"),
    )


def _category(text: str) -> str:
    # arXiv archives are lower-case (cs, quant-ph); subject classes are upper-case (CL, GT).
    archive, dot, subject = text.partition(".")
    category = archive.lower() + (dot + (subject.upper() if len(subject) == 2 else subject))
    if not _CATEGORY.match(category):
        raise CommandError(
            f"`{text[:40]}` doesn't look like an arXiv category.",
            "Categories look like `cs.CL`, `cs.LG`, `stat.ML` or `quant-ph`.",
        )
    return category


def _values(command: ParsedCommand, key: str) -> tuple[str, ...]:
    values = command.option_list(key)
    if len(values) > MAX_FILTER_VALUES or any(len(v) > MAX_FILTER_CHARS for v in values):
        raise CommandError(
            f"`{key}` takes at most {MAX_FILTER_VALUES} values of {MAX_FILTER_CHARS} characters."
        )
    return values


def _mentions(needle: str, haystack: str) -> bool:
    """Whole-word, case-insensitive: `gan` must not match `organ`."""
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", haystack, re.IGNORECASE) is not None


def matches(subscription: Subscription | SubscriptionRequest, paper: Paper) -> bool:
    """Every filter given must pass; within a filter, any one value is enough."""
    if subscription.min_upvotes and (paper.upvotes or 0) < subscription.min_upvotes:
        return False
    if subscription.keywords:
        text = f"{paper.title}\n{paper.abstract}"
        if not any(_mentions(k, text) for k in subscription.keywords):
            return False
    if subscription.authors:
        names = "\n".join(paper.authors)
        if not any(_mentions(a, names) for a in subscription.authors):
            return False
    return True


def same_request(subscription: Subscription, request: SubscriptionRequest) -> bool:
    return (
        subscription.source == request.source
        and subscription.category == request.category
        and subscription.min_upvotes == request.min_upvotes
        and {k.lower() for k in subscription.keywords} == {k.lower() for k in request.keywords}
        and {a.lower() for a in subscription.authors} == {a.lower() for a in request.authors}
    )
