"""Who posts: one process at a time, and whose claims a poster may settle.

Several ``paperboy run`` processes may share one database (a restart without downtime, a
second machine later). All of them serve commands and votes; only the holder of the *poster
lease* runs posting rounds. The others try to take it every poll interval, so one of them
takes over within two intervals when the poster dies.

On SQLite the lease is an exclusive ``flock`` on ``<database>.poster.lock``, held for the
life of the poster: the kernel drops it when the process ends, even on ``kill -9``. On
PostgreSQL it is an advisory lock held by a connection of its own, which the server drops
with the connection when the process ends.

Each claim on a post (a 'pending' row, written before sending) records its owner and a lease
time the owner keeps pushing forward while the send is in flight. A poster settles only
claims whose lease ran out, its own, or those of a process on this host that no longer
exists, so it never releases a claim another process is still sending.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import uuid
from typing import Any, Protocol

log = logging.getLogger(__name__)

# How long a claim stays another process's after its owner last renewed it; owners renew a
# third of the way through, so only a dead (or frozen) owner lets it lapse.
CLAIM_LEASE_SECONDS = 30.0
CLAIM_RENEW_SECONDS = CLAIM_LEASE_SECONDS / 3


class PosterLease(Protocol):
    """The right to run posting rounds; at most one holder among processes on a database."""

    def acquire(self) -> bool:
        """Take it if free (never waits); True if this process holds it now."""
        ...

    @property
    def held(self) -> bool: ...

    def release(self) -> None: ...


class FileLease:
    """``flock`` on a file beside the SQLite database. Works wherever the database does
    (one machine); the lock file holds the poster's pid for whoever looks."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor drops the flock

    def __str__(self) -> str:
        return self.path


# The lock's name (hashed to PostgreSQL's 64-bit advisory lock key).
POSTER_LOCK_NAME = "paperboy:poster"
# The server notices a vanished poster machine (no FIN, no RST) after about
# idle + interval x count seconds of silence, and ends its session, freeing the lock.
KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}


class AdvisoryLease:
    """A session advisory lock on a PostgreSQL connection kept for it alone. The pool's
    connections come and go; this one lives as long as the lease. When the process dies the
    server ends its session and the lock with it; if the connection breaks (a server restart,
    a network cut), the lease is lost, and ``acquire`` notices it at the next round."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> bool:
        import psycopg

        if self._conn is not None:
            try:
                self._conn.execute("SELECT 1")  # the session, and so the lock, still exists
                return True
            except psycopg.Error as exc:
                log.warning("lost the poster lock's connection (%s); trying to take it again", exc)
                self.release()
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            log.warning("cannot reach PostgreSQL for the poster lock: %s", exc)
            return False
        try:
            for name, value in KEEPALIVE.items():
                conn.execute(f"SET {name} = {int(value)}")
            got = conn.execute(
                "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [POSTER_LOCK_NAME]
            ).fetchone()[0]
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()  # ending the session drops the lock

    def __str__(self) -> str:
        return f"PostgreSQL advisory lock {POSTER_LOCK_NAME!r}"


class ProcessLease:
    """For a database only this process can see (in memory): always free."""

    def __init__(self) -> None:
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self) -> bool:
        self._held = True
        return True

    def release(self) -> None:
        self._held = False

    def __str__(self) -> str:
        return "this process"


def new_claim_owner() -> str:
    """This process's name on the claims it makes: host, pid, and a random part so that a
    reused pid is never mistaken for an earlier process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_gone(owner: str) -> bool:
    """True only when ``owner`` certainly no longer runs: a process of this host whose pid is
    free. Anything else (another host, an odd name, a pid now in use) waits for its lease."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this process: an earlier Poster here is judged by the caller
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
