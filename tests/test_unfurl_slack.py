"""Link unfurling and vote buttons through the real slack-bolt app, in both modes: pasted
paper links become cards in one chat.unfurl (never a post), a button vote and a reaction
by one user are one vote, and a person's message with one paper link takes reactions."""

from __future__ import annotations

import pytest

from tests.fakes.local_server import wait_until
from tests.fakes.paper_sources import hf_item
from tests.fakes.slack import block_problems
from tests.test_slack_roundtrip import SlackRun, answer_text
from tests.test_slack_roundtrip import run as run  # the fixture: both modes

IDS = ("2605.00001", "2605.00002", "2605.00003", "2605.00004", "2605.00005", "2605.00006")


@pytest.fixture(autouse=True)
def papers(paper_sources) -> None:
    paper_sources.set_daily("2026-05-13", [hf_item(pid, f"Paper {pid}") for pid in IDS])
    paper_sources.set_default_daily([])


async def share(run: SlackRun, urls: list[str], **kwargs) -> dict:
    """Someone posts ``urls``; the link_shared event, delivered and handled."""
    payload = run.slack.share_links(urls, **kwargs)
    delivery = await run.slack.deliver(payload, to=run.url)
    assert delivery.status == 200
    return payload["event"]


def vote_button(unfurl: dict, direction: str) -> dict:
    return next(
        e
        for b in unfurl["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == f"paperboy_vote_{direction}"
    )


async def press(run: SlackRun, button: dict, event: dict, user: str = "UADA") -> str:
    payload = run.slack.unfurl_click_payload(
        button, ts=event["message_ts"], channel=event["channel"], user=user
    )
    assert (await run.slack.deliver(payload, to=run.url)).status == 200
    answer = await run.slack.wait_response(payload["response_url"])
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    return answer_text(answer)


async def test_three_links_unfurl_into_three_cards_in_one_call(run) -> None:
    urls = [
        "https://arxiv.org/abs/2605.00001",
        "https://huggingface.co/papers/2605.00002",
        "https://www.alphaxiv.org/abs/2605.00003",
    ]
    event = await share(run, urls)
    await wait_until(lambda: run.slack.unfurls, timeout=5)
    [unfurl] = run.slack.unfurls
    assert (unfurl.channel, unfurl.ts) == (event["channel"], event["message_ts"])
    assert list(unfurl.unfurls) == urls
    for url, pid in zip(urls, IDS, strict=False):
        card = unfurl.unfurls[url]
        assert f"Paper {pid}" in answer_text({"text": "", "blocks": card["blocks"]})
        assert vote_button(card, "up")["value"] == pid
        assert vote_button(card, "down")["value"] == pid
        assert block_problems(card["blocks"]) == []
    assert len(run.slack.calls_to("chat.unfurl")) == 1
    assert run.slack.posts() == [] and run.slack.responses == {}  # unfurls never post


async def test_a_button_vote_and_a_reaction_are_one_vote_and_pressing_again_takes_it_back(
    run,
) -> None:
    event = await share(run, ["https://arxiv.org/abs/2605.00001"])
    await wait_until(lambda: run.slack.unfurls, timeout=5)
    card = run.slack.unfurls[0].unfurls["https://arxiv.org/abs/2605.00001"]

    said = await press(run, vote_button(card, "up"), event)
    assert "your vote is +1" in said and "again to take it back" in said
    # The same user also reacts 👍 on the message: still one vote.
    await run.react(event["message_ts"], user="UADA", item_user="UALICE")
    tally = run.bot.store.tally("slack", run.team, "2605.00001")
    assert (tally.score, tally.ups) == (1, 1)

    said = await press(run, vote_button(card, "up"), event)
    assert "took back" in said and "+1 (from your reactions)" in said
    await run.react(event["message_ts"], user="UADA", item_user="UALICE", added=False)
    assert run.bot.store.tally("slack", run.team, "2605.00001").ups == 0

    said = await press(run, vote_button(card, "down"), event)
    assert "your vote is -1" in said and "Team: -1 (0 up, 1 down)" in said
    said = await press(run, vote_button(card, "down"), event)
    assert "took back" in said and run.bot.store.leaderboard("slack", run.team, None) == []


async def test_reactions_count_on_a_message_with_one_paper_link_not_two(run) -> None:
    one = await share(run, ["https://arxiv.org/abs/2605.00001"])
    two = await share(run, ["https://arxiv.org/abs/2605.00002", "https://arxiv.org/abs/2605.00003"])
    await wait_until(lambda: len(run.slack.unfurls) == 2, timeout=5)
    await run.react(one["message_ts"], user="UBOB", item_user="UALICE")
    await run.react(two["message_ts"], user="UBOB", item_user="UALICE")
    [voted] = run.tally()
    assert (voted.paper_id, voted.score) == ("2605.00001", 1)


async def test_a_preview_in_the_composer_unfurls_by_its_id_and_is_not_votable(run) -> None:
    event = await share(run, ["https://arxiv.org/abs/2605.00001"], source="composer")
    await wait_until(lambda: run.slack.unfurls, timeout=5)
    assert run.slack.unfurls[0].unfurl_id == event["unfurl_id"]
    assert run.bot.store.votable_message("slack", run.team, "COMPOSER", event["message_ts"]) is None


async def test_many_links_unknown_ids_and_non_papers(run) -> None:
    urls = [f"https://arxiv.org/abs/{pid}" for pid in ("2401.99999", *IDS)]
    await share(run, ["https://huggingface.co/models/gpt2", *urls])
    await wait_until(lambda: run.slack.unfurls, timeout=5)
    cards = run.slack.unfurls[0].unfurls
    assert list(cards) == urls[1:5]  # the first five paper links; the unknown one skipped
    last = answer_text({"text": "", "blocks": cards[urls[4]]["blocks"]})
    assert "2 more paper links in that message not shown; not found: 2401.99999" in last

    # Nothing that is a paper: no unfurl, and nothing posted either.
    await share(run, ["https://huggingface.co/models/gpt2", "https://arxiv.org/abs/2401.99999"])
    # A hostile link to a real paper unfurls like any other, keyed by the link as it was.
    hostile = "https://arxiv.org/abs/2605.00001?x=<!channel>&y=\u202e`*_"
    await share(run, [hostile])
    await wait_until(lambda: len(run.slack.calls_to("chat.unfurl")) == 2, timeout=5)
    assert list(run.slack.unfurls[1].unfurls) == [hostile]
    assert run.slack.posts() == [] and all(c.answer.get("ok") for c in run.slack.calls)


async def test_a_biorxiv_link_unfurls_and_its_buttons_carry_the_doi(run) -> None:
    url = "https://www.biorxiv.org/content/10.1101/2024.01.01.123456v2.full"
    event = await share(run, [url])
    await wait_until(lambda: run.slack.unfurls, timeout=5)
    card = run.slack.unfurls[0].unfurls[url]
    assert vote_button(card, "up")["value"] == "10.1101/2024.01.01.123456"
    said = await press(run, vote_button(card, "up"), event)
    assert "your vote is +1" in said
    assert run.tally()[0].paper_id == "10.1101/2024.01.01.123456"
