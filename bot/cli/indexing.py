"""Opening the index and the encoder for the indexing commands, with one clear line on failure.

Heavy imports (qdrant, torch, open_clip) happen inside the functions, so ``snapfit --help``
stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli import fail

if TYPE_CHECKING:
    from indexer.config import ModelSettings, StoreSettings
    from indexer.embedding import Encoder
    from indexer.store import Catalog


def never_built(settings: StoreSettings) -> bool:
    """No store server and no store folder: nothing was ever indexed, and opening would create the folder.

    The read-only commands (``stats``, ``search``, ``similar``) answer "empty" without opening it.
    """
    return not settings.url and not Path(settings.path).expanduser().exists()


async def open_store(settings: StoreSettings) -> Catalog:
    """The catalog, or exit 1 with the store's message (folder locked by another process, server down)."""
    from indexer.store import CatalogError, open_catalog

    try:
        return await open_catalog(settings)
    except CatalogError as exc:
        raise fail(str(exc)) from None


def load_encoder(settings: ModelSettings) -> Encoder:
    """The configured encoder, or exit 1 with the loader's one-line message."""
    from indexer.embedding import Encoder, EncoderLoadError

    try:
        return Encoder.from_settings(settings)
    except EncoderLoadError as exc:
        raise fail(str(exc)) from None
