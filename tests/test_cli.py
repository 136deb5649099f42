"""The `paperboy` command line chores."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import pytest

from adapters.cli import main

APP_ID = "987654321098765432"
TOKEN = base64.b64encode(APP_ID.encode()).decode().rstrip("=") + ".Gx1234.secret"


def test_discord_invite_asks_for_exactly_the_needed_scopes(capsys, monkeypatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    assert main(["discord-invite"]) == 0
    url = urlparse(capsys.readouterr().out.strip())
    query = parse_qs(url.query)
    assert url.netloc == "discord.com"
    assert query["client_id"] == [APP_ID]
    assert query["scope"] == ["bot applications.commands"]
    permissions = int(query["permissions"][0])
    assert permissions & 0x8 == 0  # never Administrator
    assert permissions & 0x800  # Send Messages


def test_discord_invite_takes_the_application_id_given(capsys, monkeypatch) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["discord-invite", APP_ID]) == 0
    assert parse_qs(urlparse(capsys.readouterr().out.strip()).query)["client_id"] == [APP_ID]


def test_discord_invite_without_a_token_says_what_to_do(capsys, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["discord-invite"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1 and "APPLICATION_ID" in err


@pytest.mark.parametrize(
    "pasted",
    [TOKEN, "123&redirect_uri=https://evil.example/", "١٢٣", "123 456", "1" * 21, ""],
    ids=["a-token", "extra-parameters", "arabic-digits", "two-words", "too-long", "empty"],
)
def test_discord_invite_accepts_only_a_numeric_application_id(capsys, pasted) -> None:
    assert main(["discord-invite", pasted]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # no URL at all
    assert len(err.splitlines()) == 1
    assert "application id is a number" in err and "General Information" in err
    assert TOKEN not in err  # a pasted token is not echoed
