"""Files for one person on Slack: a ``FileReply`` goes to the requester's direct message with
paperboy (``conversations.open``, then slack_sdk's ``files_upload_v2``, which asks
``files.getUploadURLExternal``, uploads to the URL it returns and shares the file with
``files.completeUploadExternal``).

Slash-command answers can only be text, so the command itself is answered with where the file
went, or why it could not be sent. Scopes: ``files:write`` and ``im:write``.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.replies import Error, FileReply, Reply, Text

log = logging.getLogger(__name__)

# Slack's own words for a setup problem, and what the person running paperboy should do.
_SETUP_ERRORS = {
    "missing_scope": "the Slack app lacks the files:write or im:write scope; reinstall it "
    "with the manifest in adapters/slack/manifest.yml",
    "not_allowed_token_type": "SLACK_BOT_TOKEN is not a bot token",
}


async def send_file_privately(
    client: AsyncWebClient, user_id: str, reply: FileReply, *, token: str | None = None
) -> Reply:
    """Upload ``reply`` into ``user_id``'s DM with the bot (``token``: the workspace's bot
    token, when not the client's); the answer to show the user."""
    if not user_id:
        return Error("I can't tell who asked, so I can't send you the file.")
    try:
        opened = await client.conversations_open(users=user_id, token=token)
        dm = (opened.get("channel") or {}).get("id") or ""
        await client.files_upload_v2(
            channel=dm,
            filename=reply.name,
            content=reply.data,
            title=reply.name,
            initial_comment=reply.message,
            token=token,
        )
    except SlackApiError as exc:
        code = _error_code(exc)
        log.warning("Slack: could not send %s to a DM: %s", reply.name, code)
        return Error(
            f"I couldn't send {reply.name} to your direct messages ({code}).",
            f"Tell whoever runs paperboy: {_SETUP_ERRORS[code]}."
            if code in _SETUP_ERRORS
            else "Try again in a minute; if it keeps failing, tell whoever runs paperboy.",
        )
    except (SlackRequestError, aiohttp.ClientError, TimeoutError) as exc:
        log.warning("Slack: could not upload %s: %s", reply.name, type(exc).__name__)
        return Error(f"I couldn't upload {reply.name} to Slack just now.", "Try again in a minute.")
    return Text(f"{reply.message} Sent `{reply.name}` to your direct messages with paperboy.")


def _error_code(exc: SlackApiError) -> str:
    data = getattr(exc.response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    return str(code or f"HTTP {getattr(exc.response, 'status_code', '?')}")
