"""Re-reading reactions at start: the ledger ends as the platform shows it (the core's part)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from adapters.memory import MemoryAdapter
from bot.core import Bot
from bot.reconcile import DAY
from tests.conftest import FakeClock, close_bot, make_bot
from tests.test_votes import post, score


def ledger(chat: MemoryAdapter) -> set[tuple[str, str, str]]:
    rows = chat.bot.store.db.execute("SELECT message_id, user_id, emoji FROM reactions")
    return {tuple(r) for r in rows.fetchall()}


async def test_reactions_made_unseen_are_added_and_taken_back_ones_removed(chat) -> None:
    ref = await post(chat, "2605.00001")
    await chat.react(ref, "+1", user="kept")
    await chat.react(ref, "-1", user="left")
    # While the bot was not listening: one vote taken back, two new ones, one noise emoji.
    await chat.react(ref, "-1", user="left", added=False, deliver=False)
    await chat.react(ref, "fire", user="new", deliver=False)
    await chat.react(ref, "👎", user="grumpy", deliver=False)
    await chat.react(ref, "tada", user="party", deliver=False)
    assert score(chat, "2605.00001") == 0

    report = await chat.bot.reconciler.reconcile("memory")

    assert (report.posts, report.added, report.removed) == (1, 2, 1)
    assert ledger(chat) == {
        (ref.message, "kept", "+1"),
        (ref.message, "new", "fire"),
        (ref.message, "grumpy", "👎"),
    }
    assert score(chat, "2605.00001") == 1
    assert chat.bot.store.vote_of("memory", "W1", "2605.00001", "left") == 0
    # A second pass finds nothing to change.
    again = await chat.bot.reconciler.reconcile("memory")
    assert (again.added, again.removed) == (0, 0)


async def test_a_cut_short_emoji_keeps_the_ledgers_entries_for_it(chat) -> None:
    ref = await post(chat, "2605.00001")
    for user in ("a", "b", "c"):
        await chat.react(ref, "+1", user=user)
    await chat.react(ref, "-1", user="d")
    # The platform lists only some of the +1 users, and shows -1 gone.
    chat.reactions_on[ref] = {("a", "+1"), ("e", "+1")}
    chat.partial[ref] = {"+1"}
    await chat.bot.reconciler.reconcile("memory")
    assert {u for _, u, _ in ledger(chat)} == {"a", "b", "c", "e"}
    assert score(chat, "2605.00001") == 4


async def test_unreadable_and_old_posts_are_left_alone(chat, clock: FakeClock) -> None:
    old = await post(chat, "2605.00001")
    clock.advance(8 * DAY)  # past the default RECONCILE_DAYS=7
    gone = await post(chat, "2605.00002")
    await chat.react(old, "+1", user="a")
    await chat.react(gone, "+1", user="a")
    chat.reactions_on.clear()
    chat.unreadable.add(gone)
    report = await chat.bot.reconciler.reconcile("memory")
    assert (report.posts, report.unreadable) == (0, 1)
    assert chat.reaction_reads == [gone]
    assert len(ledger(chat)) == 2


async def test_a_live_event_during_the_read_wins_over_the_platforms_answer(chat) -> None:
    ref = await post(chat, "2605.00001")
    asked = asyncio.Event()
    answer = asyncio.Event()
    read = chat.reactions

    async def slow_read(r):  # the platform answers from before the live events below
        shown = await read(r)
        asked.set()
        await answer.wait()
        return shown

    chat.reactions = slow_read  # type: ignore[method-assign]
    await chat.react(ref, "-1", user="b")
    running = asyncio.create_task(chat.bot.reconciler.reconcile("memory"))
    await asked.wait()
    await chat.react(ref, "+1", user="a")  # added after the platform answered
    await chat.react(ref, "-1", user="b", added=False)  # taken back after it answered
    answer.set()
    await running
    assert ledger(chat) == {(ref.message, "a", "+1")}
    assert score(chat, "2605.00001") == 1


async def test_start_rereads_in_the_background_and_zero_days_turns_it_off(
    settings, clock: FakeClock
) -> None:
    async def restart(days: float) -> tuple[Bot, MemoryAdapter]:
        bot = make_bot(replace(settings, reconcile_days=days), clock)
        return bot, MemoryAdapter(bot)

    bot, chat = await restart(7)
    ref = await post(chat, "2605.00001")
    await close_bot(bot)

    bot, chat = await restart(0)
    chat.reactions_on[ref] = {("a", "+1")}
    await bot.start()
    await bot.reconciler.wait_idle(5)
    assert chat.reaction_reads == [] and score(chat, "2605.00001") == 0
    await close_bot(bot)

    bot, chat = await restart(7)
    chat.reactions_on[ref] = {("a", "+1")}
    await bot.start()
    await bot.reconciler.wait_idle(5)
    assert score(chat, "2605.00001") == 1
    await close_bot(bot)


async def test_votes_a_re_read_changes_reach_the_live_card(settings, clock) -> None:
    bot = make_bot(replace(settings, card_edit_interval=0.05), clock)
    chat = MemoryAdapter(bot)
    ref = await post(chat, "2605.00001")
    await chat.react(ref, "+1", user="a", deliver=False)  # cast while paperboy was away
    await chat.react(ref, "+1", user="b", deliver=False)
    await bot.reconciler.reconcile("memory")
    await chat.wait_until(lambda: getattr(chat.shown(ref), "votes", None) == 2)
    await close_bot(bot)
