"""A terminal chat: one channel, you as its admin. ``paperboy run`` without tokens starts it.

Type ``/papers ...`` commands; vote on post N with ``+1 N`` or ``-1 N`` (any vote emoji works,
e.g. ``fire 2``), and take your reactions back with ``unreact N``. ``share N`` posts paper N of
the last private answer (search, show, today, top) in the channel; ``share <id>`` any paper. A
line with paper links gets their cards, as a Slack unfurl would; ``up N`` / ``down N`` press the
👍 / 👎 of card N (again to take it back). A post whose counts change is reprinted as one line:
``[3] now +2 (3 up, 1 down) · ▲ 120``. It reads piped input too, so a script can drive it; at
the end of input it finishes what is under way.

Files (``/papers top month bibtex``) are written beside the database (``PAPERBOY_DB``), the
one place the console already writes to, never over an existing file; their path is printed.
So is the log (``paperboy.log``): the terminal is the chat, so only the conversation shows.

Posts keep their numbers across restarts (a card's number is its message id in the posts
table), so ``+1 N`` works on a post from an earlier run. On a terminal a ``> `` prompt shows
where to type; piped input gets none, so a script's output is only the conversation.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.core import Bot
from bot.events import (
    ChannelRef,
    CommandInvoked,
    MessageRef,
    PaperLinksPosted,
    ReactionChanged,
    ShareRequested,
    User,
    VotePressed,
)
from bot.linked_papers import links_in
from bot.outbox import ShownReactions
from bot.plain_text import count_update, render_text
from bot.replies import FileReply, Leaderboard, LinkedPapers, PaperCard, PaperList, Reply
from bot.text_safety import clean

PROMPT_HINT = (
    "Type /papers help for commands; vote on post N with +1 N or -1 N, unreact N to take it "
    "back; share N posts paper N of an answer here; Ctrl-D quits."
)
SHARE_HINT = "share N posts paper N here for everyone to vote on."
PROMPT = "> "
LOG_FILE = "paperboy.log"
# After a vote, how long the console waits for the card's new count line, so it follows
# the vote's answer instead of the next command's.
CARD_LINE_WAIT = 1.0


def console_log_path(settings: Settings) -> Path:
    """Where the console's logs go: beside the database, the one place it already writes."""
    return Path(settings.db_path).parent / LOG_FILE


VOTE_HINT = "up N / down N votes on card N (the same again takes it back)."
VOTE_BUTTONS = {"up": 1, "down": -1}


class ConsoleAdapter:
    platform = "console"

    def __init__(self, bot: Bot, stdin: TextIO | None = None, stdout: TextIO | None = None):
        self.bot = bot
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.channel = ChannelRef(self.platform, "local", "console")
        self.user = User(self.platform, "you", "you", is_admin=True)
        # Card N has message id "N"; the numbers go on from the last run's.
        self.last_number = self._last_number()
        # Notices (not votable) get ids of their own, unique across restarts.
        self.session = str(int(time.time() * 1000))
        self.notices = 0
        self.cards: dict[str, MessageRef] = {}  # paper id -> its post
        self.my_reactions: dict[int, set[str]] = {}
        self.answer_papers: list[str] = []  # paper ids of the last private answer, in order
        self.interactive = _is_terminal(self.stdin)
        self._prompting = False  # the prompt is on screen, waiting for a line
        self.linked_papers: list[str] = []  # paper ids of the last cards for pasted links
        bot.attach(self)

    def _last_number(self) -> int:
        posts = self.bot.store.recent_posts(self.platform, since=0)
        mine = (p for p in posts if (p.workspace, p.channel) == ("local", "console"))
        return max((int(p.message_id) for p in mine if p.message_id.isdigit()), default=0)

    def say(self, text: str) -> None:
        # Replies are clean already; this covers what we echo of a typed or piped line.
        text = clean(text, one_line=False)
        if self._prompting:  # something arrived while waiting for input: print over the prompt
            text = f"\r{text}\n{PROMPT}"
            print(text, end="", file=self.stdout, flush=True)
            return
        print(text, file=self.stdout, flush=True)

    def _prompt(self) -> None:
        if self.interactive:
            print(PROMPT, end="", file=self.stdout, flush=True)
            self._prompting = True

    # -- Outbox -------------------------------------------------------------------------

    async def send(self, channel: ChannelRef, reply: Reply) -> MessageRef:
        self.say("")  # a blank line before each post
        if not isinstance(reply, PaperCard):  # a notice: nothing to vote on, so no number
            self.notices += 1
            self.say(render_text(reply))
            return MessageRef(channel, f"notice-{self.session}-{self.notices}")
        self.last_number += 1
        ref = MessageRef(channel, str(self.last_number))
        self.cards[reply.paper.id] = ref
        self.say(f"[{self.last_number}] {render_text(reply)}")
        return ref

    async def find_card(
        self, channel: ChannelRef, paper_id: str, claimed_at: float
    ) -> MessageRef | None:
        return self.cards.get(paper_id)

    async def send_dm(self, workspace: str, user_id: str, reply: Reply) -> None:
        """The console has one person: a direct message is a line marked as one."""
        self.say("")
        self.say(f"[DM to {user_id}] {render_text(reply)}")

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        """A terminal cannot change what it printed: the post's new counts get one line."""
        if isinstance(reply, PaperCard) and ref.message.isdigit():
            self.say(f"[{ref.message}] {count_update(reply)}")

    async def link(self, ref: MessageRef) -> str:
        return f"post [{ref.message}] above" if ref.message.isdigit() else "a post above"

    async def reactions(self, ref: MessageRef) -> ShownReactions | None:
        return None  # reactions are typed here, in this process: none can be missed

    # -- input --------------------------------------------------------------------------

    async def run(self) -> None:
        """Read lines until end of input, then let the work under way finish."""
        self.say(PROMPT_HINT)
        self._prompt()
        async for line in read_lines(self.stdin):
            self._prompting = False
            await self.handle_line(line.strip())
            self._prompt()
        if self._prompting:  # Ctrl-D: the shell's prompt starts on a line of its own
            self._prompting = False
            self.say("")
        await self.bot.poster.wait_idle()
        await self.bot.cards.wait_idle()

    async def handle_line(self, line: str) -> None:
        if not line or line.startswith("#"):
            return
        if line.lower() in ("quit", "exit", "/quit"):
            raise EOFError
        words = line.split()
        if words[0].lower() in ("/papers", "papers", "/paper"):
            await self.bot.handle(
                CommandInvoked(self.channel, self.user, " ".join(words[1:]), self._respond)
            )
            if self.bot.poster.busy:  # e.g. a new subscription: show its posts before going on
                await self.bot.poster.wait_idle()
        elif len(words) == 2 and words[0].lower() == "unreact":
            await self._unreact(words[1])
        elif len(words) == 2 and words[0].lower() == "share":
            await self._share(words[1])
        elif len(words) == 2 and words[0].lower() in VOTE_BUTTONS:
            await self._press(VOTE_BUTTONS[words[0].lower()], words[1])
        elif links_in(line):
            # No message of yours to react on here, so nothing becomes votable: use up/down.
            event = PaperLinksPosted(self.channel, self.user, links_in(line), None, self._respond)
            await self.bot.handle(event)
        elif len(words) == 2:
            await self._react(words[0], words[1])
        else:
            self.say(f"⚠️ I don't understand that. {PROMPT_HINT}")

    async def _respond(self, reply: Reply) -> None:
        if isinstance(reply, FileReply):
            self.say(self._write_file(reply))
            return
        self.say(render_text(reply))
        if isinstance(reply, LinkedPapers):
            self.linked_papers = [c.card.paper.id for c in reply.cards]
            self.say(VOTE_HINT)
            return
        papers = _papers_of(reply)
        if papers and not reply.public:
            self.answer_papers = papers
            self.say(SHARE_HINT)

    async def _share(self, which: str) -> None:
        if which.isdigit():
            if not 1 <= int(which) <= len(self.answer_papers):
                self.say(
                    f"⚠️ There is no paper {which[:20]} in the last answer; "
                    "search, show, today or top first, then share N."
                )
                return
            paper_id = self.answer_papers[int(which) - 1]
        else:
            paper_id = which
        await self.bot.handle(ShareRequested(self.channel, self.user, paper_id, self._respond))

    async def _press(self, value: int, which: str) -> None:
        if not (which.isdigit() and 1 <= int(which) <= len(self.linked_papers)):
            self.say(f"⚠️ There is no card {which[:20]}; paste a paper link first, then up N.")
            return
        paper_id = self.linked_papers[int(which) - 1]
        await self.bot.handle(VotePressed(self.channel, self.user, paper_id, value, self._respond))

    def _write_file(self, reply: FileReply) -> str:
        folder = Path(self.bot.settings.db_path).resolve().parent
        path = free_path(folder, Path(reply.name).name)  # a name, never a path elsewhere
        try:
            path.write_bytes(reply.data)
        except OSError as exc:
            return f"⚠️ Could not write {path}: {exc.strerror or exc}"
        return f"{reply.message}\nWrote {path}"

    def _post(self, number: str) -> tuple[int, MessageRef] | None:
        if number.isdigit() and 1 <= int(number) <= self.last_number:
            return int(number), MessageRef(self.channel, str(int(number)))
        if not self.last_number:
            self.say(f"⚠️ There is no post {number[:20]}; nothing has been posted here yet.")
        else:
            self.say(
                f"⚠️ There is no post {number[:20]}; posts are numbered [1]…[{self.last_number}]."
            )
        return None

    async def _card_line(self) -> None:
        """Let the card's new count line print now, before the next command's answer."""
        with contextlib.suppress(TimeoutError):
            await self.bot.cards.wait_idle(timeout=CARD_LINE_WAIT)

    async def _react(self, emoji: str, number: str) -> None:
        if self.bot.rules.value(emoji) == 0:
            self.say(f"⚠️ `{emoji[:20]}` is not a vote. Use +1 N, -1 N, or unreact N.")
            return
        found = self._post(number)
        if found:
            self.my_reactions.setdefault(found[0], set()).add(emoji)
            await self.bot.handle(ReactionChanged(found[1], self.user, emoji, added=True))
            self.say(self._vote_line(*found))
            await self._card_line()

    async def _unreact(self, number: str) -> None:
        found = self._post(number)
        if not found:
            return
        reactions = self.my_reactions.pop(found[0], set())
        if not reactions:
            self.say(f"You have no reactions on post {found[0]} to take back.")
            return
        for emoji in sorted(reactions):
            await self.bot.handle(ReactionChanged(found[1], self.user, emoji, added=False))
        self.say(f"Took back your reactions on post {found[0]}. " + self._vote_line(*found))
        await self._card_line()

    def _vote_line(self, number: int, ref: MessageRef) -> str:
        """What the user's vote now is: up and down reactions on one paper cancel out."""
        ch = ref.channel
        store = self.bot.store
        post = store.post_for_message(ch.platform, ch.workspace, ch.channel, ref.message)
        if post is None:
            return f"Post {number} is not a paper, so reactions on it are not votes."
        vote = store.vote_of(ch.platform, ch.workspace, post.paper_id, self.user.id)
        if vote:
            return f"Your vote on post {number} is now {vote:+d}."
        if self.my_reactions.get(number):
            return f"Your vote on post {number} is now 0 (👍 and 👎 cancel out)."
        return f"You have no vote on post {number} now."


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, OSError, ValueError):
        return False


async def read_lines(stdin: TextIO) -> AsyncIterator[str]:
    """The lines of ``stdin``, without blocking the event loop.

    A real file descriptor (terminal, pipe, file) is read by a daemon thread with
    ``os.read``: Ctrl-C then ends the process at once, since nothing waits for that thread
    and it holds no lock of the ``sys.stdin`` object. In-memory streams are read directly.
    """
    try:
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):
        while line := stdin.readline():
            yield line
            await asyncio.sleep(0)  # background work (a probe, card edits) gets its turn
        return
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def hand_over(line: str | None) -> bool:
        try:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        except RuntimeError:  # the loop is closed: the console has ended
            return False
        return True

    def pump() -> None:
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending = ""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                if not hand_over(line + "\n"):
                    return
            if not chunk:
                if pending:
                    hand_over(pending)
                hand_over(None)
                return

    threading.Thread(target=pump, name="console input", daemon=True).start()
    while (line := await lines.get()) is not None:
        yield line


def free_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name-2``, ``name-3``, … if that file exists already."""
    path = folder / name
    number = 1
    while path.exists():
        number += 1
        path = folder / f"{Path(name).stem}-{number}{Path(name).suffix}"
    return path


def _papers_of(reply: Reply) -> list[str]:
    """The paper ids an answer shows, in the order it numbers them."""
    match reply:
        case PaperCard(paper=paper):
            return [paper.id]
        case PaperList(papers=papers):
            return [p.paper.id for p in papers]
        case Leaderboard(entries=entries):
            return [e.paper.id for e in entries]
    return []
