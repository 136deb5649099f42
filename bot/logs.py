"""Logging set-up: one line per record, and secrets never reach the output."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# Libraries whose DEBUG output can include request headers; each platform adds its own.
QUIET_LOGGERS = ("httpx", "httpcore")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks out every secret, tracebacks included.

    ``patterns`` are the platforms' rules for secrets that are not settings (say a link in a
    payload, or someone else's token in an SDK error): a pattern's group named ``value`` is
    blanked, or else its whole match.
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
    return text


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
    *,
    quiet: Iterable[str] = (),
    path: str | None = None,
) -> logging.Handler:
    """Log to ``stream`` (stderr), or appending to the file ``path``, at ``level``; ``quiet``
    loggers stay at WARNING unless DEBUG. Raises OSError if ``path`` can't be opened."""
    if path is not None:
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    else:
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
    level_of_quiet = logging.WARNING if root.level > logging.DEBUG else logging.DEBUG
    for name in (*QUIET_LOGGERS, *quiet):
        logging.getLogger(name).setLevel(max(level_of_quiet, root.level))
    return handler
