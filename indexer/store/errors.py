"""Errors of the product index, each with a message an operator can act on.

Both engines translate their errors into these, so callers (the bot, sync, the CLI) handle one
set of types whether the index is embedded (Qdrant Edge) or a Qdrant server.
"""

from __future__ import annotations


class CatalogError(Exception):
    """Base class: something about the product index went wrong; the message says what to do."""


class CatalogLockedError(CatalogError):
    """Another process (or another catalog object in this process) owns the Edge folder."""


class CatalogClosedError(CatalogError):
    """The catalog (or rebuild) was closed; open a new one."""


class StoreUnavailableError(CatalogError):
    """The Qdrant server cannot be reached or refused the request."""


class NoIndexError(CatalogError):
    """There is no index version yet: writes need one, started with ``begin_rebuild``."""


class DimensionMismatchError(CatalogError, ValueError):
    """A vector's length differs from the dimension of the index version it is used with."""


class ModelMismatchError(CatalogError):
    """A vector made by one embedding model was offered to an index built with another."""


class ProductNotFoundError(CatalogError, LookupError):
    """The product is not stored in the current index version."""

    def __init__(self, product_id: int) -> None:
        super().__init__(f"product {product_id} is not in the index")
        self.product_id = product_id


class RebuildInProgressError(CatalogError):
    """Only one rebuild at a time may be open on a catalog."""


class VersionGoneError(CatalogError):
    """The version this process was using has been removed (another process switched and cleaned up)."""


class TextIndexMissingError(CatalogError):
    """The index version predates text search (no sparse vectors yet): the next sync adds them."""
