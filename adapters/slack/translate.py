"""Slack payloads to core events, and what names one delivery when Slack sends it again.

Nothing here talks to Slack: the app layer hands in the payload and the callables the core
will use to answer (``respond``) and to ask about admin rights (``check_admin``).
"""

from __future__ import annotations

import re

from bot.events import (
    AdminCheck,
    ChannelRef,
    CommandInvoked,
    MessageRef,
    PaperLinksPosted,
    ReactionChanged,
    Responder,
    ShareRequested,
    User,
    VotePressed,
)

PLATFORM = "slack"
_VOTE_ACTION = re.compile(r"paperboy_vote_(up|down)(?:_\d+)?")
REACTION_EVENTS = ("reaction_added", "reaction_removed")


def channel_ref(team_id: str, channel_id: str) -> ChannelRef:
    return ChannelRef(PLATFORM, team_id, channel_id)


def unescape(text: str) -> str:
    """Slack escapes exactly these three in the text it sends; everything else is literal."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def command_event(
    body: dict, respond: Responder, check_admin: AdminCheck | None = None
) -> CommandInvoked:
    """A ``/papers …`` slash command (HTTP form fields or a Socket Mode payload)."""
    return CommandInvoked(
        channel=channel_ref(body.get("team_id", ""), body.get("channel_id", "")),
        user=User(PLATFORM, body.get("user_id", ""), name=body.get("user_name", "")),
        text=unescape(body.get("text") or "").strip(),
        respond=respond,
        check_admin=check_admin,
    )


def is_reaction(body: dict) -> bool:
    """An Events API delivery of a reaction added or removed (a vote candidate)."""
    return (
        body.get("type") == "event_callback"
        and (body.get("event") or {}).get("type") in REACTION_EVENTS
    )


def reaction_event(body: dict, *, bot_user_id: str | None = None) -> ReactionChanged | None:
    """A vote candidate, or None for a reaction that cannot be one.

    Only reactions on messages count (not on files). Reactions on people's messages go on
    too: one that links a single paper counts as a vote on it (the core knows which).
    """
    event = body.get("event") or {}
    item = event.get("item") or {}
    if event.get("type") not in REACTION_EVENTS or item.get("type") != "message":
        return None
    user_id, channel_id, ts = event.get("user"), item.get("channel"), item.get("ts")
    if not (user_id and channel_id and ts and event.get("reaction")):
        return None
    return ReactionChanged(
        target=MessageRef(channel_ref(_team_of(body), channel_id), ts),
        # Bolt already drops the bot's own events; marking it keeps the core honest if not.
        user=User(PLATFORM, user_id, is_bot=bool(bot_user_id) and user_id == bot_user_id),
        emoji=event["reaction"],
        added=event["type"] == "reaction_added",
        delivery=delivery_key(body),  # checked in the vote's own transaction
    )


def share_event(body: dict, respond: Responder, display_name: str = "") -> ShareRequested | None:
    """A click on a Share button (``block_actions``); None if it names no channel or paper."""
    action = next(iter(body.get("actions") or []), {})
    channel_id = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    user = body.get("user") or {}
    team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    paper_id = action.get("value") or ""
    if not (channel_id and user.get("id") and paper_id):
        return None
    name = display_name or user.get("name") or user.get("username") or ""
    return ShareRequested(
        channel=channel_ref(team_id, channel_id),
        user=User(PLATFORM, user["id"], name=name),
        paper_id=paper_id,
        respond=respond,
    )


def links_event(
    body: dict, respond: Responder, *, bot_user_id: str | None = None
) -> PaperLinksPosted | None:
    """A ``link_shared`` event: links in an unfurl domain of ours, posted (or being written,
    ``source: composer``) in a channel. None when there is nothing to unfurl."""
    event = body.get("event") or {}
    user_id, channel_id = event.get("user") or "", event.get("channel") or ""
    urls = tuple(
        str(link["url"])
        for link in (event.get("links") or [])[:50]
        if isinstance(link, dict) and isinstance(link.get("url"), str)
    )
    if not (urls and channel_id) or (bot_user_id and user_id == bot_user_id):
        return None
    posted = event.get("source", "conversations_history") == "conversations_history"
    ts = event.get("message_ts") or ""
    channel = channel_ref(_team_of(body), channel_id)
    return PaperLinksPosted(
        channel=channel,
        user=User(PLATFORM, user_id),
        links=urls,
        # A preview in the composer has no message yet: nothing to make votable.
        message=MessageRef(channel, ts) if posted and ts else None,
        respond=respond,
    )


def vote_event(body: dict, respond: Responder) -> VotePressed | None:
    """A press of a 👍 / 👎 button on a linked paper's card (``block_actions``)."""
    action = next(iter(body.get("actions") or []), {})
    pressed = _VOTE_ACTION.fullmatch(str(action.get("action_id") or ""))
    value = {"up": 1, "down": -1}[pressed.group(1)] if pressed else None
    container = body.get("container") or {}
    channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
    user = body.get("user") or {}
    team_id = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    paper_id = action.get("value") or ""
    if value is None or not (channel_id and user.get("id") and paper_id):
        return None
    return VotePressed(
        channel=channel_ref(team_id, channel_id),
        user=User(PLATFORM, user["id"], name=user.get("name") or user.get("username") or ""),
        paper_id=paper_id,
        value=value,
        respond=respond,
    )


def _team_of(body: dict) -> str:
    # Single-workspace installs: the receiving team is the workspace the posts belong to.
    return body.get("team_id") or (body.get("authorizations") or [{}])[0].get("team_id", "")


def delivery_key(body: dict) -> str | None:
    """What stays the same when Slack sends the same thing again.

    Events carry an ``event_id``; a slash command has no id, but its ``trigger_id`` (and
    ``response_url``) belong to that one invocation.
    """
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("command"):
        key = body.get("trigger_id") or body.get("response_url")
        return f"command:{key}" if key else None
    return None
