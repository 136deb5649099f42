"""The running bot's heap: what start-up built is left out of garbage collections."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def settled_heap() -> Iterator[None]:
    """Exempt what start-up built (modules, clients, settings: some 70,000 objects) from the
    garbage collector while the bot runs.

    A full collection walks every object in the process: 30 ms of CPU here, and 100-250 ms
    on a loaded machine, in the middle of whatever request it interrupts (it came once in
    every few hundred searches). Frozen, those objects are never walked again; what the
    requests create is collected as before."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()  # a process that runs the bot again (the tests) collects them after all
