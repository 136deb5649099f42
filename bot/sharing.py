"""Share: someone pressed "Share" on a paper in a private answer; post its card in the channel.

A shared card is a normal post: recorded in the posts table (so its votes count, its counts
stay live, and auto-posting never brings the paper to that channel again), credited to the
sharer by display name as plain text. A paper already in the channel is not posted twice:
the sharer gets a link to the card that is there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.commands.lookups import find_paper
from bot.events import ChannelRef, MessageRef, ShareRequested
from bot.live_cards import live_card
from bot.outbox import Outbox, SendError
from bot.replies import Error, Reply, Text
from bot.text_safety import clean, display_title, shorten
from storage.poster_lease import new_claim_owner
from storage.store import Post

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)

NAME_MAX = 80
# Shares claim their post under their own name, so the poster of this process does not take
# a share that is being sent for one a crash left behind; the lease outlasts a send with all
# of its rate-limit retries.
SHARE_OWNER = new_claim_owner()
SHARE_LEASE_SECONDS = 300.0
# An outbox may say how its platform lets paperboy post (its ``cant_post_hint``).
CANT_POST_HINT = "Invite paperboy to this channel and let it post there, then press Share again."


async def share(bot: Bot, event: ShareRequested) -> Reply:
    ch = event.channel
    outbox = bot.outboxes.get(ch.platform)
    paper_id = bot.sources.paper_id(event.paper_id[:200])
    if paper_id is None or outbox is None:
        return Error(
            "That Share button points to no paper I know.",
            "Look the paper up again, e.g. `/papers show 2401.12345`, and share from there.",
        )
    existing = bot.store.post_in_channel(ch.platform, ch.workspace, ch.channel, paper_id)
    if existing is not None:
        return await _already_here(outbox, existing)
    paper = await find_paper(bot, paper_id)
    if paper is None:
        return Error(f"I couldn't find {paper_id} any more.", "Check the id and try again.")
    post_id = bot.store.claim_post(
        ch.platform,
        ch.workspace,
        ch.channel,
        paper_id,
        owner=SHARE_OWNER,
        lease_until=bot.clock() + SHARE_LEASE_SECONDS,
    )
    if post_id is None:  # posted (or being posted) a moment ago
        existing = bot.store.post_in_channel(ch.platform, ch.workspace, ch.channel, paper_id)
        assert existing is not None
        return await _already_here(outbox, existing)
    name = shorten(clean(event.user.name), NAME_MAX) or "someone"
    bot.store.set_shared_by(post_id, name)
    card = live_card(bot.store, ch.platform, ch.workspace, paper, shared_by=name)
    title = shorten(display_title(paper), 100)
    try:
        ref = await outbox.send(ch, card)
    except SendError as exc:
        bot.store.release_post(post_id)
        log.warning("could not share %s in %s: %s", paper_id, ch, exc)
        hint = getattr(outbox, "cant_post_hint", CANT_POST_HINT)
        return Error(f"I can't post in this channel, so “{title}” was not shared.", hint)
    except Exception:
        # It may have been posted: the poster's next round looks for it and settles it.
        log.exception("sharing %s in %s ended in an unknown state", paper_id, ch)
        bot.store.renew_claims(SHARE_OWNER, [post_id], 0.0)  # free to settle now
        return Error(
            f"I'm not sure “{title}” reached the channel.",
            "I'll check the channel and record it if it did; look there in a minute.",
        )
    bot.store.complete_post(post_id, ref.message)
    return Text(f"Shared “{title}” in this channel.")


async def _already_here(outbox: Outbox, post: Post) -> Reply:
    if post.state != "sent" or not post.message_id:
        return Text("That paper is being posted in this channel right now.")
    ref = MessageRef(ChannelRef(post.platform, post.workspace, post.channel), post.message_id)
    try:
        url = await outbox.link(ref)
    except Exception as exc:
        log.warning("could not get a link to %s: %s", ref, exc)
        return Text("That paper is already in this channel; look for its card above.")
    return Text(f"That paper is already in this channel: {url}")
