"""What every renderer does to text it did not write, so Slack, Discord and the console agree.

Paper data comes from outside (Hugging Face, arXiv, a snapshot file) and command text from
users; either may hold characters that hide, reorder or restyle what a reader sees. Every
renderer passes such text through :func:`clean` first and only then adds its own platform
escaping (Slack's ``&<>``, Discord's markdown and mentions). The same holds for the other
decisions a card makes: which links it shows (:func:`paper_links`), how it names the authors
(:func:`authors_text`) and how it words what Hugging Face adds (:func:`tldr_text`,
:func:`organization_text`, :func:`comments_text`, :func:`stars_text`).

What :func:`clean` removes, and why:

- **Terminal escape sequences**: CSI (``ESC [ ... final``), the string
  sequences OSC / DCS / SOS / PM / APC up to their BEL or ST terminator (OSC 8 makes
  hyperlinks, OSC 0 sets the window title), the charset escapes (``ESC ( B``, as ``tput
  sgr0`` writes), ``ESC 7``/``8``/``=``/``>``, ``ESC c`` (a full reset), and any other ESC
  alone. A terminal would act on them instead of showing them.
- **Control characters**: all of C0, DEL and C1 (``U+0085`` included) except tab and the
  line breaks, which count as whitespace.
- **Bidi controls**: embeddings and overrides ``U+202A..U+202E``, isolates
  ``U+2066..U+2069``, the marks ``U+200E``, ``U+200F``, ``U+061C``. An override makes a
  title display in a different order than it reads; paperboy shows text as typed.
- **Invisible characters**: ``U+200B`` zero width space, ``U+00AD`` soft hyphen,
  ``U+034F`` combining grapheme joiner, ``U+115F``/``U+1160``/``U+3164``/``U+FFA0`` Hangul
  fillers, ``U+180E``, ``U+2060..U+2064`` word joiner and invisible operators,
  ``U+206A..U+206F`` (deprecated formatting), ``U+FEFF`` byte order mark,
  ``U+FFF9..U+FFFB`` annotation marks, ``U+FFFE``/``U+FFFF``, Unicode tag characters
  (``U+E0000..U+E007F``, invisible ASCII) outside an emoji flag, and lone surrogates
  (which cannot even be encoded to send). They make two equal-looking titles differ or
  smuggle text no reader sees.
- **Kept on purpose**: ``U+200C``/``U+200D`` (zero width non-joiner and joiner: Persian and
  Indic spelling and emoji such as 👩🏽‍🔬 need them), variation selectors (emoji
  presentation), tag sequences after 🏴 (the flags of England, Scotland, Wales), and
  combining marks (accents; the renderers' length limits bound any pile of them).

``clean(text)`` also folds every run of whitespace into one space (one line: titles, names);
``clean(text, one_line=False)`` keeps line breaks (``\\r\\n``, ``\\r``, U+2028/9 become
``\\n``) and the spaces inside lines, so aligned help text stays aligned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.model.paper import Paper

# ESC [ params intermediates final. (The 8-bit C1 forms are dropped one character at a time
# with the other controls: UTF-8 terminals don't act on them, and text after one is text.)
_CSI = r"\x1b\[[0-?]*[ -/]*[@-~]"
# OSC, DCS, SOS, PM, APC with their payload, up to BEL or ST.
_STRING = r"\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)"
# Charset and similar escapes (ESC ( B, ESC # 8), save/restore cursor, keypad modes and the
# full reset (ESC 7, ESC 8, ESC =, ESC >, ESC c); any other ESC goes alone, the text after it
# stays (a stray ESC before a word must not eat its first letter).
_OTHER_ESCAPE = r"\x1b(?:[!-/]+[0-~]|[78=>c])?"
_ESCAPES = re.compile(f"{_CSI}|{_STRING}|{_OTHER_ESCAPE}")

_CONTROLS = "\x00-\x08\x0e-\x1f\x7f-\x9f"  # tab, \n, \v, \f, \r are whitespace, below
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_INVISIBLE = (
    "\u00ad\u034f\u115f\u1160\u180e\u200b\u2060-\u2064\u206a-\u206f\u3164"
    "\ufeff\uffa0\ufff9-\ufffb\ufffe\uffff\ud800-\udfff"
)
_DROP = re.compile(f"[{_CONTROLS}{_BIDI}{_INVISIBLE}]")
# Tag characters are dropped unless they spell a subdivision flag after a black flag.
_TAGS = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]{1,8}\U000e007f)|[\U000e0000-\U000e007f]")
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\u2028\u2029]")
_SPACES = re.compile(r"\s+")

ELLIPSIS = "…"


def clean(text: str | None, *, one_line: bool = True) -> str:
    """``text`` without escape sequences, controls, bidi controls or invisible characters.

    ``one_line`` folds all whitespace into single spaces; otherwise line breaks are kept.
    Cleaning twice changes nothing.
    """
    text = _ESCAPES.sub("", text or "")
    text = _DROP.sub("", text)
    if max(text, default="\0") >= "\U000e0000":  # tags are rare: skip the second pass
        text = _TAGS.sub(lambda m: m.group(1) or "", text)
    if one_line:
        return _SPACES.sub(" ", text).strip()
    return _LINE_BREAKS.sub("\n", text).strip()


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters: cut at a word boundary when there is one, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + ELLIPSIS


def display_title(paper: Paper) -> str:
    """The title to show, cleaned; the paper's id when nothing printable is left."""
    return clean(paper.title) or paper.id


# -- links --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    key: str  # stable name, e.g. for Slack's action ids: abstract, pdf, hf, code, project
    label: str
    url: str
    note: str = ""  # shown beside the link: the code repository's stars, "★ 1.2k"


def safe_http_url(url: str | None) -> str | None:
    """``url`` cleaned, if it is an absolute http(s) URL with a host; otherwise None.

    Platform quoting (what breaks out of ``<url|label>`` or ``[label](url)``) and platform
    length limits stay in the adapters.
    """
    url = clean(url)
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def paper_links(paper: Paper) -> list[Link]:
    """The links a paper's card shows, in this order, each URL at most once: abstract page,
    PDF, Hugging Face (only when the paper is listed there), code (with its GitHub stars when
    known), project page.

    Only http(s) URLs appear: a ``javascript:`` project page from a source is left out.
    """
    wanted = [
        Link("abstract", "Abstract", paper.abstract_url),
        Link("pdf", "PDF", paper.pdf_url),
        Link("hf", "Hugging Face", paper.hf_url if paper.listed_on_hf else ""),
        Link("code", "Code", paper.code_url, stars_text(paper.github_stars)),
        Link("project", "Project page", paper.project_url),
    ]
    found: list[Link] = []
    seen: set[str] = set()
    for link in wanted:
        url = safe_http_url(link.url)
        if url and url not in seen:
            seen.add(url)
            found.append(Link(link.key, link.label, url, link.note))
    return found


# -- authors ------------------------------------------------------------------------------

AUTHORS_SHOWN = 3
AUTHOR_NAME_MAX = 80


@dataclass(frozen=True)
class Authors:
    shown: tuple[str, ...]  # cleaned names, at most AUTHORS_SHOWN
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.shown)


def author_list(authors: tuple[str, ...] | list[str]) -> Authors:
    """The first names to show and how many there are (names that clean to nothing don't count)."""
    names = [shorten(name, AUTHOR_NAME_MAX) for name in map(clean, authors) if name]
    return Authors(tuple(names[:AUTHORS_SHOWN]), len(names))


def authors_text(authors: tuple[str, ...] | list[str], *, with_total: bool = True) -> str:
    """``"Ada, Bo, Cy +55 more · 58 authors"``: plain text, for the adapter to escape.

    The total is added when names are hidden and ``with_total`` (the cards, where there is
    room; list lines leave it out). Empty when there are no authors.
    """
    found = author_list(authors)
    text = ", ".join(found.shown)
    if found.hidden > 0:
        text += f" +{found.hidden:,} more"
        if with_total:
            text += f" · {found.total:,} authors"
    return text


# -- what Hugging Face adds ---------------------------------------------------------------

TLDR_LABEL = "TL;DR:"
TLDR_MAX = 300  # HF's AI summaries run to about 300 characters: one short paragraph
ORGANIZATION_MAX = 80


def tldr_text(paper: Paper) -> str:
    """HF's AI summary as the card's one-line TL;DR (without its label); "" when there is none."""
    return shorten(clean(paper.ai_summary), TLDR_MAX)


def organization_name(paper: Paper) -> str:
    """The HF organization the paper was submitted under ("Mind Lab"); "" when none."""
    return shorten(clean(paper.organization), ORGANIZATION_MAX)


def organization_text(paper: Paper) -> str:
    """``"🏢 Mind Lab"``, the organization as a meta line shows it; "" when none."""
    name = organization_name(paper)
    return f"🏢 {name}" if name else ""


def comments_text(comments: int | None) -> str:
    """``"💬 3 comments"``; "" when unknown or none (a zero on every new card is noise)."""
    if comments is None or comments <= 0:
        return ""
    return f"💬 {comments:,} comment" + ("" if comments == 1 else "s")


def stars_text(stars: int | None) -> str:
    """``"★ 1.6k"``: a code repository's GitHub stars; "" when unknown."""
    return "" if stars is None or stars < 0 else f"★ {compact_count(stars)}"


def compact_count(n: int) -> str:
    """``950``, ``1.6k``, ``18.7k``, ``123k``, ``1.2M``: a count as a glance takes it in."""
    if n < 1000:
        return str(n)
    for unit, size in (("k", 10**3), ("M", 10**6), ("B", 10**9)):
        value = n / size
        if round(value, 1) < 1000 or unit == "B":
            text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
            return text.removesuffix(".0") + unit
    raise AssertionError("unreachable")
