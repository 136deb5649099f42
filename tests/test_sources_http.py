"""HttpFetcher against the local fake: retries, Retry-After, timeouts, rate limits."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot.sources.http import HttpFetcher, SourceError, retry_after_seconds, safe_url
from tests.fakes.paper_sources import FakePaperSources


@pytest.fixture
async def fake() -> AsyncIterator[FakePaperSources]:
    async with FakePaperSources() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[HttpFetcher]:
    async with HttpFetcher(timeout=0.3, retries=2, retry_base_delay=0.01) as http:
        yield http


def daily_url(fake: FakePaperSources) -> str:
    return f"{fake.base_urls['hf_api_url']}/daily_papers"


async def test_500_then_success_retries(fake: FakePaperSources, http: HttpFetcher) -> None:
    fake.fail("daily", 500)
    response = await http.get(daily_url(fake), {"date": "2026-05-13"})
    assert response.status_code == 200
    assert fake.count("daily") == 2


async def test_429_waits_for_retry_after_then_succeeds(
    fake: FakePaperSources, http: HttpFetcher
) -> None:
    fake.fail("daily", 429, retry_after=0)
    response = await http.get(daily_url(fake))
    assert response.status_code == 200
    assert fake.count("daily") == 2


async def test_retry_after_is_honoured_but_capped(fake: FakePaperSources) -> None:
    fake.fail("daily", 429, retry_after=60)
    async with HttpFetcher(retries=1, retry_base_delay=0.01, max_retry_wait=0.2) as http:
        response = await http.get(daily_url(fake))
    first, second = fake.requests_for("daily")
    assert response.status_code == 200
    assert 0.2 <= second.at - first.at < 5  # waited the cap, not the minute asked for


async def test_5xx_forever_raises_after_the_retries(
    fake: FakePaperSources, http: HttpFetcher
) -> None:
    fake.fail("daily", 503, times=10)
    with pytest.raises(SourceError, match="Hugging Face answered 503"):
        await http.get(daily_url(fake), name="Hugging Face")
    assert fake.count("daily") == 3  # the first try and http_retries=2 retries


async def test_429_forever_raises(fake: FakePaperSources, http: HttpFetcher) -> None:
    fake.fail("daily", 429, retry_after=0, times=10)
    with pytest.raises(SourceError, match="429"):
        await http.get(daily_url(fake))


async def test_timeout_then_success(fake: FakePaperSources, http: HttpFetcher) -> None:
    fake.delay("daily", 30)
    response = await http.get(daily_url(fake))
    assert response.status_code == 200
    assert fake.count("daily") == 2


async def test_timeouts_forever_raise_a_showable_error(fake: FakePaperSources) -> None:
    fake.delay("daily", 30, times=5)
    async with HttpFetcher(timeout=0.1, retries=1, retry_base_delay=0.01) as http:
        with pytest.raises(SourceError, match="did not answer in time"):
            await http.get(daily_url(fake), name="Hugging Face")


async def test_unreachable_host_raises() -> None:
    async with FakePaperSources() as gone:
        url = daily_url(gone)
    async with HttpFetcher(timeout=0.5, retries=1, retry_base_delay=0.01) as http:
        with pytest.raises(SourceError, match="could not reach Hugging Face"):
            await http.get(url, name="Hugging Face")


async def test_an_unreachable_host_fails_fast_for_a_while(monkeypatch) -> None:
    fake = FakePaperSources()
    await fake.start()
    url = f"{fake.base_url}/api/daily_papers"
    await fake.stop()  # nothing listens: connection refused
    async with HttpFetcher(retries=2, retry_base_delay=0.01, unreachable_pause=30) as http:
        with pytest.raises(SourceError, match="could not reach"):
            await http.get(url, name="Hugging Face")
        calls = []
        monkeypatch.setattr(http._client, "get", lambda *a, **k: calls.append(a))
        with pytest.raises(SourceError, match="could not reach Hugging Face"):
            await http.get(url, name="Hugging Face")
        assert calls == []  # answered at once, without trying the network again
        monkeypatch.undo()
        http._unreachable_until.clear()  # the pause is over
        with pytest.raises(SourceError):
            await http.get(url, name="Hugging Face")


async def test_4xx_is_returned_not_retried(fake: FakePaperSources, http: HttpFetcher) -> None:
    fake.fail("paper", 404)
    response = await http.get(f"{fake.base_urls['hf_api_url']}/papers/2605.12500")
    assert response.status_code == 404
    assert fake.count("paper") == 1


async def test_min_interval_spaces_requests_to_one_host(
    fake: FakePaperSources, http: HttpFetcher
) -> None:
    for _ in range(3):
        await http.get(f"{fake.base_url}/api/query", min_interval=0.15)
    times = [r.at for r in fake.requests_for("api")]
    assert all(b - a >= 0.14 for a, b in itertools.pairwise(times))


async def test_no_min_interval_means_no_waiting(fake: FakePaperSources, http: HttpFetcher) -> None:
    started = time.monotonic()
    for _ in range(3):
        await http.get(f"{fake.base_url}/api/query")
    assert time.monotonic() - started < 1.0


async def test_log_lines_leave_out_query_strings(
    fake: FakePaperSources, http: HttpFetcher, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("search", 500)
    with caplog.at_level(logging.DEBUG, logger="bot.sources.http"):
        await http.get(f"{fake.base_urls['hf_api_url']}/papers/search", {"q": "secret-ish"})
    # Only our own lines: httpx's logger is bot.logs' business (kept at WARNING outside DEBUG).
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("bot.sources")]
    assert ours
    assert not any("secret-ish" in line for line in ours)


def test_safe_url_drops_query_and_credentials() -> None:
    assert (
        safe_url("https://user:pw@example.org:8443/a/b?token=x") == "https://example.org:8443/a/b"
    )


def test_retry_after_forms() -> None:
    now = datetime(2026, 5, 13, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now=now) == 7
    assert retry_after_seconds("-3", now=now) == 0
    http_date = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(http_date, now=now) == 90
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0  # in the past
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None) is None
