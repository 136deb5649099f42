"""Replies as plain text: the console's rendering, and a fallback any adapter may use."""

from __future__ import annotations

import textwrap

from bot.papers import Paper
from bot.replies import (
    Error,
    Help,
    Leaderboard,
    PaperCard,
    PaperList,
    Reply,
    SubscriptionList,
    Text,
)

ABSTRACT_CHARS = 600
MAX_AUTHORS = 8
# The same words Slack and Discord use: "Top papers today", not "this day".
PERIOD_NAMES = {"day": "today", "week": "this week", "month": "this month", "all": "all time"}


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def authors_line(paper: Paper, most: int = MAX_AUTHORS) -> str:
    names = list(paper.authors[:most])
    if len(paper.authors) > most:
        names.append(f"+{len(paper.authors) - most} more")
    return ", ".join(names) or "unknown authors"


def meta_line(paper: Paper, votes: int | None = None) -> str:
    parts = [authors_line(paper)]
    if paper.published:
        parts.append(paper.published)
    if paper.upvotes is not None:
        parts.append(f"▲ {paper.upvotes} HF upvotes")
    if votes:
        parts.append(f"{votes:+d} team vote" + ("" if abs(votes) == 1 else "s"))
    return " · ".join(parts)


def links(paper: Paper) -> list[tuple[str, str]]:
    found = [("arXiv", paper.arxiv_url), ("PDF", paper.pdf_url), ("HF", paper.hf_url)]
    if paper.code_url:
        found.append(("Code", paper.code_url))
    if paper.project_url:
        found.append(("Project", paper.project_url))
    return found


def card_text(paper: Paper, votes: int = 0) -> str:
    link_line = "  ".join(f"{name}: {url}" for name, url in links(paper))
    abstract = textwrap.fill(shorten(paper.abstract, ABSTRACT_CHARS), width=100)
    return "\n".join(
        line
        for line in (shorten(paper.title, 300), meta_line(paper, votes), abstract, link_line)
        if line
    )


def render_text(reply: Reply) -> str:
    match reply:
        case Text(text=text):
            return text
        case Error(message=message, hint=hint):
            return f"⚠️ {message}" + (f"\n   {hint}" if hint else "")
        case PaperCard(paper=paper, votes=votes):
            return card_text(paper, votes)
        case PaperList(title=title, papers=papers, note=note):
            lines = [title]
            for rank, item in enumerate(papers, 1):
                lines.append(f"{rank}. {shorten(item.paper.title, 200)} ({item.paper.id})")
                lines.append(f"   {meta_line(item.paper, item.votes)}")
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
                    f"{rank}. {entry.score:+d}  {shorten(entry.paper.title, 200)} "
                    f"({entry.paper.id}; {entry.ups} up, {entry.downs} down)"
                )
            return "\n".join(lines)
        case SubscriptionList(subscriptions=subs):
            if not subs:
                return "This channel has no subscriptions. Try `/papers subscribe hf`."
            return "Subscriptions of this channel:\n" + "\n".join(
                f"#{s.id}  {s.describe()}" for s in subs
            )
        case Help(commands=commands):
            width = max((len(usage) for usage, _ in commands), default=0)
            return "Paperboy commands:\n" + "\n".join(
                f"  {usage.ljust(width)}  {summary}" for usage, summary in commands
            )
    raise TypeError(f"not a reply: {reply!r}")
