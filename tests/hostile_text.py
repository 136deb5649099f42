"""Text that stresses every parser between a user and SQLite: shared by the property tests.

Each platform's test adds its own markup (Slack's <!channel>, Discord's @everyone) to these.
"""

from __future__ import annotations

# FTS and SQL syntax, command syntax, quoting, unicode that changes how text displays or
# folds, ids in every form, and words long enough to overflow a message if echoed whole.
COMMAND_HAZARDS: list[str] = [
    '"', "'", "AND", "OR", "NOT", "NEAR(", "*", "-", ":", "^", "(", ")", "()", "{", "}", "=",
    ",", "author:", "cat:", "since:", "min_upvotes=", "keywords=", "authors=", "public",
    "DROP TABLE papers;--", "' OR 1=1 --", "%", "_", "\\", "\x00", "\n", "\t", "‮", "\u200b",
    "🔥", "👍🏽", "漢字", "İ", "ß", "é", "all", "hf", "arxiv", "cs.CL", "2401.12345",
    "hep-th/9901001", "https://arxiv.org/abs/2401.12345v2",
    "https://huggingface.co/papers/2401.12345", "9" * 30,
]  # fmt: skip
LONG_WORDS: list[str] = ["x" * 3000, "é" * 1000, "😀" * 800]
