"""The running bot process under outside faults: sources down for hours, a locked database.

Each test starts the real ``paperboy run`` against a fake Slack (Socket Mode) and fake paper
sources in the test process, injects the fault, and checks the bot keeps working.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.subscription import Subscription
from storage.db import open_db
from storage.store import Store
from tests.botprocess import BotProcess, read_rows, sources_env
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import (
    EMPTY_RSS,
    FakePaperSources,
    Fault,
    hf_item,
    rss_feed,
)
from tests.fakes.slack import FakeSlack

ARXIV_PAPERS = ["2504.00001"]
HF_PAPERS = ["2605.00001"]
ROUND = "source arxiv:cs.CL: fetched"  # logged once a round


@dataclass
class Running:
    slack: FakeSlack
    sources: FakePaperSources
    bot: BotProcess

    def texts(self, channel: str) -> list[str]:
        return [m["text"] for m in self.slack.posts(channel) if not m.get("metadata")]

    def cards(self, channel: str) -> list[str]:
        return [
            m["metadata"]["event_payload"]["paper_id"]
            for m in self.slack.posts(channel)
            if m.get("metadata")
        ]

    def rounds(self) -> int:
        return self.bot.log().count(ROUND)

    async def wait(self, predicate: Callable[[], object], timeout: float = 20) -> None:
        try:
            await wait_until(lambda: predicate() or self.bot.crashed, timeout, interval=0.05)
        except AssertionError:
            raise AssertionError(f"timed out\n{self.bot.log_tail()}") from None
        assert not self.bot.crashed, f"the bot died\n{self.bot.log_tail()}"


@asynccontextmanager
async def running_bot(
    tmp_path: Path, seed: Callable[[Store, FakeSlack], None], **env: str
) -> AsyncIterator[Running]:
    """A bot process in Socket Mode against fresh fakes; ``seed`` fills its database first."""
    async with (
        FakeSlack() as slack,
        FakePaperSources(daily_files={}, default_daily_file=None) as sources,
    ):
        db_path = str(tmp_path / "paperboy.db")
        store = Store(open_db(db_path))
        seed(store, slack)
        store.db.close()
        bot = BotProcess(
            {
                "PAPERBOY_DB": db_path,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_API_URL": slack.api_url,
                **sources_env(sources),
                **env,
            },
            tmp_path,
        )
        try:
            yield Running(slack, sources, bot)
        finally:
            await bot.aclose()


def subscribe(
    store: Store, slack: FakeSlack, channel: str, source: str, category: str = ""
) -> None:
    store.add_subscription(
        Subscription(
            platform="slack", workspace=slack.team_id, channel=channel, feed=Feed(source, category)
        )
    )


def hf_outage(sources: FakePaperSources, requests: int = 400) -> None:
    """Every way HF can fail, round-robin, for the next ``requests`` requests."""
    faults = [
        Fault(status=500, body=b"internal error"),
        Fault(status=429, headers={"Retry-After": "0.2"}, body=b"slow down"),
        Fault(status=None, delay=1.0),  # longer than HTTP_TIMEOUT: a timeout
        Fault(status=200, body=b'[{"paper": {"id": "2605.0', content_type="application/json"),
        Fault(status=None, truncate=True),
        Fault(status=503, body=b"<html>maintenance</html>", content_type="text/html"),
    ]
    for i in range(requests):
        sources.queue("daily", faults[i % len(faults)])


# -- sources ------------------------------------------------------------------------------


async def test_a_source_down_for_hours_alerts_once_recovers_once_and_others_keep_posting(
    tmp_path: Path,
) -> None:
    def seed(store: Store, slack: FakeSlack) -> None:
        subscribe(store, slack, "CHF", "hf")
        subscribe(store, slack, "CARXIV", "arxiv", "cs.CL")
        subscribe(store, slack, "CBOTH", "hf")
        subscribe(store, slack, "CBOTH", "arxiv", "cs.CL")
        subscribe(store, slack, "CHOLIDAY", "arxiv", "cs.AI")  # announces nothing

    env = {
        "POLL_INTERVAL": "0.3",
        "SOURCE_ALERT_AFTER": "1.5",
        "HTTP_TIMEOUT": "0.5",
        "LOG_LEVEL": "INFO",
    }
    async with running_bot(tmp_path, seed, **env) as run:
        run.sources.set_default_daily([hf_item(p, upvotes=10) for p in HF_PAPERS])
        run.sources.set_rss("cs.CL", rss_feed([{"id": p} for p in ARXIV_PAPERS], "cs.CL"))
        run.sources.set_rss("cs.AI", EMPTY_RSS)
        hf_outage(run.sources)
        await run.bot.start()

        # HF is down: arXiv papers still arrive, and after SOURCE_ALERT_AFTER one notice.
        await run.wait(lambda: run.cards("CBOTH") and run.texts("CBOTH"))
        assert run.cards("CARXIV") == run.cards("CBOTH") == ARXIV_PAPERS
        await run.wait(lambda: run.texts("CHF"))
        alerted = run.rounds()
        await run.wait(lambda: run.rounds() >= alerted + 2)  # still failing: no second notice
        for channel in ("CHF", "CBOTH"):
            (notice,) = run.texts(channel)
            assert "Hugging Face Daily Papers has been unreachable" in notice
        assert run.cards("CHF") == []

        run.sources.clear_faults()  # HF is back: one notice, and the missed papers
        await run.wait(lambda: run.cards("CHF") and len(run.cards("CBOTH")) == 2)
        recovered = run.rounds()
        await run.wait(lambda: run.rounds() >= recovered + 2)
        for channel in ("CHF", "CBOTH"):
            assert len(run.texts(channel)) == 2 and "is back" in run.texts(channel)[1]
        assert run.cards("CHF") == HF_PAPERS
        assert run.cards("CBOTH") == ARXIV_PAPERS + HF_PAPERS
        # An empty announcement day is not an outage; arXiv-only channels heard nothing.
        assert run.slack.posts("CHOLIDAY") == [] and run.texts("CARXIV") == []
        assert await run.bot.stop() == 0
    log = run.bot.log()
    assert "Traceback" not in log
    assert "did not answer in time" in log and "answered 429" in log  # the faults happened


# -- the database -------------------------------------------------------------------------

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute(sys.argv[2])  # BEGIN IMMEDIATE: a writer; BEGIN + SELECT: a long reader
conn.execute("SELECT count(*) FROM papers").fetchone()
print("locked", flush=True)
time.sleep(float(sys.argv[3]))
released = time.time()
conn.execute("COMMIT")
print("released", released, flush=True)
"""


async def hold_lock(db_path: str, begin: str, seconds: float) -> asyncio.subprocess.Process:
    """Another process (sqlite-utils, Datasette, a backup) holding the database a while."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LOCKER,
        db_path,
        begin,
        str(seconds),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert (await asyncio.wait_for(proc.stdout.readline(), 10)).strip() == b"locked"
    return proc


async def released_at(proc: asyncio.subprocess.Process) -> float:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 10)
    assert await proc.wait() == 0
    return float(line.split()[1])


async def test_a_database_locked_by_another_process_is_waited_out(tmp_path: Path) -> None:
    card: dict[str, str] = {}

    def seed(store: Store, slack: FakeSlack) -> None:
        # One card already posted, to vote on.
        paper = Paper("2605.00001", "A paper to vote on")
        store.save_papers([paper])
        ts = slack.seed_message("C1", "card", user=slack.bot_user_id, bot_id=slack.bot_id)
        store.complete_post(store.claim_post("slack", slack.team_id, "C1", paper.id), ts)
        card["ts"] = ts

    async with running_bot(tmp_path, seed, PAPERBOY_ADMINS="UADMIN") as run:
        await run.bot.start()
        await run.wait(lambda: run.slack.connections)
        db_path = run.bot.db_path
        reader = await hold_lock(db_path, "BEGIN", 2.0)  # Datasette-style long read
        writer = await hold_lock(db_path, "BEGIN IMMEDIATE", 1.0)  # sqlite-utils writing

        reaction = run.slack.reaction_payload(card["ts"], user="UALICE", emoji="+1")
        await run.slack.deliver(reaction, timeout=10)
        command = run.slack.command_payload("subscribe arxiv cs.CL", user="UADMIN")
        await run.slack.deliver(command, timeout=10)
        answer = await run.slack.wait_response(command["response_url"], timeout=15)
        released = await released_at(writer)
        await released_at(reader)

        assert "Subscribed this channel" in answer["text"]
        ((vote, voted_at),) = read_rows(db_path, "SELECT value, updated_at FROM votes")
        assert vote == 1 and voted_at >= released - 0.05  # it waited for the lock, then wrote
        assert len(read_rows(db_path, "SELECT id FROM subscriptions")) == 1
        assert await run.bot.stop() == 0
    assert "Traceback" not in run.bot.log() and "locked" not in run.bot.log()
