"""The fake Discord's controls behave as documented, for any discord.py client that uses it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import pytest

from adapters.discord.client import intents, use_endpoints
from tests.fakes.discord import FakeDiscord
from tests.fakes.local_server import wait_until


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        use_endpoints(fake.api_url, fake.gateway_url)
        yield fake


@contextlib.asynccontextmanager
async def connected(client: discord.Client, fake: FakeDiscord) -> AsyncIterator[None]:
    """``client`` logged in and READY on the fake's gateway; closed afterwards."""
    await client.login(fake.token)
    gateway = asyncio.create_task(client.connect())
    try:
        await client.wait_until_ready()
        yield
    finally:
        await client.close()
        await gateway


async def test_an_auto_sharded_client_asks_for_the_gateway_and_connects(
    fake: FakeDiscord,
) -> None:
    client = discord.AutoShardedClient(intents=intents(), guild_ready_timeout=0.05)
    async with connected(client, fake):
        assert fake.count("GET /gateway/bot") == 1
        assert fake.identifies[0]["shard"] == [0, 1]
        assert [g.id for g in client.guilds] == [int(FakeDiscord.GUILD_ID)]


async def test_rate_limit_headers_let_discord_py_pace_itself(fake: FakeDiscord) -> None:
    client = discord.Client(intents=intents())
    try:
        await client.login(fake.token)
        fake.rate_limit("POST /channels/*/messages", limit=2, per=0.2)
        channel = client.get_partial_messageable(int(FakeDiscord.CHANNEL_ID))
        for i in range(5):
            await channel.send(f"message {i}")
        assert [m["content"] for m in fake.messages(FakeDiscord.CHANNEL_ID)] == [
            f"message {i}" for i in range(5)
        ]
        # discord.py read X-RateLimit-Remaining: 0 and waited instead of hitting a 429.
        assert fake.count("POST /channels/*/messages", 429) == 0
    finally:
        await client.close()


async def test_injected_failures_are_used_up_in_order(fake: FakeDiscord) -> None:
    client = discord.Client(intents=intents())
    try:
        await client.login(fake.token)
        channel = client.get_partial_messageable(int(FakeDiscord.CHANNEL_ID))
        fake.fail_next("POST /channels/*/messages", 429, retry_after=0.01, is_global=True)
        fake.fail_next("POST /channels/*/messages", 403)
        with pytest.raises(discord.Forbidden):
            await channel.send("a")  # 429 retried, then 403
        await channel.send("b")
        statuses = [r.status for r in fake.requests if r.path.endswith("/messages")]
        assert statuses == [429, 403, 200]
    finally:
        await client.close()


async def test_a_dropped_socket_is_resumed_and_missed_events_replayed(fake: FakeDiscord) -> None:
    seen: list[str] = []
    client = discord.Client(intents=intents(), guild_ready_timeout=0.05)

    @client.event
    async def on_raw_reaction_add(payload: discord.RawReactionActionEvent) -> None:
        seen.append(str(payload.emoji))

    async with connected(client, fake):
        await fake.inject_reaction("1", "👍")
        await fake.drop_connection()
        await fake.inject_reaction("1", "🔥")  # while nobody is connected
        await wait_until(lambda: seen == ["👍", "🔥"])
        await wait_until(lambda: fake.connected)
        assert len(fake.identifies) == 1 and len(fake.resumes) == 1
        await fake.inject_reaction("1", "👎")
        await wait_until(lambda: seen == ["👍", "🔥", "👎"])


async def test_wrong_token_is_refused(fake: FakeDiscord) -> None:
    client = discord.Client(intents=intents())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("nope")
    finally:
        await client.close()
