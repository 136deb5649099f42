"""Bolt's installation and OAuth state stores, kept in paperboy's own database.

Thin stores over ``storage.store.Store`` rather than slack_sdk's SQL stores: those bring
SQLAlchemy (a dependency paperboy does not have) or open their own ``sqlite3`` connection to a
file of their own, outside paperboy's database, its migrations and its PostgreSQL support.
Here an installation lives in the same SQLite file or PostgreSQL database as the workspace's
subscriptions and votes, so every process sees an install or an uninstall at once.

Installations are looked up on every request and every post, so the bot of each workspace is
cached in memory; the cache entry goes when the installation is deleted or replaced here. A
process that did not see an uninstall or a reinstall (another process did) reads the
database again after ``CACHE_SECONDS``, or at once after ``forget`` (the adapter forgets a
workspace whose token Slack refuses); the poster checks ``departed_workspaces`` in the
database before each round, so it stops posting to a departed workspace at once.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

log = logging.getLogger(__name__)

STATE_LIFETIME = 600.0  # seconds between /slack/install and the redirect back
CACHE_SECONDS = 30.0  # how long a process trusts the installation it read last


class InstallationRows(Protocol):
    """What these stores need of ``storage.store.Store``."""

    def save_slack_installation(self, enterprise_id: str, team_id: str, data: Any) -> None: ...

    def slack_installation(self, enterprise_id: str, team_id: str) -> dict | None: ...

    def delete_slack_installation(self, enterprise_id: str, team_id: str) -> bool: ...

    def add_oauth_state(self, state: str, lifetime: float) -> None: ...

    def consume_oauth_state(self, state: str) -> bool: ...


def _key(
    enterprise_id: str | None, team_id: str | None, org_wide: bool | None = False
) -> tuple[str, str]:
    """A workspace's install is found by its team id alone (a workspace of an Enterprise Grid
    has an enterprise id too, not always sent); an org-wide install by the enterprise id."""
    return (enterprise_id or "", "") if org_wide else ("", team_id or "")


class StoreInstallationStore(AsyncInstallationStore):
    """One installation (a bot) per workspace; user tokens are not asked for."""

    def __init__(
        self,
        rows: InstallationRows,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rows = rows
        self.cache_seconds = cache_seconds
        self.clock = clock
        # (enterprise, team) -> (when read or written here, the installation or None)
        self._bots: dict[tuple[str, str], tuple[float, Installation | None]] = {}

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        key = _key(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        data = installation.to_dict()
        # to_dict gives datetimes; the row is JSON, and Installation reads Unix seconds back
        data["installed_at"] = float(installation.installed_at)
        data["bot_token_expires_at"] = installation.bot_token_expires_at
        data["user_token_expires_at"] = installation.user_token_expires_at
        self.rows.save_slack_installation(*key, data)
        self._bots[key] = (self.clock(), installation)
        log.info("Slack: installed in workspace %s", installation.team_id)

    async def async_save_bot(self, bot: Bot) -> None:
        # Token rotation saves the refreshed bot alone: fold it into the installation.
        key = _key(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        data = self.rows.slack_installation(*key)
        if data is None:  # uninstalled meanwhile: a renewed token must not bring it back
            self._bots.pop(key, None)
            return
        data.update(
            bot_token=bot.bot_token,
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=bot.bot_token_expires_at,
        )
        self.rows.save_slack_installation(*key, data)
        self._bots.pop(key, None)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = _key(enterprise_id, team_id, is_enterprise_install)
        cached = self._bots.get(key)
        if cached is None or self.clock() - cached[0] >= self.cache_seconds:
            data = self.rows.slack_installation(*key)
            cached = self._bots[key] = (self.clock(), Installation(**data) if data else None)
        installation = cached[1]
        if installation is not None and user_id and installation.user_id != user_id:
            return None  # a user's own token is never stored: only the installer's row
        return installation

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return installation.to_bot() if installation and installation.bot_token else None

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id:  # one person's user token: paperboy keeps none
            return
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        # Slack's uninstall events name the workspace; an org-wide install has no team id.
        key = _key(enterprise_id, team_id, org_wide=not team_id)
        self._bots[key] = (self.clock(), None)
        if self.rows.delete_slack_installation(*key):
            log.info("Slack: removed from workspace %s; its data is kept for a while", team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def forget(self, team_id: str) -> None:
        """Drop the cached installation: the next look-up reads the database."""
        self._bots.pop(_key(None, team_id), None)


class StoreStateStore(AsyncOAuthStateStore):
    """OAuth ``state`` values, each good once and for ``STATE_LIFETIME`` seconds, in the
    database: the redirect may reach another process than the one that started the install."""

    def __init__(self, rows: InstallationRows, lifetime: float = STATE_LIFETIME) -> None:
        self.rows = rows
        self.lifetime = lifetime

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        self.rows.add_oauth_state(state, self.lifetime)
        return state

    async def async_consume(self, state: str) -> bool:
        return self.rows.consume_oauth_state(state)
