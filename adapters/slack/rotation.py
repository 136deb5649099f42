"""Token rotation for paperboy's own calls (posting, settling, users.info, unfurls, DMs).

With token rotation turned on for the app, Slack's bot tokens expire after 12 hours and
are renewed with a refresh token (``oauth.v2.access``, ``grant_type=refresh_token``), which
is good once. Bolt renews the token of a workspace when a request from it arrives; the
poster acts without one, so it renews the same way, with the same window
(``SLACK_TOKEN_ROTATION_MINUTES``, Bolt's ``token_rotation_expiration_minutes``) and the
same installation store, before each call that would use an expiring token.

Several processes may share the database: the installation is read again from it before
renewing, so a token another process renewed is taken as it is rather than renewed twice
(which would spend the refresh token it holds).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.installations import StoreInstallationStore

log = logging.getLogger(__name__)


class TokenRotation:
    def __init__(
        self,
        installations: StoreInstallationStore,
        client: AsyncWebClient,
        *,
        client_id: str,
        client_secret: str,
        minutes_before_expiration: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.installations = installations
        self.client = client  # its base URL is SLACK_API_URL, oauth.v2.access included
        self.client_id = client_id
        self.client_secret = client_secret
        self.window = minutes_before_expiration * 60.0
        self.clock = clock
        self._locks: dict[str, asyncio.Lock] = {}

    def expiring(self, bot: Bot) -> bool:
        expires_at = bot.bot_token_expires_at
        return (
            bool(bot.bot_refresh_token)
            and expires_at is not None
            and (expires_at <= self.clock() + self.window)
        )

    async def fresh(self, team_id: str, bot: Bot) -> Bot:
        """``bot``, with its token renewed first if it expires within the window. A failed
        renewal is logged and the current token used: it may still work until it expires."""
        if not self.expiring(bot):
            return bot
        async with self._locks.setdefault(team_id, asyncio.Lock()):
            self.installations.forget(team_id)  # another process may have renewed it
            latest = await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)
            if latest is None:
                return bot  # uninstalled meanwhile: the caller's call will say so
            if not self.expiring(latest):
                return latest
            try:
                return await self._renew(team_id, latest)
            except SlackApiError as exc:
                log.warning(
                    "Slack: could not renew the token of workspace %s (%s)",
                    team_id,
                    exc.response.get("error") if exc.response else "no answer",
                )
                return latest

    async def _renew(self, team_id: str, bot: Bot) -> Bot:
        answer = await self.client.oauth_v2_access(
            client_id=self.client_id,
            client_secret=self.client_secret,
            grant_type="refresh_token",
            refresh_token=bot.bot_refresh_token or "",
        )
        renewed = Bot(**bot.to_dict_for_copying())
        renewed.bot_token = answer["access_token"]
        renewed.bot_refresh_token = answer.get("refresh_token") or bot.bot_refresh_token
        renewed.bot_token_expires_at = int(self.clock()) + int(answer["expires_in"])
        await self.installations.async_save_bot(renewed)
        log.info("Slack: renewed the token of workspace %s", team_id)
        return renewed
