"""A terminal chat: one channel, you as its admin. ``paperboy run`` without tokens starts it.

Type ``/papers ...`` commands; vote on post N with ``+1 N`` or ``-1 N`` (any vote emoji
works, e.g. ``fire 2``), and take your reactions back with ``unreact N``. ``share N`` posts
paper N of the last private answer (search, show, today, top) in the channel; ``share <id>``
any paper. A post whose counts change is reprinted as one line: ``[3] now +2 (3 up, 1 down)
· ▲ 120``. It reads piped input too, so a script can drive it; at the end of input it
finishes what is under way.

Files (``/papers top month bibtex``) are written beside the database (``PAPERBOY_DB``), the
one place the console already writes to, never over an existing file; their path is printed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import TextIO

from bot.core import Bot
from bot.events import (
    ChannelRef,
    CommandInvoked,
    MessageRef,
    ReactionChanged,
    ShareRequested,
    User,
)
from bot.outbox import ShownReactions
from bot.plain_text import count_update, render_text
from bot.replies import FileReply, Leaderboard, PaperCard, PaperList, Reply
from bot.text_safety import clean

PROMPT_HINT = (
    "Type /papers help for commands; vote on post N with +1 N or -1 N, unreact N to take it "
    "back; share N posts paper N of an answer here; Ctrl-D quits."
)
SHARE_HINT = "share N posts paper N here for everyone to vote on."


class ConsoleAdapter:
    platform = "console"

    def __init__(self, bot: Bot, stdin: TextIO | None = None, stdout: TextIO | None = None):
        self.bot = bot
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.channel = ChannelRef(self.platform, "local", "console")
        self.user = User(self.platform, "you", "you", is_admin=True)
        self.posts: list[MessageRef] = []  # post N is posts[N - 1]
        # Message ids must stay unique across restarts (the store keys votes on them),
        # while people see short numbers.
        self.session = str(int(time.time() * 1000))
        self.cards: dict[str, MessageRef] = {}  # paper id -> its post
        self.my_reactions: dict[int, set[str]] = {}
        self.answer_papers: list[str] = []  # paper ids of the last private answer, in order
        bot.attach(self)

    def say(self, text: str) -> None:
        # Replies are clean already; this covers what we echo of a typed or piped line.
        print(clean(text, one_line=False), file=self.stdout, flush=True)

    # -- Outbox -------------------------------------------------------------------------

    async def send(self, channel: ChannelRef, reply: Reply) -> MessageRef:
        number = len(self.posts) + 1
        ref = MessageRef(channel, f"{self.session}-{number}")
        self.posts.append(ref)
        if isinstance(reply, PaperCard):
            self.cards[reply.paper.id] = ref
        self.say("")  # a blank line before each post
        self.say(f"[{number}] {render_text(reply)}")
        return ref

    async def find_card(
        self, channel: ChannelRef, paper_id: str, claimed_at: float
    ) -> MessageRef | None:
        return self.cards.get(paper_id)

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        """A terminal cannot change what it printed: the post's new counts get one line."""
        if isinstance(reply, PaperCard) and ref in self.posts:
            self.say(f"[{self.posts.index(ref) + 1}] {count_update(reply)}")

    async def link(self, ref: MessageRef) -> str:
        number = self.posts.index(ref) + 1 if ref in self.posts else "?"
        return f"post [{number}] above"

    async def reactions(self, ref: MessageRef) -> ShownReactions | None:
        return None  # reactions are typed here, in this process: none can be missed

    # -- input --------------------------------------------------------------------------

    async def run(self) -> None:
        """Read lines until end of input, then let the work under way finish."""
        self.say(PROMPT_HINT)
        while True:
            line = await asyncio.to_thread(self.stdin.readline)
            if not line:
                break
            await self.handle_line(line.strip())
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
        elif len(words) == 2:
            await self._react(words[0], words[1])
        else:
            self.say(f"⚠️ I don't understand that. {PROMPT_HINT}")

    async def _respond(self, reply: Reply) -> None:
        if isinstance(reply, FileReply):
            self.say(self._write_file(reply))
            return
        self.say(render_text(reply))
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

    def _write_file(self, reply: FileReply) -> str:
        folder = Path(self.bot.settings.db_path).resolve().parent
        path = free_path(folder, Path(reply.name).name)  # a name, never a path elsewhere
        try:
            path.write_bytes(reply.data)
        except OSError as exc:
            return f"⚠️ Could not write {path}: {exc.strerror or exc}"
        return f"{reply.message}\nWrote {path}"

    def _post(self, number: str) -> tuple[int, MessageRef] | None:
        if number.isdigit() and 1 <= int(number) <= len(self.posts):
            return int(number), self.posts[int(number) - 1]
        self.say(f"⚠️ There is no post {number[:20]}; posts are numbered [1]…[{len(self.posts)}].")
        return None

    async def _react(self, emoji: str, number: str) -> None:
        if self.bot.rules.value(emoji) == 0:
            self.say(f"⚠️ `{emoji[:20]}` is not a vote. Use +1 N, -1 N, or unreact N.")
            return
        found = self._post(number)
        if found:
            self.my_reactions.setdefault(found[0], set()).add(emoji)
            await self.bot.handle(ReactionChanged(found[1], self.user, emoji, added=True))
            self.say(self._vote_line(*found))

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
