"""Saved products: saving a shown result (⭐) and reading one page of ``/saved`` with today's prices.

No Telegram here: the handlers (``bot.handlers.saved``) answer from these outcomes, and
``bot.saved_render`` draws a page. A saved row keeps only the product id, the price it had then and
whether it was sold out; the name, brand, link and the price now come from the catalog at the time
``/saved`` is shown, for the page's ids only. A product the index no longer holds is "gone" (listed
until the user removes it); when the catalog cannot answer at all (no index yet, a server down)
the page still lists the saved rows, with their state "unknown".
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.userdata import SavedLimitError, SavedProduct, UserStore
from indexer.product import Product
from indexer.store import Catalog, CatalogError

log = logging.getLogger(__name__)

SAVED_LIMIT = 200  # saved products per user (the limit)
PAGE_SIZE = 5  # saved products per /saved page

SaveOutcome = Literal["saved", "already", "full", "gone"]
ItemState = Literal["listed", "gone", "unknown"]


class CatalogUnavailableError(Exception):
    """The catalog could not say what a product costs now (no index, or its store failed)."""


async def current_products(catalog: Catalog, ids: Sequence[int]) -> dict[int, Product]:
    """The indexed products among ``ids``, by id (missing ids: gone from the index).

    Raises ``CatalogUnavailableError`` when there is no index to ask, or asking failed."""
    if catalog.version is None:
        raise CatalogUnavailableError("nothing is indexed")
    try:
        stored = await catalog.get(list(ids))
    except CatalogError as exc:
        log.warning("saved products: the catalog cannot be read: %s", exc)
        raise CatalogUnavailableError(str(exc)) from exc
    return {item.product.id: item.product for item in stored}


@dataclass(frozen=True)
class Saved:
    """The outcome of a ⭐ press, and the product when the catalog still has it."""

    outcome: SaveOutcome
    product: Product | None = None


async def save_product(store: UserStore, catalog: Catalog, user_id: int, product_id: int) -> Saved:
    """Save ``product_id`` for the user with its price now (what the shopper pays) and sold-out state.

    Raises ``UserStoreError`` (the store failed) or ``CatalogUnavailableError``."""
    product = (await current_products(catalog, [product_id])).get(product_id)
    if product is None:
        return Saved("gone")
    try:
        added = await store.save_product(
            user_id,
            product_id,
            price=product.effective_price,
            sold_out=product.sold_out,
            limit=SAVED_LIMIT,
        )
    except SavedLimitError:
        return Saved("full", product)
    return Saved("saved" if added else "already", product)


@dataclass(frozen=True)
class SavedItem:
    """One row of a /saved page: its number in the whole list (``number``, from 1), what was saved,
    and the product as the catalog has it now (None when gone or unknown)."""

    number: int
    saved: SavedProduct
    product: Product | None
    state: ItemState


@dataclass(frozen=True)
class SavedPage:
    """Page ``page`` (from 1) of ``pages`` of a user's saved products, ``total`` in all."""

    user_id: int
    items: tuple[SavedItem, ...]
    page: int
    pages: int
    total: int

    @property
    def first(self) -> int:
        return self.items[0].number if self.items else 0

    @property
    def last(self) -> int:
        return self.items[-1].number if self.items else 0


def page_count(total: int, page_size: int = PAGE_SIZE) -> int:
    return max(1, -(-total // page_size))


async def load_page(
    store: UserStore, catalog: Catalog, user_id: int, page: int, *, page_size: int = PAGE_SIZE
) -> SavedPage:
    """Page ``page`` of the user's saved products, newest first; a page past the end gives the last
    one (after a removal emptied it). Raises ``UserStoreError``."""
    total = await store.saved_count(user_id)
    pages = page_count(total, page_size)
    page = min(max(page, 1), pages)
    offset = (page - 1) * page_size
    rows = await store.saved_products(user_id, limit=page_size, offset=offset)
    products: dict[int, Product] | None
    try:
        products = await current_products(catalog, [row.product_id for row in rows])
    except CatalogUnavailableError:
        products = None
    items = []
    for number, row in enumerate(rows, start=offset + 1):
        if products is None:
            items.append(SavedItem(number, row, None, "unknown"))
        else:
            product = products.get(row.product_id)
            items.append(SavedItem(number, row, product, "listed" if product else "gone"))
    return SavedPage(user_id, tuple(items), page, pages, max(total, len(rows)))
