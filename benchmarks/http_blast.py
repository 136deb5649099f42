"""Send pre-signed Slack requests to an app as fast as it takes them, from its own process.

``python -m benchmarks.http_blast URL REQUESTS.json IN_FLIGHT``: REQUESTS.json is a list of
``[body, headers]``. The load lives apart from the app so that the app's figure is its own
(in one process the sender's CPU would count against the app). Prints ``ready``, waits for
a line on stdin, sends, then prints how many answered 200.
"""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp


async def blast(url: str, requests: list[tuple[str, dict[str, str]]], in_flight: int) -> int:
    ok = 0
    gate = asyncio.Semaphore(in_flight)
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(body: str, headers: dict[str, str]) -> None:
            nonlocal ok
            async with gate, session.post(url, data=body.encode(), headers=headers) as resp:
                await resp.read()
                ok += resp.status == 200

        await asyncio.gather(*(send(body, headers) for body, headers in requests))
    return ok


def main() -> None:
    url, path, in_flight = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path) as f:
        requests = [(body, headers) for body, headers in json.load(f)]
    print("ready", flush=True)
    sys.stdin.readline()  # "go": the clock starts with the first request, not this process
    print(asyncio.run(blast(url, requests, in_flight)), flush=True)


if __name__ == "__main__":
    main()
