"""The `paperboy` command line chores."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import pytest

from bot.cli import main


def test_discord_invite_asks_for_exactly_the_needed_scopes(capsys, monkeypatch) -> None:
    app_id = "987654321098765432"
    token = base64.b64encode(app_id.encode()).decode().rstrip("=") + ".Gx1234.secret"
    monkeypatch.setenv("DISCORD_TOKEN", token)
    assert main(["discord-invite"]) == 0
    url = urlparse(capsys.readouterr().out.strip())
    query = parse_qs(url.query)
    assert url.netloc == "discord.com"
    assert query["client_id"] == [app_id]
    assert query["scope"] == ["bot applications.commands"]
    permissions = int(query["permissions"][0])
    assert permissions & 0x8 == 0  # never Administrator
    assert permissions & 0x800  # Send Messages


def test_discord_invite_without_a_token_says_what_to_do(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    with pytest.raises(SystemExit, match="APPLICATION_ID"):
        main(["discord-invite"])
