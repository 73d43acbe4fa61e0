"""Ranks and retrieval metrics: pure numpy, no model, so they can be checked on planted rankings.

The rank of a query is the 1-based position of its best-placed matching gallery image when
the gallery is sorted by descending score; equal scores keep gallery order (a stable sort),
so a result never depends on hardware rounding of exact ties. Recall@k is the share of
queries whose rank is at most k (at least one match in the top k, the definition LookBench
and most retrieval papers use); MRR is the mean of 1/rank over the whole ranking (no cut-off).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_KS = (1, 5, 10, 20)


@dataclass(frozen=True)
class MetricSummary:
    """Recall@k for each k and MRR over ``queries`` queries (fractions in [0, 1])."""

    queries: int
    recall: dict[int, float]
    mrr: float

    def to_json(self) -> dict[str, object]:
        return {
            "queries": self.queries,
            "recall": {str(k): value for k, value in self.recall.items()},
            "mrr": self.mrr,
        }


def first_positive_ranks(scores: np.ndarray, positives: Sequence[np.ndarray]) -> np.ndarray:
    """For each row of ``scores`` (queries × gallery), the 1-based rank of its best positive.

    ``positives[i]`` holds the gallery column indices that match query ``i`` (at least one).
    The result equals sorting each row with ``np.argsort(-row, kind="stable")`` and finding
    the first positive, but costs one pass over the row instead of a sort.
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or len(positives) != scores.shape[0]:
        raise ValueError("scores must be (queries, gallery) with one positive set per query")
    ranks = np.empty(scores.shape[0], dtype=np.int64)
    columns = np.arange(scores.shape[1])
    for row, matches in enumerate(positives):
        matches = np.asarray(matches, dtype=np.int64)
        if matches.size == 0:
            raise ValueError(f"query {row} has no positive")
        line = scores[row]
        best = line[matches].max()
        first = matches[line[matches] == best].min()
        ahead = np.count_nonzero(line > best) + np.count_nonzero((line == best) & (columns < first))
        ranks[row] = 1 + ahead
    return ranks


def summarize(ranks: Iterable[int], ks: Sequence[int] = DEFAULT_KS) -> MetricSummary:
    """Recall@k and MRR of these ranks (1-based); zero queries give zeros, not NaN."""
    values = np.asarray(list(ranks), dtype=np.int64)
    if (values < 1).any():
        raise ValueError("ranks are 1-based")
    if values.size == 0:
        return MetricSummary(0, {k: 0.0 for k in ks}, 0.0)
    recall = {k: float(np.count_nonzero(values <= k)) / values.size for k in ks}
    return MetricSummary(int(values.size), recall, float(np.mean(1.0 / values)))
