"""Several processes on one SQLite file: opening a fresh database together."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from storage.db import MIGRATIONS, open_db, schema_version
from tests.botprocess import ROOT, clean_env

# Each child imports paperboy, then waits for the go file, so all ten open at the same moment.
OPEN_WHEN_TOLD = """
import os, sys, time
from storage.db import open_db
go, db = sys.argv[1], sys.argv[2]
open(go + f".ready-{os.getpid()}", "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
open_db(db).close()
"""


def wait_until_sync(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_ten_processes_opening_a_fresh_database_at_once_all_succeed(tmp_path: Path) -> None:
    db_path = tmp_path / "paperboy.db"
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_WHEN_TOLD, str(go), str(db_path)],
            cwd=ROOT,
            env=clean_env(),
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(10)
    ]
    # Give the signal once every child has imported paperboy and is waiting for it.
    wait_until_sync(lambda: len(list(tmp_path.glob("go.ready-*"))) == len(children))
    go.touch()
    failures = []
    for child in children:
        _, err = child.communicate(timeout=60)
        if child.returncode != 0:
            failures.append(err.strip().splitlines()[-4:])
    assert failures == []
    db = open_db(str(db_path))
    try:
        assert schema_version(db) == len(MIGRATIONS)
        assert db.execute("SELECT count(*) FROM search_meta").fetchone()[0] == 1
    finally:
        db.close()
