"""Errors of the embedding side; torch-free so that callers can catch them cheaply."""

from __future__ import annotations

from typing import ClassVar


class EncoderError(Exception):
    """Something the encoder cannot do; ``code`` is stable for callers that map it to texts."""

    code: ClassVar[str] = "encoder_error"


class EncoderLoadError(EncoderError):
    """The model cannot be loaded; the message is one line that says what to change."""

    code = "model_unavailable"


class EncoderBusyError(EncoderError):
    """The micro-batcher's queue is full: the caller should answer 'busy, try again shortly'."""

    code = "busy"


class EncoderClosedError(EncoderError):
    """The micro-batcher is shutting down and takes no new work."""

    code = "closed"
