"""Property tests: whatever text follows /papers, the core answers once and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory import MemoryAdapter
from bot.commands import REGISTRY
from bot.plain_text import render_text
from bot.replies import Error
from tests.hostile_text import COMMAND_HAZARDS

# Words that stress parsers (see tests/hostile_text.py), mixed with arbitrary text.
NASTY = st.sampled_from(COMMAND_HAZARDS)
WORDS = st.one_of(NASTY, st.text(max_size=12))
ARGUMENTS = st.lists(WORDS, max_size=12).map(" ".join)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from([*REGISTRY.names, "bogus", ""]), rest=ARGUMENTS, admin=st.booleans())
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
