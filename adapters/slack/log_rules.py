"""What must never reach a log line from Slack's traffic, as patterns the logging set-up uses.

Slack's payloads carry two secrets besides our own tokens: the legacy verification
``token`` and each command's ``response_url``, a live link that can post into the channel
for half an hour. Bolt and the SDK write whole payloads and URLs at DEBUG (a badly signed
request's body, every webhook call), so these are blanked in every formatted line.

A pattern with a group named ``value`` has only that part blanked (the key stays readable);
any other pattern has its whole match blanked.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

# A form field or query parameter value ends at "&" or white space; percent-encoding keeps
# it in one piece.
_FORM_VALUE = r"[^&\s\"'<>]+"
# A JSON string or a Python repr of one.
_QUOTED_VALUE = r"(?:\\.|[^\"'\\])*"

_SECRET_KEYS = r"(?:response_url|token)"

PATTERNS: tuple[re.Pattern[str], ...] = (
    # token=… / response_url=… in a form body or a query string.
    re.compile(rf"(?<![\w%])(?:{_SECRET_KEYS})=(?P<value>{_FORM_VALUE})"),
    # "token": "…" in JSON, 'response_url': '…' in a dict's repr.
    re.compile(rf"[\"']{_SECRET_KEYS}[\"']\s*:\s*[\"'](?P<value>{_QUOTED_VALUE})[\"']"),
    # Slack's hook URLs wherever they appear (logged URLs, errors), plain or percent-encoded.
    re.compile(r"https?(?::|%3A)(?://|%2F%2F)hooks\.slack\.com[^\s\"'<>&,]*", re.IGNORECASE),
)


def patterns_for(api_url: str) -> tuple[re.Pattern[str], ...]:
    """``PATTERNS``, plus any URL on ``SLACK_API_URL``'s host outside its API path.

    Slack's own hooks live on hooks.slack.com; a proxy or a local stand-in for Slack may
    serve them beside the Web API instead, and those are just as live.
    """
    parts = urlsplit(api_url)
    if not parts.netloc or parts.netloc.lower().endswith("slack.com"):
        return PATTERNS
    api_path = parts.path.rstrip("/") + "/"
    origin = re.escape(f"{parts.scheme}://{parts.netloc}")
    beside_api = re.compile(rf"{origin}(?!{re.escape(api_path)})/[^\s\"'<>&,]+", re.IGNORECASE)
    return (*PATTERNS, beside_api)


# Bolt's authorization logs this at ERROR for every request from a workspace with no
# installation (one that removed the app and is still sending, or anyone with a signed
# request): routine for a distributed app, and no fault of ours. The adapter logs one INFO
# line naming the workspace instead (``InstallationAuthorize``).
BOLT_NOT_INSTALLED = "Although the app should be installed into this workspace"
BOLT_AUTHORIZATION_LOGGER = "slack_bolt.AsyncMultiTeamsAuthorization"


class DropNotInstalledErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(BOLT_NOT_INSTALLED)


_DROP_NOT_INSTALLED = DropNotInstalledErrors()


def quiet_not_installed_errors() -> None:
    """Keep Bolt's ERROR line for a request from a workspace without installation out."""
    logger = logging.getLogger(BOLT_AUTHORIZATION_LOGGER)
    if _DROP_NOT_INSTALLED not in logger.filters:
        logger.addFilter(_DROP_NOT_INSTALLED)
