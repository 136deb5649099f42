"""One paperboy for 1,000 Slack workspaces: issue 15's simulation, Slack half.

The fake Slack serves 1,000 workspaces. Each is installed through the OAuth flow against two
real ``paperboy run`` processes in HTTP mode that share one PostgreSQL database: the
install page from one process, the redirect back (state, code, the fake's oauth.v2.access)
at the other, as a load balancer would spread them. Every workspace's admin subscribes its
own ``C1`` (each workspace has one: the fake keeps them apart) with a signed ``/papers
subscribe``. Then:

1. one round posts 5 new papers to all 1,000 channels: each exactly once, within 1.2x the
   issue's bound for the round (the larger of Slack's one message a second per channel, 5 s,
   and Discord's 50 requests a second for the same papers in as many servers, 100 s), with
   the time, the bots' CPU and their memory per installed workspace reported;
2. 100 workspaces uninstall (``app_uninstalled``) and the poster is killed with SIGKILL
   mid-round: the other process takes over, nothing reaches the departed workspaces and
   every other channel gets each new paper exactly once;
3. the 100 reinstall through the OAuth flow while the survivor posts: they get what they
   missed with their new tokens, nothing twice;
4. the other process is killed mid-round too (and restarted): nothing lost or doubled;
5. votes in 50 workspaces (the same user ids everywhere) give 50 separate exact
   leaderboards through ``/papers top``.

``PAPERBOY_SIM_WORKSPACES`` sets the number of workspaces (default 1,000).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.botprocess import BotProcess
from tests.fakes.local_server import wait_until
from tests.many_workspaces import CHANNEL, Fleet, fleet_of, team
from tests.pg_server import PostgresServer

WORKSPACES = int(os.environ.get("PAPERBOY_SIM_WORKSPACES", "1000"))
UNINSTALLING = WORKSPACES // 10
VOTING = min(50, WORKSPACES)
PAPERS = 5  # new papers in the measured round
VOTERS = [f"UVOTER{i}" for i in range(1, 4)]  # the same ids in every workspace


@pytest.fixture
async def fleet(tmp_path: Path, postgres_server: PostgresServer) -> AsyncIterator[Fleet]:
    async with fleet_of(tmp_path, postgres_server.new_database(), PAPERS) as fleet:
        yield fleet


async def kill_mid_round(fleet: Fleet, posts: int) -> BotProcess:
    """kill -9 the poster once ``posts`` more cards have landed; returns it."""
    poster = fleet.poster()
    start = fleet.posted()
    await wait_until(lambda: fleet.posted() >= start + posts, 120, interval=0.005)
    await poster.kill()
    return poster


@pytest.mark.timeout(900)
async def test_a_thousand_workspaces_on_two_processes(fleet: Fleet) -> None:
    slack, teams = fleet.slack, [team(i) for i in range(WORKSPACES)]
    for bot in fleet.bots:
        await fleet.up(bot)
    rss_before = fleet.rss()
    started = time.monotonic()
    await fleet.each(fleet.install(t) for t in teams)
    install_seconds = time.monotonic() - started
    assert len(slack.calls_to("oauth.v2.access")) == WORKSPACES
    rss_installed = fleet.rss()

    answers = await fleet.each(fleet.command("subscribe hf", t) for t in teams)
    assert all("New papers will be posted here" in a for a in answers), answers[:3]
    # The admin check (users.info) asks each workspace with its own token.
    checks = Counter(slack.workspaces[c.token].team_id for c in slack.calls_to("users.info"))
    assert checks == Counter(teams)

    # Round 1: 5 new papers for the 1,000 channels. The bound for it: the larger of
    # Slack's one message a second per channel (channels in parallel) and Discord's 50
    # requests a second for the whole bot, which posts the same papers to as many Discord
    # channels in the same round.
    slack_bound = PAPERS * 1.0
    bound = max(slack_bound, WORKSPACES * PAPERS / 50)
    settle = 60 + 1.2 * bound  # seconds to wait for any round
    first = await fleet.post_round(PAPERS, teams, settle)
    assert first.posts == WORKSPACES * PAPERS  # none doubled, none retried
    per_workspace = (rss_installed - rss_before) / WORKSPACES
    report(
        f"{WORKSPACES} installs in {install_seconds:.1f} s "
        f"({WORKSPACES / install_seconds:.0f} OAuth round trips/s on two processes); "
        f"round of {first.posts} posts in {first.seconds:.1f} s (bound {bound:.0f} s, "
        f"Slack's alone {slack_bound:.0f} s; {first.cpu:.1f} CPU s in the bots); "
        f"RSS {rss_before // 1024} MiB -> {rss_installed // 1024} MiB after the installs: "
        f"{per_workspace:.1f} KiB per workspace; {fleet.rss() // 1024} MiB after the round"
    )
    assert first.seconds <= 1.2 * bound, fleet.context()
    everything = [p["id"] for p in fleet.feed.papers()]

    # Round 2: 100 workspaces leave; the poster is killed while it posts 2 new papers.
    first_round = set(everything)
    leaving, staying = teams[:UNINSTALLING], teams[UNINSTALLING:]
    await fleet.each(fleet.deliver(slack.uninstall(t)) for t in leaving)
    installed = "SELECT count(*) FROM slack_installations"
    await wait_until(lambda: fleet.db.rows(installed)[0][0] == len(staying), 30, interval=0.1)
    fleet.feed.grow(2)
    everything = [p["id"] for p in fleet.feed.papers()]
    killed = await kill_mid_round(fleet, len(staying) // 2)
    await wait_until(lambda: fleet.settled({t: everything for t in staying}), settle, interval=0.2)
    cards = fleet.cards()
    assert all(len(cards[t]) == PAPERS and set(cards[t]) == first_round for t in leaving)
    assert not any(b.crashed for b in fleet.bots if b is not killed), fleet.context()

    # Round 3: they come back through the OAuth flow, at either process, while the
    # survivor posts: it must use their new tokens. They get the papers they missed.
    await fleet.up(killed)
    await fleet.each(fleet.install(t) for t in leaving)
    fleet.feed.grow(1)
    everything = [p["id"] for p in fleet.feed.papers()]
    await wait_until(lambda: fleet.settled({t: everything for t in teams}), settle, interval=0.2)

    # Round 4: the other process is killed mid-round and restarted.
    fleet.feed.grow(1)
    everything = [p["id"] for p in fleet.feed.papers()]
    again = await kill_mid_round(fleet, WORKSPACES // 3)
    await fleet.up(again)
    await wait_until(lambda: fleet.settled({t: everything for t in teams}), settle, interval=0.2)
    doubled = {t: ids for t, ids in fleet.cards().items() if len(ids) != len(set(ids))}
    assert not doubled, f"posted twice: {list(doubled.items())[:3]}\n{fleet.context()}"

    # Votes in 50 workspaces, by the same user ids: 50 separate leaderboards.
    voting = teams[-VOTING:]
    expected = {t: votes_of(n) for n, t in enumerate(voting)}
    reactions = []
    for t in voting:
        cards = {
            m["metadata"]["event_payload"]["paper_id"]: m["ts"]
            for m in slack.channels()[(t, CHANNEL)]
            if m.get("metadata")
        }
        for paper_index, ups in expected[t].items():
            ts = cards[everything[paper_index]]
            for user in VOTERS[:ups]:
                slack.react(ts, channel=CHANNEL, user=user)
                reactions.append(
                    slack.reaction_payload(
                        ts, channel=CHANNEL, user=user, team_id=t, item_user=f"U{t}BOT"
                    )
                )
    await fleet.each(fleet.deliver(r) for r in reactions)

    def board(t: str) -> list[tuple[str, int]]:
        return [
            tuple(row)  # type: ignore[misc]
            for row in fleet.db.rows(
                "SELECT paper_id, sum(value) FROM votes WHERE platform = 'slack' "
                f"AND workspace = '{t}' GROUP BY paper_id ORDER BY 2 DESC"
            )
        ]

    def wanted(t: str) -> list[tuple[str, int]]:
        return sorted(((everything[i], ups) for i, ups in expected[t].items()), key=lambda r: -r[1])

    await wait_until(lambda: all(board(t) == wanted(t) for t in voting), 60, interval=0.2)
    tops = dict(
        zip(
            voting,
            await fleet.each(fleet.command("top all", t, user=VOTERS[0]) for t in voting),
            strict=True,
        )
    )
    titles = {p["id"]: p["title"] for p in fleet.feed.papers()}
    for t in voting:
        where = {pid: tops[t].find(title) for pid, title in titles.items() if title in tops[t]}
        shown = sorted(where, key=where.__getitem__)
        assert shown == [pid for pid, _ in wanted(t)], (t, tops[t])
        for _, ups in wanted(t):
            assert f"+{ups} ({ups} :+1: · 0 :-1:)" in tops[t], (t, tops[t])
    for t in teams[: len(teams) - VOTING]:
        assert board(t) == []
    for bot in fleet.bots:
        assert "Traceback" not in bot.log(), fleet.context()
        assert "could not post" not in bot.log(), fleet.context()


def votes_of(n: int) -> dict[int, int]:
    """Workspace ``n``'s upvotes per paper (by index in the feed): a different ranking in
    each workspace, no ties."""
    return {(n + j) % (PAPERS + 4): j + 1 for j in range(3)}


def report(line: str) -> None:
    print(f"\n[many workspaces] {line}")
