"""Secrets never reach a log line, whichever handler writes it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

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


LIBRARY_PROBE = """
import logging, sys, warnings
from indexer.config import LoggingSettings
from indexer.logs import configure_logging

TOKEN = sys.argv[2]
if sys.argv[1] == "before":
    import huggingface_hub.utils.logging, transformers.utils.logging
configure_logging(LoggingSettings(json_format=True), secrets=[TOKEN])
import huggingface_hub.utils.logging as hub_logging
import transformers.utils.logging as transformers_logging

hub_logging.get_logger("huggingface_hub.file_download").warning("huggingface_hub: %s", "bot" + TOKEN)
transformers_logging.get_logger("transformers.modeling_utils").warning("transformers: bot" + TOKEN)
for name in ("httpx", "apscheduler.scheduler", "telegram.ext.Application"):
    logging.getLogger(name).warning("%s: bot%s", name.partition(".")[0], TOKEN)
warnings.warn("py.warnings: bot" + TOKEN, FutureWarning)
try:
    raise RuntimeError("rejected bot" + TOKEN)
except RuntimeError:
    logging.getLogger("indexer.sync").exception("traceback: bot%s", TOKEN)
"""


@pytest.mark.parametrize("imported", ["before", "after"])
def test_every_library_logs_once_as_json_with_the_token_masked(imported: str) -> None:
    """Each library's warning is one JSON line on the real stderr, whenever the library was imported."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", LIBRARY_PROBE, imported, SECRET],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert SECRET not in done.stderr
    libraries = ("huggingface_hub", "transformers", "httpx", "apscheduler", "telegram", "py.warnings")
    libraries += ("traceback",)  # snapfit's own logger, an exception holding the token
    for library in libraries:
        mine = [entry for entry in entries if library + ": bot<redacted>" in entry["message"]]
        assert len(mine) == 1, f"{library}: {len(mine)} lines in {lines}"
    assert len(entries) == len(libraries)
    assert "RuntimeError: rejected bot<redacted>" in entries[-1]["exception"]
