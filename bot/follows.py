"""Follows: a direct message to each person when papers matching what they follow arrive.

Run by the poster at the end of each round, under its lock. Each (person, paper) is
recorded before the message is sent, so no one hears of a paper twice, even across
restarts; a message whose send fails is not retried (at most once, never twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.model.follow import Follow
from bot.model.paper import Paper
from bot.outbox import DirectMessageClosed, Outbox
from bot.replies import PaperList, ScoredPaper
from storage.store import Store

log = logging.getLogger(__name__)

# A paper is news to its followers for this long after it first reached the store.
FOLLOW_WINDOW = timedelta(days=2).total_seconds()
MAX_LISTED = 20  # papers listed in one message; the rest are counted

Person = tuple[str, str, str]  # platform, workspace, user id


def matches_by_person(
    follows: list[tuple[str, str, str, Follow, float]], arrived: list[tuple[Paper, float]]
) -> dict[Person, list[tuple[Paper, Follow]]]:
    """Each person's new papers (arrived after they followed), with the follow that matched."""
    found: dict[Person, dict[str, tuple[Paper, Follow]]] = {}
    for platform, workspace, user_id, follow, since in follows:
        for paper, seen in arrived:
            if seen >= since and follow.matches(paper):
                found.setdefault((platform, workspace, user_id), {}).setdefault(
                    paper.id, (paper, follow)
                )
    return {person: list(papers.values()) for person, papers in found.items()}


def message(matches: list[tuple[Paper, Follow]]) -> PaperList:
    shown = matches[:MAX_LISTED]
    more = len(matches) - len(shown)
    return PaperList(
        f"New papers for what you follow ({len(matches)})",
        tuple(ScoredPaper(paper, 0, f"you follow {follow}") for paper, follow in shown),
        note=f"and {more} more; `/papers follows` lists what you follow" if more else "",
        public=True,  # a DM: no Share buttons, which would share into the DM itself
    )


async def notify_follows(
    store: Store, outboxes: Mapping[str, Outbox], clock: Callable[[], float]
) -> int:
    """Send each person one message listing the new papers they follow; how many were sent."""
    departed = store.departed_workspaces()  # removed the app: no messages, nothing claimed
    follows = [f for f in store.follows() if f[0] in outboxes and (f[0], f[1]) not in departed]
    if not follows:
        return 0
    since = max(clock() - FOLLOW_WINDOW, min(f[4] for f in follows))
    arrived = store.papers_first_seen_since(since)
    sent = 0
    for (platform, workspace, user_id), matches in matches_by_person(follows, arrived).items():
        new = set(
            store.claim_follow_notices(platform, workspace, user_id, [p.id for p, _ in matches])
        )
        news = [(p, f) for p, f in matches if p.id in new]
        if not news:
            continue
        try:
            await outboxes[platform].send_dm(workspace, user_id, message(news))
        except DirectMessageClosed:
            log.info("follows: %s/%s has direct messages closed", platform, user_id)
            store.dm_refused(platform, workspace, user_id)
            continue
        except Exception:
            log.exception("follows: could not message %s/%s", platform, user_id)
            continue
        store.dm_accepted(platform, workspace, user_id)
        sent += 1
    return sent
