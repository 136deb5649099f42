"""The console's first minute, offline: a prompt at once, a quiet chat, Ctrl-C, stable post
numbers, the bundled sample where HF would be, and lookups that fail fast.

The real ``paperboy run`` process is driven through pipes or a pseudo-terminal; the hosts
"offline" are closed ports on 127.0.0.1 (connection refused) or a server that never answers.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import pty
import signal
import socket
import sys
import time
from pathlib import Path

from adapters.launch import run
from bot.config import Settings
from bot.logs import setup_logging
from bot.sources.http import HttpFetcher, SourceError, fail_fast
from tests.botprocess import clean_env

ROOT = Path(__file__).resolve().parent.parent


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def offline_env(db: Path, **more: str) -> dict[str, str]:
    """Every paper source at a closed port: nothing can be reached."""
    dead = f"http://127.0.0.1:{closed_port()}"
    return clean_env(
        {
            "PAPERBOY_DB": str(db),
            "HF_API_URL": f"{dead}/api",
            "ARXIV_API_URL": f"{dead}/api/query",
            "ARXIV_RSS_URL": f"{dead}/rss",
            **more,
        }
    )


def offline_settings(db: Path) -> Settings:
    dead = f"http://127.0.0.1:{closed_port()}"
    return Settings(
        db_path=str(db),
        hf_api_url=f"{dead}/api",
        arxiv_api_url=f"{dead}/api/query",
        arxiv_rss_url=f"{dead}/rss",
    )


class StalledServer:
    """Accepts connections and reads requests, and never answers."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> StalledServer:
        self._server = await asyncio.start_server(self._hold, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        self.requests.append(await reader.readline())
        await asyncio.Event().wait()  # never answers

    async def __aexit__(self, *exc_info: object) -> None:
        for writer in self._writers:
            writer.close()
        self._server.close()


async def spawn(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        "run",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=env,
    )


async def read_until(stream: asyncio.StreamReader, text: str, timeout: float = 20) -> str:
    seen = ""
    async with asyncio.timeout(timeout):
        while text not in seen:
            chunk = await stream.read(4096)
            assert chunk, f"output ended before {text!r}: {seen}"
            seen += chunk.decode()
    return seen


async def test_the_prompt_and_help_come_while_hugging_face_has_not_answered(tmp_path) -> None:
    async with StalledServer() as hf:
        env = offline_env(tmp_path / "p.db", HF_API_URL=f"http://127.0.0.1:{hf.port}/api")
        process = await spawn(env, tmp_path)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b"/papers help\n")
        seen = await read_until(process.stdout, "Paperboy commands")
        assert "Type /papers help for commands" in seen
        assert len(hf.requests) == 1 and b"/api/daily_papers" in hf.requests[0]  # asked once
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 20)
        assert process.returncode == 0
        assert len(hf.requests) == 1  # no retries while it stalled


async def test_the_chat_shows_only_the_conversation_and_logs_go_beside_the_database(
    tmp_path,
) -> None:
    db = tmp_path / "data" / "p.db"
    db.parent.mkdir()
    process = await spawn(offline_env(db), tmp_path)
    stdout, stderr = await asyncio.wait_for(
        process.communicate(b"/papers search memory\n/papers subscribe arxiv cs.CL\n"), 30
    )
    text = stdout.decode()
    assert process.returncode == 0, stderr.decode()
    first = text.splitlines()[0]
    assert f"log {db.parent / 'paperboy.log'}" in first  # said once, in the first line
    for noise in ("INFO", "WARNING", "storage.db", "bot.poster", "attempt"):
        assert noise not in text and noise not in stderr.decode()
    log = (db.parent / "paperboy.log").read_text()
    assert "migrating database" in log and "GET http://127.0.0.1" in log
    assert "bundled sample papers" in text  # what the user needs to know is in the chat


def test_the_log_file_is_redacted_too(tmp_path) -> None:
    path = tmp_path / "paperboy.log"
    handler = setup_logging("INFO", ["xoxb-secret-token-123"], path=str(path))
    try:
        logging.getLogger("test").warning("token is xoxb-secret-token-123")
        handler.flush()
    finally:
        handler.close()
        setup_logging("WARNING")
    text = path.read_text()
    assert "token is [redacted]" in text and "xoxb-secret" not in text


async def test_ctrl_c_at_the_prompt_quits_at_once(tmp_path) -> None:
    controller, terminal = pty.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "adapters.cli",
            "run",
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            cwd=tmp_path,
            env=offline_env(tmp_path / "p.db"),
        )
        os.close(terminal)
        terminal = -1
        seen = b""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(20):
            while not seen.endswith(b"> "):  # the prompt, shown on a terminal
                seen += await loop.run_in_executor(None, os.read, controller, 4096)
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 5)
        assert process.returncode in (0, 130)
        rest = b""
        try:
            while chunk := os.read(controller, 4096):
                rest += chunk
        except OSError:  # the terminal closed with the process
            pass
        assert b"Traceback" not in seen + rest
    finally:
        os.close(controller)
        if terminal >= 0:
            os.close(terminal)


async def test_piped_input_gets_no_prompt(tmp_path) -> None:
    out = io.StringIO()
    await run(offline_settings(tmp_path / "p.db"), io.StringIO("/papers help\n"), out)
    assert not any(line.startswith(">") for line in out.getvalue().splitlines())


async def test_post_numbers_stay_the_same_after_a_restart(tmp_path) -> None:
    settings = offline_settings(tmp_path / "p.db")
    first = io.StringIO()
    await run(settings, io.StringIO("/papers subscribe hf min_upvotes=80\n"), first)
    assert "\n[3] δ-mem" in first.getvalue()
    second = io.StringIO()
    await run(settings, io.StringIO("+1 3\n/papers top\nshare 2605.10899\n"), second)
    text = second.getvalue()
    assert "Your vote on post 3 is now +1." in text
    assert "[3] now +1 (1 up, 0 down)" in text
    assert "1. +1  δ-mem" in text
    assert "\n[4] RubricEM" in text  # new posts go on from the last number


async def test_today_offline_shows_the_bundled_sample_labelled(tmp_path) -> None:
    out = io.StringIO()
    await run(offline_settings(tmp_path / "p.db"), io.StringIO("/papers today\n"), out)
    text = out.getvalue()
    assert "can't be reached right now" not in text
    assert "Bundled sample papers\n1. SenseNova-U1" in text
    assert "Hugging Face can't be reached; showing the bundled sample papers." in text


async def test_show_offline_answers_within_three_seconds(tmp_path) -> None:
    settings = offline_settings(tmp_path / "p.db")  # the default 3 retries with backoff
    out = io.StringIO()
    started = time.monotonic()
    await run(settings, io.StringIO("/papers show 2401.12345\n"), out)
    assert time.monotonic() - started < 3
    assert "I can't reach Hugging Face or arXiv to look up 2401.12345" in out.getvalue()


async def test_a_waiting_request_fails_at_once_and_spares_the_other_hosts() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/daily_papers"
    async with HttpFetcher(retries=3, retry_base_delay=1.0) as http:
        started = time.monotonic()
        with fail_fast():
            for _ in range(2):  # the second is answered from memory
                try:
                    await http.get(url, name="Hugging Face")
                except SourceError as exc:
                    assert "could not reach Hugging Face" in str(exc)
        assert time.monotonic() - started < 1  # no retries, no backoff


async def test_a_new_subscription_whose_first_fetch_fails_is_told_once(
    bot, chat, paper_sources
) -> None:
    paper_sources.fail("rss", 500, times=1000)
    await chat.command("subscribe arxiv cs.CL", admin=True)
    await bot.poster.run_once()
    await bot.poster.run_once()
    notices = [s.reply.text for s in chat.sent if "keeps trying" in getattr(s.reply, "text", "")]
    assert len(notices) == 1
    assert "arXiv cs.CL can't be fetched right now" in notices[0]
    assert "subscription #1" in notices[0] and "every 1 h" in notices[0]


def readme_transcript() -> tuple[list[str], list[str]]:
    """The README's console transcript: what is typed (after the ``> `` prompt), and all
    the rest, which is what paperboy prints."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```text\n$ make run\n") + len("```text\n$ make run\n")
    block = readme[start : readme.index("```", start)].splitlines()
    typed = [line[2:] for line in block if line.startswith("> ")]
    printed = [line for line in block if not line.startswith("> ")]
    return typed, printed


async def test_the_readme_transcript_is_what_a_fresh_offline_run_prints(tmp_path) -> None:
    typed, printed = readme_transcript()
    assert typed and printed
    # A fresh run: no database yet, named as the README's `make run` names it; offline.
    process = await spawn(offline_env(Path("paperboy.db")), tmp_path)
    script = "".join(f"{line}\n" for line in typed).encode()
    stdout, stderr = await asyncio.wait_for(process.communicate(script), 60)
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().splitlines() == printed
