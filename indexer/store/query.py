"""What a search asks for: one frozen ``SearchQuery`` (a photo) or ``TextQuery`` (words), checked once,
when it is made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from indexer.store.filters import DEFAULT_FILTERS, SearchFilters
from indexer.store.payload import Categories, check_categories, check_ids, check_vector
from indexer.text import SparseTerms

MAX_LIMIT = 1000
MAX_OFFSET = 100_000
MAX_TEXT_RESULTS = 1000  # offset + limit of a text search: its pages end there
MAX_QUERY_TERMS = 64


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


@dataclass(frozen=True, eq=False)
class TextQuery:
    """Products matching words, best first: ``terms`` (``indexer.text.sparse_terms`` of the query's
    ``tokens``) against each product's name and brand terms, weighed by the index's IDF.

    ``vector``, when given (the model's text-tower embedding of a query with Latin words), is also
    searched against the image vectors and the two lists are fused (reciprocal rank fusion), so that
    "black wide pants" finds products named in Korean. Products holding every query term come first,
    then the rest (see ``Catalog.search_text``); ``offset + limit`` may not pass ``MAX_TEXT_RESULTS``.
    ``categories``, ``filters``, ``exclude_ids`` and ``model_id`` are as in ``SearchQuery`` (the model
    guard applies to ``vector``).
    """

    terms: SparseTerms
    vector: np.ndarray | None = None
    categories: Categories = None
    filters: SearchFilters = DEFAULT_FILTERS
    limit: int = 10
    offset: int = 0
    exclude_ids: Sequence[int] = ()
    model_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.terms, SparseTerms):
            raise TypeError(f"terms must be SparseTerms, got {type(self.terms).__name__}")
        if not self.terms:
            raise ValueError("a text query needs at least one search term")
        if len(self.terms.indices) > MAX_QUERY_TERMS:
            raise ValueError(
                f"a text query has at most {MAX_QUERY_TERMS} terms, got {len(self.terms.indices)}"
            )
        if len(self.terms.values) != len(self.terms.indices) or list(self.terms.indices) != sorted(
            set(self.terms.indices)
        ):
            raise ValueError("terms must have unique ascending indices, one value each")
        if not all(isinstance(i, int) and 0 <= i < 2**32 for i in self.terms.indices):
            raise ValueError("term ids are 32-bit unsigned integers")
        if not all(isinstance(v, float) and v > 0 and np.isfinite(v) for v in self.terms.values):
            raise ValueError("term weights must be positive finite floats")
        if self.vector is not None:
            vector = check_vector(self.vector, None).copy()
            vector.setflags(write=False)
            object.__setattr__(self, "vector", vector)
        object.__setattr__(self, "categories", check_categories(self.categories))
        if not isinstance(self.filters, SearchFilters):
            raise TypeError(f"filters must be SearchFilters, got {type(self.filters).__name__}")
        object.__setattr__(self, "exclude_ids", tuple(check_ids(self.exclude_ids)))
        check_page(self.limit, self.offset)
        if self.offset + self.limit > MAX_TEXT_RESULTS:
            raise ValueError(f"a text search ends at {MAX_TEXT_RESULTS} results: offset + limit is above it")
