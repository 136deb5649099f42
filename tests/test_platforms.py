"""The platform interface: a platform defined here, at test time, runs like Slack or Discord.

It needs nothing but its own Platform value: settings, secrets, an adapter that starts,
stops and posts. One that cannot start is one log line, and the others keep running.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import ClassVar

from adapters.platform import Platform, PlatformStartError
from bot.config import EnvSettings, Settings
from bot.core import Bot
from bot.events import ChannelRef, MessageRef
from bot.replies import Reply, Text
from tests.fakes.local_server import wait_until


@dataclass(frozen=True)
class EchoSettings(EnvSettings):
    ENV_PREFIX: ClassVar[str] = "ECHO_"

    token: str = field(default="", repr=False)
    refuse: bool = False  # start() fails, as a revoked token would

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    def secrets(self) -> tuple[str, ...]:
        return (self.token,) if self.token else ()


class EchoAdapter:
    """Keeps what it is asked to post; 'platform' is its name in ChannelRefs."""

    def __init__(self, platform: str, settings: EchoSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.started = self.stopped = False
        self.sent: list[Reply] = []

    async def start(self) -> None:
        if self.settings.refuse:
            raise PlatformStartError(f"{self.platform} refused ECHO_TOKEN; check the token")
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, channel: ChannelRef, reply: Reply) -> MessageRef:
        self.sent.append(reply)
        return MessageRef(channel, str(len(self.sent)))

    async def find_card(self, channel: ChannelRef, paper_id: str) -> MessageRef | None:
        return None


def echo_platform(name: str, built: list[EchoAdapter]) -> Platform:
    def build(bot: Bot, settings: EchoSettings) -> EchoAdapter:
        built.append(EchoAdapter(name, settings))
        return built[-1]

    return Platform(
        name=name,
        title=name.title(),
        read_settings=EchoSettings.from_env,
        build=build,
        env_names=tuple(EchoSettings.env_names()),
    )


async def test_a_new_platform_runs_through_the_interface_alone(settings: Settings, caplog) -> None:
    from adapters.launch import run

    built: list[EchoAdapter] = []
    good = echo_platform("echo", built).from_env({"ECHO_TOKEN": "t0ken-echo"})
    broken = echo_platform("broken", built).from_env({"ECHO_TOKEN": "x", "ECHO_REFUSE": "yes"})
    unused = echo_platform("unused", built).from_env({})  # no token: not started at all
    stop = asyncio.Event()
    running = asyncio.create_task(run(settings, platforms=[broken, good, unused], stop=stop))
    await wait_until(lambda: len(built) == 2 and built[1].started, timeout=10)
    broken_adapter, echo = built
    stop.set()
    assert await asyncio.wait_for(running, 10) == 0
    assert echo.stopped and not broken_adapter.started
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == ["Broken did not start: broken refused ECHO_TOKEN; check the token"]


async def test_the_started_platform_is_the_core_s_outbox(settings: Settings, monkeypatch) -> None:
    from adapters.launch import run

    built: list[EchoAdapter] = []
    echo = echo_platform("echo", built).from_env({"ECHO_TOKEN": "t0ken-echo"})
    stop = asyncio.Event()
    outboxes: list[object] = []
    original_start = Bot.start

    async def start(self: Bot) -> None:
        outboxes.extend(self.outboxes.values())
        await original_start(self)
        await self.poster.outboxes["echo"].send(ChannelRef("echo", "w", "c"), Text("hi"))

    monkeypatch.setattr(Bot, "start", start)
    running = asyncio.create_task(run(settings, platforms=[echo], stop=stop))
    await wait_until(lambda: built and built[0].sent, timeout=10)
    stop.set()
    assert await asyncio.wait_for(running, 10) == 0
    assert outboxes == built  # attached once started, and nothing else


async def test_when_no_platform_starts_run_exits_1(settings: Settings) -> None:
    from adapters.launch import run

    built: list[EchoAdapter] = []
    broken = echo_platform("broken", built).from_env({"ECHO_TOKEN": "x", "ECHO_REFUSE": "1"})
    assert await asyncio.wait_for(run(settings, platforms=[broken]), 10) == 1
