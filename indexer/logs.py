"""Logging setup shared by every snapfit command: one stream of plain or JSON lines, secrets redacted.

httpx logs every request URL, and Telegram URLs carry the bot token, so the token (and
any other secret handed in) is masked in every record when it is created (``protect_secrets``),
before any handler sees it. Libraries that
install their own stderr handler (Hugging Face's) are routed to snapfit's one handler instead,
so that each of their lines is written once, in snapfit's format.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from indexer.config import LoggingSettings

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


# Loggers of the libraries snapfit uses (PTB is ``telegram``): each writes through snapfit's handler.
LIBRARY_LOGGERS = ("huggingface_hub", "transformers", "httpx", "httpcore", "apscheduler", "telegram")
_routed: set[str] = set()


def route_library_logs(name: str) -> None:
    """Make library ``name`` write through the root logger only: its own handlers go, it propagates.

    Hugging Face's libraries add a stderr handler when they are imported (transformers also stops
    propagation), which printed each of their warnings twice, once as plain text. They are imported
    lazily, after logging is set up, so this runs again when a library's first record is created
    (see ``_record_factory``). Idempotent; a library that is not imported yet is left alone.
    """
    if name == "transformers":
        library = sys.modules.get("transformers.utils.logging")
        if library is None:
            return
        library.disable_default_handler()  # keeps transformers from adding it back
        library.enable_propagation()
    elif name == "huggingface_hub" and "huggingface_hub.utils.logging" not in sys.modules:
        return
    logger = logging.getLogger(name)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = True
    _routed.add(name)


_protected: list[str] = []
_base_factory: Callable[..., logging.LogRecord] | None = None


def protect_secrets(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` in every log record this process creates from now on, whoever writes it.

    The one masking mechanism (``configure_logging`` registers its secrets here too). Libraries log
    some secrets themselves (python-telegram-bot logs its API URL, token included, at DEBUG), and
    handlers besides snapfit's (pytest's log capture, one a deployment adds) write records too:
    masking at record creation covers them all. Each record's message, and a traceback that holds
    a secret, is formatted once, at creation, then masked. Idempotent; secrets shorter than 6
    characters are ignored.
    """
    for secret in secrets:
        if secret and len(secret) >= 6 and secret not in _protected:
            _protected.append(secret)
    _protected.sort(key=len, reverse=True)
    _install_record_factory()


def _install_record_factory() -> None:
    global _base_factory
    if _base_factory is None:
        _base_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_record_factory)


def _redact(text: str) -> str:
    for secret in _protected:
        text = text.replace(secret, "<redacted>")
    return text


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Route a library on its first record (before any handler sees it), then mask the secrets."""
    assert _base_factory is not None
    record = _base_factory(*args, **kwargs)
    library = record.name.partition(".")[0]
    if library in LIBRARY_LOGGERS and library not in _routed:
        route_library_logs(library)
    if not _protected:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string is reported when the record is written
        return record
    # Freeze the message now: libraries pass live objects as arguments and may change them before a
    # handler formats the record (PTB turns a File's path into its download URL, token included).
    record.msg, record.args = _redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        trace = logging.Formatter().formatException(record.exc_info)
        if any(secret in trace for secret in _protected):
            # Keep only the masked text: a formatter given the exception would format it again.
            record.exc_text, record.exc_info = _redact(trace), None
    return record


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any ``extra={...}`` fields kept as keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: LoggingSettings, secrets: Iterable[str] = ()) -> None:
    """Install one stderr handler on the root logger (idempotent: replaces an earlier one).

    ``secrets`` are masked in every record from now on, through ``protect_secrets``.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("snapfit")
    if settings.json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "snapfit":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.level)
    for library in LIBRARY_LOGGERS:
        route_library_logs(library)
    protect_secrets(secrets)  # also routes the libraries imported later, on their first record
    if settings.json_format:
        # Every stderr line is one JSON object: Python warnings become log records, and
        # Hugging Face's download progress bars (read when huggingface_hub is imported) stay off.
        logging.captureWarnings(True)
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    quiet_request_urls()


def quiet_request_urls() -> None:
    """httpx and httpcore log each request URL below WARNING, and Telegram's URLs hold the token."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
