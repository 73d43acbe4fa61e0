"""SearchQuery: checked once, when it is made, with no catalog involved."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from indexer.store import DimensionMismatchError, SearchQuery


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
        ({"min_price": 10, "max_price": 5}, ValueError, "above max_price"),
        ({"min_price": -1}, ValueError, "negative"),
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
