"""Recall@k and MRR on planted rankings: every expected figure is worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.evaluation import first_positive_ranks, summarize


def test_rank_is_the_position_of_the_best_placed_positive() -> None:
    scores = np.array(
        [
            [0.9, 0.8, 0.7, 0.6, 0.5],  # positive at column 2: two columns ahead → rank 3
            [0.1, 0.9, 0.3, 0.8, 0.2],  # positives 3 and 0: column 3 (0.8) is second → rank 2
            [0.4, 0.3, 0.2, 0.1, 0.95],  # positive is the top score → rank 1
            [0.5, 0.4, 0.3, 0.2, 0.1],  # positive is last → rank 5
        ]
    )
    positives = [np.array([2]), np.array([3, 0]), np.array([4]), np.array([4])]
    assert first_positive_ranks(scores, positives).tolist() == [3, 2, 1, 5]


def test_ties_keep_gallery_order() -> None:
    scores = np.array([[0.5, 0.5, 0.5, 0.2], [0.5, 0.5, 0.5, 0.2], [0.2, 0.5, 0.5, 0.5]])
    positives = [np.array([2]), np.array([1, 2]), np.array([3, 1])]
    # Row 0: columns 0 and 1 tie with the positive and come first in gallery order → 3.
    # Row 1: the earlier tied positive (column 1) counts → 2. Row 2: column 1 is first of the tie → 1.
    assert first_positive_ranks(scores, positives).tolist() == [3, 2, 1]


def test_ranks_equal_a_stable_sort_on_random_scores_with_ties() -> None:
    rng = np.random.default_rng(7)
    scores = np.round(rng.random((40, 60)), 1)  # one decimal: many ties
    positives = [rng.choice(60, size=int(rng.integers(1, 4)), replace=False) for _ in range(40)]
    expected = []
    for row, matches in zip(scores, positives, strict=True):
        order = np.argsort(-row, kind="stable")
        expected.append(1 + min(int(np.flatnonzero(order == column)[0]) for column in matches))
    assert first_positive_ranks(scores, positives).tolist() == expected


def test_recall_and_mrr_of_planted_ranks() -> None:
    summary = summarize([1, 3, 6, 25], ks=(1, 5, 10, 20))
    assert summary.queries == 4
    assert summary.recall == {1: 0.25, 5: 0.5, 10: 0.75, 20: 0.75}
    assert summary.mrr == pytest.approx((1 + 1 / 3 + 1 / 6 + 1 / 25) / 4, abs=1e-15)


def test_recall_counts_rank_equal_to_k_as_a_hit() -> None:
    summary = summarize([5, 10, 11], ks=(5, 10))
    assert summary.recall == {5: pytest.approx(1 / 3), 10: pytest.approx(2 / 3)}


def test_no_queries_give_zeros_not_nan() -> None:
    summary = summarize([], ks=(1, 5))
    assert summary.queries == 0 and summary.recall == {1: 0.0, 5: 0.0} and summary.mrr == 0.0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="1-based"):
        summarize([0, 1])
    with pytest.raises(ValueError, match="no positive"):
        first_positive_ranks(np.zeros((1, 3)), [np.array([], dtype=np.int64)])
    with pytest.raises(ValueError, match="one positive set per query"):
        first_positive_ranks(np.zeros((2, 3)), [np.array([0])])
