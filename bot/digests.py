"""Digest subscriptions: one message per period instead of one per paper.

Each poster round (so only in the process holding the poster's lock) asks every digest
subscription whether a period is due: the latest due time at or before now, in the channel's
time zone (``bot.model.schedule``). A due period is claimed in the store before anything is
sent (one row per subscription and period), so two rounds, a restart or a second process
never send it twice; after downtime only the latest missed period is due, so it is sent
once and the ones before it never. A send that certainly failed gives the claim back for the
next round; one whose outcome is unknown (a crash, a timeout) keeps it: a digest is not
worth the risk of a double.

Between rounds the poster sleeps until the next due time (``next_due``) or its poll
interval, whichever is sooner, so a 09:00 digest goes out at 09:00, not up to an interval
later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.events import ChannelRef
from bot.model.paper import Paper
from bot.model.schedule import zone
from bot.model.subscription import Subscription
from bot.outbox import Outbox, SendError
from bot.replies import Digest, DigestEntry
from bot.sources.registry import Sources
from storage.store import Store

log = logging.getLogger(__name__)

# A paper listed in one of a subscription's digests this recently is not listed again
# (HF keeps a paper on its list for two days, so consecutive daily digests would repeat it).
DIGEST_MEMORY = timedelta(days=30).total_seconds()


@dataclass(frozen=True)
class DuePeriod:
    subscription: Subscription
    due: datetime  # in the channel's time zone
    key: str  # "2026-05-13" or "2026-W20"


class Digests:
    def __init__(
        self,
        store: Store,
        sources: Sources,
        outboxes: dict[str, Outbox],
        clock: Callable[[], float],
        owner: str,
    ) -> None:
        self.store = store
        self.sources = sources
        self.outboxes = outboxes
        self.clock = clock
        self.owner = owner

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _zone(self, sub: Subscription):
        return zone(self.store.channel_tz(sub.platform, sub.workspace, sub.channel))

    def due_period(self, sub: Subscription) -> DuePeriod | None:
        """The period of ``sub`` due now (the latest one; maybe already sent), if any."""
        if sub.digest is None:
            return None
        due = sub.digest.latest_due(self._now(), self._zone(sub))
        if due.timestamp() < sub.created_at:
            return None  # subscribed after it: the first digest is the next one
        return DuePeriod(sub, due, sub.digest.period_key(due))

    def next_due(self, subs: Iterable[Subscription]) -> float | None:
        """When the next digest of ``subs`` falls due (Unix seconds), if any has a schedule."""
        times = [
            sub.digest.next_due(self._now(), self._zone(sub)).timestamp()
            for sub in subs
            if sub.digest is not None
        ]
        return min(times, default=None)

    def local_time(self, sub: Subscription, when: float) -> str:
        """``when`` in words, in the channel's time zone: "Thursday 14 May 2026, 09:00"."""
        moment = datetime.fromtimestamp(when, UTC).astimezone(self._zone(sub))
        return f"{moment:%A} {moment.day} {moment:%B %Y}, {moment:%H:%M}"

    async def run(self, subs: Iterable[Subscription]) -> int:
        """Send every due digest of ``subs`` not sent before; returns how many were sent."""
        sent = 0
        for sub in subs:
            if sub.digest is None or sub.platform not in self.outboxes:
                continue
            try:
                sent += await self._run_one(sub)
            except Exception:  # one subscription's trouble must not cost the others theirs
                log.exception("digest of subscription #%d failed", sub.id)
        return sent

    async def _run_one(self, sub: Subscription) -> int:
        period = self.due_period(sub)
        if period is None or not self.store.claim_digest(sub, period.key, owner=self.owner):
            return 0
        digest = self.build(period)
        channel = ChannelRef(sub.platform, sub.workspace, sub.channel)
        if not digest.entries:
            self.store.complete_digest(sub.id, period.key, None, ())
            log.info("channel %s: digest #%d %s: nothing to send", channel, sub.id, period.key)
            return 0
        try:
            ref = await self.outboxes[sub.platform].send(channel, digest)
        except SendError as exc:
            self.store.release_digest(sub.id, period.key)
            log.warning("channel %s: could not send digest #%d: %s", channel, sub.id, exc)
            return 0
        except Exception:
            log.exception(
                "channel %s: digest #%d %s ended in an unknown state; not sent again",
                channel,
                sub.id,
                period.key,
            )
            return 0
        paper_ids = [e.paper.id for e in digest.entries]
        self.store.complete_digest(sub.id, period.key, ref.message, paper_ids)
        log.info("channel %s: digest #%d %s sent", channel, sub.id, period.key)
        return 1

    # -- what a digest lists --------------------------------------------------------------

    def build(self, period: DuePeriod) -> Digest:
        sub = period.subscription
        assert sub.digest is not None
        since = period.due.timestamp() - sub.digest.length.total_seconds()
        words = _period_words(period)
        if sub.is_team_top:
            tallies = self.store.channel_leaderboard(
                sub.platform, sub.workspace, sub.channel, since, limit=sub.top
            )
            papers = self.store.get_papers(t.paper_id for t in tallies)
            entries = tuple(
                DigestEntry(papers[t.paper_id], t.score, t.ups, t.downs)
                for t in tallies
                if t.paper_id in papers
            )
            noun = "day" if sub.digest.every == "daily" else "week"
            return Digest(f"Team top of the {noun}", words, entries, team_top=True)
        entries = self._best_papers(sub, since)
        title = f"{self.sources.describe(sub.feed)}: top {sub.top}"
        return Digest(title, words, entries)

    def _best_papers(self, sub: Subscription, since: float) -> tuple[DigestEntry, ...]:
        """The ``top`` papers the feed listed since ``since`` that pass the filters and no
        earlier digest of ``sub`` listed: most HF upvotes first, then the team's votes."""
        shown_before = self.store.digested_papers(sub.id, self.clock() - DIGEST_MEMORY)
        listed = self.store.listed_papers(sub.feed, self.clock() - since)
        candidates = [p for p in listed if p.id not in shown_before and sub.matches(p)]
        tallies = self.store.tallies(sub.platform, sub.workspace, (p.id for p in candidates))
        entries = []
        for paper in candidates:
            tally = tallies[paper.id]
            entries.append(DigestEntry(paper, tally.score, tally.ups, tally.downs))
        entries.sort(key=lambda e: _rank(e.paper, e.votes), reverse=True)
        return tuple(entries[: sub.top])


def _rank(paper: Paper, votes: int) -> tuple:
    return (paper.upvotes if paper.upvotes is not None else -1, votes, paper.published, paper.id)


def _period_words(period: DuePeriod) -> str:
    day = period.due.date()
    when = f"{day:%A} {day.day} {day:%B %Y}"
    if period.subscription.digest and period.subscription.digest.every == "weekly":
        return f"the week to {when}"
    return when
