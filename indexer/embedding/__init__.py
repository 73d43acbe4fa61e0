"""The open_clip image encoder: loading, device/precision policy, batching and micro-batching.

``from indexer.embedding import Encoder, MicroBatcher`` imports torch and open_clip; the
error classes are importable without them (``from indexer.embedding.errors import …``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.embedding.errors import EncoderBusyError, EncoderClosedError, EncoderError, EncoderLoadError
from indexer.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from indexer.embedding.batcher import MicroBatcher
    from indexer.embedding.encoder import Encoder
    from indexer.embedding.loading import LoadedModel, load_model

__all__ = [
    "Encoder",
    "EncoderBusyError",
    "EncoderClosedError",
    "EncoderError",
    "EncoderLoadError",
    "LoadedModel",
    "MicroBatcher",
    "load_model",
]

# torch and open_clip take seconds to import: only pay for them when the encoder is used.
__getattr__ = lazy_exports(
    __name__,
    {
        "Encoder": "indexer.embedding.encoder",
        "MicroBatcher": "indexer.embedding.batcher",
        "LoadedModel": "indexer.embedding.loading",
        "load_model": "indexer.embedding.loading",
    },
)
