"""A feed: what one paper source lists for one set of parameters, e.g. ``Feed("hf")`` (HF
Daily Papers) or ``Feed("arxiv", "cs.LG")`` (arXiv's new cs.LG submissions).

Subscriptions point at feeds, the poster refreshes them, and the store keeps which papers
each listed lately, as a (source, params) pair. What the parameters mean is the source's
business (``bot.sources``); here they are an opaque, already normalised string.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Feed:
    source: str  # a source's registered name: "hf", "arxiv"
    params: str = ""  # "" when the source takes none; "cs.LG" for an arXiv category

    def __str__(self) -> str:
        """The short form used in logs: ``hf``, ``arxiv:cs.LG``."""
        return f"{self.source}:{self.params}" if self.params else self.source
