"""Nothing of one workspace reaches another, through real Bolt requests and the real core.

Two workspaces installed through the OAuth flow use the same channel id (C1) and the same
user ids (UADMIN, UALICE), as the fake lets them: subscriptions, posts, votes, leaderboards,
follows, admin rights and digests each stay in the workspace they were made in, and every
Web API call for a workspace is made with that workspace's token.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.conftest import FakeClock
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import FakePaperSources, hf_item
from tests.test_slack_distribution import Distributed
from tests.test_slack_distribution import dist as dist  # the fixture
from tests.test_slack_roundtrip import answer_text

DAY = "2026-05-13"
PAPERS = {
    "2605.00001": "Latent diffusion, faster",
    "2605.00002": "Agents that plan",
    "2605.00003": "Sparse attention at scale",
}


@pytest.fixture
async def two(dist: Distributed, paper_sources: FakePaperSources) -> Distributed:
    """TA and TB installed; UADMIN is an admin in TA and nobody special in TB, UBOSS the
    other way round."""
    items = [
        hf_item(pid, title, upvotes=10 - n, day=DAY)
        for n, (pid, title) in enumerate(PAPERS.items())
    ]
    paper_sources.set_daily(DAY, items)
    paper_sources.set_default_daily([])
    for team in ("TA", "TB"):
        status, page = await dist.install(team)
        assert status == 200, page
    dist.slack.add_user("UADMIN", is_admin=True, team_id="TA")
    dist.slack.add_user("UADMIN", team_id="TB")
    dist.slack.add_user("UBOSS", team_id="TA")
    dist.slack.add_user("UBOSS", is_admin=True, team_id="TB")
    return dist


def card_ids(two: Distributed, team: str, channel: str = "C1") -> list[str]:
    return [
        m["metadata"]["event_payload"]["paper_id"]
        for m in two.slack.posts(channel, team_id=team)
        if m.get("metadata")
    ]


def tokens_for(two: Distributed, method: str) -> set[str]:
    return {c.token for c in two.slack.calls_to(method)}


async def test_subscriptions_admin_rights_and_posts_stay_in_their_workspace(two) -> None:
    ta, tb = two.token("TA"), two.token("TB")
    answer = await two.command("subscribe hf", "TA", "C1", user="UADMIN")
    assert answer["response_type"] == "in_channel", answer
    # The same user id is no admin in TB: asked with TB's token, answered for TB.
    refused = await two.command("subscribe hf", "TB", "C1", user="UADMIN")
    assert "Only channel or workspace admins" in answer_text(refused)
    assert [c.token for c in two.slack.calls_to("users.info")] == [ta, tb]
    listed = await two.command("subscriptions", "TB", "C1", user="UBOSS")
    assert answer_text(listed).startswith("This channel has no subscriptions.")
    gone = await two.command("unsubscribe all", "TB", "C1", user="UBOSS")
    assert "no subscriptions" in answer_text(gone)
    assert [(s.workspace, s.channel) for s in two.bot.store.subscriptions()] == [("TA", "C1")]

    await two.bot.poster.run_once()
    assert sorted(card_ids(two, "TA")) == sorted(PAPERS)
    assert two.slack.messages("C1", team_id="TB") == []
    assert tokens_for(two, "chat.postMessage") == {ta}

    # TB subscribes its own C1: it gets its own cards, TA nothing twice.
    await two.command("subscribe hf", "TB", "C1", user="UBOSS")
    await two.bot.poster.run_once()
    assert sorted(card_ids(two, "TB")) == sorted(PAPERS)
    assert sorted(card_ids(two, "TA")) == sorted(PAPERS)
    tb_posts = [c for c in two.slack.calls_to("chat.postMessage") if c.token == tb]
    assert len(tb_posts) == len(PAPERS)


async def test_votes_and_leaderboards_stay_in_their_workspace(two) -> None:
    two.bot.settings = replace(two.bot.settings, admins=frozenset({"UADMIN"}))
    for team in ("TA", "TB"):
        await two.command("subscribe hf", team, "C1")
    await two.bot.poster.run_once()
    ta_card = next(m for m in two.slack.posts("C1", team_id="TA"))
    paper_id = ta_card["metadata"]["event_payload"]["paper_id"]

    # UALICE upvotes TA's card; the same user id in TB reacts to a message with that ts
    # in TB's C1 (no card of paperboy there): neither counts in the other workspace.
    two.slack.react(ta_card["ts"], channel="C1", user="UALICE")
    await two.slack.deliver(
        two.slack.reaction_payload(ta_card["ts"], channel="C1", team_id="TA"), to=two.events
    )
    await wait_until(lambda: two.bot.store.leaderboard("slack", "TA", None) != [])
    await two.slack.deliver(
        two.slack.reaction_payload(ta_card["ts"], channel="C1", team_id="TB", emoji="-1"),
        to=two.events,
    )
    board = two.bot.store.leaderboard("slack", "TA", None)
    assert [(t.paper_id, t.score) for t in board] == [(paper_id, 1)]
    assert two.bot.store.leaderboard("slack", "TB", None) == []
    assert two.bot.store.tally("slack", "TB", paper_id).score == 0

    ta_top = answer_text(await two.command("top", "TA", "C1", user="UALICE"))
    tb_top = answer_text(await two.command("top", "TB", "C1", user="UALICE"))
    assert PAPERS[paper_id] in ta_top
    assert PAPERS[paper_id] not in tb_top
    # Reading reactions and editing cards only ever touch the voted workspace's messages.
    await wait_until(lambda: two.slack.edits("C1") != [])  # the card shows the vote
    for call in two.slack.calls_to("chat.update") + two.slack.calls_to("reactions.get"):
        assert call.token == two.token("TA"), call


async def test_follows_and_digests_stay_in_their_workspace(
    two, clock: FakeClock, paper_sources: FakePaperSources
) -> None:
    two.bot.settings = replace(two.bot.settings, admins=frozenset({"UADMIN"}))
    assert "Following" in answer_text(await two.command("follow keyword:diffusion", "TA", "C1"))
    follows_tb = answer_text(await two.command("follows", "TB", "C1", user="UADMIN"))
    assert "You follow nothing" in follows_tb
    await two.command("subscribe hf digest=daily@09:00", "TB", "C1")
    await two.command("subscribe hf", "TA", "C1")

    clock.advance(1)
    await two.bot.poster.run_once()
    # The follow's DM goes to UADMIN of TA, opened with TA's token; none in TB.
    opened = two.slack.calls_to("conversations.open")
    assert [(c.token, c.args["users"]) for c in opened] == [(two.token("TA"), "UADMIN")]
    assert two.slack.messages("DUADMIN", team_id="TB") == []
    [dm] = two.slack.messages("DUADMIN", team_id="TA")
    assert "Latent diffusion" in answer_text(dm)

    # TB's digest is posted in TB's C1 only, TA's C1 has its single cards and no digest.
    clock.now = datetime(2026, 5, 14, 9, 0, tzinfo=UTC).timestamp()
    paper_sources.set_daily("2026-05-14", [])
    await two.bot.poster.run_once()
    [digest] = two.slack.messages("C1", team_id="TB")
    assert all(pid in answer_text(digest) for pid in PAPERS)
    assert all(m.get("metadata") for m in two.slack.messages("C1", team_id="TA"))  # cards only
    assert sorted(card_ids(two, "TA")) == sorted(PAPERS)

    # A 👍 under the digest is a vote in TB's ledger, not TA's.
    button = next(
        e
        for block in digest["blocks"]
        if block["type"] == "actions"
        for e in block["elements"]
        if e.get("value") in PAPERS and e["action_id"].startswith("paperboy_vote_up")
    )
    press = two.slack.link_click_payload(button, ts=digest["ts"], user="UALICE", team_id="TB")
    assert (await two.slack.deliver(press, to=two.events)).status == 200
    await wait_until(lambda: two.bot.store.leaderboard("slack", "TB", None) != [])
    board = two.bot.store.leaderboard("slack", "TB", None)
    assert [(t.paper_id, t.score) for t in board] == [(button["value"], 1)]
    assert two.bot.store.leaderboard("slack", "TA", None) == []
