"""Starts bot processes in milliseconds: imports paperboy once, then forks a child per start.

A fresh ``python -m adapters.cli run`` spends about a second importing Slack, Discord and HTTP
libraries before it does anything; the kill -9 test starts the bot dozens of times. Each
child here is a separate process running the same ``adapters.cli.main(["run"])`` with its own
environment, working directory and log file; only the imports were done before the fork.

Protocol on stdin/stdout, one JSON object or one line per message:
  in:  {"env": {...}, "cwd": "...", "log": "..."}   start a bot
  out: "pid <pid>"                                   its process id, in request order
  out: "exit <pid> <code>"                           it ended (negative code: by a signal)
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import traceback


def _report(line: str) -> None:
    # Raw writes: this also runs inside the SIGCHLD handler, where a buffered stream could
    # be re-entered half-way through a write.
    os.write(sys.stdout.fileno(), (line + "\n").encode())


def _reap(signum: int, frame: object) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _report(f"exit {pid} {os.waitstatus_to_exitcode(status)}")


def _child(request: dict) -> None:
    """Become the bot: fresh signal handlers, environment, output and randomness."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    random.seed()  # a forked child would otherwise repeat its siblings' "random" choices
    from adapters.cli import main as paperboy

    code = 1
    try:
        code = paperboy(["run"]) or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    # The slow part, once: everything `paperboy run` imports for either platform.
    import adapters.cli
    import adapters.discord.client
    import adapters.launch
    import adapters.slack.app  # noqa: F401

    signal.signal(signal.SIGCHLD, _reap)
    _report("ready")
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        _report(f"pid {pid}")


if __name__ == "__main__":
    main()
