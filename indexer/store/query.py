"""What a search asks for: one frozen ``SearchQuery``, checked once, when it is made."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from indexer.store.payload import Categories, check_categories, check_ids, check_vector

MAX_LIMIT = 1000
MAX_OFFSET = 100_000


@dataclass(frozen=True, eq=False)
class SearchQuery:
    """The products closest to ``vector`` (cosine), best first, within the given scope.

    ``categories``: one code or several; a product matches when its category is any of them or below
    one of them ('001' also matches '001004'); stored as a tuple, () meaning every category.
    ``min_price``/``max_price`` bound ``Product.effective_price`` (inclusive). ``model_id``, when
    given, must be the index version's model (``ModelMismatchError`` otherwise); the vector's length
    is checked against the version when the search runs.
    """

    vector: np.ndarray
    categories: Categories = None
    limit: int = 10
    offset: int = 0
    exclude_ids: Sequence[int] = ()
    min_price: int | None = None
    max_price: int | None = None
    model_id: str | None = None

    def __post_init__(self) -> None:
        vector = check_vector(self.vector, None).copy()
        vector.setflags(write=False)
        object.__setattr__(self, "vector", vector)
        object.__setattr__(self, "categories", check_categories(self.categories))
        check_prices(self.min_price, self.max_price)
        object.__setattr__(self, "exclude_ids", tuple(check_ids(self.exclude_ids)))
        check_page(self.limit, self.offset)


def check_prices(min_price: int | None, max_price: int | None) -> None:
    for name, value in (("min_price", min_price), ("max_price", max_price)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
        ):
            raise ValueError(f"{name} must be a number of won, got {value!r}")
        if value is not None and value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ValueError(f"min_price {min_price} is above max_price {max_price}")


def check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must be an integer from 0 to {MAX_OFFSET}, got {offset!r}")
