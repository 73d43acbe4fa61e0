"""SearchQuery and TextQuery: checked once, when they are made, with no catalog involved."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from indexer.store import DEFAULT_FILTERS, DimensionMismatchError, SearchQuery, TextQuery
from indexer.text import SparseTerms, sparse_terms, tokens


def test_a_query_normalises_its_scope_and_keeps_its_own_vector() -> None:
    vector = np.ones(4, dtype=np.float32)
    query = SearchQuery(vector, categories=["001", "001", "002"], exclude_ids=[5, 5, 7], limit=3)
    assert query.categories == ("001", "002")
    assert query.exclude_ids == (5, 7)
    assert SearchQuery(vector, categories="001").categories == ("001",)
    assert SearchQuery(vector).categories == ()
    vector[0] = 9.0  # the caller's array may change; the query's does not
    assert query.vector[0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        query.vector[0] = 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.limit = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"categories": []}, ValueError, "empty list of categories"),
        ({"categories": "tops"}, ValueError, "category code"),
        ({"limit": 0}, ValueError, "limit"),
        ({"offset": -1}, ValueError, "offset"),
        ({"filters": {"max_price": 5}}, TypeError, "filters must be SearchFilters"),
        ({"exclude_ids": [0]}, ValueError, "positive integers"),
        ({"vector": np.zeros(4)}, ValueError, "all zeros"),
        ({"vector": np.full(4, np.nan)}, ValueError, "NaN"),
        ({"vector": np.ones((2, 2))}, DimensionMismatchError, "one-dimensional"),
    ],
)
def test_a_bad_query_is_refused_when_it_is_made(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    fields: dict[str, object] = {"vector": np.ones(4, dtype=np.float32), **changes}
    with pytest.raises(error, match=message):
        SearchQuery(**fields)  # type: ignore[arg-type]


def test_a_text_query_keeps_its_terms_scope_and_own_vector() -> None:
    terms = sparse_terms(tokens("검정 와이드 슬랙스"))
    vector = np.ones(4, dtype=np.float32)
    query = TextQuery(terms, vector, categories=["003", "003"], exclude_ids=[9, 9], limit=5, offset=10)
    assert query.terms == terms and len(terms.indices) == 3
    assert (query.categories, query.exclude_ids, query.filters) == (("003",), (9,), DEFAULT_FILTERS)
    vector[0] = 7.0
    assert query.vector is not None and query.vector[0] == 1.0
    assert TextQuery(terms).vector is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        query.offset = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"terms": SparseTerms((), ())}, ValueError, "at least one search term"),
        ({"terms": ["검정"]}, TypeError, "SparseTerms"),
        ({"terms": SparseTerms((5, 3), (1.0, 1.0))}, ValueError, "ascending"),
        ({"terms": SparseTerms((3,), (0.0,))}, ValueError, "positive"),
        ({"terms": SparseTerms((2**32,), (1.0,))}, ValueError, "32-bit"),
        ({"vector": np.zeros(4)}, ValueError, "all zeros"),
        ({"categories": "tops"}, ValueError, "category code"),
        ({"filters": None}, TypeError, "filters must be SearchFilters"),
        ({"limit": 0}, ValueError, "limit"),
        ({"offset": 995, "limit": 10}, ValueError, "ends at 1000"),
        ({"exclude_ids": [-3]}, ValueError, "positive integers"),
    ],
)
def test_a_bad_text_query_is_refused_when_it_is_made(
    changes: dict[str, object], error: type[Exception], message: str
) -> None:
    fields: dict[str, object] = {"terms": sparse_terms(["바지"]), **changes}
    with pytest.raises(error, match=message):
        TextQuery(**fields)  # type: ignore[arg-type]
