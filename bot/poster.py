"""Auto-posting: refresh the feeds subscriptions use, post each new match once per channel.

A round:
1. settle posts a crash (or an unknown send outcome) left 'pending', by asking the platform
   whether the card is in the channel;
2. refresh each feed in use (HF Daily Papers, arXiv or bioRxiv categories...) into the store;
3. for every subscribed channel, post the best new matches, one message per paper, at most
   ``max_posts_per_poll`` a round; channels run in parallel, each channel in order;
4. send the digests that are due (``bot.digests``): digest subscriptions post nothing else.

Rounds come every poll interval, and sooner when a digest falls due before that.

The posts table's unique (channel, paper) key, written before sending, is what makes
"never the same paper twice in a channel" hold across restarts.

Several processes may share the database: only the holder of the store's poster lease runs
rounds (the others try again every poll interval), and each claim carries its owner and a
lease, so settling never releases a claim another live process is still sending
(``storage.poster_lease``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.channel_taste import channel_taste, rank
from bot.config import Settings
from bot.digests import Digests
from bot.events import ChannelRef
from bot.follows import notify_follows
from bot.live_cards import live_card
from bot.model.feed import Feed
from bot.model.paper import Paper
from bot.model.subscription import Subscription
from bot.outbox import CheckLater, Outbox, SendError
from bot.replies import Text
from bot.sources.http import SourceError
from bot.sources.registry import Sources
from storage.poster_lease import (
    CLAIM_LEASE_SECONDS,
    CLAIM_RENEW_SECONDS,
    PosterLease,
    new_claim_owner,
    owner_is_gone,
)
from storage.store import Post, Store

log = logging.getLogger(__name__)

# A feed item stays a candidate this long after the feed last listed it: HF lists a paper
# for a day or two, arXiv for one announcement day (longer over weekends), bioRxiv and
# medRxiv for the two days their feeds read.
FEED_WINDOW = timedelta(days=2).total_seconds()
DIGEST_WAKE_MARGIN = 1.0  # seconds after a digest's time that its round starts
PURGE_EVERY = 86400.0  # seconds between deletions of departed workspaces' data
# A follower tries for the poster lock this often, or every half poll interval if that is
# sooner: a dead poster's work resumes within seconds rather than a poll interval later, and
# a follower whose event loop runs late (a reaction storm) still takes over well within two.
FOLLOWER_RETRY = 5.0


@dataclass
class ChannelReport:
    posted: int = 0
    waiting: int = 0  # over this round's limit: next round
    skipped: int = 0  # listed, but filtered out or posted here before
    failed: int = 0


@dataclass
class RoundReads:
    """What a round read once for all its channels."""

    listed: dict[Feed, list[Paper]]  # each feed's papers listed within FEED_WINDOW
    posted: dict[ChannelRef, set[str]]  # which of those each channel posted (or claimed)


@dataclass
class ChannelPlan:
    papers: list[Paper]  # this round's posts, in order
    picked_by: dict[str, Subscription]  # paper id -> the taste subscription that picked it
    report: ChannelReport


@dataclass
class RoundReport:
    fetched: dict[Feed, int] = field(default_factory=dict)
    new: dict[Feed, int] = field(default_factory=dict)
    failed_feeds: dict[Feed, str] = field(default_factory=dict)
    channels: dict[ChannelRef, ChannelReport] = field(default_factory=dict)
    follow_messages: int = 0  # direct messages sent to people for what they follow
    digests: int = 0  # digests sent

    @property
    def posted(self) -> int:
        return sum(c.posted for c in self.channels.values())


def every(seconds: float) -> str:
    """A poll interval as people say it: ``15 min``, ``2 h``, ``30 s``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


class Poster:
    def __init__(
        self,
        store: Store,
        sources: Sources,
        settings: Settings,
        outboxes: dict[str, Outbox],
        clock: Callable[[], float] = time.time,
        lease: PosterLease | None = None,
    ) -> None:
        self.store = store
        self.sources = sources
        self.settings = settings
        self.outboxes = outboxes
        self.clock = clock
        self.lease = lease if lease is not None else store.poster_lease()
        self.owner = new_claim_owner()
        self._in_flight: set[int] = set()  # this process's claims being sent right now
        self._said_follower = False
        self._wake = asyncio.Event()
        self._round_lock = asyncio.Lock()
        self._idle = asyncio.Event()
        self._idle.set()
        self.rounds_done = 0
        # New subscriptions whose feed has not been fetched since: if that first fetch fails,
        # their channel is told (once), rather than waiting on "the first ones in a moment".
        self._first_fetch: set[int] = set()
        self.last_round_at: float | None = None  # when this process's last round ended
        self.digests = Digests(store, sources, outboxes, clock, self.owner)
        self._next_purge = 0.0
        # Told which papers a refresh changed (HF upvotes, comments, stars, a new TL;DR...),
        # so their posted cards follow.
        self.papers_changed: Callable[[list[str]], None] = lambda paper_ids: None

    def poke(self) -> None:
        """Run a round now instead of at the next interval (a new subscription wants posts)."""
        self._wake.set()
        self._idle.clear()

    def subscribed(self, sub: Subscription) -> None:
        """A new subscription wants its first posts now; its channel hears if that fails."""
        self._first_fetch.add(sub.id)
        self.poke()

    @property
    def busy(self) -> bool:
        """A round is running or has been asked for."""
        return not self._idle.is_set()

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Return once no round is running or asked for (the console waits on this)."""
        async with asyncio.timeout(timeout):
            await self._idle.wait()

    async def run_forever(self) -> None:
        """Run rounds while this process holds the poster lease; without it, try for it
        every ``FOLLOWER_RETRY`` seconds or half poll interval (so a new poster follows a
        dead one within two poll intervals, even when this process's loop runs late)."""
        renewing = asyncio.create_task(self._renew_claims_forever(), name="claim leases")
        try:
            while True:
                if self._lead():
                    try:
                        await self.run_once()
                    except Exception:  # a bug in one round must not end auto-posting for good
                        log.exception("posting round failed")
                    wait = self.seconds_to_next_round()
                else:
                    self._wake.clear()
                    self._idle.set()  # the poster elsewhere does the work
                    wait = min(FOLLOWER_RETRY, self.settings.poll_interval / 2)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
        finally:
            renewing.cancel()
            self.lease.release()

    @property
    def leading(self) -> bool:
        """This process holds the poster lock (runs the rounds)."""
        return self.lease.held

    def _lead(self) -> bool:
        was_held = self.lease.held
        if self.lease.acquire():
            if not was_held:
                log.info("this process runs the posting rounds now (lock %s)", self.lease)
            return True
        if not self._said_follower:
            self._said_follower = True
            log.info(
                "another paperboy process runs the posting rounds (lock %s); this one serves "
                "commands and votes and takes over if that one stops",
                self.lease,
            )
        return False

    def seconds_to_next_round(self) -> float:
        """The poll interval, or less when a digest falls due sooner (a little after its
        time, so the round finds it due whatever the timer's rounding)."""
        wait = float(self.settings.poll_interval)
        try:
            subs = [s for s in self.store.subscriptions() if s.platform in self.outboxes]
            due = self.digests.next_due(subs)
        except Exception:  # the interval is a fine fallback for a failing database
            log.exception("could not work out when the next digest is due")
            return wait
        if due is not None:
            wait = min(wait, max(0.0, due - self.clock()) + DIGEST_WAKE_MARGIN)
        return wait

    async def _renew_claims_forever(self) -> None:
        while True:
            await asyncio.sleep(CLAIM_RENEW_SECONDS)
            try:
                self.store.renew_claims(
                    self.owner, list(self._in_flight), self.clock() + CLAIM_LEASE_SECONDS
                )
            except Exception:
                log.exception("could not renew the leases of posts being sent")

    async def run_once(self) -> RoundReport:
        async with self._round_lock:
            self._wake.clear()
            self._idle.clear()
            try:
                return await self._round()
            finally:
                if not self._wake.is_set():
                    self._idle.set()

    async def _round(self) -> RoundReport:
        report = RoundReport()
        self._purge_departed()
        # A workspace that removed the app gets nothing more, from the next round on.
        departed = self.store.departed_workspaces()
        subscriptions = [
            s
            for s in self.store.subscriptions()
            if s.platform in self.outboxes and (s.platform, s.workspace) not in departed
        ]
        await self.settle_pending()
        for feed in sorted({s.feed for s in subscriptions if not s.is_team_top}):
            await self._refresh(feed, subscriptions, report)
        by_channel: dict[ChannelRef, list[Subscription]] = defaultdict(list)
        for sub in subscriptions:
            if sub.digest is None:
                by_channel[ChannelRef(sub.platform, sub.workspace, sub.channel)].append(sub)
        report.channels = await self._post_channels(by_channel)
        try:
            report.follow_messages = await notify_follows(self.store, self.outboxes, self.clock)
        except Exception:  # follows are a nicety; the round's posts are done
            log.exception("follows: round failed")
        report.digests = await self.digests.run(subscriptions)
        self.rounds_done += 1
        self.last_round_at = self.clock()
        return report

    def _purge_departed(self) -> None:
        """Once a day: delete what workspaces gone longer than UNINSTALL_RETENTION_DAYS left."""
        now = self.clock()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        retention = self.settings.uninstall_retention_days * 86400.0
        try:
            for platform, workspace in self.store.purge_departed_workspaces(now - retention):
                log.info(
                    "%s workspace %s: removed long ago; its data is deleted", platform, workspace
                )
        except Exception:  # a nicety: posting goes on, and the next day tries again
            log.exception("could not delete the data of departed workspaces")

    # -- feeds --------------------------------------------------------------------------

    async def _refresh(self, feed: Feed, subs: list[Subscription], report: RoundReport) -> None:
        today = datetime.fromtimestamp(self.clock(), UTC).date()
        try:
            papers = await self.sources.fetch_feed(feed, today)
            before = self.store.get_papers(p.id for p in papers)
            new = self.store.save_papers(papers)
            self.store.mark_listed(feed, [p.id for p in papers])
            after = self.store.get_papers(before)
        except (SourceError, ValueError) as exc:
            log.warning("source %s: fetched 0, new 0, failed (%s)", feed, exc)
            await self._feed_failed(feed, str(exc), subs, report)
            return
        except Exception as exc:
            # A bug, or an item no check foresaw: this feed fails (and alerts) like any other
            # failure, and the round goes on with the other feeds and channels.
            log.exception("source %s: fetched 0, new 0, failed", feed)
            await self._feed_failed(feed, f"unexpected {type(exc).__name__}", subs, report)
            return
        self._first_fetch.difference_update(s.id for s in subs if s.feed == feed)
        report.fetched[feed] = len(papers)
        report.new[feed] = len(new)
        self._cards_changed(before, after)
        log.info("source %s: fetched %d, new %d, failed 0", feed, len(papers), len(new))
        if self.store.source_ok(feed):
            await self._notify(
                feed, subs, f"✅ {self.sources.describe(feed)} is back; auto-posts resume."
            )

    def _cards_changed(self, before: dict[str, Paper], after: dict[str, Paper]) -> None:
        # Any stored change may be on the card (upvotes, comments, stars, a TL;DR HF wrote
        # later). HF rarely changes anything else, so comparing whole papers costs no edits.
        changed = [pid for pid, old in before.items() if pid in after and after[pid] != old]
        if changed:
            try:
                self.papers_changed(changed)
            except Exception:  # live counts are a nicety; posting goes on regardless
                log.exception("could not schedule card updates")

    async def _feed_failed(
        self, feed: Feed, error: str, subs: list[Subscription], report: RoundReport
    ) -> None:
        report.failed_feeds[feed] = error
        await self._first_fetch_failed(feed, error, subs)
        try:
            await self._maybe_alert(feed, error, subs)
        except Exception:
            log.exception("source %s: could not record the failure", feed)

    async def _first_fetch_failed(self, feed: Feed, error: str, subs: list[Subscription]) -> None:
        for sub in subs:
            if sub.feed != feed or sub.id not in self._first_fetch:
                continue
            self._first_fetch.discard(sub.id)
            channel = ChannelRef(sub.platform, sub.workspace, sub.channel)
            message = (
                f"⚠️ {self.sources.describe(feed)} can't be fetched right now ({error}). "
                f"Paperboy keeps trying every {every(self.settings.poll_interval)} for "
                f"subscription #{sub.id} and posts new papers here when it answers."
            )
            try:
                await self.outboxes[channel.platform].send(channel, Text(message, public=True))
            except Exception:
                log.exception("could not tell %s about subscription #%d", channel, sub.id)

    async def _maybe_alert(self, feed: Feed, error: str, subs: list[Subscription]) -> None:
        failing_since = self.store.source_failed(feed, error)
        if self.clock() - failing_since < self.settings.source_alert_after:
            return
        if self.store.mark_source_alerted(feed):
            hours = (self.clock() - failing_since) / 3600
            name = self.sources.describe(feed)
            await self._notify(
                feed,
                subs,
                f"⚠️ {name} has been unreachable for {hours:.0f} h ({error}). "
                "Paperboy keeps trying and will post what was missed when it is back.",
            )

    async def _notify(self, feed: Feed, subs: list[Subscription], message: str) -> None:
        channels = {ChannelRef(s.platform, s.workspace, s.channel) for s in subs if s.feed == feed}
        for channel in channels:
            try:
                await self.outboxes[channel.platform].send(channel, Text(message, public=True))
            except Exception:
                log.exception("could not send a source notice to %s", channel)

    # -- posting ------------------------------------------------------------------------

    def _read_for_round(self, by_channel: dict[ChannelRef, list[Subscription]]) -> RoundReads:
        """What every channel's choice needs, read once for the round: each feed's listed
        papers (a statement per feed) and which of them each channel has (one for all)."""
        listed: dict[Feed, list[Paper]] = {}
        for feed in sorted({s.feed for subs in by_channel.values() for s in subs}):
            try:
                listed[feed] = self.store.listed_papers(feed, FEED_WINDOW)
            except Exception:  # that feed's channels post nothing this round; others do
                log.exception("feed %s: could not read its listed papers", feed)
                listed[feed] = []
        have = self.store.posted_among(
            [(ch.platform, ch.workspace, ch.channel) for ch in by_channel],
            {paper.id for papers in listed.values() for paper in papers},
        )
        posted = {ch: have[(ch.platform, ch.workspace, ch.channel)] for ch in by_channel}
        return RoundReads(listed, posted)

    def candidates(
        self, channel: ChannelRef, subs: list[Subscription], reads: RoundReads
    ) -> tuple[list[Paper], int]:
        """New matches for ``channel``, best first (most HF upvotes, then newest), and how
        many listed papers were skipped (filtered out, or posted here before)."""
        posted = reads.posted[channel]
        listed: set[str] = set()
        found: dict[str, Paper] = {}
        for sub in subs:
            for paper in reads.listed[sub.feed]:
                listed.add(paper.id)
                if paper.id not in posted and paper.id not in found and sub.matches(paper):
                    found[paper.id] = paper
        best_first = sorted(
            found.values(),
            key=lambda p: (p.upvotes if p.upvotes is not None else -1, p.published, p.id),
            reverse=True,
        )
        return best_first, len(listed) - len(found)

    def _day(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).date().isoformat()

    def taste_picks(
        self, channel: ChannelRef, subs: list[Subscription], exclude: set[str], reads: RoundReads
    ) -> list[tuple[Paper, Subscription]]:
        """For each ``taste=N`` subscription, its new matches the channel's votes rank best,
        as many as its day (UTC) has left of N; cold channels get the most HF-upvoted."""
        tasteful = [s for s in subs if s.taste]
        if not tasteful:
            return []
        posted = reads.posted[channel]
        taste = channel_taste(self.store, channel)
        picked: list[tuple[Paper, Subscription]] = []
        for sub in tasteful:
            budget = sub.taste - self.store.taste_picks(sub.id, self._day())
            if budget <= 0:
                continue
            taken = posted | exclude | {p.id for p, _ in picked}
            matches = [p for p in reads.listed[sub.feed] if p.id not in taken and sub.matches(p)]
            picked += [(pick.paper, sub) for pick in rank(taste, matches, budget)]
        return picked

    async def _post_channels(
        self, by_channel: dict[ChannelRef, list[Subscription]]
    ) -> dict[ChannelRef, ChannelReport]:
        """Every channel's new matches, channels in parallel, each in order.

        The round's reads are shared and every channel's first claim is one statement, so
        all channels' first messages leave at once: on PostgreSQL, a round trip per channel
        before the first send held every channel's paced queue back by the sum of them."""
        if not by_channel:
            return {}
        try:
            reads = self._read_for_round(by_channel)
        except Exception:  # the database is failing: the next round tries again
            log.exception("posting: could not read what the channels have posted")
            return {ch: ChannelReport(failed=1) for ch in by_channel}
        reports: dict[ChannelRef, ChannelReport] = {}
        plans: dict[ChannelRef, ChannelPlan] = {}
        for channel, subs in by_channel.items():
            try:
                plans[channel] = self._plan(channel, subs, reads)
            except Exception:  # one channel's trouble must not cost the others their posts
                log.exception("channel %s: posting failed", channel)
                reports[channel] = ChannelReport(failed=1)
        firsts = self._claim_first_posts(plans)
        results = await asyncio.gather(
            *(self._post_channel(ch, plan, firsts) for ch, plan in plans.items())
        )
        reports.update(zip(plans, results, strict=True))
        return {ch: reports[ch] for ch in by_channel}

    def _plan(
        self, channel: ChannelRef, subs: list[Subscription], reads: RoundReads
    ) -> ChannelPlan:
        report = ChannelReport()
        papers, report.skipped = self.candidates(channel, [s for s in subs if not s.taste], reads)
        picked = self.taste_picks(channel, subs, {p.id for p in papers}, reads)
        papers += [paper for paper, _ in picked]
        limit = self.settings.max_posts_per_poll
        report.waiting = max(0, len(papers) - limit)
        return ChannelPlan(papers[:limit], {paper.id: sub for paper, sub in picked}, report)

    def _claim_first_posts(
        self, plans: dict[ChannelRef, ChannelPlan]
    ) -> dict[ChannelRef, int | None]:
        """Claim each channel's first post, all in one statement: the post id per channel
        (None: posted or claimed here before). A channel left out claims its own."""
        keys = {
            ch: (ch.platform, ch.workspace, ch.channel, plan.papers[0].id)
            for ch, plan in plans.items()
            if plan.papers
        }
        if not keys:
            return {}
        try:
            claimed = self.store.claim_posts(
                keys.values(), owner=self.owner, lease_until=self.clock() + CLAIM_LEASE_SECONDS
            )
        except Exception:  # each channel claims its own, as it does its later posts
            log.exception("could not claim the channels' first posts together")
            return {}
        self._in_flight.update(claimed.values())  # their leases are renewed until sent
        return {ch: claimed.get(key) for ch, key in keys.items()}

    async def _post_channel(
        self, channel: ChannelRef, plan: ChannelPlan, firsts: dict[ChannelRef, int | None]
    ) -> ChannelReport:
        try:
            return await self._post_planned(channel, plan, firsts)
        except Exception:  # one channel's trouble must not cost the others their posts
            log.exception("channel %s: posting failed", channel)
            return ChannelReport(failed=1)
        finally:
            # A first claim this channel never got to send is settled like any other.
            if (first := firsts.get(channel)) is not None:
                self._in_flight.discard(first)

    async def _post_planned(
        self, channel: ChannelRef, plan: ChannelPlan, firsts: dict[ChannelRef, int | None]
    ) -> ChannelReport:
        report = plan.report
        for i, paper in enumerate(plan.papers):
            if i == 0 and channel in firsts:
                post_id = firsts[channel]
            else:
                post_id = self._claim(channel, paper)
            if post_id is None:  # someone else posted it first
                continue
            if not await self._send(channel, paper, post_id):
                report.failed += 1
                continue
            report.posted += 1
            if paper.id in plan.picked_by:
                self.store.add_taste_pick(plan.picked_by[paper.id].id, self._day(), paper.id)
        log.info(
            "channel %s: posted %d, waiting %d, skipped %d, failed %d",
            channel,
            report.posted,
            report.waiting,
            report.skipped,
            report.failed,
        )
        return report

    def _claim(self, channel: ChannelRef, paper: Paper) -> int | None:
        """The claim on posting ``paper`` here; None: posted (or being posted) before."""
        return self.store.claim_post(
            channel.platform,
            channel.workspace,
            channel.channel,
            paper.id,
            owner=self.owner,
            lease_until=self.clock() + CLAIM_LEASE_SECONDS,
        )

    async def _send(self, channel: ChannelRef, paper: Paper, post_id: int) -> bool:
        """True: posted; False: failed (retried later)."""
        outbox = self.outboxes[channel.platform]
        self._in_flight.add(post_id)
        try:
            card = live_card(self.store, channel.platform, channel.workspace, paper)
            ref = await outbox.send(channel, card)
        except SendError as exc:
            self.store.release_post(post_id)
            log.warning("channel %s: could not post %s: %s", channel, paper.id, exc)
            return False
        except Exception:
            # The message may or may not exist: leave the claim pending for settle_pending.
            log.exception("channel %s: posting %s ended in an unknown state", channel, paper.id)
            return False
        finally:
            self._in_flight.discard(post_id)
        self.store.complete_post(post_id, ref.message)
        return True

    def settleable(self, post: Post) -> bool:
        """Whether this poster may decide ``post``: its own claim (rounds do not overlap, so
        none of its own is in flight now), a lapsed lease, or an owner that is gone."""
        return (
            post.owner == self.owner or post.lease_until < self.clock() or owner_is_gone(post.owner)
        )

    async def settle_pending(self) -> None:
        """Decide every post whose send outcome is unknown: found in the channel, or not sent.
        Claims another live process still holds are left to it."""
        for post in self.store.pending_posts():
            outbox = self.outboxes.get(post.platform)
            if outbox is None or post.id in self._in_flight or not self.settleable(post):
                continue
            # Taken first, so that its owner (or another poster) cannot also decide it.
            if self.store.take_claim(post, self.owner, self.clock() + CLAIM_LEASE_SECONDS):
                await self._settle(outbox, post)

    async def _settle(self, outbox: Outbox, post: Post) -> None:
        channel = ChannelRef(post.platform, post.workspace, post.channel)
        try:
            found = await outbox.find_card(channel, post.paper_id, post.claimed_at)
        except CheckLater as exc:
            log.info("channel %s: %s stays pending for now (%s)", channel, post.paper_id, exc)
            return
        except Exception:
            log.exception("could not check %s for an earlier post of %s", channel, post.paper_id)
            return
        if found is not None:
            self.store.complete_post(post.id, found.message)
            log.info("channel %s: %s was posted before a restart; recorded", channel, post.paper_id)
        else:
            self.store.release_post(post.id)
