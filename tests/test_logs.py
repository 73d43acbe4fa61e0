"""Secrets never reach a log line, whichever handler writes it."""

from __future__ import annotations

import logging

import pytest

from indexer.logs import protect_secrets

SECRET = "987654:very-secret-bot-token"


def test_protected_secrets_are_masked_for_every_handler(caplog: pytest.LogCaptureFixture) -> None:
    protect_secrets([SECRET, "", "short"])
    log = logging.getLogger("some.library")
    payload = {"url": "http://127.0.0.1/bot" + "987654:harmless"}
    with caplog.at_level(logging.DEBUG):
        log.debug("calling %s", f"https://api.telegram.org/bot{SECRET}/getMe")
        log.info("result %s", payload)
        payload["url"] = f"http://127.0.0.1/file/bot{SECRET}/photos/1.jpg"  # changed after logging
        try:
            raise RuntimeError(f"rejected token {SECRET}")
        except RuntimeError:
            log.exception("startup failed")
        log.info("a short one: short")
    records = caplog.records
    assert records[0].getMessage() == "calling https://api.telegram.org/bot<redacted>/getMe"
    assert "987654:harmless" in records[1].getMessage()  # the message was frozen when it was logged
    assert SECRET not in caplog.text
    assert "rejected token <redacted>" in caplog.text
    assert all(SECRET not in str(vars(record)) for record in records[:2])
    assert caplog.records[-1].getMessage().endswith("short")  # too short to be masked safely
