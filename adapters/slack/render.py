"""Core replies as Slack messages: Block Kit blocks plus a short plain-text fallback.

Pure functions, no I/O. Every output stays inside Slack's limits whatever the paper holds
(a 300-character title, thousands of authors, a 10,000-character abstract, markup
characters): Slack rejects a whole message with ``invalid_blocks`` when one field is too
long, and a lost auto-post is worse than a trimmed one.

Lengths are counted in UTF-16 code units, which is never fewer than what Slack counts, so an
emoji-heavy title cannot slip past a limit.

Text from outside is cleaned by ``bot.text_safety`` (the same for every platform) and only
then escaped for mrkdwn here; which links and authors a card shows is decided there too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from bot.model.paper import Paper
from bot.replies import (
    Citation,
    Digest,
    Error,
    FileReply,
    Help,
    Leaderboard,
    LinkedPapers,
    PaperCard,
    PaperList,
    Reply,
    SubscriptionList,
    Text,
)
from bot.text_safety import (
    TLDR_LABEL,
    authors_text,
    clean,
    comments_text,
    display_title,
    organization_text,
    paper_links,
    safe_http_url,
    tldr_text,
)

# Slack's documented limits, and our own tighter choices where a shorter message reads better.
HEADER_MAX = 150
SECTION_MAX = 3000
CONTEXT_MAX = 3000
MAX_BLOCKS = 50
BUTTON_TEXT_MAX = 75
URL_MAX = 3000
IMAGE_URL_MAX = 3000
ALT_TEXT_MAX = 2000
FALLBACK_MAX = 300  # the notification text; Slack allows 40,000 but nobody reads that far
ABSTRACT_MAX = 600
TITLE_MAX = 250  # a list entry's title, linked
LIST_MAX = 20  # entries in a list or leaderboard; the core sends 5 to 10
DIGEST_MAX = 25  # entries in a digest: the most a subscription's top= allows
DIGEST_VOTABLE_MAX = 24  # entries with a row of vote buttons within Slack's 50 blocks
TEXT_SECTIONS_MAX = 10

# Message metadata on every auto-posted card: how ``find_card`` recognises its own posts.
CARD_EVENT_TYPE = "paperboy_paper"
# A Share button's action_id starts with this (one per paper of a list, so each is unique
# in its message); its ``value`` is the paper id, so a click needs no memory of the answer.
SHARE_ACTION = "paperboy_share"
# The vote buttons of a linked paper's card: ``paperboy_vote_up`` / ``paperboy_vote_down``,
# the paper id in ``value``, so a press needs no memory of the card either.
VOTE_ACTION = "paperboy_vote"
VOTE_BUTTONS = (("up", "👍"), ("down", "👎"))

ELLIPSIS = "…"
EMPTY = "(empty)"
PERIOD_NAMES = {"day": "today", "week": "this week", "month": "this month", "all": "all time"}

Block = dict
Message = dict  # {"text": str, "blocks": list[Block]}

_PARTIAL_ENTITY = re.compile(r"&(?:a|am|amp|l|lt|g|gt)?$")


# -- text helpers ---------------------------------------------------------------------------


def units(text: str) -> int:
    """Length as Slack may count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Slack's three mrkdwn escapes; also what stops ``<!channel>`` in a title from pinging."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` units, with an ellipsis when something was cut."""
    return _clip_pieces(text, limit, lambda ch: ch)


def mrkdwn(text: str, limit: int) -> str:
    """``text`` escaped for mrkdwn and cut to ``limit`` units without splitting an entity."""
    return _clip_pieces(text, limit, escape)


def _clip_pieces(text: str, limit: int, transform) -> str:
    whole = transform(text)
    if units(whole) <= limit:
        return whole
    out: list[str] = []
    used = 0
    for ch in text:
        piece = transform(ch)
        size = units(piece)
        if used + size > limit - 1:  # keep one unit for the ellipsis
            break
        out.append(piece)
        used += size
    # Cutting already-escaped text must not leave half an entity such as "&am".
    return _PARTIAL_ENTITY.sub("", "".join(out)).rstrip() + ELLIPSIS


def safe_url(url: str) -> str | None:
    """An http(s) URL that cannot break out of ``<url|label>``, or None if there is none."""
    url = safe_http_url(url)
    if url is None:
        return None
    # Quote what mrkdwn or Block Kit would misread; keep URL syntax and existing %-escapes.
    url = quote(url, safe=":/?#[]@!$&'()*+,;=%~")
    return url if len(url) <= URL_MAX else None


def link(url: str, label: str, label_limit: int) -> str:
    """A mrkdwn link, or just the escaped label when the URL is unusable."""
    target = safe_url(url)
    text = mrkdwn(label, label_limit)
    return f"<{target}|{text}>" if target else text


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if abs(n) == 1 else "s")


# -- block builders -------------------------------------------------------------------------


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": clip(clean(text), HEADER_MAX) or "-", "emoji": True},
    }


def section(text: str) -> Block:
    """A mrkdwn section of already-escaped text (Slack refuses an empty one)."""
    text = clip(text, SECTION_MAX) if text.strip() else EMPTY
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> Block:
    text = clip(text, CONTEXT_MAX) if text.strip() else EMPTY
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def button(label: str, url: str, action_id: str) -> Block | None:
    target = safe_url(url)
    if target is None:
        return None
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(label, BUTTON_TEXT_MAX), "emoji": True},
        "url": target,
        "action_id": action_id,
    }


def sections(lines: Iterable[str], max_blocks: int) -> list[Block]:
    """Pack already-escaped lines into as few sections as fit, at most ``max_blocks``."""
    blocks: list[Block] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = clip(line, SECTION_MAX)
        extra = units(line) + (1 if current else 0)
        if current and size + extra > SECTION_MAX:
            blocks.append(section("\n".join(current)))
            current, size = [], 0
            extra = units(line)
        current.append(line)
        size += extra
    if current:
        blocks.append(section("\n".join(current)))
    if len(blocks) > max_blocks:
        blocks = [*blocks[: max_blocks - 1], context(f"{ELLIPSIS} (cut short)")]
    return blocks


def message(fallback: str, blocks: list[Block], *, escaped: bool = False) -> Message:
    """The message; ``fallback`` is what notifications and old clients show."""
    text = clip(fallback, FALLBACK_MAX) if escaped else mrkdwn(clean(fallback), FALLBACK_MAX)
    return {"text": text.strip() or "paperboy", "blocks": blocks[:MAX_BLOCKS]}


# -- papers ---------------------------------------------------------------------------------


def title_of(paper: Paper) -> str:
    return display_title(paper)


def meta_line(paper: Paper, votes: int | None, *, with_total: bool = True) -> str:
    """authors · organization · date · HF upvotes · comments · team votes, escaped for mrkdwn.

    A list entry (``with_total`` False) leaves out the author total, organization and comments.
    """
    authors = authors_text(paper.authors, with_total=with_total)
    parts = [escape(authors)] if authors else []
    if with_total and organization_text(paper):
        parts.append(escape(organization_text(paper)))
    day = clean(paper.published or paper.hf_date)
    if day:
        parts.append(escape(clip(day, 20)))
    if paper.upvotes is not None:
        parts.append(f"▲ {plural(paper.upvotes, 'HF upvote')}")
    if with_total and comments_text(paper.comments):
        parts.append(comments_text(paper.comments))
    if votes:
        parts.append(f"{votes:+,} team vote" + ("" if abs(votes) == 1 else "s"))
    return " · ".join(parts)


def live_count(card: PaperCard) -> str:
    """A channel card's live line: the team's count, and who shared it (as text)."""
    line = f"*team {card.count_text()}*"
    if card.shared_by:
        line += f" · shared by {mrkdwn(clean(card.shared_by), 100)}"
    return line


def share_button(paper: Paper, action_id: str = SHARE_ACTION, label: str = "Share") -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(label, BUTTON_TEXT_MAX), "emoji": True},
        "action_id": action_id,
        "value": paper.id[:2000],
    }


def vote_buttons(paper: Paper, rank: int | None = None) -> list[Block]:
    """👍 / 👎; ``rank`` tells apart the buttons of several papers in one message (Slack
    wants each action_id once per message)."""
    suffix = "" if rank is None else f"_{rank}"
    return [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "action_id": f"{VOTE_ACTION}_{direction}{suffix}",
            "value": paper.id[:2000],
        }
        for direction, label in VOTE_BUTTONS
    ]


def paper_buttons(paper: Paper) -> list[Block]:
    """One URL button per link of the shared links rule; a URL Slack can't take is left out.
    The code button carries the repository's stars: "Code ★ 1.6k"."""
    buttons = [
        button(f"{ln.label} {ln.note}".strip(), ln.url, f"paperboy_link_{ln.key}")
        for ln in paper_links(paper)
    ]
    return [b for b in buttons if b is not None]


def thumbnail(paper: Paper) -> Block | None:
    """The paper's thumbnail as a section's image accessory, or None when it has no usable one."""
    url = safe_url(paper.thumbnail_url)
    if url is None or len(url) > IMAGE_URL_MAX:
        return None
    alt = clip(f"Thumbnail of {title_of(paper)}", ALT_TEXT_MAX)
    return {"type": "image", "image_url": url, "alt_text": alt}


def card_metadata(paper_id: str) -> dict:
    return {"event_type": CARD_EVENT_TYPE, "event_payload": {"paper_id": paper_id}}


def render_card(card: PaperCard) -> Message:
    paper = card.paper
    if card.public:  # a channel card: the live count, edited as it changes
        blocks = [
            header(title_of(paper)),
            context(meta_line(paper, None)),
            context(live_count(card)),
        ]
    else:
        blocks = [header(title_of(paper)), context(meta_line(paper, card.votes or None))]
    body = []
    tldr = tldr_text(paper)
    if tldr:  # HF's AI summary, one short paragraph above the abstract
        body.append(section(f"*{TLDR_LABEL}* {mrkdwn(tldr, ABSTRACT_MAX)}"))
    abstract = clean(paper.abstract)
    if abstract:
        body.append(section(mrkdwn(abstract, ABSTRACT_MAX)))
    image = thumbnail(paper)
    if body and image:  # beside the abstract, as the HF page shows it
        body[-1]["accessory"] = image
    blocks += body
    buttons = paper_buttons(paper)
    if card.votable:
        buttons = vote_buttons(paper) + buttons
    if card.shareable:
        buttons.append(share_button(paper, label="Share to channel"))
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    # The link goes first in the budget: a long title must not push it out of the fallback.
    url = safe_url(paper.abstract_url) or ""
    fallback = f"{mrkdwn(title_of(paper), FALLBACK_MAX - units(url) - 1)} {url}"
    return message(fallback, blocks, escaped=True)


def render_unfurls(reply: LinkedPapers) -> dict[str, dict]:
    """``chat.unfurl``'s ``unfurls``: each linked URL to its paper's card; what the cards
    leave out (more links, unknown ids) is said under the last one."""
    unfurls = {}
    note = reply.note()
    for index, linked in enumerate(reply.cards):
        blocks = render_card(linked.card)["blocks"]
        if note and index == len(reply.cards) - 1:
            blocks = [*blocks[: MAX_BLOCKS - 1], context(mrkdwn(clean(note), CONTEXT_MAX))]
        unfurls[linked.url] = {"blocks": blocks}
    return unfurls


def render_linked(reply: LinkedPapers) -> Message:
    """The cards as one message, where an unfurl is not possible (a response_url)."""
    blocks = []
    for index, unfurl in enumerate(render_unfurls(reply).values(), start=1):
        for block in unfurl["blocks"]:
            if block["type"] == "actions":  # action ids must stay unique in one message
                elements = [
                    {**e, "action_id": f"{e['action_id']}_{index}"} for e in block["elements"]
                ]
                block = {**block, "elements": elements}
            blocks.append(block)
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], context(f"{ELLIPSIS} (cut short)")]
    titles = ", ".join(title_of(c.card.paper) for c in reply.cards)
    return message(titles or "papers", blocks)


def list_entry(rank: int, paper: Paper, detail: str) -> str:
    title = link(paper.abstract_url, title_of(paper), TITLE_MAX)
    return f"*{rank}.* *{title}*\n{detail}"


def entry_block(rank: int, paper: Paper, detail: str, shareable: bool) -> Block:
    """One list entry; in a private answer it carries its own Share button."""
    block = section(list_entry(rank, paper, detail))
    if shareable:
        block["accessory"] = share_button(paper, f"{SHARE_ACTION}_{rank}")
    return block


def render_list(reply: PaperList) -> Message:
    blocks = [header(reply.title or "Papers")]
    shown = reply.papers[:LIST_MAX]
    for rank, scored in enumerate(shown, start=1):
        # A vote invitation on every line of a list would be noise; cards carry it.
        detail = meta_line(scored.paper, scored.votes or None, with_total=False)
        if scored.why:
            detail += f"\n_{escape(clip(clean(scored.why, one_line=True), 300))}_"
        blocks.append(entry_block(rank, scored.paper, detail, reply.shareable))
    if not shown:
        blocks.append(section("No papers."))
    extra = len(reply.papers) - len(shown)
    notes = [escape(clean(reply.note))] if reply.note else []
    if extra > 0:
        notes.append(f"{ELLIPSIS} and {extra:,} more")
    if notes:
        blocks.append(context(" · ".join(notes)))
    return message(f"{clean(reply.title)}: {plural(len(reply.papers), 'paper')}", blocks)


def render_leaderboard(reply: Leaderboard) -> Message:
    period = escape(PERIOD_NAMES.get(reply.period, clip(clean(reply.period), 20)))
    blocks = [header(f"Top papers, {period}")]
    shown = reply.entries[:LIST_MAX]
    for rank, entry in enumerate(shown, start=1):
        detail = f"{entry.score:+,} ({entry.ups:,} :+1: · {entry.downs:,} :-1:)"
        blocks.append(entry_block(rank, entry.paper, detail, reply.shareable))
    if not shown:
        blocks.append(section(f"No votes {period} yet. React :+1: on a paper post to vote."))
    return message(f"Top papers, {period}", blocks)


def render_digest(reply: Digest) -> Message:
    """Header, the period, then one section per paper: 27 blocks at most (of 50)."""
    title = clean(reply.title)
    period = clean(reply.period)
    shown = reply.entries[:DIGEST_MAX]
    blocks = [header(title), context(f"{escape(period)} · {plural(len(shown), 'paper')}")]
    for rank, entry in enumerate(shown, start=1):
        if reply.team_top:
            detail = f"{entry.votes:+,} ({entry.ups:,} :+1: · {entry.downs:,} :-1:)"
        else:
            detail = meta_line(entry.paper, entry.votes or None, with_total=False)
        blocks.append(section(list_entry(rank, entry.paper, detail)))
        if reply.votable and rank <= DIGEST_VOTABLE_MAX:
            blocks.append({"type": "actions", "elements": vote_buttons(entry.paper, rank)})
    if len(blocks) > MAX_BLOCKS:  # 25 entries with buttons: the period line gives way
        del blocks[1]
    return message(f"{title} · {period}: {plural(len(shown), 'paper')}", blocks)


# -- everything else ------------------------------------------------------------------------


def render_text(reply: Text) -> Message:
    lines = [escape(line) for line in clean(reply.text, one_line=False).splitlines()]
    return message(reply.text, sections(lines or [""], TEXT_SECTIONS_MAX))


def render_error(reply: Error) -> Message:
    blocks = [section(f":warning: {mrkdwn(clean(reply.message), SECTION_MAX - 12)}")]
    if reply.hint:
        blocks.append(context(mrkdwn(clean(reply.hint), CONTEXT_MAX)))
    return message(f"{reply.message} {reply.hint}", blocks)


def render_subscriptions(reply: SubscriptionList) -> Message:
    if not reply.subscriptions:
        text = (
            "This channel has no subscriptions. An admin can add one with "
            "`/papers subscribe hf` or `/papers subscribe arxiv cs.LG`."
        )
        return message(text, [section(text)])
    lines = ["*Subscriptions in this channel*"] + [
        f"`#{sub.id}` {escape(clean(text))}" for sub, text in reply.described()
    ]
    return message(
        f"{plural(len(reply.subscriptions), 'subscription')} in this channel",
        sections(lines, MAX_BLOCKS),
    )


def render_citation(reply: Citation) -> Message:
    """BibTeX in a code block, to copy as is; APA as a line of text."""
    if reply.style == "bibtex":
        # The core escapes backticks in BibTeX, so nothing inside can close the block early.
        body = "```" + mrkdwn(clean(reply.text, one_line=False), SECTION_MAX - 6) + "```"
    else:
        body = mrkdwn(clean(reply.text), SECTION_MAX)
    label = "BibTeX" if reply.style == "bibtex" else "APA"
    return message(f"{label} citation of {reply.paper_id}", [section(body)])


def render_file(reply: FileReply) -> Message:
    """What is said about a file where the file itself cannot go (it is sent on its own)."""
    return message(reply.message, [section(mrkdwn(clean(reply.message), SECTION_MAX))])


def render_help(reply: Help) -> Message:
    lines = ["*paperboy* brings new papers here; react :+1: / :-1: on a post to vote."]
    for usage, summary in reply.commands:
        usage = clean(usage)
        usage = usage if usage.startswith("/") else f"/papers {usage}"
        lines.append(f"`{escape(usage)}`  {escape(clean(summary))}")
    return message("paperboy commands", sections(lines, MAX_BLOCKS))


_RENDERERS = {
    Text: render_text,
    Error: render_error,
    PaperCard: render_card,
    LinkedPapers: render_linked,
    PaperList: render_list,
    Leaderboard: render_leaderboard,
    Digest: render_digest,
    SubscriptionList: render_subscriptions,
    Citation: render_citation,
    FileReply: render_file,
    Help: render_help,
}


def render(reply: Reply) -> Message:
    """``{"text": fallback, "blocks": [...]}`` for any core reply."""
    try:
        renderer = _RENDERERS[type(reply)]
    except KeyError:
        raise TypeError(f"no Slack rendering for {type(reply).__name__}") from None
    return renderer(reply)
