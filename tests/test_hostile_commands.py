"""Property tests: whatever text follows /papers, the core answers once and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory import MemoryAdapter
from bot.commands import COMMAND_NAMES
from bot.plain_text import render_text
from bot.replies import Error

# Text that stresses parsers: FTS syntax, quotes, shell quoting, unicode, control characters.
NASTY = st.sampled_from(
    [
        '"',
        "'",
        "AND",
        "OR",
        "NOT",
        "NEAR(",
        "*",
        "-",
        ":",
        "^",
        "(",
        ")",
        "{",
        "}",
        "=",
        ",",
        "author:",
        "cat:",
        "since:",
        "min_upvotes=",
        "keywords=",
        "🔥",
        "👍🏽",
        "\x00",
        "\n",
        "\t",
        "é",
        "ß",
        "İ",
        "漢字",
        "‮",
        "DROP TABLE papers;--",
        "%",
        "_",
        "\\",
        "all",
        "hf",
        "arxiv",
        "2401.12345",
        "hep-th/9901001",
        "https://arxiv.org/abs/2401.12345v2",
        "9" * 30,
    ]
)
WORDS = st.one_of(NASTY, st.text(max_size=12))
ARGUMENTS = st.lists(WORDS, max_size=12).map(" ".join)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from([*COMMAND_NAMES, "bogus", ""]), rest=ARGUMENTS, admin=st.booleans())
async def test_any_command_text_gets_one_renderable_answer(
    bot, paper_sources, name, rest, admin
) -> None:
    paper_sources.fail("search", 500, times=1)  # sources misbehave too, now and then
    chat = MemoryAdapter(bot)
    reply = await chat.command(f"{name} {rest}", admin=admin)
    text = render_text(reply)
    assert text.strip()
    if isinstance(reply, Error):
        assert reply.message and reply.hint
    # Nothing the user typed may reach SQL as syntax or damage the file.
    assert bot.store.db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
