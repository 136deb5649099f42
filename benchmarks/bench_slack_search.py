"""``/papers search`` end to end through Slack HTTP: a signed POST in, the answer out.

The fake Slack (``tests/fakes/slack.py``) on 127.0.0.1 signs each slash command, POSTs it
to the real Slack adapter (the aiohttp server, Bolt's signature check, the core, the
search, the Block Kit rendering) and times until the answer arrives on its
``response_url``. The baseline is ``/papers help`` the same way: what the HTTP round trip
costs with no search in it.

Both share one process and event loop, so the figures include the fake's own work
(signing, its HTTP client and server: 1.3-1.5 ms of CPU a request, against the bot's 3.0-3.6
ms, measured with the flag below).
``--own-process`` runs the adapter in a process of its own instead, as in production where
Slack is another machine; on a loaded machine that is slower, not faster: each hop between
the processes waits for the other to be scheduled, where one event loop goes straight on.

Every query is asked once before the timed rounds; that first ask is reported apart
(``first_p50``/``first_p99``): it is what a query costs before the bot remembers a common
word's answer.

``python -m benchmarks.bench_slack_search DB [REPEATS] [--own-process]``: one JSON line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path

from aiohttp import web

from adapters.heap import settled_heap
from adapters.slack.app import SlackAdapter
from adapters.slack.settings import SlackSettings
from benchmarks import bench_search
from benchmarks.bench_search import WORST_CASE, Latencies, _Sources, memory_mb
from bot.config import Settings
from bot.core import Bot
from storage.db import open_db
from storage.store import Store
from tests.fakes.slack import FakeSlack

PROJECT = Path(__file__).resolve().parent.parent


class _AnsweringSlack(FakeSlack):
    """Resolves a future when a ``response_url`` gets its answer: no polling delay."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: dict[str, asyncio.Future] = {}

    async def _response_url(self, request: web.Request) -> web.Response:
        response = await super()._response_url(request)
        future = self.waiting.pop(f"{self.base_url}{request.path}", None)
        if future is not None and not future.done():
            future.set_result(None)
        return response


class _Bot:
    """The bot with its Slack adapter in HTTP mode, pointed at the fake."""

    def __init__(self, db_path: Path, settings: SlackSettings) -> None:
        self.store = Store(open_db(str(db_path)))
        self.bot = Bot(self.store, _Sources(), Settings(db_path=str(db_path)))  # type: ignore[arg-type]
        self.adapter = SlackAdapter(self.bot, settings, http_host="127.0.0.1", post_interval=0.0)
        self.bot.attach(self.adapter)

        self.heap = contextlib.ExitStack()

    async def start(self) -> int:
        await self.adapter.start()
        assert self.adapter.http_port is not None
        self.heap.enter_context(settled_heap())  # as the running bot has it
        return self.adapter.http_port

    async def stop(self) -> None:
        self.heap.close()
        await self.adapter.stop()
        self.store.db.close()


class _InProcess:
    """The bot in the fake's own process and event loop."""

    def __init__(self, db_path: Path, settings: SlackSettings) -> None:
        self.bot = _Bot(db_path, settings)

    async def start(self) -> int:
        return await self.bot.start()

    async def memory(self) -> dict[str, float]:
        return memory_mb()

    async def cpu(self) -> float:
        return 0.0  # counted in the fake's process, which is this one

    async def stop(self) -> None:
        await self.bot.stop()


class _OwnProcess:
    """The bot in a child process (``--serve``); settings in on stdin, the port out on
    stdout, then a line in asks for its memory figures and end of input stops it."""

    def __init__(self, db_path: Path, settings: SlackSettings) -> None:
        self.db_path = db_path
        self.settings = settings
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> int:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.bench_slack_search",
            str(self.db_path),
            "--serve",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=PROJECT,
        )
        s = self.settings
        await self._say(
            {"bot_token": s.bot_token, "signing_secret": s.signing_secret, "api_url": s.api_url}
        )
        return (await self._hear())["port"]

    async def memory(self) -> dict[str, float]:
        await self._say({"ask": "memory"})
        return await self._hear()

    async def cpu(self) -> float:
        await self._say({"ask": "cpu"})
        return (await self._hear())["cpu"]

    async def stop(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        await self.proc.wait()

    async def _say(self, message: dict) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        await self.proc.stdin.drain()

    async def _hear(self) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 600)
        if not line:
            raise RuntimeError("the bot process ended early; see its output above")
        return json.loads(line)


async def _serve(db_path: Path) -> None:
    """The child's side of ``_OwnProcess``."""
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    given = json.loads(await stdin.readline())
    bot = _Bot(db_path, SlackSettings(**given, port=0))
    try:
        print(json.dumps({"port": await bot.start()}), flush=True)
        while line := await stdin.readline():
            ask = json.loads(line)["ask"]
            answer = memory_mb() if ask == "memory" else {"cpu": time.process_time()}
            print(json.dumps(answer), flush=True)
    finally:
        await bot.stop()


async def _run(db_path: Path, repeats: int, own_process: bool = False) -> dict:
    async with _AnsweringSlack() as slack:
        kind = _OwnProcess if own_process else _InProcess
        bot = kind(db_path, slack.settings(socket_mode=False))
        url = f"http://127.0.0.1:{await bot.start()}/slack/events"

        async def ask(text: str) -> float:
            """From the signed POST to the answer on the response_url: what the user waits
            for. (Bolt acks the POST itself up to 10 ms later: it polls for the ack.)"""
            payload = slack.command_payload(text)
            answered = asyncio.get_running_loop().create_future()
            slack.waiting[payload["response_url"]] = answered
            started = time.perf_counter()
            post = asyncio.ensure_future(slack.post_to_app(url, payload))
            await asyncio.wait_for(answered, 10)
            elapsed = time.perf_counter() - started
            delivery = await post
            if delivery.status != 200:
                raise RuntimeError(f"{text!r}: HTTP {delivery.status}")
            return elapsed

        try:
            queries = [q for _, q in bench_search.all_queries()]
            for _ in range(3):  # the process's first requests: connections, auth.test
                await ask("help")
            first = Latencies()
            for text in queries:  # warm-up: each query's first ask
                first.add(await ask("search " + text))
            searches, helps, worst = Latencies(), Latencies(), Latencies()
            search_cpu = Latencies()  # this process's CPU time of each search's ask
            by_query: dict[str, list[float]] = {}
            cpu = time.process_time(), await bot.cpu()
            for _ in range(repeats):
                for text in queries:
                    cpu_started = time.process_time()
                    elapsed = await ask("search " + text)
                    search_cpu.add(time.process_time() - cpu_started)
                    searches.add(elapsed)
                    by_query.setdefault(text, []).append(elapsed)
                    helps.add(await ask("help"))
            asked = 2 * repeats * len(queries)
            fake_cpu = (time.process_time() - cpu[0]) / asked
            bot_cpu = (await bot.cpu() - cpu[1]) / asked
            for _ in range(3):
                worst.add(await ask("search " + WORST_CASE))
            memory = await bot.memory()
        finally:
            await bot.stop()
    slowest = sorted(by_query, key=lambda q: -max(by_query[q]))[:3]
    return {
        "p50": searches.p50,
        "p99": searches.p99,
        "cpu_p50": search_cpu.p50,
        "cpu_p99": search_cpu.p99,
        "first_p50": first.p50,
        "first_p99": first.p99,
        "help_p50": helps.p50,
        "help_p99": helps.p99,
        "worst_case_ms": worst.p50 * 1000,
        "slowest": {q: max(by_query[q]) * 1000 for q in slowest},
        "samples": len(searches.samples),
        "queries": len(queries),
        "own_process": own_process,
        # CPU time per request (searches and helps alike), in each process; in one
        # process, all of it is the first figure.
        "cpu_ms_fake": fake_cpu * 1000,
        "cpu_ms_bot": bot_cpu * 1000,
        **memory,
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    db_path = Path(args[0])
    if "--serve" in sys.argv:
        asyncio.run(_serve(db_path))
        return
    repeats = int(args[1]) if len(args) > 1 else 3
    result = asyncio.run(_run(db_path, repeats, own_process="--own-process" in sys.argv))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
