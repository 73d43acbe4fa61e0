"""An in-memory catalog holding one product: a live index that health checks do not call empty."""

from __future__ import annotations

import numpy as np

from indexer.config import StoreSettings
from indexer.store import Catalog, open_catalog
from tests.store.conftest import make_product

DIMENSION = 8


async def open_stocked_catalog(settings: StoreSettings | None = None) -> Catalog:
    catalog = await open_catalog(settings or StoreSettings(url=":memory:"))
    rebuild = await catalog.begin_rebuild("stand-in@fp32", "stand-in", DIMENSION)
    vector = np.ones(DIMENSION, dtype=np.float32)
    await rebuild.upsert([(make_product(1), vector)], model_id="stand-in@fp32")
    await rebuild.commit()
    return catalog
