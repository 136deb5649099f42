"""Replies as plain text: the console's rendering, and a fallback any adapter may use.

Everything it returns has been through ``bot.text_safety.clean``: a terminal prints it as
text, whatever a paper title or a user's command held (escape sequences, bidi overrides).
"""

from __future__ import annotations

import textwrap

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
    shorten,
    stars_text,
    tldr_text,
)

ABSTRACT_CHARS = 600
# The same words Slack and Discord use: "Top papers today", not "this day".
PERIOD_NAMES = {"day": "today", "week": "this week", "month": "this month", "all": "all time"}


def one_line(text: str, limit: int) -> str:
    return shorten(clean(text), limit)


def meta_line(paper: Paper, votes: int | None = None, *, with_total: bool = True) -> str:
    """authors · organization · date · HF upvotes · comments · team votes. A list line
    (``with_total`` False) leaves out the author total, the organization and the comments."""
    parts = [authors_text(paper.authors, with_total=with_total) or "unknown authors"]
    if with_total and organization_text(paper):
        parts.append(organization_text(paper))
    if clean(paper.published):
        parts.append(one_line(paper.published, 20))
    if paper.upvotes is not None:
        parts.append(f"▲ {paper.upvotes} HF upvotes")
    if with_total and comments_text(paper.comments):
        parts.append(comments_text(paper.comments))
    if votes:
        parts.append(f"{votes:+d} team vote" + ("" if abs(votes) == 1 else "s"))
    return " · ".join(parts)


def card_text(paper: Paper, votes: int = 0) -> str:
    return _card_lines(paper, meta_line(paper, votes))


def live_count(card: PaperCard) -> str:
    """A channel card's live line: "team +2 (3 up, 1 down) · shared by Ada"."""
    line = f"team {card.count_text()}"
    if card.shared_by:
        line += f" · shared by {one_line(card.shared_by, 100)}"
    return line


def live_card_text(card: PaperCard) -> str:
    if not card.public:
        return card_text(card.paper, card.votes)
    return _card_lines(card.paper, f"{meta_line(card.paper)}\n{live_count(card)}")


def count_update(card: PaperCard) -> str:
    """What the console reprints when a card's counts change:
    "now +2 (3 up, 1 down) · ▲ 120 · 💬 3 · ★ 1.6k" (comments and stars when known)."""
    paper = card.paper
    parts = [f"now {card.count_text()}"]
    if paper.upvotes is not None:
        parts.append(f"▲ {paper.upvotes:,}")
    if comments_text(paper.comments):
        parts.append(f"💬 {paper.comments:,}")
    if stars_text(paper.github_stars) and any(ln.key == "code" for ln in paper_links(paper)):
        parts.append(stars_text(paper.github_stars))
    return " · ".join(parts)


def _card_lines(paper: Paper, meta: str) -> str:
    link_line = "  ".join(
        f"{link.label}: {link.url}" + (f" ({link.note})" if link.note else "")
        for link in paper_links(paper)
    )
    tldr = tldr_text(paper)
    tldr = textwrap.fill(f"{TLDR_LABEL} {tldr}", width=100) if tldr else ""
    abstract = textwrap.fill(one_line(paper.abstract, ABSTRACT_CHARS), width=100)
    title = shorten(display_title(paper), 300)
    return "\n".join(line for line in (title, meta, tldr, abstract, link_line) if line)


def render_text(reply: Reply) -> str:
    """``reply`` as terminal-safe text (the core's wording may echo what a user typed)."""
    return clean(_render(reply), one_line=False)


def _render(reply: Reply) -> str:
    match reply:
        case Text(text=text):
            return text
        case Error(message=message, hint=hint):
            return f"⚠️ {message}" + (f"\n   {hint}" if hint else "")
        case PaperCard():
            return live_card_text(reply)
        case LinkedPapers(cards=cards):
            parts = [f"({n}) {live_card_text(c.card)}" for n, c in enumerate(cards, 1)]
            note = reply.note()
            return "\n\n".join(parts + ([note[0].upper() + note[1:] + "."] if note else []))
        case PaperList(title=title, papers=papers, note=note):
            lines = [title]
            for rank, item in enumerate(papers, 1):
                title = shorten(display_title(item.paper), 200)
                lines.append(f"{rank}. {title} ({one_line(item.paper.id, 60)})")
                lines.append(f"   {meta_line(item.paper, item.votes, with_total=False)}")
                if item.why:
                    lines.append(f"   {shorten(item.why, 300)}")
            if note:
                lines.append(note)
            return "\n".join(lines)
        case Leaderboard(period=period, entries=entries):
            heading = PERIOD_NAMES.get(period, period)
            if not entries:
                return f"No votes {heading} yet. React 👍 or 👎 on a posted paper to vote."
            lines = [f"Top papers {heading}"]
            for rank, entry in enumerate(entries, 1):
                lines.append(
                    f"{rank}. {entry.score:+d}  {shorten(display_title(entry.paper), 200)} "
                    f"({one_line(entry.paper.id, 60)}; {entry.ups} up, {entry.downs} down)"
                )
            return "\n".join(lines)
        case Digest(title=title, period=period, entries=entries):
            lines = [f"{title} · {period}"]
            for rank, entry in enumerate(entries, 1):
                name = (
                    f"{shorten(display_title(entry.paper), 200)} ({one_line(entry.paper.id, 60)})"
                )
                if reply.team_top:
                    lines.append(
                        f"{rank}. {entry.votes:+d}  {name}; {entry.ups} up, {entry.downs} down"
                    )
                else:
                    lines.append(f"{rank}. {name}")
                    lines.append(f"   {meta_line(entry.paper, entry.votes, with_total=False)}")
            return "\n".join(lines)
        case SubscriptionList(subscriptions=subs):
            if not subs:
                return "This channel has no subscriptions. Try `/papers subscribe hf`."
            return "Subscriptions of this channel:\n" + "\n".join(
                f"#{s.id}  {text}" for s, text in reply.described()
            )
        case Citation(text=text):
            return clean(text, one_line=False)
        case FileReply(message=message, name=name):
            return clean(f"{message} ({name})")
        case Help(commands=commands):
            width = max((len(usage) for usage, _ in commands), default=0)
            return "Paperboy commands:\n" + "\n".join(
                f"  {usage.ljust(width)}  {summary}" for usage, summary in commands
            )
    raise TypeError(f"not a reply: {reply!r}")
