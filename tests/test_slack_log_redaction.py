"""At LOG_LEVEL=DEBUG, nothing Slack sends leaks a secret into the log.

Slack payloads carry the legacy verification ``token`` and each command's ``response_url``
(a live link that posts into the channel). Bolt logs a badly signed request's whole body and
the SDK logs every webhook URL at DEBUG: paperboy's logging set-up blanks them.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator

import aiohttp
import pytest
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.launch import log_patterns
from adapters.slack.app import SlackAdapter
from bot.config import Settings
from bot.core import Bot
from bot.logs import setup_logging
from tests.fakes.slack import FakeSlack
from tests.isolation import logger_levels_restored  # noqa: F401 (autouse)

HOOK = "https://hooks.slack.com/commands/T0001/1234567890/hookSecretPart42"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield io.StringIO()
    root.handlers[:] = handlers
    root.setLevel(level)


def leaks(output: str, payloads: list[dict]) -> list[str]:
    secrets = [HOOK, "hookSecretPart42"]
    for payload in payloads:
        secrets += [payload["token"], payload["response_url"]]
        secrets.append(payload["response_url"].rsplit("/", 1)[-1])  # the hook's own id
    return sorted({s for s in secrets if s in output})


async def test_debug_logs_show_no_token_or_response_url(
    bot: Bot, settings: Settings, log_output: io.StringIO
) -> None:
    async with FakeSlack() as slack:
        platform = slack.platform(socket_mode=False)
        settings = platform.settings
        # As LOG_LEVEL=DEBUG does: Slack's quiet loggers speak up too.
        setup_logging(
            "DEBUG",
            settings.secrets(),
            log_output,
            patterns=log_patterns([platform]),
            quiet=platform.platform.quiet_loggers,
        )
        adapter = SlackAdapter(bot, settings, http_host="127.0.0.1", post_interval=0.0)
        bot.attach(adapter)
        await adapter.start()
        url = f"http://127.0.0.1:{adapter.http_port}/slack/events"
        good = slack.command_payload("help")
        bad = {**slack.command_payload("help"), "token": "legacy-token-of-the-attacked-app"}
        try:
            body, content_type = slack.encode(bad)
            headers = {"Content-Type": content_type, **slack.sign(body, secret="wrong-secret")}
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, data=body, headers=headers) as response,
            ):
                assert response.status == 401
            await slack.deliver(good, to=url)  # its answer goes to response_url: logged at DEBUG
            await slack.wait_response(good["response_url"])
            # Bolt's own check of a bad signature, as Bolt logs it (request body included).
            hooked = {**bad, "response_url": HOOK}
            body, content_type = slack.encode(hooked)
            verification = AsyncRequestVerification(
                settings.signing_secret, base_logger=logging.getLogger("paperboy.slack.bolt")
            )
            request = AsyncBoltRequest(
                body=body,
                headers={
                    "content-type": content_type,
                    **slack.sign(body, timestamp=int(time.time()), secret="wrong-secret"),
                },
            )
            refused = await verification.async_process(
                req=request, resp=BoltResponse(status=200), next=lambda: None
            )
            assert refused.status == 401
            logging.getLogger("paperboy.test").debug("repr of a payload: %r", hooked)
        finally:
            await adapter.stop()

    output = log_output.getvalue()
    assert "Invalid request signature detected" in output  # Bolt did log the body...
    assert "token=[redacted]" in output and "response_url=[redacted]" in output
    assert leaks(output, [good, bad]) == []  # ...without the secrets in it
    assert settings.signing_secret not in output
