"""Live cards and Share through the real slack-bolt app and the real core, in both modes."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from adapters.slack.app import SlackAdapter
from bot.core import Bot
from bot.model.feed import Feed
from bot.model.subscription import Subscription
from tests.conftest import close_bot, make_bot
from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import hf_item
from tests.fakes.slack import FakeSlack, block_problems
from tests.test_slack_roundtrip import SlackRun, answer_text

# 200 reactions spread over about 2 s against edits at most every 1.5 s: an edit at the
# first reaction, at most one mid-storm, and one after it with the final count.
STORM_INTERVAL = 1.5


@pytest.fixture(params=["socket", "http"])
async def run(request, settings, clock) -> AsyncIterator[SlackRun]:
    bot = make_bot(replace(settings, card_edit_interval=STORM_INTERVAL), clock)
    async with FakeSlack() as slack:
        adapter = SlackAdapter(
            bot,
            slack.settings(socket_mode=request.param == "socket"),
            http_host="127.0.0.1",
            post_interval=0.0,
            edit_interval=0.0,
        )
        bot.attach(adapter)
        await adapter.start()
        url = (
            None
            if request.param == "socket"
            else f"http://127.0.0.1:{adapter.http_port}/slack/events"
        )
        try:
            yield SlackRun(slack, adapter, bot, url, slack.team_id)
        finally:
            await adapter.stop()
            await close_bot(bot)


def serve_today(paper_sources, *specs: tuple[str, int]) -> None:
    items = [hf_item(pid, f"Paper about agents {pid}", upvotes=up) for pid, up in specs]
    paper_sources.set_daily("2026-05-13", items)
    paper_sources.set_default_daily([])


async def post_card(run: SlackRun, bot: Bot, paper_sources) -> dict:
    serve_today(paper_sources, ("2605.00001", 7))
    bot.store.add_subscription(
        Subscription(platform="slack", workspace=run.team, channel="C1", feed=Feed("hf"))
    )
    await bot.poster.run_once()
    [card] = run.slack.posts("C1")
    return card


def card_text(message: dict) -> str:
    return answer_text(message)


async def test_a_storm_of_200_reactions_costs_at_most_three_edits(run, paper_sources) -> None:
    card = await post_card(run, run.bot, paper_sources)
    assert "team +0 (0 up, 0 down)" in card_text(card)

    async def react(i: int) -> None:
        emoji = "-1" if i % 5 == 0 else "+1"
        await run.react(card["ts"], user=f"U{i:04d}", emoji=emoji)

    started = time.monotonic()
    for batch in range(10):  # 20 reactions every 0.2 s: about 2 s in all
        await asyncio.gather(*(react(batch * 20 + i) for i in range(20)))
        await asyncio.sleep(0.2)
    storm = time.monotonic() - started  # longer than 2 s on a loaded machine

    final = "team +120 (160 up, 40 down)"
    await wait_until(lambda: final in card_text(run.slack.posts("C1")[0]), timeout=10)
    await run.bot.cards.wait_idle(timeout=5)
    edits = run.slack.edits("C1")
    # One edit at once, then at most one per interval: three for a 2-second storm.
    assert 1 <= len(edits) <= 2 + int(storm // STORM_INTERVAL), [e.at for e in edits]
    gaps = [b.at - a.at for a, b in itertools.pairwise(edits)]
    assert all(gap >= STORM_INTERVAL - 0.25 for gap in gaps), gaps
    assert all(e.args["ts"] == card["ts"] for e in edits)
    assert final in card_text(run.slack.posts("C1")[0])
    # The edited card is still recognisable as ours after a restart, and within Block Kit.
    assert run.slack.posts("C1")[0]["metadata"]["event_payload"]["paper_id"] == "2605.00001"
    assert block_problems(edits[-1].args["blocks"]) == []


async def test_pending_edits_do_not_delay_a_posting_round(run, paper_sources) -> None:
    card = await post_card(run, run.bot, paper_sources)
    run.slack.delay_answers("chat.update", 5)  # Slack sits on the edit
    await run.react(card["ts"], user="UALICE")
    await wait_until(lambda: run.slack.calls_to("chat.update"), timeout=5)

    serve_today(paper_sources, ("2605.00001", 7), ("2605.00002", 3))
    started = time.monotonic()
    report = await run.bot.poster.run_once()
    assert report.posted == 1 and time.monotonic() - started < 2
    run.slack.delay_answers("chat.update", None)


async def test_new_hf_upvotes_are_edited_into_the_card(run, paper_sources) -> None:
    await post_card(run, run.bot, paper_sources)
    serve_today(paper_sources, ("2605.00001", 250))
    await run.bot.poster.run_once()
    await wait_until(lambda: "250 HF upvotes" in card_text(run.slack.posts("C1")[0]), timeout=5)


async def share_button(
    run: SlackRun, text: str, channel: str = "C1", paper_id: str = "2605.00009"
) -> dict:
    """The Share button of ``paper_id`` in the private answer to ``/papers <text>``."""
    _, answer = await run.command(text, channel=channel)
    assert answer["response_type"] == "ephemeral"
    accessories = [b["accessory"] for b in answer["blocks"] if "accessory" in b]
    buttons = [a for a in accessories if a["type"] == "button"] + [
        e for b in answer["blocks"] for e in b.get("elements", []) if e.get("type") == "button"
    ]
    shares = [b for b in buttons if b["action_id"].startswith("paperboy_share")]
    assert len({b["action_id"] for b in shares}) == len(shares)  # unique in the message
    return next(b for b in shares if b["value"] == paper_id)


async def click(run: SlackRun, button: dict, **kwargs) -> dict:
    payload = run.slack.share_click_payload(button, **kwargs)
    delivery = await run.slack.deliver(payload, to=run.url)
    assert delivery.status == 200
    return await run.slack.wait_response(payload["response_url"])


async def test_share_posts_the_card_once_credited_by_display_name(run, paper_sources) -> None:
    serve_today(paper_sources, ("2605.00009", 31))
    run.slack.add_user("UADA", name="Ada Lovelace")
    button = await share_button(run, "today")
    assert button["value"] == "2605.00009"

    answer = await click(run, button, user="UADA", username="ada")
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "Shared" in answer_text(answer)
    [card] = run.slack.posts("C1")
    assert card["metadata"]["event_payload"]["paper_id"] == "2605.00009"
    assert "shared by Ada Lovelace" in card_text(card)
    assert "<@" not in str(card["blocks"])  # a credit, not a mention
    post = run.bot.store.post_in_channel("slack", run.team, "C1", "2605.00009")
    assert post is not None and post.state == "sent" and post.message_id == card["ts"]

    # The button keeps working (its value is the paper id) and does not post twice.
    again = await click(run, button, user="UBOB", username="bob")
    permalink = f"https://paperboy-test.slack.com/archives/C1/p{card['ts'].replace('.', '')}"
    assert permalink in answer_text(again)
    assert len(run.slack.posts("C1")) == 1

    # The shared card is a live one.
    await run.react(card["ts"], user="UBOB")
    await wait_until(lambda: "team +1 (1 up, 0 down)" in card_text(run.slack.posts("C1")[0]))
    assert "shared by Ada Lovelace" in card_text(run.slack.posts("C1")[0])


async def test_share_from_search_and_show_too(run, paper_sources) -> None:
    serve_today(paper_sources, ("2605.00009", 31))
    await run.command("today")  # puts the paper in the local index
    await share_button(run, "search agents")
    button = await share_button(run, "show 2605.00009", channel="C2")
    answer = await click(run, button, channel="C2")
    assert "Shared" in answer_text(answer) and len(run.slack.posts("C2")) == 1


async def test_share_into_a_channel_paperboy_cannot_post_in(run, paper_sources) -> None:
    serve_today(paper_sources, ("2605.00009", 31))
    run.slack.refuse_channel("CPRIV", joinable=False)
    button = await share_button(run, "today", channel="CPRIV")
    answer = await click(run, button, channel="CPRIV")
    assert answer["response_type"] == "ephemeral"
    assert "can't post in this channel" in answer_text(answer)
    assert "/invite @paperboy" in answer_text(answer)
    assert run.slack.posts("CPRIV") == []
    assert run.bot.store.post_in_channel("slack", run.team, "CPRIV", "2605.00009") is None


def serve_rich(paper_sources, comments: int) -> None:
    item = hf_item(
        "2605.00001",
        "A rich paper",
        upvotes=7,
        githubRepo="https://github.com/o/r",
        githubStars=1576,
        ai_summary="It works <!channel>.",
        organization={"name": "acme", "fullname": "Acme Lab"},
    )
    item["numComments"] = comments
    paper_sources.set_daily("2026-05-13", [item])
    paper_sources.set_default_daily([])


async def test_a_rich_card_reaches_slack_and_follows_new_comments(run, paper_sources) -> None:
    serve_rich(paper_sources, comments=2)
    run.bot.store.add_subscription(
        Subscription(platform="slack", workspace=run.team, channel="C1", feed=Feed("hf"))
    )
    await run.bot.poster.run_once()
    [card] = run.slack.posts("C1")  # the fake refuses blocks Slack would refuse
    text = card_text(card)
    assert "*TL;DR:* It works &lt;!channel&gt;." in text
    assert "🏢 Acme Lab" in text and "💬 2 comments" in text
    [image] = [b["accessory"] for b in card["blocks"] if b.get("accessory", {}).get("type")]
    assert image["image_url"].endswith("/papers/2605.00001.png")
    [actions] = [b for b in card["blocks"] if b["type"] == "actions"]
    labels = [e["text"]["text"] for e in actions["elements"]]
    assert "Code ★ 1.6k" in labels

    serve_rich(paper_sources, comments=5)  # the same upvotes: only the comments moved
    await run.bot.poster.run_once()
    await wait_until(lambda: "💬 5 comments" in card_text(run.slack.posts("C1")[0]), timeout=5)
