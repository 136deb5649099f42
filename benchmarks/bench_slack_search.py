"""``/papers search`` end to end through Slack HTTP: a signed POST in, the answer out.

The fake Slack (``tests/fakes/slack.py``) on 127.0.0.1 signs each slash command, POSTs it
to the real Slack adapter (the aiohttp server, Bolt's signature check, the core, the
search, the Block Kit rendering) and times until the answer arrives on its
``response_url``. The baseline is ``/papers help`` the same way: what the HTTP round trip
costs with no search in it. Both sides share one process and event loop, so the figures
include the fake's own work: they are an upper bound on the adapter's.

``python -m benchmarks.bench_slack_search DB REPEATS``: one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from aiohttp import web

from adapters.slack.app import SlackAdapter
from benchmarks import bench_search
from benchmarks.bench_search import WORST_CASE, Latencies, _Sources, memory_mb
from bot.config import Settings
from bot.core import Bot
from storage.db import open_db
from storage.store import Store
from tests.fakes.slack import FakeSlack


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


async def _run(db_path: Path, repeats: int) -> dict:
    async with _AnsweringSlack() as slack:
        settings = Settings(db_path=str(db_path))
        bot = Bot(Store(open_db(str(db_path))), _Sources(), settings)  # type: ignore[arg-type]
        adapter = SlackAdapter(
            bot, slack.settings(socket_mode=False), http_host="127.0.0.1", post_interval=0.0
        )
        bot.attach(adapter)
        await adapter.start()
        url = f"http://127.0.0.1:{adapter.http_port}/slack/events"

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
            for text in queries:  # warm-up
                await ask("search " + text)
            searches, helps, worst = Latencies(), Latencies(), Latencies()
            by_query: dict[str, list[float]] = {}
            for _ in range(repeats):
                for text in queries:
                    elapsed = await ask("search " + text)
                    searches.add(elapsed)
                    by_query.setdefault(text, []).append(elapsed)
                    helps.add(await ask("help"))
            for _ in range(3):
                worst.add(await ask("search " + WORST_CASE))
            memory = memory_mb()
        finally:
            await adapter.stop()
            bot.store.db.close()
    slowest = sorted(by_query, key=lambda q: -max(by_query[q]))[:3]
    return {
        "p50": searches.p50,
        "p99": searches.p99,
        "help_p50": helps.p50,
        "help_p99": helps.p99,
        "worst_case_ms": worst.p50 * 1000,
        "slowest": {q: max(by_query[q]) * 1000 for q in slowest},
        "samples": len(searches.samples),
        "queries": len(queries),
        **memory,
    }


def main() -> None:
    result = asyncio.run(_run(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
