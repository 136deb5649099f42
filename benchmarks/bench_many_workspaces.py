"""Many Slack workspaces on one deployment (issue 15): the install flow, a posting round,
memory per installation.

Two real ``paperboy run`` processes in HTTP mode share a private PostgreSQL database
(``tests/pg_server.py``) and the fake Slack (``tests/many_workspaces.py``): every workspace
is installed through the OAuth flow (install page at one process, redirect at the other),
subscribes its channel with a signed ``/papers subscribe``, and one round posts new papers
to all of them.

    python -m benchmarks.bench_many_workspaces WORKDIR WORKSPACES PAPERS   # prints JSON
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from tests.many_workspaces import fleet_of, team
from tests.pg_server import PostgresServer

DISCORD_RATE = 50.0  # requests a second for the whole bot
SLACK_INTERVAL = 1.0  # seconds between messages in one channel


async def many_workspaces(workdir: Path, database_url: str, workspaces: int, papers: int) -> dict:
    teams = [team(i) for i in range(workspaces)]
    async with fleet_of(workdir, database_url, papers) as fleet:
        for bot in fleet.bots:
            await fleet.up(bot)
        rss_before = fleet.rss()
        started = time.perf_counter()
        await fleet.each(fleet.install(t) for t in teams)
        install_seconds = time.perf_counter() - started
        rss_after = fleet.rss()
        await fleet.each(fleet.command("subscribe hf", t) for t in teams)
        slack_bound = papers * SLACK_INTERVAL
        bound = max(slack_bound, workspaces * papers / DISCORD_RATE)
        posted = await fleet.post_round(papers, teams, 120 + 2 * bound)
        return {
            "workspaces": workspaces,
            "papers": papers,
            "installs_per_second": workspaces / install_seconds,
            "rss_per_1000_mib": (rss_after - rss_before) / workspaces * 1000 / 1024,
            "rss_after_mib": rss_after / 1024,
            "round_seconds": posted.seconds,
            "round_posts": posted.posts,
            "round_cpu": posted.cpu,
            "bound": bound,
            "slack_bound": slack_bound,
        }


def main(argv: list[str]) -> int:
    workdir, workspaces, papers = Path(argv[0]), int(argv[1]), int(argv[2])
    workdir.mkdir(parents=True, exist_ok=True)
    server = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory(dir=workdir) as run:
            result = asyncio.run(
                many_workspaces(Path(run), server.new_database(), workspaces, papers)
            )
    finally:
        server.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
