"""Many rows into PostgreSQL at once, for the snapshot import and ``copy-to-postgres``.

A batch goes in with ``COPY`` (one stream, no statement per row) into a temporary staging
table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` moves it into the real table:
rows whose key is already there are left as they are, so a batch run twice adds nothing.
New papers are logged for the search index by that same statement, once per batch, instead of
by the per-row trigger (which takes the papers lock and inserts a log row for every paper).

Call these inside a write transaction; for ``papers``, holding the papers lock
(``Database.serialize(PAPERS_LOCK)``), as every writer of papers does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.pg_schema import INSERTS_LOGGED_SETTING
from storage.sql import PostgresDatabase

_STAGE = "paperboy_stage"
_ORDER = "paperboy_order"  # the rows' order in the batch: papers' new rowids follow it


def insert_rows(
    db: PostgresDatabase, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """Insert ``rows`` (values of ``columns``) into ``table``, skipping any whose key is
    already there; returns how many went in."""
    if not rows:
        return 0
    if not db.in_transaction:
        raise RuntimeError("insert_rows stages rows for its transaction: open one")
    names = ", ".join(columns)
    # Only the columns given, without the table's constraints (a column left out, such as
    # papers.rowid in a copy, is NULL here and given by the table's default on insert).
    db.execute(
        f"CREATE TEMP TABLE {_STAGE} ON COMMIT DROP AS "
        f"SELECT {names}, 0::bigint AS {_ORDER} FROM {table} WITH NO DATA"
    )
    db.copy_in(_STAGE, [*columns, _ORDER], ((*row, i) for i, row in enumerate(rows)))
    insert = (
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {_STAGE} ORDER BY {_ORDER} "
        "ON CONFLICT DO NOTHING"
    )
    # On an error the transaction rolls back, and the stage and the setting with it.
    if table != "papers":
        added = db.execute(insert).rowcount
    else:
        db.execute("SELECT set_config(?, 'on', true)", [INSERTS_LOGGED_SETTING])
        added = db.execute(
            f"WITH added AS ({insert} RETURNING rowid) "
            "INSERT INTO search_log (paper_rowid) SELECT rowid FROM added ORDER BY rowid"
        ).rowcount
        db.execute("SELECT set_config(?, 'off', true)", [INSERTS_LOGGED_SETTING])
    db.execute(f"DROP TABLE {_STAGE}")  # the next batch of this transaction makes its own
    return added


def present_ids(db: PostgresDatabase, ids: Sequence[str]) -> list[str]:
    """Which of ``ids`` the papers table holds: one query, however many ids."""
    return [r[0] for r in db.execute("SELECT id FROM papers WHERE id = ANY(?)", [list(ids)])]
