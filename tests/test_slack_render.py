"""Slack rendering: every reply type, inside Block Kit's limits for any paper."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack.render import (
    CARD_EVENT_TYPE,
    FALLBACK_MAX,
    HEADER_MAX,
    card_metadata,
    render,
    safe_url,
    units,
)
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.subscription import Subscription
from bot.replies import (
    Error,
    Help,
    Leaderboard,
    LeaderboardEntry,
    PaperCard,
    PaperList,
    ScoredPaper,
    SubscriptionList,
    Text,
)
from tests.fakes.slack import block_problems

HOSTILE = "<!channel> <@U123> & *bold* _it_ `code` > quote | pipe \u202e\x00\x07 🧪👩🏽‍🔬"


def subscription_list(subs: Iterable[Subscription]) -> SubscriptionList:
    subs = tuple(subs)
    return SubscriptionList(subs, tuple(s.describe("Hugging Face Daily Papers") for s in subs))


def hostile_paper() -> Paper:
    return Paper(
        id="2401.12345",
        title=(HOSTILE * 10)[:300],
        abstract=("An abstract with <tags> & ampersands. " * 300)[:10_000],
        authors=tuple(f"Author {i} <{i}@example.org> & co" for i in range(2000)),
        published="2024-01-15",
        categories=("cs.CL", "cs.LG"),
        upvotes=1234,
        hf_date="2024-01-16",
        code_url="https://github.com/org/repo?x=<script>|y",
        project_url="javascript:alert(1)",
        thumbnail_url="https://cdn.example/" + "t" * 2990,  # over Slack's 3,000 once quoted
        sources=("arxiv", "hf"),
        comments=10**9,
        github_stars=10**9,
        ai_summary=(HOSTILE * 200)[:10_000],
        ai_keywords=(HOSTILE,) * 50,
        organization=HOSTILE * 10,
        submitted_by=HOSTILE,
    )


def plain_paper(**changes) -> Paper:
    fields = {"id": "2402.00001", "title": "Plain", "authors": ("Ada",), "published": "2024-02-01"}
    return Paper(**{**fields, **changes})


def every_reply(paper: Paper) -> list:
    many = tuple(ScoredPaper(paper, votes=i - 3) for i in range(60))
    return [
        Text(HOSTILE * 200),
        Error(HOSTILE * 100, hint=HOSTILE * 100),
        PaperCard(paper, votes=7),
        PaperCard(paper, votes=0),
        PaperList(HOSTILE * 20, many, note=HOSTILE * 100),
        PaperList("empty", ()),
        Leaderboard("week", tuple(LeaderboardEntry(paper, 9, 10, 1) for _ in range(60))),
        Leaderboard("all", ()),
        subscription_list(
            Subscription(id=i, feed=Feed("hf"), keywords=(HOSTILE,) * 20) for i in range(300)
        ),
        SubscriptionList(()),
        Help(tuple((f"search {HOSTILE}", HOSTILE * 30) for _ in range(200))),
        Help(),
    ]


_LINK = re.compile(r"<https?://[^\s|<>]+\|([^<>]*)>")
_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def mrkdwn_texts(message: dict) -> list[str]:
    texts = [message["text"]]
    for block in message["blocks"]:
        if block["type"] == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(e["text"] for e in block["elements"])
    return texts


def assert_escaped(text: str) -> None:
    """No markup from the data: only our own links may use angle brackets."""
    bare = _LINK.sub(r"\1", text)
    assert "<" not in bare and ">" not in bare, text[:200]
    assert not _ENTITY.search(bare), text[:200]


def assert_within_limits(message: dict) -> None:
    assert block_problems(message["blocks"]) == []
    assert message["blocks"], "a message always has blocks"
    assert 0 < units(message["text"]) <= FALLBACK_MAX
    for text in mrkdwn_texts(message):
        assert_escaped(text)


@pytest.mark.parametrize("reply", every_reply(hostile_paper()), ids=lambda r: type(r).__name__)
def test_every_reply_type_stays_within_slack_limits(reply) -> None:
    assert_within_limits(render(reply))


def test_card_of_an_extreme_paper() -> None:
    message = render(PaperCard(hostile_paper(), votes=-2))
    header, meta, tldr, abstract, actions = message["blocks"]
    assert header["type"] == "header" and units(header["text"]["text"]) <= HEADER_MAX
    assert header["text"]["text"].endswith("…")
    assert "\u202e" not in header["text"]["text"] and "\x00" not in header["text"]["text"]
    meta_text = meta["elements"][0]["text"]
    assert "+1,997 more" in meta_text
    assert "2024-01-15" in meta_text and "1,234 HF upvotes" in meta_text
    assert "-2 team votes" in meta_text
    assert "🏢 &lt;!channel&gt;" in meta_text and "💬 1,000,000,000 comments" in meta_text
    assert tldr["text"]["text"].startswith("*TL;DR:* &lt;!channel&gt;")
    assert units(tldr["text"]["text"]) <= 620 and tldr["text"]["text"].endswith("…")
    assert abstract["text"]["text"].endswith("…") and units(abstract["text"]["text"]) <= 600
    assert "accessory" not in abstract  # a thumbnail URL Slack would refuse is left out
    labels = [b["text"]["text"] for b in actions["elements"] if "url" in b]
    assert labels == ["Abstract", "PDF", "Hugging Face", "Code ★ 1B"]  # javascript: dropped
    code = actions["elements"][3]["url"]
    assert "<" not in code and "|" not in code
    # The link survives in the fallback even after a 300-character title.
    assert message["text"].endswith("https://arxiv.org/abs/2401.12345")


def test_card_of_an_arxiv_only_paper_has_no_hf_button() -> None:
    message = render(PaperCard(plain_paper(sources=("arxiv",))))
    labels = [b["text"]["text"] for b in message["blocks"][-1]["elements"]]
    assert labels == ["Abstract", "PDF", "Share to channel"]
    assert "HF upvote" not in message["blocks"][1]["elements"][0]["text"]


def test_a_private_card_offers_share_and_a_channel_card_shows_the_live_count() -> None:
    paper = plain_paper()
    private = render(PaperCard(paper, votes=2))
    [share] = [b for b in private["blocks"][-1]["elements"] if "url" not in b]
    assert share["action_id"] == "paperboy_share" and share["value"] == paper.id

    card = PaperCard(paper, 2, public=True, ups=3, downs=1, shared_by="<@U123> Ada")
    posted = render(card)
    assert block_problems(posted["blocks"]) == []
    assert all("url" in b for b in posted["blocks"][-1]["elements"])  # no Share in a channel
    live = posted["blocks"][2]["elements"][0]["text"]
    assert "team +2 (3 up, 1 down)" in live
    assert "shared by &lt;@U123&gt; Ada" in live  # text, never a mention that notifies
    assert "to vote" not in json.dumps(posted)


def test_each_entry_of_a_private_list_has_its_own_share_button() -> None:
    papers = tuple(ScoredPaper(plain_paper(id=f"2402.{i:05d}", title=f"T{i}")) for i in range(3))
    private = render(PaperList("Search: t", papers))
    accessories = [b["accessory"] for b in private["blocks"] if "accessory" in b]
    assert [a["value"] for a in accessories] == ["2402.00000", "2402.00001", "2402.00002"]
    assert len({a["action_id"] for a in accessories}) == 3
    assert all(a["action_id"].startswith("paperboy_share") for a in accessories)
    public = render(PaperList("Search: t", papers, public=True))
    assert not any("accessory" in b for b in public["blocks"])
    board = render(Leaderboard("week", (LeaderboardEntry(plain_paper(), 3, 4, 1),)))
    assert [b["accessory"]["value"] for b in board["blocks"] if "accessory" in b] == ["2402.00001"]


def test_card_metadata_names_the_paper() -> None:
    assert card_metadata("2401.12345") == {
        "event_type": CARD_EVENT_TYPE,
        "event_payload": {"paper_id": "2401.12345"},
    }


def test_list_links_titles_and_says_how_many_were_left_out() -> None:
    papers = tuple(ScoredPaper(plain_paper(id=f"2402.{i:05d}", title=f"T{i}")) for i in range(25))
    message = render(PaperList("Search: t", papers, note="HF was down"))
    sections = [b for b in message["blocks"] if b["type"] == "section"]
    assert len(sections) == 20
    assert sections[0]["text"]["text"].startswith("*1.* *<https://arxiv.org/abs/2402.00000|T0>*")
    assert "HF was down" in message["blocks"][-1]["elements"][0]["text"]
    assert "5 more" in message["blocks"][-1]["elements"][0]["text"]
    assert "to vote" not in sections[0]["text"]["text"]  # only cards invite votes


def test_leaderboard_shows_score_and_votes() -> None:
    message = render(Leaderboard("week", (LeaderboardEntry(plain_paper(), 3, 4, 1),)))
    assert message["blocks"][0]["text"]["text"] == "Top papers, this week"
    assert "+3 (4 :+1: · 1 :-1:)" in message["blocks"][1]["text"]["text"]
    empty = render(Leaderboard("day", ()))
    assert "No votes today yet" in empty["blocks"][1]["text"]["text"]


def test_error_shows_message_and_hint() -> None:
    message = render(Error("Only admins can subscribe.", hint="Ask an admin."))
    assert message["blocks"][0]["text"]["text"] == ":warning: Only admins can subscribe."
    assert message["blocks"][1]["elements"][0]["text"] == "Ask an admin."


def test_help_and_subscriptions_read_as_commands() -> None:
    message = render(Help((("/papers search <words>", "find papers"), ("top", "best"))))
    text = message["blocks"][0]["text"]["text"]
    assert "`/papers search &lt;words&gt;`  find papers" in text
    assert "`/papers top`  best" in text
    subs = render(subscription_list([Subscription(id=3, feed=Feed("hf"), min_upvotes=5)]))
    assert "`#3` Hugging Face Daily Papers min_upvotes=5" in subs["blocks"][0]["text"]["text"]
    assert "/papers subscribe hf" in render(SubscriptionList(()))["text"]


def test_text_keeps_lines_and_escapes() -> None:
    message = render(Text("one & two\nthree <four>"))
    assert message["blocks"][0]["text"]["text"] == "one &amp; two\nthree &lt;four&gt;"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/a/b", "https://github.com/a/b"),
        ("https://x.org/a|b>c d", "https://x.org/a%7Cb%3Ec%20d"),
        ("javascript:alert(1)", None),
        ("ftp://x.org/file", None),
        ("", None),
        ("https://x.org/" + "a" * 3000, None),
    ],
)
def test_safe_url(url: str, expected: str | None) -> None:
    assert safe_url(url) == expected


def test_render_refuses_unknown_types() -> None:
    with pytest.raises(TypeError):
        render("not a reply")  # type: ignore[arg-type]


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=400)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=text,
    abstract=st.text(max_size=3000),
    authors=st.lists(text, max_size=30),
    url=text,
    votes=st.integers(-(10**6), 10**6),
    upvotes=st.none() | st.integers(0, 10**9),
    counts=st.tuples(*[st.none() | st.integers(-(10**12), 10**12)] * 2),
)
def test_any_paper_renders_within_limits(
    title, abstract, authors, url, votes, upvotes, counts
) -> None:
    paper = Paper(
        id="2401.00001",
        title=title,
        abstract=abstract,
        authors=tuple(authors),
        upvotes=upvotes,
        code_url=url,
        project_url="https://" + url,
        thumbnail_url="https://" + url,
        published=title[:12],
        comments=counts[0],
        github_stars=counts[1],
        ai_summary=abstract[::-1],
        organization=title,
    )
    for reply in (
        PaperCard(paper, votes=votes),
        PaperList(title, (ScoredPaper(paper, votes),) * 3, note=abstract[:200]),
        Leaderboard(title[:10], (LeaderboardEntry(paper, votes, 1, 2),)),
        Error(title, hint=abstract),
        Text(abstract),
    ):
        assert_within_limits(render(reply))
