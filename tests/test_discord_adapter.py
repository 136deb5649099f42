"""The Discord adapter end to end: real discord.py and the real core against a local fake Discord.

Slash commands, reactions and auto-posts make the full round trip: gateway event → discord.py
→ adapter → core (SQLite on tmp_path, paper sources from the local fake) → REST → fake.
"""

from __future__ import annotations

import time

import pytest

from adapters.discord.client import DiscordAdapter
from bot.commands import REGISTRY
from bot.core import Bot
from bot.events import ChannelRef, MessageRef
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.subscription import Subscription
from bot.outbox import SendError
from bot.replies import PaperCard, Text
from tests.fakes.discord import DISCORD_EPOCH_MS, EPHEMERAL, MANAGE_CHANNELS, FakeDiscord
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources

GUILD = FakeDiscord.GUILD_ID
CHANNEL = FakeDiscord.CHANNEL_ID
TOP_PAPER = "2605.12500"  # the most upvoted paper of the recorded HF day


def channel(channel_id: str = CHANNEL) -> ChannelRef:
    return ChannelRef("discord", GUILD, channel_id)


def subscribe(core: Bot, channel_id: str = CHANNEL) -> None:
    core.store.add_subscription(
        Subscription(platform="discord", workspace=GUILD, channel=channel_id, feed=Feed("hf"))
    )


def card_urls(fake: FakeDiscord, channel_id: str = CHANNEL) -> list[str]:
    return [e["url"] for m in fake.messages(channel_id) for e in m["embeds"] if "url" in e]


async def answer(fake: FakeDiscord, subcommand: str, options: dict | None = None, **kw) -> dict:
    """Run a slash command and return the first reply the user sees."""
    interaction = await fake.inject_interaction(subcommand, options, **kw)
    replies = await wait_until(lambda: interaction.replies)
    return replies[0]


# -- connection ---------------------------------------------------------------------------


async def test_start_syncs_papers_globally_with_unprivileged_intents(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    # /papers and the "Paper card" message command (tests/test_paper_card_discord.py).
    papers, _menu = fake.commands["global"]
    assert papers["name"] == "papers"
    assert papers["contexts"] == [0] and papers["integration_types"] == [0]  # servers only
    subcommands = {o["name"]: o for o in papers["options"]}
    assert list(subcommands) == list(REGISTRY.names)
    for spec in REGISTRY:
        synced = {o["name"]: o for o in subcommands[spec.name].get("options", [])}
        assert list(synced) == [p.name for p in sorted(spec.params, key=lambda p: not p.required)]
        for param in spec.params:
            assert synced[param.name]["required"] is param.required
            choices = [c["value"] for c in synced[param.name].get("choices", [])]
            assert choices == [value for _, value in param.choice_list()]
    period = next(o for o in subcommands["top"]["options"] if o["name"] == "period")
    assert [c["value"] for c in period["choices"]] == ["day", "week", "month", "all"]
    # guilds (1 << 0) and guild message reactions (1 << 10): no privileged intents.
    assert fake.identifies[0]["intents"] == (1 << 0) | (1 << 10)
    assert adapter.client.user is not None and str(adapter.client.user.id) == fake.bot_user_id


async def test_guild_id_syncs_commands_to_that_server_only(core: Bot, fake: FakeDiscord) -> None:
    adapter = DiscordAdapter(core, fake.settings(guild_id=GUILD), guild_ready_timeout=0.05)
    await adapter.start()
    try:
        assert set(fake.commands) == {GUILD}
        reply = await answer(fake, "help")
        assert reply["embeds"][0]["title"] == "paperboy commands"
    finally:
        await adapter.stop()


async def test_a_bad_token_fails_start(core: Bot, fake: FakeDiscord) -> None:
    adapter = DiscordAdapter(core, fake.settings(token="x.y.z"), guild_ready_timeout=0.05)
    with pytest.raises(Exception, match="Improper token"):
        await adapter.start()


# -- slash commands -----------------------------------------------------------------------


async def test_help_is_an_ephemeral_embed(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    reply = await answer(fake, "help")
    assert reply["flags"] & EPHEMERAL
    assert "/papers search" in reply["embeds"][0]["description"]
    assert reply["allowed_mentions"] == {"parse": []}
    assert fake.messages(CHANNEL) == []  # nothing visible to the channel


async def test_search_round_trip(
    adapter: DiscordAdapter, fake: FakeDiscord, paper_sources: FakePaperSources
) -> None:
    reply = await answer(fake, "search", {"query": "SenseNova"})
    assert reply["flags"] & EPHEMERAL
    embed = reply["embeds"][0]
    assert embed["title"] == "Search: SenseNova"
    assert f"https://arxiv.org/abs/{TOP_PAPER}" in embed["description"]


async def test_errors_are_ephemeral_with_a_hint(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    reply = await answer(fake, "search", {"query": "x", "since": "yesterday!"})
    assert reply["flags"] & EPHEMERAL
    assert reply["content"].startswith("⚠️ `since:yesterday!` is not a date")


async def test_an_outdated_command_gets_an_answer(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    # A client with an old command list can send a subcommand this version no longer has.
    reply = await answer(fake, "frobnicate")
    assert reply["flags"] & EPHEMERAL and "out of date" in reply["content"]


async def test_slow_commands_are_deferred_then_completed(
    adapter: DiscordAdapter, fake: FakeDiscord, paper_sources: FakePaperSources
) -> None:
    adapter.defer_after = 0.05
    paper_sources.delay("search", 0.5)
    interaction = await fake.inject_interaction("search", {"query": "SenseNova"})
    await wait_until(lambda: interaction.deferred)
    assert interaction.replies == []  # "thinking…" while HF answers
    (reply,) = await wait_until(lambda: interaction.replies)
    assert reply["flags"] & EPHEMERAL
    assert reply["embeds"][0]["title"] == "Search: SenseNova"


async def test_a_public_answer_after_a_deferral_goes_to_the_channel(
    adapter: DiscordAdapter, fake: FakeDiscord, paper_sources: FakePaperSources
) -> None:
    adapter.defer_after = 0.05
    paper_sources.delay("daily", 0.5)
    interaction = await fake.inject_interaction("today", {"public": True})
    replies = await wait_until(lambda: len(interaction.replies) == 2 and interaction.replies)
    note, public = replies
    assert note["flags"] & EPHEMERAL and note["content"].startswith("Done")
    assert not public["flags"] & EPHEMERAL
    assert public["embeds"][0]["title"].startswith("Hugging Face Daily Papers")
    assert fake.messages(CHANNEL) == [public]


async def test_stop_lets_a_command_in_progress_answer(
    adapter: DiscordAdapter, fake: FakeDiscord, paper_sources: FakePaperSources
) -> None:
    adapter.defer_after = 0.05
    paper_sources.delay("search", 0.3)
    interaction = await fake.inject_interaction("search", {"query": "SenseNova"})
    await wait_until(lambda: interaction.deferred)
    await adapter.stop()
    assert len(interaction.replies) == 1  # answered, not left "thinking…"


# -- subscriptions, auto-posts and votes: the whole loop ----------------------------------


async def test_subscribe_post_and_vote_round_trip(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot
) -> None:
    refused = await answer(fake, "subscribe", {"source": "hf", "min_upvotes": 30})
    assert refused["flags"] & EPHEMERAL and "admins" in refused["content"]
    assert core.store.subscriptions() == []

    done = await answer(
        fake, "subscribe", {"source": "hf", "min_upvotes": 30}, permissions=MANAGE_CHANNELS
    )
    assert not done["flags"] & EPHEMERAL  # the channel sees what was set up
    (sub,) = core.store.subscriptions()
    assert (sub.platform, sub.workspace, sub.channel, sub.min_upvotes) == (
        "discord",
        GUILD,
        CHANNEL,
        30,
    )

    report = await core.poster.run_once()
    urls = card_urls(fake)
    assert report.posted == len(urls) > 0
    assert urls[0] == f"https://arxiv.org/abs/{TOP_PAPER}"  # most upvoted first
    assert len(set(urls)) == len(urls)
    await core.poster.run_once()
    assert card_urls(fake) == urls  # never the same paper twice

    card = next(m for m in fake.messages(CHANNEL) if m["embeds"])
    await fake.inject_reaction(card["id"], "👍", user_id="11")
    await fake.inject_reaction(card["id"], "fire", emoji_id="5555", user_id="12")  # custom
    await fake.inject_reaction(card["id"], "👍", user_id=fake.bot_user_id)  # its own: no vote
    await fake.inject_reaction(card["id"], "🙂", user_id="13")  # not a vote emoji
    await wait_until(lambda: core.store.net_votes("discord", GUILD, TOP_PAPER) == 2)

    top = await answer(fake, "top", {"period": "week"})
    assert f"https://arxiv.org/abs/{TOP_PAPER}" in top["embeds"][0]["description"]
    assert "**+2**" in top["embeds"][0]["description"]

    await fake.inject_reaction(card["id"], "👍", user_id="11", added=False)
    await wait_until(lambda: core.store.net_votes("discord", GUILD, TOP_PAPER) == 1)

    unsub = await answer(fake, "unsubscribe", {"all": True}, permissions=MANAGE_CHANNELS)
    assert "Removed all 1" in unsub["content"]


async def test_reactions_on_other_messages_are_ignored(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot
) -> None:
    other = fake.seed_message(CHANNEL, author_id=FakeDiscord.USER_ID, content="hello")
    await fake.inject_reaction(other["id"], "👍")
    # Round-trip a command after it: events are handled in order, so the reaction is done.
    await answer(fake, "help")
    assert core.store.leaderboard("discord", GUILD, None) == []


async def test_a_dropped_gateway_resumes_without_losing_reactions(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot
) -> None:
    subscribe(core)
    await core.poster.run_once()
    card = fake.messages(CHANNEL)[0]
    await fake.drop_connection()
    await fake.inject_reaction(card["id"], "👍")  # sent while the client is away
    await wait_until(lambda: core.store.net_votes("discord", GUILD, TOP_PAPER) == 1)
    assert len(fake.identifies) == 1 and len(fake.resumes) == 1
    assert await answer(fake, "help")  # and commands still work


# -- posting under rate limits and failures -----------------------------------------------


async def test_many_papers_to_many_channels_under_rate_limits(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot
) -> None:
    channels = [str(910000000000000000 + i) for i in range(4)]
    for channel_id in channels:
        fake.add_channel(channel_id)
        subscribe(core, channel_id)
    fake.rate_limit("POST /channels/*/messages", limit=3, per=0.2)
    fake.fail_next("POST /channels/*/messages", 429, retry_after=0.05, times=3)

    report = await core.poster.run_once()

    per_channel = core.settings.max_posts_per_poll
    assert report.posted == per_channel * len(channels)
    for channel_id in channels:
        urls = card_urls(fake, channel_id)
        assert len(urls) == len(set(urls)) == per_channel
    assert fake.count("POST /channels/*/messages", 429) >= 3  # discord.py waited and retried
    assert core.store.pending_posts() == []


async def test_a_5xx_that_posted_anyway_does_not_double_the_card(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    fake.fail_next("POST /channels/*/messages", 500, commit=True)  # posted, then "500"
    ref = await adapter.send(channel(), PaperCard(Paper("2401.00001", "T"), public=True))
    assert [m["id"] for m in fake.messages(CHANNEL)] == [ref.message]
    assert fake.count("POST /channels/*/messages") == 2  # discord.py's retry was deduplicated


async def test_send_raises_send_error_when_discord_certainly_refused(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    fake.forbid(CHANNEL)
    with pytest.raises(SendError):
        await adapter.send(channel(), Text("hi", public=True))
    with pytest.raises(SendError):
        await adapter.send(channel("912345678901234567"), Text("hi", public=True))  # unknown
    fake.fail_next("POST /channels/*/messages", 429, retry_after=0.01, times=5)
    with pytest.raises(SendError):
        await adapter.send(channel(FakeDiscord.OTHER_CHANNEL_ID), Text("hi", public=True))
    assert fake.all_messages() == []


async def test_posts_are_plain_text_safe(adapter: DiscordAdapter, fake: FakeDiscord) -> None:
    ref = await adapter.send(channel(), Text("New: @everyone **look**", public=True))
    (message,) = fake.messages(CHANNEL)
    assert message["id"] == ref.message
    assert message["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in message["content"]


# -- settling posts a crash left unconfirmed ----------------------------------------------


async def test_find_card_looks_for_the_bots_own_card(
    adapter: DiscordAdapter, fake: FakeDiscord
) -> None:
    claimed = time.time()
    url = {
        "url": "https://arxiv.org/abs/2401.00001",
        "title": "T",
        "footer": {"text": "arXiv 2401.00001 · cs.LG"},
    }
    fake.seed_message(CHANNEL, author_id=FakeDiscord.USER_ID, embeds=[url])  # a user's, not ours
    assert await adapter.find_card(channel(), "2401.00001", claimed) is None
    mine = fake.seed_message(CHANNEL, embeds=[url])
    fake.seed_message(CHANNEL, content="later chatter")
    found = await adapter.find_card(channel(), "2401.00001", claimed)
    assert found == MessageRef(channel(), mine["id"])
    assert await adapter.find_card(channel(), "2401.99999", claimed) is None
    assert await adapter.find_card(channel("912345678901234567"), "2401.00001", claimed) is None
    # Only the history since the claim is read (less a margin for clocks that disagree).
    reads = [r for r in fake.requests if r.path == f"/channels/{CHANNEL}/messages"]
    after = int(reads[0].query["after"])
    after_ms = (after >> 22) + DISCORD_EPOCH_MS
    assert (claimed - 600) * 1000 < after_ms <= (claimed - 60) * 1000


async def test_poster_settles_a_pending_post_from_channel_history(
    adapter: DiscordAdapter, fake: FakeDiscord, core: Bot
) -> None:
    post_id = core.store.claim_post("discord", GUILD, CHANNEL, TOP_PAPER)  # then a "crash"
    card = fake.seed_message(
        CHANNEL,
        embeds=[
            {"url": f"https://arxiv.org/abs/{TOP_PAPER}", "footer": {"text": f"arXiv {TOP_PAPER}"}}
        ],
    )
    await core.poster.settle_pending()
    assert core.store.pending_posts() == []
    post = core.store.post_for_message("discord", GUILD, CHANNEL, card["id"])
    assert post is not None and post.id == post_id


# -- follows: direct messages ------------------------------------------------------------


async def test_follow_sends_a_dm_and_a_closed_dm_is_told_once(
    adapter: DiscordAdapter, core: Bot, fake: FakeDiscord, clock
) -> None:
    open_user, closed_user = "400000000000000001", "400000000000000002"
    for user in (open_user, closed_user):
        reply = await answer(fake, "follow", {"target": "keyword:diffusion"}, user_id=user)
        assert reply["flags"] & EPHEMERAL and "Following keyword:diffusion" in reply["content"]
    fake.closed_dms.add(closed_user)
    clock.advance(1)
    core.store.save_papers([Paper("2605.00077", "Diffusion in a DM", published="2026-05-13")])
    await core.poster.run_once()
    [dm] = fake.dm_messages(open_user)
    embed = dm["embeds"][0]
    assert (
        "2605.00077" in embed["description"]
        and "you follow keyword:diffusion" in embed["description"]
    )
    assert fake.dm_messages(closed_user) == []
    told = await answer(fake, "follows", user_id=closed_user)
    assert "direct messages are closed" in told["content"] and told["flags"] & EPHEMERAL
    again = await answer(fake, "follows", user_id=closed_user)
    assert "closed" not in again["content"]
