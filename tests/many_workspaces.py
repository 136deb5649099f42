"""Many Slack workspaces on two real ``paperboy run`` processes and one PostgreSQL database.

What ``tests/test_many_workspaces.py`` (issue 15's simulation) and ``make bench`` share: the
fake Slack serving any number of workspaces, two bot processes in HTTP mode with OAuth
distribution behind a round-robin "load balancer", the HF feed, and the steps every run
takes (install through the OAuth flow, subscribe, post a round), each measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bot.config import Settings
from tests.botprocess import BotProcess, sources_env
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources
from tests.fakes.slack import FakeSlack
from tests.test_kill_posting import Feed
from tests.test_slack_roundtrip import answer_text
from tests.test_two_processes import Reader

POLL_INTERVAL = 2.0
CHANNEL = "C1"  # every workspace has a C1 of its own: the fake keeps them apart
ADMIN = "UADMIN"  # an admin in every workspace
STATE_COOKIE = "slack-app-oauth-state"
LEADING = "runs the posting rounds now"
ROUND = "source hf: fetched"  # once a round, after the round took its subscriptions
CONCURRENCY = 40  # requests in flight at once: many browsers, many Slack deliveries


def team(i: int) -> str:
    return f"T{i:05d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def this_life(bot: BotProcess) -> str:
    """The bot's log since its last start."""
    return bot.log().rsplit("--- start", 1)[-1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


@dataclass(frozen=True)
class Round:
    posts: int  # chat.postMessage calls in the round
    seconds: float  # first post to last
    cpu: float  # CPU seconds the two bot processes used meanwhile


@dataclass
class Fleet:
    """Two bot processes behind a round-robin "load balancer", the fake Slack, the feed."""

    slack: FakeSlack
    feed: Feed
    bots: list[BotProcess]
    ports: dict[str, int]
    db: Reader
    http: aiohttp.ClientSession
    _turn: int = 0
    _gate: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONCURRENCY))

    # -- the processes ------------------------------------------------------------------

    def base(self) -> str:
        """The next running process, as a load balancer picks it."""
        running = [b for b in self.bots if b.running]
        assert running, "no bot process is running"
        self._turn += 1
        bot = running[self._turn % len(running)]
        return f"http://127.0.0.1:{self.ports[bot.log_path.stem]}"

    async def up(self, bot: BotProcess) -> None:
        """Start ``bot`` and wait until its HTTP port answers."""
        await bot.start()
        url = f"http://127.0.0.1:{self.ports[bot.log_path.stem]}/healthz"

        async def answers() -> bool:
            with contextlib.suppress(aiohttp.ClientError):
                async with self.http.get(url) as health:
                    return health.status < 500
            return False

        deadline = time.monotonic() + 30
        while not await answers():
            assert bot.running and time.monotonic() < deadline, self.context()
            await asyncio.sleep(0.05)

    def poster(self) -> BotProcess:
        """The running process that holds the posting lock (said so since its last start)."""
        (poster,) = [b for b in self.bots if b.running and LEADING in this_life(b)]
        return poster

    async def next_round(self) -> None:
        """Return once a round has started since now (it takes the subscriptions there are
        when it starts)."""
        rounds = this_life(self.poster()).count(ROUND)
        await wait_until(lambda: this_life(self.poster()).count(ROUND) >= rounds + 2, 60, 0.05)

    def cpu(self) -> float:
        return sum(cpu_seconds(b.pid) for b in self.bots if b.pid is not None)

    def rss(self) -> int:
        """Resident memory of the running bots, KiB."""
        return sum(rss_kib(b.pid) for b in self.bots if b.pid is not None)

    def context(self) -> str:
        return "\n".join(f"--- {b.log_path.name}\n{b.log_tail(20)}" for b in self.bots)

    # -- what people and Slack do -------------------------------------------------------

    async def install(self, team_id: str) -> None:
        """/slack/install at one process, "Allow" on the fake Slack, the redirect back (with
        the state and its cookie) at the next."""
        async with self._gate:
            async with self.http.get(f"{self.base()}/slack/install") as page:
                html = await page.text()
                cookie = page.cookies[STATE_COOKIE].value
            state = re.search(r"state=([\w-]+)", html)
            assert page.status == 200 and state, html
            code = self.slack.install(team_id)
            async with self.http.get(
                f"{self.base()}/slack/oauth_redirect",
                params={"code": code, "state": state[1]},
                headers={"Cookie": f"{STATE_COOKIE}={cookie}"},
            ) as done:
                assert done.status == 200, await done.text()

    async def deliver(self, payload: dict) -> None:
        """A signed request from Slack, to the next process."""
        async with self._gate:
            delivery = await self.slack.post_to_app(f"{self.base()}/slack/events", payload)
        assert delivery.status == 200, delivery

    async def command(self, text: str, team_id: str, user: str = ADMIN) -> str:
        payload = self.slack.command_payload(text, team_id=team_id, channel=CHANNEL, user=user)
        await self.deliver(payload)
        return answer_text(await self.slack.wait_response(payload["response_url"], timeout=60))

    @staticmethod
    async def each(steps: Iterable[Awaitable[object]]) -> list:
        return await asyncio.gather(*steps)

    async def post_round(self, papers: int, expected: Iterable[str], timeout: float) -> Round:
        """``papers`` new papers in the feed; returns once every workspace of ``expected``
        shows every paper of the feed and nothing is pending."""
        await self.next_round()
        mark, cpu = len(self.slack.calls), self.cpu()
        self.feed.grow(papers)
        everything = [p["id"] for p in self.feed.papers()]
        await wait_until(lambda: self.settled({t: everything for t in expected}), timeout, 0.2)
        sends = [c for c in self.slack.calls[mark:] if c.method == "chat.postMessage"]
        return Round(len(sends), sends[-1].at - sends[0].at, self.cpu() - cpu)

    # -- what the workspaces show -------------------------------------------------------

    def cards(self) -> dict[str, list[str]]:
        """Paper ids of the cards in each workspace's C1, in order."""
        return {
            team_id: [
                m["metadata"]["event_payload"]["paper_id"] for m in messages if m.get("metadata")
            ]
            for (team_id, channel), messages in self.slack.channels().items()
            if channel == CHANNEL
        }

    def posted(self) -> int:
        return sum(len(ids) for ids in self.cards().values())

    def pending(self) -> int:
        return self.db.rows("SELECT count(*) FROM posts WHERE state = 'pending'")[0][0]

    def settled(self, expected: dict[str, list[str]]) -> bool:
        """Every workspace's C1 shows exactly ``expected`` (as sets) and nothing is pending."""
        cards = self.cards()
        return (
            all(set(cards.get(t, ())) == set(ids) for t, ids in expected.items())
            and self.pending() == 0
        )


@asynccontextmanager
async def fleet_of(workdir: Path, database_url: str, papers_per_round: int) -> AsyncIterator[Fleet]:
    """The fakes and two bot processes (not started) on the PostgreSQL ``database_url``."""
    async with (
        FakeSlack() as slack,
        FakePaperSources(daily_files={}, default_daily_file=None) as sources,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
    ):
        slack.add_user(ADMIN, is_admin=True)
        feed = Feed(sources, first=0)
        env = {
            "DATABASE_URL": database_url,
            "PAPERBOY_DB": str(workdir / "unused.db"),
            "PAPERBOY_SEARCH_DIR": str(workdir / "search"),
            "POLL_INTERVAL": str(POLL_INTERVAL),
            "MAX_POSTS_PER_POLL": str(papers_per_round),
            "LOG_LEVEL": "INFO",  # the poster says when it leads, and when a round starts
            "SLACK_CLIENT_ID": slack.client_id,
            "SLACK_CLIENT_SECRET": slack.client_secret,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            **sources_env(sources),
        }
        ports = {name: free_port() for name in ("a", "b")}
        bots = [BotProcess({**env, "PORT": str(ports[n])}, workdir, n) for n in ports]
        db = Reader(Settings(database_url=database_url))
        try:
            yield Fleet(slack, feed, bots, ports, db, http)
        finally:
            for bot in bots:
                await bot.aclose()
            db.close()
