"""What a channel voted, and the week's papers ranked by it (``recommend``, ``taste=N``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.events import ChannelRef
from bot.model.paper import Paper
from bot.taste import MIN_UPVOTES, Pick, Vectors, recommend
from bot.text_safety import display_title
from storage.store import Store

WEEK_DAYS = 7
MAX_VOTED = 1000  # the most recent votes a taste is learnt from


@dataclass(frozen=True)
class ChannelTaste:
    liked: tuple[Paper, ...]
    disliked: tuple[Paper, ...]

    @property
    def cold(self) -> bool:
        """Too few up-votes to learn from: rank by HF upvotes instead."""
        return len(self.liked) < MIN_UPVOTES


def channel_taste(store: Store, channel: ChannelRef) -> ChannelTaste:
    votes = store.channel_votes(channel.platform, channel.workspace, channel.channel)
    papers = store.get_papers(list(votes)[:MAX_VOTED])
    return ChannelTaste(
        tuple(p for pid, p in papers.items() if votes[pid] > 0),
        tuple(p for pid, p in papers.items() if votes[pid] < 0),
    )


def week_papers(store: Store, now: float) -> list[Paper]:
    """Papers from the last 7 days, every source: most HF upvotes first, then newest."""
    since = (datetime.fromtimestamp(now, UTC) - timedelta(days=WEEK_DAYS)).date().isoformat()
    return store.recent_papers(since)


def rank(
    taste: ChannelTaste, candidates: Sequence[Paper], n: int, vectors: Vectors | None = None
) -> list[Pick]:
    """The best ``n`` candidates for this channel. Cold: the candidates' own order (HF upvotes
    first), with no reason given; voted papers are left out either way."""
    if taste.cold:
        voted = {p.id for p in (*taste.liked, *taste.disliked)}
        return [Pick(p, 0.0, None) for p in candidates if p.id not in voted][:n]
    return recommend(candidates, taste.liked, taste.disliked, n, vectors)


def why(pick: Pick) -> str:
    return f"like “{display_title(pick.like)}”" if pick.like is not None else ""


def cold_note(taste: ChannelTaste) -> str:
    have = len(taste.liked)
    return (
        f"This channel has {have} up-vote{'' if have == 1 else 's'}; I learn its taste from "
        f"{MIN_UPVOTES}. Until then these are ranked by Hugging Face upvotes. React 👍 or 👎 "
        "on posted papers to teach me."
    )


def taste_subscribe_note(taste: ChannelTaste, n: int) -> str:
    """What ``taste=N`` will do in this channel, said when subscribing."""
    best = f"the {n} best-matching new paper{'s' if n != 1 else ''}"
    if not taste.cold:
        return f"Each day (UTC) I post only {best} by this channel's votes."
    have = len(taste.liked)
    return (
        f"This channel has {have} up-vote{'' if have == 1 else 's'} so far, and I learn its "
        f"taste from {MIN_UPVOTES}: until then I post the {n} new paper{'s' if n != 1 else ''} "
        f"with the most Hugging Face upvotes each day (UTC), then {best}. React 👍 or 👎 on "
        "posts to teach me."
    )
