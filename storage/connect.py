"""Which database paperboy uses, decided once at start: PostgreSQL when ``DATABASE_URL`` is
set, else the SQLite file at ``PAPERBOY_DB``."""

from __future__ import annotations

import sqlite_utils

from storage.db import open_db
from storage.sql import PostgresDatabase

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class DatabaseUrlError(ValueError):
    """DATABASE_URL names a database paperboy cannot use; the message says why."""


def open_database(
    db_path: str, database_url: str = "", search_dir: str = ""
) -> sqlite_utils.Database | PostgresDatabase:
    """Open (creating and migrating if needed) the database the settings name; pass the
    result to ``storage.store.Store``."""
    if not database_url:
        return open_db(db_path)
    if not database_url.startswith(POSTGRES_SCHEMES):
        raise DatabaseUrlError(
            "DATABASE_URL must start with postgresql:// (unset it to use the SQLite file "
            "PAPERBOY_DB)"
        )
    return PostgresDatabase(database_url, search_dir)
