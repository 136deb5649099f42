"""Emoji reactions counted as votes: on the bot's posts, and on people's messages that link
exactly one paper (recorded when their card was shown, see ``bot.linked_papers``)."""

from __future__ import annotations

import logging
import re

from bot.config import Settings
from bot.events import ReactionChanged
from storage.store import ReactionApplied, Store

log = logging.getLogger(__name__)

# Skin tones (named as a suffix, "thumbsup::skin-tone-2", or unicode U+1F3FB..U+1F3FF) and
# variation selectors (U+FE0E/U+FE0F) change how an emoji looks, not what it means.
_NAMED_SKIN_TONE = re.compile(r"::skin-tone-\d$")
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f]")


def normalize_emoji(emoji: str) -> str:
    name = emoji.strip().strip(":")
    name = _NAMED_SKIN_TONE.sub("", name)
    return _MODIFIERS.sub("", name).lower()


class VoteRules:
    def __init__(self, up: tuple[str, ...], down: tuple[str, ...]) -> None:
        self.up = {normalize_emoji(e) for e in up}
        self.down = {normalize_emoji(e) for e in down} - self.up

    @classmethod
    def from_settings(cls, settings: Settings) -> VoteRules:
        return cls(settings.up_emoji, settings.down_emoji)

    def value(self, emoji: str) -> int:
        """+1, -1, or 0 for an emoji that is not a vote."""
        name = normalize_emoji(emoji)
        if name in self.up:
            return 1
        if name in self.down:
            return -1
        return 0


def record_reaction(
    store: Store, rules: VoteRules, event: ReactionChanged
) -> ReactionApplied | None:
    """Apply one reaction event; what it did, or None if it was no vote on our post (or a
    delivery seen before)."""
    if event.user.is_bot:
        return None
    value = rules.value(event.emoji)
    if value == 0:
        return None
    target = event.target
    ch = target.channel
    # Kept under the platform's own name: 👍 and 👍🏽 are two reactions there (one vote here),
    # and taking one back must not take the other with it.
    applied = store.react(
        ch.platform,
        ch.workspace,
        ch.channel,
        target.message,
        event.user.id,
        event.emoji,
        value,
        event.added,
        delivery=event.delivery,
    )
    if applied is not None:
        log.debug(
            "vote: %s on %s in %s is now %+d", event.user.id, applied.paper_id, ch, applied.vote
        )
    return applied
