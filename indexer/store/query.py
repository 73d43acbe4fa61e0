"""What a search asks for: one frozen ``SearchQuery``, checked once, when it is made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from indexer.store.filters import SearchFilters
from indexer.store.payload import Categories, check_categories, check_ids, check_vector

MAX_LIMIT = 1000
MAX_OFFSET = 100_000


@dataclass(frozen=True, eq=False)
class SearchQuery:
    """The products closest to ``vector`` (cosine), best first, within the given scope.

    ``categories``: one code or several; a product matches when its category is any of them or below
    one of them ('001' also matches '001004'); stored as a tuple, () meaning every category.
    ``filters``: price range, gender, sold-out (hidden by default; see ``SearchFilters``). ``model_id``, when
    given, must be the index version's model (``ModelMismatchError`` otherwise); the vector's length
    is checked against the version when the search runs.
    """

    vector: np.ndarray
    categories: Categories = None
    limit: int = 10
    offset: int = 0
    exclude_ids: Sequence[int] = ()
    filters: SearchFilters = field(default_factory=SearchFilters)
    model_id: str | None = None

    def __post_init__(self) -> None:
        vector = check_vector(self.vector, None).copy()
        vector.setflags(write=False)
        object.__setattr__(self, "vector", vector)
        object.__setattr__(self, "categories", check_categories(self.categories))
        if not isinstance(self.filters, SearchFilters):
            raise TypeError(f"filters must be SearchFilters, got {type(self.filters).__name__}")
        object.__setattr__(self, "exclude_ids", tuple(check_ids(self.exclude_ids)))
        check_page(self.limit, self.offset)


def check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must be an integer from 0 to {MAX_OFFSET}, got {offset!r}")
