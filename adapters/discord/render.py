"""Replies as Discord messages: pure functions from ``bot.replies`` to message content and embeds.

Discord rejects a whole message when any part breaks a limit, so every string is clipped to its
limit here, for any paper, however long or hostile. Lengths are counted in UTF-16 code units,
which is never less than the code point count: a clip that satisfies one satisfies both ways
Discord might count.

Paper data (titles, authors, abstracts, keywords) is escaped so it cannot add markdown; the
core's own wording (``Text``, ``Error``) may use `code` spans and is passed through. Mentions
are neutralised in the text itself and, in ``Rendered.kwargs``, by ``AllowedMentions.none()``.
All of that happens after ``bot.text_safety`` has cleaned the text, as for every platform;
which links and authors a card shows is decided there too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.model.ids import id_label
from bot.model.paper import Paper
from bot.replies import (
    Citation,
    Digest,
    DigestEntry,
    Error,
    FileReply,
    Help,
    Leaderboard,
    LinkedPapers,
    PaperCard,
    PaperList,
    Reply,
    ScoredPaper,
    SubscriptionList,
    Text,
)
from bot.text_safety import (
    TLDR_LABEL,
    authors_text,
    clean,
    comments_text,
    display_title,
    organization_name,
    paper_links,
    safe_http_url,
    tldr_text,
)

# Discord's documented limits.
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
AUTHOR_NAME_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000
URL_LIMIT = 2048

# Our own, tighter budgets: a card is for skimming, not reading the paper.
ABSTRACT_LIMIT = 700
TLDR_LIMIT = 400  # the TL;DR line above the abstract, escaped
LIST_TITLE_LIMIT = 180

COLOUR = discord.Colour(0xFF9D00)  # HF yellow-orange: cards stand out from chat
ERROR_COLOUR = discord.Colour(0xD83C3E)

PERIOD_LABELS = {"day": "today", "week": "this week", "month": "this month", "all": "all time"}


# A Share button's custom_id: this prefix and the paper id. The click arrives as a plain
# interaction event with the id in it, so buttons work after a restart (no stored views).
SHARE_PREFIX = "paperboy_share:"
# A vote button's custom_id: this prefix, "up:" or "down:", and the paper id.
VOTE_PREFIX = "paperboy_vote:"
VOTE_BUTTONS = (("up", "👍"), ("down", "👎"))
CUSTOM_ID_LIMIT = 100
BUTTONS_PER_ROW = 5
BUTTON_ROWS = 5


class StaticButtons(discord.ui.View):
    """Buttons sent as plain components: discord.py keeps no view in memory to wait on them
    (clicks are handled from the interaction event, by custom_id)."""

    def __init__(self, buttons: Iterable[tuple[str, str]]) -> None:
        super().__init__(timeout=None)
        for index, (label, custom_id) in enumerate(buttons):
            if index >= BUTTONS_PER_ROW * BUTTON_ROWS:
                break
            self.add_item(
                discord.ui.Button(
                    label=label[:80],
                    custom_id=custom_id,
                    style=discord.ButtonStyle.secondary,
                    row=index // BUTTONS_PER_ROW,
                )
            )

    def is_dispatchable(self) -> bool:
        return False


def vote_buttons(paper: Paper) -> tuple[tuple[str, str], ...]:
    """👍 / 👎 for a linked paper's card; none for an id too long for a custom_id."""
    buttons = tuple(
        (label, f"{VOTE_PREFIX}{direction}:{paper.id}") for direction, label in VOTE_BUTTONS
    )
    return buttons if all(len(c) <= CUSTOM_ID_LIMIT for _, c in buttons) else ()


def _digest_vote_buttons(reply: Digest) -> tuple[tuple[str, str], ...]:
    """👍 N / 👎 N for the first entries: a message holds 25 components, so 12 papers."""
    if not reply.votable:
        return ()
    buttons: list[tuple[str, str]] = []
    for rank, entry in enumerate(reply.entries[:DIGEST_VOTABLE_MAX], 1):
        for label, custom_id in vote_buttons(entry.paper):
            buttons.append((f"{label} {rank}", custom_id))
    return tuple(buttons)


def share_id(paper_id: str) -> str | None:
    custom_id = SHARE_PREFIX + paper_id
    return custom_id if len(custom_id) <= CUSTOM_ID_LIMIT else None


@dataclass(frozen=True)
class Rendered:
    """One Discord message: ``content`` and/or ``embeds``, never neither."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = field(default=())
    buttons: tuple[tuple[str, str], ...] = ()  # (label, custom_id)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Messageable.send`` and the interaction response methods."""
        out: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none()}
        if self.content:
            out["content"] = self.content
        if self.embeds:
            out["embeds"] = list(self.embeds)
        if self.buttons:
            out["view"] = StaticButtons(self.buttons)
        return out


def _share_buttons(papers: Iterable[Paper], numbered: bool) -> tuple[tuple[str, str], ...]:
    buttons = []
    for rank, paper in enumerate(papers, 1):
        custom_id = share_id(paper.id)
        if custom_id is not None:
            buttons.append((f"Share {rank}" if numbered else "Share to channel", custom_id))
    return tuple(buttons)


def render(reply: Reply) -> Rendered:
    if isinstance(reply, Text):
        return Rendered(content=_content(reply.text))
    if isinstance(reply, Error):
        text = f"⚠️ {reply.message}" + (f"\n{reply.hint}" if reply.hint else "")
        return Rendered(content=_content(text))
    if isinstance(reply, PaperCard):
        buttons = _share_buttons([reply.paper], numbered=False) if reply.shareable else ()
        if reply.votable:
            buttons = vote_buttons(reply.paper)
        return Rendered(embeds=(card_embed(reply),), buttons=buttons)
    if isinstance(reply, LinkedPapers):  # as one message; see render_linked for one per card
        return render_linked(reply)[0]
    if isinstance(reply, PaperList):
        papers = [s.paper for s in reply.papers]
        buttons = _share_buttons(papers, numbered=True) if reply.shareable else ()
        return Rendered(embeds=(_paper_list(reply),), buttons=buttons)
    if isinstance(reply, Leaderboard):
        papers = [e.paper for e in reply.entries]
        buttons = _share_buttons(papers, numbered=True) if reply.shareable else ()
        return Rendered(embeds=(_leaderboard(reply),), buttons=buttons)
    if isinstance(reply, Digest):
        return Rendered(embeds=digest_embeds(reply), buttons=_digest_vote_buttons(reply))
    if isinstance(reply, SubscriptionList):
        return Rendered(embeds=(_subscriptions(reply),))
    if isinstance(reply, Help):
        return Rendered(embeds=(_help(reply),))
    if isinstance(reply, Citation):
        return Rendered(content=_citation(reply))
    if isinstance(reply, FileReply):  # the file itself goes as an attachment beside this
        return Rendered(content=_content(reply.message))
    raise TypeError(f"cannot render {type(reply).__name__}")


def render_linked(reply: LinkedPapers) -> list[Rendered]:
    """One message per card, so each card's 👍 / 👎 sit right under it and no message
    nears Discord's 6,000-character embed total; what was left out is said in the last."""
    parts = [render(linked.card) for linked in reply.cards]
    note = reply.note()
    if note and parts:
        last = parts[-1]
        parts[-1] = Rendered(_content(note[0].upper() + note[1:] + "."), last.embeds, last.buttons)
    return parts or [Rendered(content=_content(note or "No papers."))]


# -- text helpers -----------------------------------------------------------------------


def u16len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-16 units, with an ellipsis when anything was cut."""
    if u16len(text) <= limit:
        return text
    kept, used = [], 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > limit - 1:
            break
        kept.append(ch)
        used += width
    body = "".join(kept).rstrip()
    # A cut right after an escaping backslash would escape the ellipsis instead.
    if (len(body) - len(body.rstrip("\\"))) % 2:
        body = body[:-1]
    return body + "…"


def one_line(text: str) -> str:
    return clean(text)


def escape(text: str) -> str:
    """Paper text shown as typed: no markdown, no masked links, no mentions."""
    text = discord.utils.escape_markdown(text, ignore_links=False)
    text = text.replace("[", "\\[").replace("]", "\\]")
    return discord.utils.escape_mentions(text)


def plain(text: str, limit: int, fallback: str = "—") -> str:
    """One escaped line, clipped; Discord rejects empty titles, names and values."""
    return clip(escape(one_line(text)), limit) or fallback


def safe_url(url: str) -> str | None:
    """``url`` if Discord will accept it in an embed and a masked link, else None."""
    url = safe_http_url(url)
    if url is None or u16len(url) > URL_LIMIT:
        return None
    # Parentheses and spaces end a markdown link early.
    return url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")


def link(label: str, url: str) -> str:
    target = safe_url(url)
    return f"[{label}]({target})" if target else label


def _content(text: str) -> str:
    text = clean(text, one_line=False)
    return clip(discord.utils.escape_mentions(text).strip(), CONTENT_LIMIT) or "—"


def join_lines(lines: Iterable[str], limit: int, more: str = "…and {n} more") -> str:
    """As many whole lines as fit in ``limit``, then a note of how many were left out."""
    lines = list(lines)
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        cost = u16len(line) + (1 if out else 0)
        rest = len(lines) - index
        reserve = u16len(more.format(n=rest)) + 1 if rest > 1 else 0
        if used + cost + reserve > limit:
            out.append(more.format(n=rest))
            break
        out.append(line)
        used += cost
    return clip("\n".join(out), limit)


# -- papers -----------------------------------------------------------------------------


def author_line(authors: tuple[str, ...], *, with_total: bool) -> str:
    """The shared author rule, escaped: first names, "+N more", the total on cards."""
    return plain(authors_text(authors, with_total=with_total), FIELD_VALUE_LIMIT)


def card_embed(card: PaperCard) -> discord.Embed:
    """A card; in a channel it carries the live count and who shared it (as text)."""
    if not card.public:
        return paper_embed(card.paper, card.votes)
    embed = paper_embed(card.paper, card.votes, team=card.count_text())
    if card.shared_by:
        embed.set_author(name=clip(f"shared by {one_line(card.shared_by)}", 120))
    return embed


def paper_embed(paper: Paper, votes: int = 0, *, team: str = "") -> discord.Embed:
    """The card: linked title, TL;DR and trimmed abstract, authors, organization, date,
    upvotes, comments, team votes, links (code with its stars), thumbnail."""
    embed = discord.Embed(
        title=plain(display_title(paper), TITLE_LIMIT),
        url=safe_url(paper.abstract_url),
        description=_description(paper),
        colour=COLOUR,
    )
    embed.add_field(name="Authors", value=author_line(paper.authors, with_total=True), inline=False)
    organization = organization_name(paper)
    if organization:
        embed.add_field(name="Organization", value=plain(organization, 100), inline=True)
    if paper.published:
        embed.add_field(name="Published", value=plain(paper.published, 32), inline=True)
    if paper.upvotes is not None:
        embed.add_field(name="HF upvotes", value=f"▲ {paper.upvotes:,}", inline=True)
    if comments_text(paper.comments):  # none yet: no field, as on the other platforms
        embed.add_field(name="Comments", value=f"💬 {paper.comments:,}", inline=True)
    embed.add_field(name="Team votes", value=team or f"{votes:+,}", inline=True)
    embed.add_field(name="Links", value=_links(paper), inline=False)
    thumbnail = safe_url(paper.thumbnail_url)
    if thumbnail:
        embed.set_thumbnail(url=thumbnail)
    footer = " · ".join(one_line(c) for c in paper.categories if one_line(c))
    footer = id_label(paper.id) + (f" · {footer}" if footer else "")
    embed.set_footer(text=clip(footer, 200))
    return embed


def _description(paper: Paper) -> str | None:
    """HF's TL;DR, labelled, above the trimmed abstract."""
    tldr = clip(escape(tldr_text(paper)), TLDR_LIMIT)
    abstract = clip(escape(one_line(paper.abstract)), ABSTRACT_LIMIT)
    parts = ([f"**{TLDR_LABEL}** {tldr}"] if tldr else []) + ([abstract] if abstract else [])
    return "\n\n".join(parts) or None


def card_paper_id(embed: discord.Embed) -> str | None:
    """The paper a card's embed shows: the last word before the footer's first " · "
    ("arXiv 2401.12345 · cs.LG", "DOI 10.1101/2024.01.01.123456 · genomics")."""
    label = (embed.footer.text or "").split(" · ", 1)[0].split()
    return label[-1] if label else None


def _links(paper: Paper) -> str:
    """The shared links, each whole: one that does not fit the field is left out, not cut."""
    value = ""
    for found in paper_links(paper):
        target = safe_url(found.url)
        if target is None:
            continue
        part = f"[{found.label}]({target})" + (f" {found.note}" if found.note else "")
        candidate = f"{value} · {part}" if value else part
        if u16len(candidate) <= FIELD_VALUE_LIMIT:
            value = candidate
    return value or "—"


def _list_entry(rank: int, scored: ScoredPaper) -> str:
    paper = scored.paper
    title = plain(display_title(paper), LIST_TITLE_LIMIT)
    meta = [author_line(paper.authors, with_total=False)] if paper.authors else []
    if paper.published:
        meta.append(plain(paper.published, 32))
    if paper.upvotes is not None:
        meta.append(f"▲ {paper.upvotes:,} on HF")
    if scored.votes:
        meta.append(f"team {scored.votes:+,}")
    meta.append(f"`{plain(paper.id, 40)}`")
    why = f"\n*{plain(scored.why, 300)}*" if scored.why else ""
    return f"**{rank}.** {link(title, paper.abstract_url)}\n{' · '.join(meta)}{why}"


def _paper_list(reply: PaperList) -> discord.Embed:
    entries = [_list_entry(i, s) for i, s in enumerate(reply.papers, 1)]
    embed = discord.Embed(
        title=plain(reply.title, TITLE_LIMIT, "Papers"),
        description=join_lines(entries, DESCRIPTION_LIMIT) if entries else "No papers found.",
        colour=COLOUR,
    )
    footer = "Open one with /papers show <id>"
    if reply.note:
        footer = f"{one_line(reply.note)} · {footer}"
    embed.set_footer(text=clip(discord.utils.escape_mentions(footer), 500))
    return embed


def _leaderboard(reply: Leaderboard) -> discord.Embed:
    label = PERIOD_LABELS.get(reply.period, one_line(reply.period))
    lines = [
        f"**{i}.** {link(plain(display_title(e.paper), LIST_TITLE_LIMIT), e.paper.abstract_url)}"
        f" — **{e.score:+,}** ({e.ups:,} up, {e.downs:,} down)"
        for i, e in enumerate(reply.entries, 1)
    ]
    description = (
        join_lines(lines, DESCRIPTION_LIMIT)
        if lines
        else "No votes yet. React 👍 or 👎 on a posted paper to vote."
    )
    return discord.Embed(
        title=clip(f"Top papers {label}", TITLE_LIMIT), description=description, colour=COLOUR
    )


DIGEST_MAX = 25
DIGEST_VOTABLE_MAX = 12  # two vote buttons each within Discord's 25 components a message
DIGEST_EMBEDS = 3
# Shorter titles first when a long digest would pass the 6,000 characters all of a
# message's embeds may hold together.
DIGEST_TITLE_LIMITS = (LIST_TITLE_LIMIT, 120, 80, 50)


def digest_embeds(reply: Digest) -> tuple[discord.Embed, ...]:
    """The digest as one embed, or a few when its entries pass one description's limit;
    every entry is shown (up to 25), titles shortened until all fit together."""
    entries = reply.entries[:DIGEST_MAX]
    heading = clip(f"{one_line(reply.title)} · {one_line(reply.period)}", TITLE_LIMIT)
    for title_limit in DIGEST_TITLE_LIMITS:
        lines = [_digest_line(reply, rank, e, title_limit) for rank, e in enumerate(entries, 1)]
        parts = _pack(lines, DESCRIPTION_LIMIT)
        size = u16len(heading) + sum(u16len(part) for part in parts)
        if len(parts) <= DIGEST_EMBEDS and size <= EMBED_TOTAL_LIMIT - 100:
            break
    embeds = []
    for index, part in enumerate(parts[:DIGEST_EMBEDS]):
        embed = discord.Embed(description=part or "—", colour=COLOUR)
        if index == 0:
            embed.title = heading
        embeds.append(embed)
    return tuple(embeds)


def _digest_line(reply: Digest, rank: int, entry: DigestEntry, title_limit: int) -> str:
    paper = entry.paper
    title = link(plain(display_title(paper), title_limit), paper.abstract_url)
    if reply.team_top:
        return (
            f"**{rank}.** {title} — **{entry.votes:+,}** ({entry.ups:,} up, {entry.downs:,} down)"
        )
    meta = []
    if paper.upvotes is not None:
        meta.append(f"▲ {paper.upvotes:,} on HF")
    if entry.votes:
        meta.append(f"team {entry.votes:+,}")
    meta.append(f"`{plain(paper.id, 40)}`")
    return f"**{rank}.** {title}\n{' · '.join(meta)}"


def _pack(lines: list[str], limit: int) -> list[str]:
    """Whole lines packed into as few texts of at most ``limit`` as they fit in."""
    parts: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if u16len(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    return [*parts, current] if current else parts


def _subscriptions(reply: SubscriptionList) -> discord.Embed:
    lines = [f"`#{s.id}` {plain(text, 400)}" for s, text in reply.described()]
    embed = discord.Embed(
        title="Subscriptions in this channel",
        description=join_lines(lines, DESCRIPTION_LIMIT)
        if lines
        else "None yet. An admin can add one with `/papers subscribe`.",
        colour=COLOUR,
    )
    if lines:
        embed.set_footer(text="Stop one with /papers unsubscribe id:<number>")
    return embed


def _citation(reply: Citation) -> str:
    """BibTeX in a code block, APA as escaped text: both copy out exactly as cited."""
    if reply.style == "bibtex":
        # No mention escaping inside the block: it would add invisible characters to what is
        # copied, and AllowedMentions.none() already stops any ping. The core escapes
        # backticks in BibTeX, so nothing inside can close the block early.
        fence = "```"
        body = clean(reply.text, one_line=False)
        body = clip(body, CONTENT_LIMIT - len("```bibtex\n\n```"))
        return f"{fence}bibtex\n{body}\n{fence}"
    return clip(escape(one_line(reply.text)), CONTENT_LIMIT) or "—"


def _help(reply: Help) -> discord.Embed:
    def code(text: str) -> str:
        # A backtick inside would end the code span early.
        return "`" + clip(one_line(text).replace("`", "ˋ"), 200) + "`"

    lines = [f"{code(usage)} — {plain(what, 300)}" for usage, what in reply.commands]
    return discord.Embed(
        title="paperboy commands",
        description=join_lines(lines, DESCRIPTION_LIMIT) if lines else "No commands.",
        colour=COLOUR,
    )


def embed_problems(embed: discord.Embed) -> list[str]:
    """Which of Discord's embed limits ``embed`` breaks (empty when it is fine)."""
    data = embed.to_dict()
    problems = []

    def check(name: str, value: str | None, limit: int, required: bool = False) -> None:
        if value is None:
            return
        if u16len(value) > limit:
            problems.append(f"{name} is {u16len(value)} > {limit}")
        if required and not value.strip():
            problems.append(f"{name} is empty")

    check("title", data.get("title"), TITLE_LIMIT)
    check("description", data.get("description"), DESCRIPTION_LIMIT)
    check("url", data.get("url"), URL_LIMIT)
    fields = data.get("fields", [])
    if len(fields) > FIELD_COUNT_LIMIT:
        problems.append(f"{len(fields)} fields > {FIELD_COUNT_LIMIT}")
    total = u16len(data.get("title", "")) + u16len(data.get("description", ""))
    for f in fields:
        check("field name", f["name"], FIELD_NAME_LIMIT, required=True)
        check("field value", f["value"], FIELD_VALUE_LIMIT, required=True)
        total += u16len(f["name"]) + u16len(f["value"])
    footer = data.get("footer", {}).get("text")
    check("footer", footer, FOOTER_LIMIT)
    author = data.get("author", {}).get("name")
    check("author name", author, AUTHOR_NAME_LIMIT)
    total += u16len(footer or "") + u16len(author or "")
    if total > EMBED_TOTAL_LIMIT:
        problems.append(f"embed total {total} > {EMBED_TOTAL_LIMIT}")
    return problems
