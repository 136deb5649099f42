"""Cards for papers people link in a channel: Slack unfurls and Discord's "Paper card" menu.

Each card carries 👍 / 👎 buttons (see ``bot.vote_buttons``). A message that links exactly
one paper becomes votable: reactions on it count as votes on that paper, as on paperboy's
own cards. Nothing here posts on its own; the adapter decides where the cards go (Slack:
``chat.unfurl`` on the person's message; Discord: the answer to the context menu).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.commands.lookups import find_paper
from bot.commands.spec import CommandError
from bot.events import MessageRef, PaperLinksPosted
from bot.live_cards import live_cards
from bot.model.paper import Paper
from bot.replies import Error, LinkedCard, LinkedPapers, Reply
from storage.store import Post

if TYPE_CHECKING:
    from bot.core import Bot

log = logging.getLogger(__name__)

MAX_CARDS = 5  # cards for one message; more links are counted, not shown
MAX_LINKS_READ = 50  # links looked at in one message; the rest cannot be papers we'd show
MAX_TEXT = 10_000  # characters of a message searched for links
NO_LINKS_HINT = (
    "paperboy makes cards for links to arxiv.org, huggingface.co/papers, alphaxiv.org, "
    "biorxiv.org and medrxiv.org."
)

# A link as people paste it: http(s), up to whitespace or what ends a link in chat markup
# (Slack's <url|label>, Discord's <url> and [label](url)).
_LINK = re.compile(r"https?://[^\s<>|()\[\]\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?*_~"


def links_in(text: str) -> tuple[str, ...]:
    """The http(s) links in a message's text, in order, trailing punctuation left out."""
    found = (m.group(0).rstrip(_TRAILING) for m in _LINK.finditer(text[:MAX_TEXT]))
    return tuple(link for link in found if link)[:MAX_LINKS_READ]


def paper_links(bot: Bot, links: tuple[str, ...]) -> dict[str, str]:
    """Paper id -> the first link naming it, in the order the message names them."""
    found: dict[str, str] = {}
    for link in links[:MAX_LINKS_READ]:
        paper_id = bot.sources.paper_id(link[:300])
        if paper_id is not None and paper_id not in found:
            found[paper_id] = link
    return found


async def answer(bot: Bot, event: PaperLinksPosted) -> tuple[Reply, Post | None]:
    """The cards of the papers ``event`` links (the first ``MAX_CARDS``), or why there are
    none; and the message as a votable post when it links exactly one paper that was found
    (its reactions are read once the answer is out: ``Reconciler.read_one``)."""
    linked = paper_links(bot, event.links)
    if not linked:
        return Error("No paper links in that message.", NO_LINKS_HINT), None
    shown = list(linked.items())[:MAX_CARDS]
    looked_up = await asyncio.gather(*(_look_up(bot, pid) for pid, _ in shown))
    ch = event.channel
    found = [paper for paper, _ in looked_up if paper is not None]
    live = live_cards(bot.store, ch.platform, ch.workspace, found)
    cards, not_found, unreachable = [], [], []
    for (paper_id, link), (paper, reachable) in zip(shown, looked_up, strict=True):
        if paper is None:
            (not_found if reachable else unreachable).append(paper_id)
            continue
        cards.append(LinkedCard(link, replace(live[paper.id], votable=True)))
    if not_found or unreachable:
        log.info("linked papers in %s: not found %s, unreachable %s", ch, not_found, unreachable)
    if not cards:
        names = ", ".join(not_found + unreachable)
        if unreachable and not not_found:
            error = Error(f"I can't look up {names} right now.", "Try again in a few minutes.")
        else:
            error = Error(f"I couldn't find {names}.", "Brand-new papers can take a day to appear.")
        return error, None
    votable = None
    if len(linked) == 1 and event.message is not None and not event.user.is_bot:
        votable = _make_votable(bot, event.message, cards[0].card.paper)
    reply = LinkedPapers(
        tuple(cards),
        left_out=len(linked) - len(shown),
        not_found=tuple(not_found),
        unreachable=tuple(unreachable),
    )
    return reply, votable


async def _look_up(bot: Bot, paper_id: str) -> tuple[Paper | None, bool]:
    """(the paper or None, whether its sources could be asked)."""
    try:
        return await find_paper(bot, paper_id), True
    except CommandError:  # no source that has such papers could be reached
        return None, False


def _make_votable(bot: Bot, message: MessageRef, paper: Paper) -> Post:
    ch = message.channel
    return bot.store.add_votable_message(
        ch.platform, ch.workspace, ch.channel, message.message, paper.id
    )
