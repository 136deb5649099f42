"""What a load balancer asks paperboy: is this process healthy (``GET /healthz``)?

Healthy means the database answers, every platform the process started is still connected,
and, if this process is the poster, its last posting round is recent. A follower (another
process holds the poster lock) is healthy without rounds of its own: it serves commands
and votes, and takes over when the poster dies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core import Bot

# A poster whose last round ended longer ago than this many poll intervals is stuck.
STALE_ROUNDS = 3


def health_report(bot: Bot, platforms: Mapping[str, bool]) -> tuple[bool, dict[str, Any]]:
    """(healthy, the details as JSON-ready values); ``platforms`` maps each started
    platform to whether it is connected now."""
    try:
        bot.store.ping()
        database = True
    except Exception:  # unreachable, closed, locked: the reason is for the logs, not here
        database = False
    poster = bot.poster
    interval = bot.settings.poll_interval
    age = None if poster.last_round_at is None else max(0.0, bot.clock() - poster.last_round_at)
    stuck = poster.leading and age is not None and age > STALE_ROUNDS * interval
    healthy = database and all(platforms.values()) and not stuck
    return healthy, {
        "status": "ok" if healthy else "unhealthy",
        "database": {"reachable": database, "backend": bot.store.backend},
        "platforms": dict(platforms),
        "poster": {
            "this_process": poster.leading,
            "last_round_age_seconds": None if age is None else round(age, 1),
            "poll_interval_seconds": interval,
            "stuck": stuck,
        },
    }
