"""Logging set-up: one line per record, and secrets never reach the output."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# Token shapes worth hiding even when they are not our own settings (e.g. in an SDK error).
_TOKEN_SHAPES = re.compile(r"\b(?:xox[abposr]-[\w-]+|xapp-[\w-]+)")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks out every secret, tracebacks included.

    ``patterns`` are the platforms' rules for secrets that are not settings (say a link in a
    payload): a pattern's group named ``value`` is blanked, or else its whole match.
    """

    def __init__(
        self, fmt: str, secrets: Iterable[str] = (), patterns: Iterable[re.Pattern[str]] = ()
    ) -> None:
        super().__init__(fmt)
        # Longest first, so a secret containing another is hidden whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)
        self.patterns = tuple(patterns)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets, self.patterns)


def redact(text: str, secrets: Iterable[str], patterns: Iterable[re.Pattern[str]] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    for pattern in patterns:
        text = pattern.sub(_blank, text)
    return _TOKEN_SHAPES.sub(REDACTED, text)


def _blank(match: re.Match[str]) -> str:
    if "value" not in match.re.groupindex:
        return REDACTED
    start, end = match.span("value")
    whole = match.group(0)
    return whole[: start - match.start()] + REDACTED + whole[end - match.start() :]


def setup_logging(
    level: str,
    secrets: Iterable[str] = (),
    stream=None,
    patterns: Iterable[re.Pattern[str]] = (),
) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets, patterns)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # Chatty libraries stay at WARNING unless we are debugging; their DEBUG output can
    # include request headers.
    quiet = logging.WARNING if root.level > logging.DEBUG else logging.DEBUG
    for name in ("httpx", "httpcore", "aiohttp.access", "slack_bolt", "slack_sdk", "discord"):
        logging.getLogger(name).setLevel(max(quiet, root.level))
    return handler
