"""Hostile input on Discord: any option values of every /papers subcommand, and permissions.

Real discord.py and the real core against the fake Discord, which refuses (400) any message
Discord would refuse: an answer that broke a limit would never show, and the test would see
no answer at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.client import DiscordAdapter
from bot.core import Bot
from bot.model.feed import Feed
from bot.model.subscription import Subscription
from tests.fakes.discord import (
    ADMINISTRATOR,
    MANAGE_CHANNELS,
    VIEW_AND_SEND,
    FakeDiscord,
    message_problems,
)
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources
from tests.hostile_text import COMMAND_HAZARDS
from tests.isolation import logger_levels_restored  # noqa: F401 (autouse)

GUILD = FakeDiscord.GUILD_ID
CHANNEL = FakeDiscord.CHANNEL_ID


async def replies(
    fake: FakeDiscord, subcommand: str, options: dict[str, Any], permissions: int = VIEW_AND_SEND
) -> list[dict]:
    interaction = await fake.inject_interaction(subcommand, options, permissions=permissions)
    return await wait_until(lambda: interaction.replies)


# -- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subcommand", "options"),
    [
        ("subscribe", {"source": "hf"}),
        ("subscribe", {"source": "arxiv", "category": "cs.CL", "keywords": "llm"}),
        ("unsubscribe", {"id": 1}),
        ("unsubscribe", {"all": True}),
    ],
)
async def test_members_without_manage_channels_cannot_change_subscriptions(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot, subcommand: str, options: dict
) -> None:
    core.store.add_subscription(
        Subscription(platform="discord", workspace=GUILD, channel=CHANNEL, feed=Feed("hf"))
    )
    before = core.store.subscriptions()
    (refusal,) = await replies(fake, subcommand, options)
    assert "admins" in refusal["content"] and refusal["flags"] & (1 << 6)  # ephemeral
    assert core.store.subscriptions() == before


async def test_manage_channels_or_administrator_may_subscribe(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot
) -> None:
    await replies(fake, "subscribe", {"source": "hf"}, permissions=MANAGE_CHANNELS)
    # Discord resolves an administrator's permissions to every bit, Manage Channels included.
    await replies(
        fake,
        "subscribe",
        {"source": "arxiv", "category": "cs.CL"},
        permissions=ADMINISTRATOR | MANAGE_CHANNELS | VIEW_AND_SEND,
    )
    assert [s.feed.source for s in core.store.subscriptions()] == ["hf", "arxiv"]


# -- any option values ----------------------------------------------------------------------

HOSTILE = st.sampled_from(
    [
        *COMMAND_HAZARDS,
        "@everyone",
        "@here",
        "<@123>",
        "<#456>",
        "**bold**",
        "`code`",
        "```",
        "> quote",
        "||x||",
        "[link](https://evil.example)",
    ]
)


def text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Option text as Discord passes it: within the option's length range."""
    pieces = st.lists(st.one_of(HOSTILE, st.text(max_size=40)), max_size=12).map(" ".join)
    return st.one_of(pieces, st.text(min_size=min_size, max_size=max_size)).map(
        lambda s: (s or "x")[:max_size]
    )


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


SUBCOMMANDS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "search": st.fixed_dictionaries(
        {
            "query": text(1, 300),
            "author": optional(text(1, 100)),
            "category": optional(text(1, 40)),
            "since": optional(text(10, 10)),
        }
    ),
    "show": st.fixed_dictionaries({"paper": text(1, 200)}),
    "top": st.fixed_dictionaries(
        {
            "period": optional(st.sampled_from(["day", "week", "month", "all"])),
            "public": st.booleans(),
        }
    ),
    "today": st.fixed_dictionaries({"public": st.booleans()}),
    "subscribe": st.fixed_dictionaries(
        {
            "source": st.sampled_from(["hf", "arxiv"]),
            "category": optional(text(1, 40)),
            "min_upvotes": optional(st.integers(0, 100_000)),
            "keywords": optional(text(1, 500)),
            "authors": optional(text(1, 500)),
        }
    ),
    "unsubscribe": st.fixed_dictionaries(
        {
            "id": optional(st.integers(1, 10**12)),
            "all": st.booleans(),
        }
    ),
    "subscriptions": st.just({}),
    "help": st.just({}),
}
INVOCATIONS = st.sampled_from(sorted(SUBCOMMANDS)).flatmap(
    lambda name: st.tuples(st.just(name), SUBCOMMANDS[name])
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(invocation=INVOCATIONS, manager=st.booleans())
async def test_any_options_of_any_subcommand_get_an_answer_within_discord_limits(
    adapter: DiscordAdapter,
    fake: FakeDiscord,
    core: Bot,
    paper_sources: FakePaperSources,
    invocation: tuple[str, dict[str, Any]],
    manager: bool,
) -> None:
    subcommand, options = invocation
    permissions = VIEW_AND_SEND | (MANAGE_CHANNELS if manager else 0)
    shown = await replies(fake, subcommand, options, permissions)
    for message in shown:
        assert message_problems(message) == {}, (subcommand, options)
        assert message["allowed_mentions"] == {"parse": []}  # nobody gets pinged
    assert core.store.db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
