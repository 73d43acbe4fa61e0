"""How a Product is stored as a Qdrant payload, and the checks every input passes first.

Besides the product's own fields the payload holds the keys the engines filter on:
``category_path`` (every ancestor code, so '001' matches '001004'), ``category_top`` (counts per
category), ``effective_price`` (the price filter), ``text_terms`` (the term ids of the name and
brand: text search ranks products holding every query term first) and ``fingerprint`` (sync's
change detector).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import ValidationError

from indexer.categories import is_category_code
from indexer.product import Product
from indexer.store.errors import CatalogError, DimensionMismatchError
from indexer.text import SparseTerms

# A search's category scope: one code, several (a product in any of them matches), or None (all).
Categories = str | Sequence[str] | None

VECTOR_NAME = "image"
TEXT_VECTOR = "text"  # the sparse vector of the name and brand terms (IDF modifier)
TERMS_FIELD = "text_terms"

# Payload keys with an engine index: (key, kind). Created before the first point is written.
INDEXED_FIELDS: tuple[tuple[str, str], ...] = (
    ("category_path", "keyword"),
    ("category_top", "keyword"),
    ("effective_price", "integer"),
    ("brand", "keyword"),
    ("sold_out", "bool"),
    ("gender", "keyword"),
    (TERMS_FIELD, "integer"),
)
# What sync reads of every stored product: its change detectors, and the price and stock it compares.
REF_FIELDS = ["image_url", "fingerprint", "effective_price", "sold_out"]


def product_fingerprint(product: Product) -> str:
    """A short stable hash of the fields that matter to the index (not the crawl time)."""
    canonical = json.dumps(product.index_fields(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def to_payload(product: Product, terms: SparseTerms | None = None) -> dict[str, Any]:
    """The stored payload; ``terms`` (the product's ``indexer.text.product_terms``) when the version
    has text search."""
    payload = product.model_dump(mode="json")
    path = product.category_path
    payload["category_path"] = path
    payload["category_top"] = path[0] if path else product.category
    payload["effective_price"] = product.effective_price
    if terms is not None:
        payload[TERMS_FIELD] = list(terms.indices)
    payload["fingerprint"] = product_fingerprint(product)
    return payload


def from_payload(point_id: int, payload: dict[str, Any] | None) -> Product:
    """The stored product; a payload that no longer parses is reported with its id."""
    try:
        return Product.model_validate(payload or {})
    except ValidationError as exc:
        raise CatalogError(f"stored payload of product {point_id} is not a valid product: {exc}") from None


def stored_vector(vector: object) -> np.ndarray | None:
    """The image vector of a retrieved point; None when it did not come back (not asked for)."""
    if isinstance(vector, dict) and VECTOR_NAME in vector:
        return np.asarray(vector[VECTOR_NAME], dtype=np.float32)
    return None


def check_vector(vector: object, dimension: int | None) -> np.ndarray:
    """A float32 vector that cosine distance can use, of ``dimension`` values when given."""
    array = np.asarray(vector, dtype=np.float32)
    if array.ndim != 1:
        raise DimensionMismatchError(f"a vector must be one-dimensional, got shape {array.shape}")
    if dimension is not None:
        check_dimension(array, dimension)
    if not np.all(np.isfinite(array)):
        raise ValueError("vector contains NaN or infinite values")
    if not np.any(array):
        raise ValueError("vector is all zeros: cosine similarity is undefined for it")
    return array


def check_dimension(vector: np.ndarray, dimension: int) -> None:
    if vector.shape[0] != dimension:
        raise DimensionMismatchError(
            f"vector has {vector.shape[0]} dimensions, the index expects {dimension}"
        )


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
    if not is_category_code(category):
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
