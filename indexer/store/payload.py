"""How a Product is stored as a Qdrant payload, and the checks every input passes first.

Both backends store the same payload: the product's own fields plus derived keys that the
engine filters on: ``category_path`` (every ancestor code, so a keyword match on '001' finds
'001004'), ``category_top`` (for per-category counts), ``effective_price`` (the price filter)
and ``fingerprint`` (sync's cheap change detector).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from indexer.product import Product
from indexer.store.catalog import Categories
from indexer.store.errors import CatalogError, DimensionMismatchError

VECTOR_NAME = "image"

# Payload keys with an engine index: (key, kind). Created before the first point is written.
INDEXED_FIELDS: tuple[tuple[str, str], ...] = (
    ("category_path", "keyword"),
    ("category_top", "keyword"),
    ("effective_price", "integer"),
    ("brand", "keyword"),
    ("sold_out", "bool"),
)
REF_FIELDS = ["image_url", "fingerprint"]

_CATEGORY_CODE = re.compile(r"^\d{3}(\d{3}){0,2}$")
MAX_LIMIT = 1000
MAX_OFFSET = 100_000


def product_fingerprint(product: Product) -> str:
    """A short stable hash of the fields that matter to the index (not the crawl time)."""
    canonical = json.dumps(product.index_fields(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def to_payload(product: Product) -> dict[str, Any]:
    payload = product.model_dump(mode="json")
    path = product.category_path
    payload["category_path"] = path
    payload["category_top"] = path[0] if path else product.category
    payload["effective_price"] = product.effective_price
    payload["fingerprint"] = product_fingerprint(product)
    return payload


def from_payload(point_id: int, payload: dict[str, Any] | None) -> Product:
    """The stored product; a payload that no longer parses is reported with its id."""
    try:
        return Product.model_validate(payload or {})
    except ValidationError as exc:
        raise CatalogError(f"stored payload of product {point_id} is not a valid product: {exc}") from None


def check_vector(vector: object, dimension: int) -> np.ndarray:
    """A float32 vector of the right length that cosine distance can use."""
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1:
        raise DimensionMismatchError(f"a vector must be one-dimensional, got shape {array.shape}")
    if array.shape[0] != dimension:
        raise DimensionMismatchError(f"vector has {array.shape[0]} dimensions, the index expects {dimension}")
    if not np.all(np.isfinite(array)):
        raise ValueError("vector contains NaN or infinite values")
    if not np.any(array):
        raise ValueError("vector is all zeros: cosine similarity is undefined for it")
    return array


def check_items(
    items: Sequence[tuple[Product, np.ndarray]], dimension: int
) -> tuple[list[Product], np.ndarray]:
    """Validated products and a (n, dimension) float32 matrix; a repeated id keeps its last item."""
    latest: dict[int, tuple[Product, np.ndarray]] = {}
    for position, item in enumerate(items):
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], Product)):
            raise TypeError(f"item {position} must be a (Product, vector) pair")
        product, vector = item
        try:
            latest[product.id] = (product, check_vector(vector, dimension))
        except ValueError as exc:
            raise type(exc)(f"product {product.id}: {exc}") from None
    products = [product for product, _ in latest.values()]
    matrix = (
        np.stack([vector for _, vector in latest.values()])
        if latest
        else np.empty((0, dimension), dtype=np.float32)
    )
    return products, matrix


def check_products(products: Sequence[Product]) -> list[Product]:
    latest: dict[int, Product] = {}
    for position, product in enumerate(products):
        if not isinstance(product, Product):
            raise TypeError(f"item {position} must be a Product")
        latest[product.id] = product
    return list(latest.values())


def check_ids(ids: Sequence[int]) -> list[int]:
    """Positive integer ids (Musinsa goodsNo), duplicates removed, order kept."""
    if isinstance(ids, (str, bytes)):
        raise TypeError("ids must be a sequence of integers, not a string")
    seen: dict[int, None] = {}
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"product ids are positive integers, got {value!r}")
        seen[int(value)] = None
    return list(seen)


def check_category(category: str | None) -> str | None:
    if category is None:
        return None
    if not isinstance(category, str) or not _CATEGORY_CODE.match(category):
        raise ValueError(f"{category!r} is not a Musinsa category code (3, 6 or 9 digits, e.g. '001')")
    return category


def check_categories(categories: Categories) -> tuple[str, ...]:
    """The codes of ``categories`` in order, each once; () means every category."""
    if categories is None:
        return ()
    if isinstance(categories, str):
        return (check_category(categories) or "",)
    codes = tuple(dict.fromkeys(check_category(code) or "" for code in categories))
    if not codes:
        raise ValueError("an empty list of categories matches nothing: pass None to search every category")
    return codes


@dataclass(frozen=True)
class SearchFilter:
    """Backend-neutral search constraints, validated once; each backend builds its own filter.

    ``categories``: a product matches when its category is any of them or below one of them.
    """

    categories: tuple[str, ...] = ()
    min_price: int | None = None
    max_price: int | None = None
    exclude_ids: tuple[int, ...] = ()

    @classmethod
    def build(
        cls,
        category: Categories = None,
        min_price: int | None = None,
        max_price: int | None = None,
        exclude_ids: Sequence[int] = (),
    ) -> SearchFilter:
        for name, value in (("min_price", min_price), ("max_price", max_price)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            ):
                raise ValueError(f"{name} must be a number of won, got {value!r}")
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        if min_price is not None and max_price is not None and min_price > max_price:
            raise ValueError(f"min_price {min_price} is above max_price {max_price}")
        return cls(check_categories(category), min_price, max_price, tuple(check_ids(exclude_ids)))


def check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must be an integer from 0 to {MAX_OFFSET}, got {offset!r}")
