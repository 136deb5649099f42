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

# Pieces that must never reach a reader as they are: terminal escape sequences (SGR colour,
# clear screen, OSC window title and OSC 8 hyperlink with their payloads, a reset, a lone
# ESC), C0/C1 controls, bidi controls and invisible characters. Cleaning removes each whole,
# so the text around them reads as if they were never there.
DISPLAY_HAZARDS: list[str] = [
    "\x1b[31m", "\x1b[0m", "\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x1b]8;;https://evil.example\x1b\\",
    "\x1b]8;;\x1b\\", "\x9b", "\x9d", "\x1bc", "\x1b", "\x00", "\x07", "\x08", "\x7f", "\x85",
    "\x9f", "\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c", "\u200b",
    "\u2060", "\u2063", "\u00ad", "\ufeff", "\u180e", "\U000e0041\U000e0042", "\ud800",
]  # fmt: skip
