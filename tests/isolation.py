"""Fixtures that keep one test's process-wide changes from reaching the next.

Import the fixture into a test module to use it there (it is autouse)::

    from tests.isolation import logger_levels_restored  # noqa: F401
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def logger_levels_restored() -> Iterator[None]:
    """Every named logger's level back as it was, and NOTSET for loggers the test created.

    Building a Bolt app sets the level of the logger named after the app ("paperboy", the
    parent of any "paperboy.*" logger) as a side effect; so do the adapters for the SDK
    loggers. A later test logging under "paperboy.…" would otherwise lose its INFO lines.
    """
    loggers = logging.root.manager.loggerDict
    before = {n: lg.level for n, lg in loggers.items() if isinstance(lg, logging.Logger)}
    yield
    for name, logger in list(loggers.items()):
        if isinstance(logger, logging.Logger):
            logger.setLevel(before.get(name, logging.NOTSET))
