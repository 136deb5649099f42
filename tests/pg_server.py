"""A private PostgreSQL server for the test session: ``initdb`` + ``pg_ctl`` from the Debian
``postgresql`` binaries, in a temporary directory, on 127.0.0.1 with a free port and trust
authentication (nothing else can reach it). Durability is off: it is thrown away at the end.

``initdb`` refuses to run as root; as root the server runs as the ``postgres`` user.
Each test gets a database of its own (``new_database``), created in a few milliseconds.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here, or the server would not start; the message says which."""


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, else the newest Debian install."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, settings: dict[str, str] | None = None) -> None:
        """``settings``: server settings beyond the defaults below (a benchmark's memory)."""
        bindir = find_bindir()
        if bindir is None:
            raise PostgresUnavailable(
                "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin;"
                " Debian: apt-get install postgresql)"
            )
        self.bindir = bindir
        self.dir = Path(tempfile.mkdtemp(prefix="paperboy-pg-"))
        self.data = self.dir / "data"
        self.port = 0
        self.settings = settings or {}
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' user to run the server as"
                ) from None
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", SERVER_USER, "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, timeout=120, cwd=self.dir
        )
        if result.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed ({result.returncode}): "
                f"{result.stderr.strip()[-2000:]}\n{tail}"
            )

    def start(self) -> PostgresServer:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        self.port = _free_port()
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.dir}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=300",
                "-c shared_buffers=64MB",
                *(f"-c {name}={value}" for name, value in self.settings.items()),
            ]
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.port:
            subprocess.run(
                [
                    *self._as,
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "stop",
                ],
                capture_output=True,
                timeout=60,
                cwd=self.dir,
            )
        shutil.rmtree(self.dir, ignore_errors=True)
