"""Everything paperboy keeps, behind one small API: papers, feeds, subscriptions, posts, votes.

The core never writes SQL; adapters never touch the store. All times are Unix seconds.
The same methods run on SQLite and PostgreSQL (``storage.sql`` holds what differs), so the
SQL here keeps to what both understand.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from bot.model.feed import Feed
from bot.model.follow import Follow
from bot.model.paper import Paper
from bot.model.paper_columns import PAPER_COLUMN_NAMES, paper_values, row_to_paper
from bot.model.schedule import DEFAULT_TZ, parse_schedule
from bot.model.search_query import SearchQuery
from bot.model.subscription import Subscription
from storage.poster_lease import PosterLease
from storage.search_index import SearchIndex
from storage.search_index import SearchIndexRebuilding as SearchIndexRebuilding  # for the bot
from storage.sql import Database, PostgresDatabase, as_database

Clock = Callable[[], float]

# How long a delivery id is remembered: Slack retries for minutes, and a signed request can
# be replayed for 5; an hour covers both with room to spare.
DELIVERY_MEMORY = 3600.0
PRUNE_EVERY = 60.0  # seconds between deletions of forgotten delivery ids
# Rows a statement claims (7 values each), and channels or papers a statement asks about
# (``posted_among``): well inside SQLite's 32,766 variables.
CLAIM_BATCH = 500
POSTED_BATCH = 1000

# A vote button press is kept as a reaction-like entry, so the one rule that derives a vote
# from reactions covers buttons too (a button 👍 and a 👍 reaction are one vote; a button 👍
# and a 👎 reaction cancel out). One synthetic message per workspace and paper: pressing
# the same button again, on any card of the paper, takes that vote back.
BUTTON_CHANNEL = ""
BUTTON_MESSAGE = "vote-buttons"
BUTTON_EMOJI = {1: "button:+1", -1: "button:-1"}


@dataclass(frozen=True)
class Post:
    id: int
    platform: str
    workspace: str
    channel: str
    paper_id: str
    message_id: str | None
    state: str  # "pending" (intent recorded, send not confirmed) | "sent"
    owner: str = ""  # who claimed it (storage.poster_lease.new_claim_owner); "" for anyone
    lease_until: float = 0.0  # the claim is the owner's alone until then
    shared_by: str = ""  # the display name of who shared it; "" for auto-posts
    claimed_at: float = 0.0  # when the intent to post was recorded: no card can be older


@dataclass(frozen=True)
class Tally:
    paper_id: str
    score: int
    ups: int
    downs: int


@dataclass(frozen=True)
class ReactionApplied:
    """What a reaction event did (``Store.react``)."""

    paper_id: str
    post_id: int  # the post it was on; 0 for a person's message that links the paper
    vote: int  # the user's vote on the paper after it
    # Ids of the paper's sent cards in the workspace, to show the new count; empty when
    # the user's vote did not change (nothing on any card changed).
    cards: tuple[int, ...]


_PAPER_COLUMNS = ", ".join(f"p.{name}" for name in PAPER_COLUMN_NAMES)
# A new paper gets every column; one stored before keeps its first_seen.
_UPSERT_PAPER = (
    f"INSERT INTO papers ({', '.join(PAPER_COLUMN_NAMES)}, first_seen, updated_at) "
    f"VALUES ({', '.join('?' * (len(PAPER_COLUMN_NAMES) + 2))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in (*PAPER_COLUMN_NAMES[1:], "updated_at"))
)
# Up and down votes counted as numbers (PostgreSQL has no max() or sum() of booleans).
_UP = "CASE WHEN value > 0 THEN 1 ELSE 0 END"
_DOWN = "CASE WHEN value < 0 THEN 1 ELSE 0 END"


# What a workspace leaves behind; departed_workspaces last, so a purge cut short is redone.
_WORKSPACE_TABLES = (
    "subscriptions",
    "posts",
    "reactions",
    "votes",
    "follows",
    "follow_notices",
    "dm_refusals",
    "channel_settings",
    "digests",
    "departed_workspaces",
)


def _vote_lock(post: Post, user_id: str) -> str:
    return _vote_lock_prefix(post.platform, post.workspace) + f"{post.paper_id}\x1f{user_id}"


def _vote_lock_prefix(platform: str, workspace: str) -> str:
    return "\x1f".join(("vote", platform, workspace, ""))


# One post's reactions, and one user's emoji on it: the vote path and reconciling agree.
_POST_REACTIONS = (
    "platform = ? AND workspace = ? AND paper_id = ? AND channel = ? AND message_id = ?"
)
_ADD_REACTION = (
    "INSERT INTO reactions (platform, workspace, channel, message_id, user_id, emoji, "
    "paper_id, value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_REMOVE_REACTION = f"DELETE FROM reactions WHERE {_POST_REACTIONS} AND user_id = ? AND emoji = ?"


def _post_key(post: Post) -> tuple[str, str, str, str, str]:
    """The values of ``_POST_REACTIONS``."""
    return (post.platform, post.workspace, post.paper_id, post.channel, post.message_id)


def _reaction(post: Post, user_id: str, emoji: str, value: int) -> tuple:
    """A reaction's columns, in the order of ``_ADD_REACTION`` and of the arguments of
    PostgreSQL's ``paperboy_set_reaction``."""
    return (
        post.platform,
        post.workspace,
        post.channel,
        post.message_id,
        user_id,
        emoji,
        post.paper_id,
        value,
    )


def _reaction_row(post: Post, user_id: str, emoji: str, value: int, now: float) -> tuple:
    """The values of ``_ADD_REACTION``."""
    return (*_reaction(post, user_id, emoji, value), now)


class Store:
    def __init__(
        self, db: sqlite_utils.Database | PostgresDatabase, clock: Clock = time.time
    ) -> None:
        self.db = db  # what storage.connect.open_database returned
        self.sql: Database = as_database(db)
        self.clock = clock
        self._search_index: SearchIndex | None = None
        self._next_prune = 0.0

    def poster_lease(self) -> PosterLease:
        """The lock that lets one process at a time run posting rounds on this database."""
        return self.sql.poster_lease()

    @property
    def backend(self) -> str:
        """Which database this is: "sqlite" or "postgresql"."""
        return self.sql.dialect

    def close(self) -> None:
        self.sql.close()

    def ping(self) -> None:
        """Raises unless the database answers (for health checks)."""
        self.sql.execute("SELECT 1").fetchone()

    def _rows(self, sql: str, params: Iterable = ()) -> list[dict]:
        cursor = self.sql.execute(sql, tuple(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- papers -------------------------------------------------------------------------

    def get_paper(self, paper_id: str) -> Paper | None:
        rows = self._rows(f"SELECT {_PAPER_COLUMNS} FROM papers p WHERE p.id = ?", [paper_id])
        return row_to_paper(rows[0]) if rows else None

    def get_papers(self, paper_ids: Iterable[str]) -> dict[str, Paper]:
        ids = list(dict.fromkeys(paper_ids))
        found: dict[str, Paper] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._rows(
                f"SELECT {_PAPER_COLUMNS} FROM papers p WHERE p.id IN ({marks})", chunk
            ):
                found[row["id"]] = row_to_paper(row)
        return found

    def save_papers(self, papers: Iterable[Paper]) -> list[Paper]:
        """Insert or merge ``papers`` (the same id from two sources becomes one row).

        Returns the papers that were not in the store before.
        """
        incoming: dict[str, Paper] = {}
        for paper in papers:
            incoming[paper.id] = incoming[paper.id].merged(paper) if paper.id in incoming else paper
        now = self.clock()
        new: list[Paper] = []
        with self.sql.transaction():
            self.sql.serialize("papers")  # another process merging the same paper waits
            existing = self.get_papers(incoming)
            rows = []
            for paper_id, paper in incoming.items():
                old = existing.get(paper_id)
                merged = old.merged(paper) if old else paper
                if old is None:
                    new.append(merged)
                elif merged == old:
                    continue
                rows.append((*paper_values(merged), now, now))
            if rows:
                self.sql.executemany(_UPSERT_PAPER, rows)
        return new

    @property
    def search_index(self) -> SearchIndex:
        """The full-text index beside the file, opened (or built) on first use."""
        if self._search_index is None:
            self._search_index = SearchIndex(self.sql)
        return self._search_index

    def search(self, query: SearchQuery, limit: int = 5) -> list[Paper]:
        """The best ``limit`` papers by BM25 (title weighs most), newer first on ties;
        with no words, the newest papers that pass the filters."""
        rowids = self.search_index.search(query, limit)
        if not rowids:
            return []
        rows = self._rows(
            f"SELECT p.rowid AS rowid_, {_PAPER_COLUMNS} FROM papers p "
            f"WHERE p.rowid IN ({','.join('?' * len(rowids))})",
            rowids,
        )
        by_rowid = {row.pop("rowid_"): row for row in rows}
        return [row_to_paper(by_rowid[r]) for r in rowids if r in by_rowid]

    def paper_count(self) -> int:
        return self.sql.execute("SELECT count(*) FROM papers").fetchone()[0]

    # -- feeds: which papers a source listed lately ---------------------------------------

    def mark_listed(self, feed: Feed, paper_ids: Iterable[str]) -> None:
        now = self.clock()
        with self.sql.transaction():
            self.sql.executemany(
                "INSERT INTO feed_items (source, params, paper_id, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, params, paper_id) "
                "DO UPDATE SET last_seen = excluded.last_seen",
                [(feed.source, feed.params, pid, now, now) for pid in dict.fromkeys(paper_ids)],
            )

    def listed_papers(self, feed: Feed, within: float) -> list[Paper]:
        """Papers ``feed`` listed in the last ``within`` seconds, most upvoted first."""
        rows = self._rows(
            f"SELECT {_PAPER_COLUMNS} FROM feed_items i JOIN papers p ON p.id = i.paper_id "
            "WHERE i.source = ? AND i.params = ? AND i.last_seen >= ? "
            "ORDER BY coalesce(p.upvotes, -1) DESC, p.published DESC, p.id DESC",
            [feed.source, feed.params, self.clock() - within],
        )
        return [row_to_paper(r) for r in rows]

    # -- subscriptions ------------------------------------------------------------------

    def add_subscription(self, sub: Subscription, *, created_by: str = "") -> Subscription:
        """Save ``sub`` (its ``id`` is ignored); returns it as saved, with its new id."""
        with self.sql.transaction():
            new_id = self.sql.execute(
                "INSERT INTO subscriptions (platform, workspace, channel, source, params, "
                "min_upvotes, keywords, authors, taste, digest, top, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [
                    sub.platform,
                    sub.workspace,
                    sub.channel,
                    sub.feed.source,
                    sub.feed.params,
                    sub.min_upvotes,
                    json.dumps(list(sub.keywords)),
                    json.dumps(list(sub.authors)),
                    sub.taste,
                    str(sub.digest) if sub.digest is not None else "",
                    sub.top,
                    created_by,
                    self.clock(),
                ],
            ).fetchone()[0]
        return self.subscriptions(id=new_id)[0]

    def subscriptions(
        self,
        *,
        platform: str | None = None,
        workspace: str | None = None,
        channel: str | None = None,
        id: int | None = None,
    ) -> list[Subscription]:
        conditions = {"platform": platform, "workspace": workspace, "channel": channel, "id": id}
        used = {k: v for k, v in conditions.items() if v is not None}
        where = " AND ".join(f"{k} = ?" for k in used) or "1 = 1"
        rows = self._rows(f"SELECT * FROM subscriptions WHERE {where} ORDER BY id", used.values())
        return [
            Subscription(
                id=r["id"],
                platform=r["platform"],
                workspace=r["workspace"],
                channel=r["channel"],
                feed=Feed(r["source"], r["params"] or ""),
                min_upvotes=r["min_upvotes"] or 0,
                keywords=tuple(json.loads(r["keywords"] or "[]")),
                authors=tuple(json.loads(r["authors"] or "[]")),
                taste=r.get("taste") or 0,
                digest=parse_schedule(r["digest"]) if r["digest"] else None,
                top=r["top"],
                created_at=r["created_at"] or 0.0,
            )
            for r in rows
        ]

    def remove_subscriptions(
        self, platform: str, workspace: str, channel: str, sub_id: int | None = None
    ) -> int:
        """Remove one subscription of this channel (or all of them); returns how many went."""
        where = "platform = ? AND workspace = ? AND channel = ?"
        params: list = [platform, workspace, channel]
        if sub_id is not None:
            where += " AND id = ?"
            params.append(sub_id)
        with self.sql.transaction():
            # Its digest record goes too: a later subscription may be given the same id.
            self.sql.execute(
                f"DELETE FROM digests WHERE subscription_id IN "
                f"(SELECT id FROM subscriptions WHERE {where})",
                params,
            )
            return self.sql.execute(f"DELETE FROM subscriptions WHERE {where}", params).rowcount

    # -- channels -----------------------------------------------------------------------

    def channel_tz(self, platform: str, workspace: str, channel: str) -> str:
        """The IANA time zone this channel's digests keep (UTC unless set)."""
        row = self.sql.execute(
            "SELECT tz FROM channel_settings WHERE platform = ? AND workspace = ? AND channel = ?",
            [platform, workspace, channel],
        ).fetchone()
        return row[0] if row else DEFAULT_TZ

    def set_channel_tz(self, platform: str, workspace: str, channel: str, tz: str) -> None:
        with self.sql.transaction():
            self.sql.execute(
                "INSERT INTO channel_settings (platform, workspace, channel, tz) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (platform, workspace, channel) "
                "DO UPDATE SET tz = excluded.tz",
                [platform, workspace, channel, tz],
            )

    # -- digests: at most one per subscription per period ---------------------------------

    def claim_digest(self, sub: Subscription, period: str, *, owner: str) -> bool:
        """Record the intent to send ``sub``'s digest of ``period``; False if it was sent,
        found empty, or claimed before (by this process or another)."""
        with self.sql.transaction():
            cursor = self.sql.execute(
                "INSERT INTO digests (subscription_id, period, platform, workspace, channel, "
                "state, owner, claimed_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) "
                "ON CONFLICT (subscription_id, period) DO NOTHING",
                [sub.id, period, sub.platform, sub.workspace, sub.channel, owner, self.clock()],
            )
            return cursor.rowcount == 1

    def complete_digest(
        self, sub_id: int, period: str, message_id: str | None, paper_ids: Iterable[str]
    ) -> None:
        """The digest was sent as ``message_id`` listing ``paper_ids``; None: there was
        nothing to send for the period (recorded, so it is not tried again)."""
        state = "sent" if message_id is not None else "empty"
        with self.sql.transaction():
            self.sql.execute(
                "UPDATE digests SET state = ?, message_id = ?, paper_ids = ?, sent_at = ? "
                "WHERE subscription_id = ? AND period = ?",
                [state, message_id, json.dumps(list(paper_ids)), self.clock(), sub_id, period],
            )

    def release_digest(self, sub_id: int, period: str) -> None:
        """The send failed for certain: forget the claim so a later round tries again."""
        with self.sql.transaction():
            self.sql.execute(
                "DELETE FROM digests WHERE subscription_id = ? AND period = ? "
                "AND state = 'pending'",
                [sub_id, period],
            )

    def digest_state(self, sub_id: int, period: str) -> str | None:
        """ "pending", "sent" or "empty"; None when the period was never claimed."""
        row = self.sql.execute(
            "SELECT state FROM digests WHERE subscription_id = ? AND period = ?", [sub_id, period]
        ).fetchone()
        return row[0] if row else None

    def digested_papers(self, sub_id: int, since: float) -> set[str]:
        """The papers ``sub``'s digests claimed since ``since`` listed."""
        rows = self.sql.execute(
            "SELECT paper_ids FROM digests WHERE subscription_id = ? AND claimed_at >= ?",
            [sub_id, since],
        ).fetchall()
        return {pid for (ids,) in rows for pid in json.loads(ids or "[]")}

    # -- posts: at most one per paper per channel -----------------------------------------

    def claim_post(
        self,
        platform: str,
        workspace: str,
        channel: str,
        paper_id: str,
        *,
        owner: str = "",
        lease_until: float = 0.0,
    ) -> int | None:
        """Record the intent to post ``paper_id`` here; None if posted (or claimed) before.

        ``owner`` keeps the claim until ``lease_until`` (renewed while sending); without
        them any poster may settle it."""
        claimed = self.claim_posts(
            [(platform, workspace, channel, paper_id)], owner=owner, lease_until=lease_until
        )
        return next(iter(claimed.values()), None)

    def claim_posts(
        self,
        claims: Iterable[tuple[str, str, str, str]],
        *,
        owner: str = "",
        lease_until: float = 0.0,
    ) -> dict[tuple[str, str, str, str], int]:
        """``claim_post`` for many (platform, workspace, channel, paper_id) at once, a
        statement per ``CLAIM_BATCH``: the post ids of those claimed now, by key (the
        others were posted or claimed before)."""
        claims = list(dict.fromkeys(claims))
        claimed: dict[tuple[str, str, str, str], int] = {}
        now = self.clock()
        for start in range(0, len(claims), CLAIM_BATCH):
            batch = claims[start : start + CLAIM_BATCH]
            rows = self._write_returning(
                "INSERT INTO posts (platform, workspace, channel, paper_id, state, created_at, "
                "owner, lease_until) VALUES "
                + ", ".join(["(?, ?, ?, ?, 'pending', ?, ?, ?)"] * len(batch))
                + " ON CONFLICT (platform, workspace, channel, paper_id) DO NOTHING "
                "RETURNING id, platform, workspace, channel, paper_id",
                [value for key in batch for value in (*key, now, owner, lease_until)],
            )
            claimed.update({(r[1], r[2], r[3], r[4]): r[0] for r in rows})
        return claimed

    def _write_returning(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """One statement that is a whole write transaction by itself, and its rows. On
        PostgreSQL (autocommit) it goes alone: one round trip, not three with BEGIN and
        COMMIT, for the poster's per-message writes. SQLite writes all go through
        ``transaction()`` (BEGIN IMMEDIATE, the file check)."""
        if self.sql.dialect == "postgresql":
            return self.sql.execute(sql, params).fetchall()
        with self.sql.transaction():
            return self.sql.execute(sql, params).fetchall()

    def renew_claims(self, owner: str, post_ids: Iterable[int], lease_until: float) -> None:
        """Keep ``owner``'s pending claims its own until ``lease_until`` (sends in flight)."""
        ids = list(post_ids)
        if not ids:
            return
        with self.sql.transaction():
            self.sql.executemany(
                "UPDATE posts SET lease_until = ? WHERE id = ? AND owner = ? AND state = 'pending'",
                [(lease_until, post_id, owner) for post_id in ids],
            )

    def take_claim(self, post: Post, owner: str, lease_until: float) -> bool:
        """Make a pending claim ``owner``'s, if it still is what ``post`` says (no one renewed
        or settled it since it was read); True if it is now ``owner``'s."""
        with self.sql.transaction():
            cursor = self.sql.execute(
                "UPDATE posts SET owner = ?, lease_until = ? WHERE id = ? AND state = 'pending' "
                "AND owner = ? AND lease_until = ?",
                [owner, lease_until, post.id, post.owner, post.lease_until],
            )
            return cursor.rowcount == 1

    def complete_post(self, post_id: int, message_id: str) -> None:
        self._write_returning(
            "UPDATE posts SET message_id = ?, state = 'sent', sent_at = ? WHERE id = ? "
            "RETURNING id",
            [message_id, self.clock(), post_id],
        )

    def release_post(self, post_id: int) -> None:
        """The send failed for certain: forget the claim so a later round tries again."""
        self._write_returning(
            "DELETE FROM posts WHERE id = ? AND state = 'pending' RETURNING id", [post_id]
        )

    def posted_ids(self, platform: str, workspace: str, channel: str) -> set[str]:
        rows = self.sql.execute(
            "SELECT paper_id FROM posts WHERE platform = ? AND workspace = ? AND channel = ?",
            [platform, workspace, channel],
        ).fetchall()
        return {r[0] for r in rows}

    def posted_among(
        self, channels: Iterable[tuple[str, str, str]], paper_ids: Iterable[str]
    ) -> dict[tuple[str, str, str], set[str]]:
        """Which of ``paper_ids`` each (platform, workspace, channel) has posted or claimed:
        ``posted_ids`` for a whole posting round in a statement or a few, not one a channel."""
        wanted = set(channels)
        papers = sorted(set(paper_ids))
        found: dict[tuple[str, str, str], set[str]] = {key: set() for key in wanted}
        by_platform: dict[str, list[tuple[str, str, str]]] = {}
        for key in sorted(wanted):
            by_platform.setdefault(key[0], []).append(key)
        for platform, keys in by_platform.items():
            for k in range(0, len(keys), POSTED_BATCH):
                some = keys[k : k + POSTED_BATCH]
                workspaces = sorted({key[1] for key in some})
                chans = sorted({key[2] for key in some})
                for p in range(0, len(papers), POSTED_BATCH):
                    ids = papers[p : p + POSTED_BATCH]
                    rows = self.sql.execute(
                        "SELECT workspace, channel, paper_id FROM posts WHERE platform = ? "
                        f"AND workspace IN ({_marks(workspaces)}) "
                        f"AND channel IN ({_marks(chans)}) AND paper_id IN ({_marks(ids)})",
                        [platform, *workspaces, *chans, *ids],
                    ).fetchall()
                    for workspace, channel, paper_id in rows:
                        if (platform, workspace, channel) in wanted:
                            found[(platform, workspace, channel)].add(paper_id)
        return found

    def pending_posts(self, platform: str | None = None) -> list[Post]:
        sql = "SELECT * FROM posts WHERE state = 'pending'"
        params = []
        if platform is not None:
            sql += " AND platform = ?"
            params.append(platform)
        return [_post(r) for r in self._rows(sql + " ORDER BY id", params)]

    def post_for_message(
        self, platform: str, workspace: str, channel: str, message_id: str
    ) -> Post | None:
        rows = self._rows(
            "SELECT * FROM posts WHERE platform = ? AND channel = ? AND message_id = ? "
            "AND workspace = ?",
            [platform, channel, message_id, workspace],
        )
        return _post(rows[0]) if rows else None

    def recent_posts(self, platform: str, since: float) -> list[Post]:
        """Posts sent on ``platform`` since ``since``, newest first."""
        return [
            _post(r)
            for r in self._rows(
                "SELECT * FROM posts WHERE platform = ? AND state = 'sent' "
                "AND message_id IS NOT NULL AND sent_at >= ? ORDER BY sent_at DESC, id DESC",
                [platform, since],
            )
        ]

    # -- shared request budgets ------------------------------------------------------------

    def reserve_rate_slots(self, name: str, count: int, interval: float, now: float) -> float:
        """Reserve ``count`` consecutive slots, ``interval`` seconds apart, of the budget
        ``name`` shared by every process on this database; returns when the first starts.

        One statement: it moves the budget's next free slot forward past the ones taken, so
        two processes never get the same slot. Slots start no earlier than ``now`` (wall
        clock, the same on every machine within NTP's error); an idle budget saves none up.
        """
        span = count * interval
        row = self.sql.execute(
            "INSERT INTO rate_slots (name, next_at) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET next_at = CASE WHEN rate_slots.next_at > ? "
            "THEN rate_slots.next_at ELSE ? END + ? RETURNING next_at",
            [name, now + span, now, now, span],
        ).fetchone()
        return float(row[0]) - span

    # -- deliveries -----------------------------------------------------------------------

    def first_delivery(self, platform: str, key: str) -> bool:
        """True the first time a platform delivers ``key`` (and remembers it), False after.

        Remembered for ``DELIVERY_MEMORY`` seconds by every process on this database. One
        statement on the hot path (each reaction event passes here); older ids are deleted
        at most every ``PRUNE_EVERY`` seconds.
        """
        now = self.clock()
        self._prune_deliveries(now)
        return self._remember_delivery(platform, key, now)

    def _remember_delivery(self, platform: str, key: str, now: float) -> bool:
        cursor = self.sql.execute(
            "INSERT INTO deliveries (platform, key, seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, key) DO NOTHING",
            [platform, key, now],
        )
        return cursor.rowcount == 1

    def _prune_deliveries(self, now: float) -> None:
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY
            self.sql.execute("DELETE FROM deliveries WHERE seen_at < ?", [now - DELIVERY_MEMORY])

    def post_in_channel(
        self, platform: str, workspace: str, channel: str, paper_id: str
    ) -> Post | None:
        """The post (pending or sent) of ``paper_id`` in this channel, if there is one."""
        rows = self._rows(
            "SELECT * FROM posts WHERE platform = ? AND workspace = ? AND channel = ? "
            "AND paper_id = ?",
            [platform, workspace, channel, paper_id],
        )
        return _post(rows[0]) if rows else None

    def sent_posts_of(
        self, paper_id: str, platform: str | None = None, workspace: str | None = None
    ) -> list[Post]:
        """Every sent card of ``paper_id`` (on one platform / in one workspace if given)."""
        sql = "SELECT * FROM posts WHERE paper_id = ? AND state = 'sent'"
        params: list = [paper_id]
        if platform is not None:
            sql += " AND platform = ?"
            params.append(platform)
        if workspace is not None:
            sql += " AND workspace = ?"
            params.append(workspace)
        return [_post(r) for r in self._rows(sql + " ORDER BY id", params)]

    def get_post(self, post_id: int) -> Post | None:
        rows = self._rows("SELECT * FROM posts WHERE id = ?", [post_id])
        return _post(rows[0]) if rows else None

    def set_shared_by(self, post_id: int, name: str) -> None:
        with self.sql.transaction():
            self.sql.execute("UPDATE posts SET shared_by = ? WHERE id = ?", [name, post_id])

    # -- people's messages that link one paper ------------------------------------------

    def add_votable_message(
        self, platform: str, workspace: str, channel: str, message_id: str, paper_id: str
    ) -> Post:
        """Reactions on this message (someone's, linking only ``paper_id``) count as votes."""
        with self.sql.transaction():
            self.sql.execute(
                "INSERT INTO votable_messages (platform, workspace, channel, message_id, "
                "paper_id, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [platform, workspace, channel, message_id, paper_id, self.clock()],
            )
        found = self.votable_message(platform, workspace, channel, message_id)
        assert found is not None
        return found

    def votable_message(
        self, platform: str, workspace: str, channel: str, message_id: str
    ) -> Post | None:
        """A votable person's message as a Post (id 0: not one of paperboy's own posts)."""
        row = self.sql.execute(
            "SELECT paper_id FROM votable_messages WHERE platform = ? AND channel = ? "
            "AND message_id = ? AND workspace = ?",
            [platform, channel, message_id, workspace],
        ).fetchone()
        if row is None:
            return None
        return Post(0, platform, workspace, channel, row[0], message_id, "sent")

    # -- votes --------------------------------------------------------------------------

    def press_vote_button(
        self, platform: str, workspace: str, paper_id: str, user_id: str, value: int
    ) -> tuple[bool, int]:
        """A vote button press: on if it was off (replacing the other button), off if it was
        on. Returns (whether this button's vote is now on, the user's vote after it)."""
        post = Post(0, platform, workspace, BUTTON_CHANNEL, paper_id, BUTTON_MESSAGE, "sent")
        key = (platform, workspace, paper_id, user_id, BUTTON_CHANNEL, BUTTON_MESSAGE)
        where = (
            "platform = ? AND workspace = ? AND paper_id = ? AND user_id = ? AND channel = ? "
            "AND message_id = ?"
        )
        with self.sql.transaction():
            self.sql.serialize(_vote_lock(post, user_id))  # the user's events in other processes
            was_on = self.sql.execute(
                f"SELECT 1 FROM reactions WHERE {where} AND emoji = ?",
                [*key, BUTTON_EMOJI[value]],
            ).fetchone()
            self.sql.execute(f"DELETE FROM reactions WHERE {where}", key)
            if not was_on:
                self.sql.execute(
                    "INSERT INTO reactions (platform, workspace, channel, message_id, user_id, "
                    "emoji, paper_id, value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        platform,
                        workspace,
                        BUTTON_CHANNEL,
                        BUTTON_MESSAGE,
                        user_id,
                        BUTTON_EMOJI[value],
                        paper_id,
                        value,
                        self.clock(),
                    ],
                )
            return not was_on, self._rederive_vote(post, user_id, changed=True)

    def react(
        self,
        platform: str,
        workspace: str,
        channel: str,
        message_id: str,
        user_id: str,
        emoji: str,
        value: int,
        present: bool,
        *,
        delivery: str | None = None,
    ) -> ReactionApplied | None:
        """A reaction event, as a platform sends it: added to (or taken off) a message.

        In one transaction: remember ``delivery`` (the platform's id of this event, see
        ``first_delivery``), find the post or votable message it is on, and apply it as
        ``set_reaction`` does. None when it changed nothing: a re-sent delivery, or a message
        that is neither one of our posts nor a person's message linking one paper.

        The hot path of a reaction storm: on PostgreSQL the whole of it is one function
        (storage.pg_schema.REACT), one round trip a vote.
        """
        now = self.clock()
        if delivery is not None:
            self._prune_deliveries(now)
        if self.sql.dialect == "postgresql":
            outcome, post_id, paper_id, vote, cards = self.sql.execute(
                "SELECT * FROM paperboy_react(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    platform,
                    workspace,
                    channel,
                    message_id,
                    user_id,
                    emoji,
                    value,
                    present,
                    now,
                    delivery,
                    _vote_lock_prefix(platform, workspace),
                ),
            ).fetchone()
            if outcome != "applied":
                return None
            return ReactionApplied(paper_id, post_id, vote, tuple(cards or ()))
        sql = self.sql.execute
        where = "platform = ? AND channel = ? AND message_id = ? AND workspace = ?"
        key = (platform, channel, message_id, workspace)
        with self.sql.transaction():
            if delivery is not None and not self._remember_delivery(platform, delivery, now):
                return None
            found = (
                sql(f"SELECT id, paper_id FROM posts WHERE {where}", key).fetchone()
                or sql(f"SELECT 0, paper_id FROM votable_messages WHERE {where}", key).fetchone()
            )
            if found is None:
                return None
            post = Post(found[0], platform, workspace, channel, found[1], message_id, "sent")
            vote, changed = self._apply_reaction(post, user_id, emoji, value, present, now)
            cards = ()
            if changed:
                cards = tuple(
                    row[0]
                    for row in sql(
                        "SELECT id FROM posts WHERE paper_id = ? AND platform = ? "
                        "AND workspace = ? AND state = 'sent' AND message_id IS NOT NULL "
                        "ORDER BY id",
                        (post.paper_id, platform, workspace),
                    )
                )
            return ReactionApplied(post.paper_id, post.id, vote, cards)

    def set_reaction(self, post: Post, user_id: str, emoji: str, value: int, present: bool) -> int:
        """Add or remove one reaction and re-derive the user's vote on the post's paper.

        A user's vote on a paper, across every post of it in the workspace, is +1 if they have
        only up reactions, -1 if only down ones, and 0 if they have both (they cancel): it
        depends on the set of reactions alone, so retried or reordered events agree.
        Returns the user's vote after the change.
        """
        # On PostgreSQL every statement is a round trip, so the same steps run in one
        # function there (storage.pg_schema.APPLY_REACTION), its own transaction.
        if self.sql.dialect == "postgresql":
            return self.sql.execute(
                "SELECT paperboy_set_reaction(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *_reaction(post, user_id, emoji, value),
                    present,
                    self.clock(),
                    _vote_lock(post, user_id),
                ),
            ).fetchone()[0]
        with self.sql.transaction():
            return self._apply_reaction(post, user_id, emoji, value, present, self.clock())[0]

    def _apply_reaction(
        self, post: Post, user_id: str, emoji: str, value: int, present: bool, now: float
    ) -> tuple[int, bool]:
        """Inside a transaction (SQLite): the user's vote after it, and whether it changed."""
        sql = self.sql.execute
        self.sql.serialize(_vote_lock(post, user_id))  # the user's events in other processes
        if present:
            changed = sql(_ADD_REACTION, _reaction_row(post, user_id, emoji, value, now)).rowcount
        else:
            changed = sql(_REMOVE_REACTION, (*_post_key(post), user_id, emoji)).rowcount
        return self._rederive(post, user_id, changed=bool(changed))

    def reconcile_reactions(
        self,
        post: Post,
        shown: Mapping[tuple[str, str], int],
        *,
        keep_emoji: Collection[str] = (),
        leave: Collection[tuple[str, str]] = (),
    ) -> tuple[int, int]:
        """Make the post's recorded reactions what the platform shows, in one transaction.

        ``shown`` maps each (user id, emoji) vote reaction the platform shows to its value.
        Recorded reactions with an emoji in ``keep_emoji`` stay even if not shown (the
        platform's list of that emoji was cut short), and pairs in ``leave`` are not touched
        (a live event changed them after the platform was asked). Votes are re-derived as
        for single events. Returns (added, removed).
        """
        sql = self.sql.execute
        key = _post_key(post)
        with self.sql.transaction():
            recorded = {
                (user, emoji)
                for user, emoji in sql(
                    f"SELECT user_id, emoji FROM reactions WHERE {_POST_REACTIONS}", key
                )
            }
            missing = [k for k in shown if k not in recorded and k not in leave]
            gone = [
                (user, emoji)
                for user, emoji in recorded
                if (user, emoji) not in shown
                and emoji not in keep_emoji
                and (user, emoji) not in leave
            ]
            for user in sorted({user for user, _ in missing + gone}):
                self.sql.serialize(_vote_lock(post, user))  # in one order: no deadlock
            now = self.clock()
            self.sql.executemany(
                _ADD_REACTION,
                [
                    _reaction_row(post, user, emoji, shown[(user, emoji)], now)
                    for user, emoji in missing
                ],
            )
            self.sql.executemany(_REMOVE_REACTION, [(*key, user, emoji) for user, emoji in gone])
            for user in sorted({user for user, _ in missing + gone}):
                self._rederive_vote(post, user, changed=True)
        return len(missing), len(gone)

    def _rederive_vote(self, post: Post, user_id: str, *, changed: bool) -> int:
        return self._rederive(post, user_id, changed=changed)[0]

    def _rederive(self, post: Post, user_id: str, *, changed: bool) -> tuple[int, bool]:
        """The user's vote re-derived from their reactions, and whether that changed it."""
        sql = self.sql.execute
        key = (post.platform, post.workspace, post.paper_id, user_id)
        derived, current = sql(
            f"SELECT (SELECT coalesce(max({_UP}), 0) - coalesce(max({_DOWN}), 0) "
            "        FROM reactions WHERE platform = ? AND workspace = ? AND paper_id = ? "
            "        AND user_id = ?), "
            "       (SELECT value FROM votes WHERE platform = ? AND workspace = ? "
            "        AND paper_id = ? AND user_id = ?)",
            key + key,
        ).fetchone()
        if not changed or derived == (current or 0):
            return derived, False  # a repeated event, or one that leaves the vote as it was
        if derived == 0:
            sql(
                "DELETE FROM votes WHERE platform = ? AND workspace = ? AND paper_id = ? "
                "AND user_id = ?",
                key,
            )
        else:
            sql(
                "INSERT INTO votes (platform, workspace, paper_id, user_id, value, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, workspace, paper_id, user_id) "
                "DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (*key, derived, self.clock()),
            )
        return derived, True

    def net_votes(self, platform: str, workspace: str, paper_id: str) -> int:
        row = self.sql.execute(
            "SELECT coalesce(sum(value), 0) FROM votes WHERE platform = ? AND workspace = ? "
            "AND paper_id = ?",
            [platform, workspace, paper_id],
        ).fetchone()
        return row[0]

    def tally(self, platform: str, workspace: str, paper_id: str) -> Tally:
        """This workspace's votes on one paper: net score, how many up and how many down."""
        row = self.sql.execute(
            f"SELECT coalesce(sum(value), 0), coalesce(sum({_UP}), 0), "
            f"coalesce(sum({_DOWN}), 0) FROM votes WHERE platform = ? AND workspace = ? "
            "AND paper_id = ?",
            [platform, workspace, paper_id],
        ).fetchone()
        return Tally(paper_id, row[0], row[1], row[2])

    def tallies(self, platform: str, workspace: str, paper_ids: Iterable[str]) -> dict[str, Tally]:
        """``tally`` of each paper in one query (a round trip per 500 papers, not per paper);
        a paper nobody voted on gets a zero tally."""
        ids = list(dict.fromkeys(paper_ids))
        found = {paper_id: Tally(paper_id, 0, 0, 0) for paper_id in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.sql.execute(
                f"SELECT paper_id, sum(value), sum({_UP}), sum({_DOWN}) FROM votes "
                f"WHERE platform = ? AND workspace = ? AND paper_id IN ({marks}) "
                "GROUP BY paper_id",
                [platform, workspace, *chunk],
            ).fetchall()
            for r in rows:
                found[r[0]] = Tally(r[0], r[1], r[2], r[3])
        return found

    def votes_for(self, platform: str, workspace: str, paper_ids: Iterable[str]) -> dict[str, int]:
        """``net_votes`` of each paper, in one query: 0 for a paper nobody voted on."""
        tallies = self.tallies(platform, workspace, paper_ids)
        return {paper_id: t.score for paper_id, t in tallies.items()}

    def vote_of(self, platform: str, workspace: str, paper_id: str, user_id: str) -> int:
        """One user's vote on a paper: +1, -1, or 0 (none, or up and down cancelling out)."""
        row = self.sql.execute(
            "SELECT value FROM votes WHERE platform = ? AND workspace = ? AND paper_id = ? "
            "AND user_id = ?",
            [platform, workspace, paper_id, user_id],
        ).fetchone()
        return row[0] if row else 0

    def leaderboard(
        self, platform: str, workspace: str, since: float | None, limit: int = 10
    ) -> list[Tally]:
        """Papers ranked by net votes cast (last changed) since ``since``; None means all time.

        Every paper with a vote is ranked, net zero and negative too: a team that only voted
        down should see that, not "no votes".
        """
        rows = self.sql.execute(
            f"SELECT paper_id, sum(value) AS score, sum({_UP}), sum({_DOWN}), "
            "max(updated_at) AS last FROM votes WHERE platform = ? AND workspace = ? "
            "AND updated_at >= ? GROUP BY paper_id "
            "ORDER BY score DESC, last DESC LIMIT ?",
            [platform, workspace, since if since is not None else float("-inf"), limit],
        ).fetchall()
        return [Tally(r[0], r[1], r[2], r[3]) for r in rows]

    def channel_votes(self, platform: str, workspace: str, channel: str) -> dict[str, int]:
        """Net votes per paper cast on the posts in one channel: each user counts +1, -1 or
        0 per paper by the same rule as the workspace ledger, from their reactions here only.
        """
        rows = self.sql.execute(
            "SELECT paper_id, sum(vote) FROM (SELECT paper_id, "
            f"max({_UP}) - max({_DOWN}) AS vote "
            "FROM reactions WHERE platform = ? AND workspace = ? AND channel = ? "
            "GROUP BY paper_id, user_id) AS per_user GROUP BY paper_id",
            [platform, workspace, channel],
        ).fetchall()
        return {paper_id: net for paper_id, net in rows if net}

    def taste_picks(self, subscription_id: int, day: str) -> int:
        """How many papers a ``taste=N`` subscription posted on ``day`` (YYYY-MM-DD)."""
        return self.sql.execute(
            "SELECT count(*) FROM taste_picks WHERE subscription_id = ? AND day = ?",
            [subscription_id, day],
        ).fetchone()[0]

    def add_taste_pick(self, subscription_id: int, day: str, paper_id: str) -> None:
        with self.sql.transaction():
            self.sql.execute(
                "INSERT INTO taste_picks (subscription_id, day, paper_id) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [subscription_id, day, paper_id],
            )

    def recent_papers(self, since_day: str, limit: int = 50_000) -> list[Paper]:
        """Papers published, or on Hugging Face's list, on ``since_day`` (YYYY-MM-DD) or
        later, from every source; most HF upvotes first, then newest."""
        rows = self._rows(
            f"SELECT {_PAPER_COLUMNS} FROM papers p WHERE p.published >= ? OR p.hf_date >= ? "
            "ORDER BY coalesce(p.upvotes, -1) DESC, p.published DESC, p.id DESC LIMIT ?",
            [since_day, since_day, limit],
        )
        return [row_to_paper(r) for r in rows]

    # -- follows ------------------------------------------------------------------------

    def add_follow(self, platform: str, workspace: str, user_id: str, follow: Follow) -> bool:
        """False if the person already follows it (names compared case-insensitively)."""
        with self.sql.transaction():
            return (
                self.sql.execute(
                    "INSERT INTO follows (platform, workspace, user_id, kind, value_key, value, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [
                        platform,
                        workspace,
                        user_id,
                        follow.kind,
                        follow.value.lower(),
                        follow.value,
                        self.clock(),
                    ],
                ).rowcount
                == 1
            )

    def remove_follows(
        self, platform: str, workspace: str, user_id: str, follow: Follow | None = None
    ) -> int:
        """Stop one follow (or all of the person's); how many went."""
        sql = "DELETE FROM follows WHERE platform = ? AND workspace = ? AND user_id = ?"
        params: list = [platform, workspace, user_id]
        if follow is not None:
            sql += " AND kind = ? AND value_key = ?"
            params += [follow.kind, follow.value.lower()]
        with self.sql.transaction():
            return self.sql.execute(sql, params).rowcount

    def follows(
        self, platform: str | None = None, workspace: str | None = None, user_id: str | None = None
    ) -> list[tuple[str, str, str, Follow, float]]:
        """(platform, workspace, user id, follow, since when) for the people asked about."""
        conditions = {"platform": platform, "workspace": workspace, "user_id": user_id}
        used = {k: v for k, v in conditions.items() if v is not None}
        where = " AND ".join(f"{k} = ?" for k in used) or "1 = 1"
        rows = self.sql.execute(
            "SELECT platform, workspace, user_id, kind, value, created_at FROM follows "
            f"WHERE {where} ORDER BY platform, workspace, user_id, created_at, kind, value",
            list(used.values()),
        ).fetchall()
        return [(r[0], r[1], r[2], Follow(r[3], r[4]), r[5]) for r in rows]

    def papers_first_seen_since(
        self, since: float, limit: int = 10_000
    ) -> list[tuple[Paper, float]]:
        """Papers that entered the store at ``since`` or later, from any source, with when;
        oldest first."""
        rows = self._rows(
            f"SELECT p.first_seen AS first_seen_, {_PAPER_COLUMNS} FROM papers p "
            "WHERE p.first_seen >= ? ORDER BY p.first_seen, p.id LIMIT ?",
            [since, limit],
        )
        return [(row_to_paper(r), r.pop("first_seen_")) for r in rows]

    def claim_follow_notices(
        self, platform: str, workspace: str, user_id: str, paper_ids: Iterable[str]
    ) -> list[str]:
        """Record that the person is being told of these papers; the ones not told before."""
        now = self.clock()
        claimed = []
        with self.sql.transaction():
            for paper_id in paper_ids:
                if self.sql.execute(
                    "INSERT INTO follow_notices (platform, workspace, user_id, paper_id, "
                    "notified_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [platform, workspace, user_id, paper_id, now],
                ).rowcount:
                    claimed.append(paper_id)
        return claimed

    def dm_refused(self, platform: str, workspace: str, user_id: str) -> None:
        """The person's direct messages are closed: tell them once (see ``take_dm_refusal``)."""
        with self.sql.transaction():
            self.sql.execute(
                "INSERT INTO dm_refusals (platform, workspace, user_id) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [platform, workspace, user_id],
            )

    def dm_accepted(self, platform: str, workspace: str, user_id: str) -> None:
        """A message got through: a later refusal is news again."""
        with self.sql.transaction():
            self.sql.execute(
                "DELETE FROM dm_refusals WHERE platform = ? AND workspace = ? AND user_id = ?",
                [platform, workspace, user_id],
            )

    def take_dm_refusal(self, platform: str, workspace: str, user_id: str) -> bool:
        """True once after a refusal: the person has not been told yet (and now is)."""
        with self.sql.transaction():
            return (
                self.sql.execute(
                    "UPDATE dm_refusals SET told = 1 WHERE platform = ? AND workspace = ? "
                    "AND user_id = ? AND told = 0",
                    [platform, workspace, user_id],
                ).rowcount
                == 1
            )

    def channel_leaderboard(
        self, platform: str, workspace: str, channel: str, since: float, limit: int = 10
    ) -> list[Tally]:
        """Papers ranked by the net votes cast in one channel, by the reactions on the posts
        there: a user's vote is derived as for the workspace (+1 only up, -1 only down, 0
        both) from their reactions in this channel, and counts when one was made since
        ``since``. Papers whose votes all cancel out are left out."""
        rows = self.sql.execute(
            "SELECT paper_id, sum(vote) AS score, "
            "sum(CASE WHEN vote > 0 THEN 1 ELSE 0 END), sum(CASE WHEN vote < 0 THEN 1 ELSE 0 END), "
            "max(last) AS latest FROM ("
            f"  SELECT paper_id, user_id, max({_UP}) - max({_DOWN}) AS vote, "
            "  max(created_at) AS last FROM reactions "
            "  WHERE platform = ? AND workspace = ? AND channel = ? "
            "  GROUP BY paper_id, user_id HAVING max(created_at) >= ?"
            ") AS per_user WHERE vote != 0 GROUP BY paper_id "
            "ORDER BY score DESC, latest DESC, paper_id LIMIT ?",
            [platform, workspace, channel, since, limit],
        ).fetchall()
        return [Tally(r[0], r[1], r[2], r[3]) for r in rows]

    # -- source health ------------------------------------------------------------------

    def source_failed(self, feed: Feed, error: str) -> float:
        """Record a failed refresh; returns when the feed started failing."""
        now = self.clock()
        with self.sql.transaction():
            self.sql.execute(
                "INSERT INTO source_health (source, params, failing_since, last_error, alerted) "
                "VALUES (?, ?, ?, ?, 0) ON CONFLICT (source, params) DO UPDATE SET "
                "failing_since = coalesce(source_health.failing_since, excluded.failing_since), "
                "last_error = excluded.last_error",
                [feed.source, feed.params, now, error[:500]],
            )
            return self.sql.execute(
                "SELECT failing_since FROM source_health WHERE source = ? AND params = ?",
                [feed.source, feed.params],
            ).fetchone()[0]

    def source_ok(self, feed: Feed) -> bool:
        """Record a good refresh; True if the feed had been reported failing (say it's back)."""
        key = [feed.source, feed.params]
        with self.sql.transaction():
            row = self.sql.execute(
                "SELECT alerted FROM source_health WHERE source = ? AND params = ?", key
            ).fetchone()
            self.sql.execute(
                "INSERT INTO source_health (source, params, failing_since, last_ok, last_error, "
                "alerted) VALUES (?, ?, NULL, ?, '', 0) ON CONFLICT (source, params) DO UPDATE "
                "SET failing_since = NULL, last_ok = excluded.last_ok, last_error = '', "
                "alerted = 0",
                [*key, self.clock()],
            )
        return bool(row and row[0])

    def mark_source_alerted(self, feed: Feed) -> bool:
        """Flag the failure as announced; False if it already was (announce once)."""
        with self.sql.transaction():
            cursor = self.sql.execute(
                "UPDATE source_health SET alerted = 1 WHERE source = ? AND params = ? "
                "AND alerted = 0",
                [feed.source, feed.params],
            )
            return cursor.rowcount == 1

    # -- Slack installations (distribution through OAuth) --------------------------------

    def save_slack_installation(self, enterprise_id: str, team_id: str, data: Mapping) -> None:
        """Keep (or replace: a reinstall, a rotated token) a workspace's installation; the
        workspace is no longer departed."""
        with self.sql.transaction():
            self.sql.execute(
                "INSERT INTO slack_installations (enterprise_id, team_id, data, installed_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (enterprise_id, team_id) DO UPDATE SET "
                "data = excluded.data, installed_at = excluded.installed_at",
                [enterprise_id, team_id, json.dumps(dict(data)), self.clock()],
            )
            self.sql.execute(
                "DELETE FROM departed_workspaces WHERE platform = 'slack' AND workspace = ?",
                [team_id],
            )

    def slack_installation(self, enterprise_id: str, team_id: str) -> dict | None:
        row = self.sql.execute(
            "SELECT data FROM slack_installations WHERE enterprise_id = ? AND team_id = ?",
            [enterprise_id, team_id],
        ).fetchone()
        return json.loads(row[0]) if row else None

    def delete_slack_installation(self, enterprise_id: str, team_id: str) -> bool:
        """Forget the installation (the app was removed, or its token revoked) and mark the
        workspace departed, keeping its data for a reinstall. False if none was kept."""
        with self.sql.transaction():
            deleted = self.sql.execute(
                "DELETE FROM slack_installations WHERE enterprise_id = ? AND team_id = ?",
                [enterprise_id, team_id],
            ).rowcount
            self.sql.execute(
                "INSERT INTO departed_workspaces (platform, workspace, departed_at) "
                "VALUES ('slack', ?, ?) ON CONFLICT DO NOTHING",
                [team_id, self.clock()],
            )
        return deleted > 0

    def add_oauth_state(self, state: str, lifetime: float) -> None:
        """An OAuth state good for ``lifetime`` seconds; expired ones are dropped."""
        with self.sql.transaction():
            self.sql.execute(
                "INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)",
                [state, self.clock() + lifetime],
            )
            self.sql.execute("DELETE FROM slack_oauth_states WHERE expires_at < ?", [self.clock()])

    def consume_oauth_state(self, state: str) -> bool:
        """True once for a state handed out and not expired: it is used up at once, so a
        replayed redirect fails (in any process)."""
        with self.sql.transaction():
            return (
                self.sql.execute(
                    "DELETE FROM slack_oauth_states WHERE state = ? AND expires_at >= ?",
                    [state, self.clock()],
                ).rowcount
                == 1
            )

    # -- departed workspaces ----------------------------------------------------------

    def departed_workspaces(self, platform: str | None = None) -> set[tuple[str, str]]:
        """(platform, workspace) of those that removed the app: nothing is posted there."""
        sql = "SELECT platform, workspace FROM departed_workspaces"
        params: list = []
        if platform is not None:
            sql += " WHERE platform = ?"
            params.append(platform)
        return {(r[0], r[1]) for r in self.sql.execute(sql, params).fetchall()}

    def purge_departed_workspaces(self, departed_before: float) -> list[tuple[str, str]]:
        """Delete everything kept for workspaces that left before ``departed_before`` and did
        not come back (subscriptions, posts, votes, follows); returns which."""
        gone = [
            (r[0], r[1])
            for r in self.sql.execute(
                "SELECT platform, workspace FROM departed_workspaces WHERE departed_at < ?",
                [departed_before],
            ).fetchall()
        ]
        for platform, workspace in gone:
            with self.sql.transaction():
                self.sql.execute(
                    "DELETE FROM taste_picks WHERE subscription_id IN (SELECT id FROM "
                    "subscriptions WHERE platform = ? AND workspace = ?)",
                    [platform, workspace],
                )
                for table in _WORKSPACE_TABLES:
                    self.sql.execute(
                        f"DELETE FROM {table} WHERE platform = ? AND workspace = ?",
                        [platform, workspace],
                    )
        return gone


def _post(row: dict) -> Post:
    return Post(
        id=row["id"],
        platform=row["platform"],
        workspace=row["workspace"],
        channel=row["channel"],
        paper_id=row["paper_id"],
        message_id=row["message_id"],
        state=row["state"],
        owner=row["owner"],
        lease_until=row["lease_until"],
        shared_by=row["shared_by"],
        claimed_at=row["created_at"] or 0.0,
    )


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))
