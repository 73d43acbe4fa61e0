"""One open Qdrant Edge shard, used from asyncio through its own single worker thread.

The thread gives strict order (no two engine calls on a shard overlap; ``close`` runs after every
call already submitted), not concurrency: each call holds the GIL, so callers keep calls short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from qdrant_edge import EdgeConfig, EdgeShard

from indexer.store.edge_layout import locked_message, shard_lock_owner
from indexer.store.errors import CatalogClosedError, CatalogError, CatalogLockedError, VersionGoneError

T = TypeVar("T")

WAL_LOCKED = "Can't init WAL: Kind(WouldBlock)"


def edge_error(exc: BaseException, what: str, label: str, root: Path) -> CatalogError:
    """Qdrant Edge raises bare ``Exception``s: name the folder and turn the known ones into advice."""
    message = str(exc)
    if WAL_LOCKED in message:
        return CatalogLockedError(locked_message(root, shard_lock_owner(root)))
    return CatalogError(f"Qdrant Edge failed to {what} (index version {label} in {root}): {message}")


class ShardHandle:
    """An ``EdgeShard`` and the single thread that makes every call to it."""

    def __init__(self, shard: EdgeShard, executor: ThreadPoolExecutor, label: str, root: Path) -> None:
        self._shard = shard
        self._executor = executor
        self._label = label
        self._root = root
        self._closed = False
        self._catalog_closed = False

    @classmethod
    async def open(cls, path: Path, config: EdgeConfig | None, label: str, root: Path) -> ShardHandle:
        """Create the shard (``config`` given) or load an existing one, on its own new thread."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"edge-{label}"[:40])

        def open_shard() -> EdgeShard:
            if config is not None:
                return EdgeShard.create(str(path), config)
            return EdgeShard.load(str(path))

        try:
            shard = await asyncio.get_running_loop().run_in_executor(executor, open_shard)
        except Exception as exc:
            executor.shutdown(wait=False)
            raise edge_error(exc, "create the shard" if config else "open the shard", label, root) from None
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(shard, executor, label, root)

    async def run(self, call: Callable[[EdgeShard], T], what: str) -> T:
        """Run one short engine call on the shard's thread."""
        if self._catalog_closed:
            raise CatalogClosedError("the catalog is closed")
        if self._closed:
            raise VersionGoneError(f"index version {self._label} was closed (replaced by a newer one)")

        def guarded() -> T:
            try:
                return call(self._shard)
            except Exception as exc:
                if type(exc) is Exception:  # the engine's own errors; ours and Python's pass through
                    raise edge_error(exc, what, self._label, self._root) from None
                raise

        return await asyncio.get_running_loop().run_in_executor(self._executor, guarded)

    async def close(self, *, catalog_closed: bool = False) -> None:
        """Flush and close after every call already submitted.

        Later calls raise VersionGoneError (a newer version replaced this one), or
        CatalogClosedError when the whole catalog is being closed.
        """
        self._catalog_closed = self._catalog_closed or catalog_closed
        if self._closed:
            return
        self._closed = True

        def flush_and_close() -> None:
            try:
                self._shard.flush()
            finally:
                self._shard.close()

        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, flush_and_close)
        except Exception as exc:
            raise edge_error(exc, "close the shard", self._label, self._root) from None
        finally:
            self._executor.shutdown(wait=False)
