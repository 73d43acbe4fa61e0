"""The recall harness behind ``snapfit eval``: image sets, pairs, exact search, Recall@k and MRR.

``read_image_set`` and ``read_pairs`` read a gallery, a query set and the query → gallery
matches (snapfit's own layout or a LookBench-style export); ``run_evaluation`` embeds both
sets with an ``Encoder`` and scores every query by exact cosine search; ``metrics`` holds
the pure functions that turn ranks into Recall@k and MRR. Nothing here imports torch at
module level, so the command's ``--help`` stays fast.
"""

from __future__ import annotations

from indexer.evaluation.datasets import (
    DatasetError,
    ImageEntry,
    ImageSet,
    read_image_set,
    read_pairs,
)
from indexer.evaluation.metrics import (
    DEFAULT_KS,
    MetricSummary,
    first_positive_ranks,
    summarize,
)
from indexer.evaluation.runner import EvaluationReport, QueryResult, run_evaluation

__all__ = [
    "DEFAULT_KS",
    "DatasetError",
    "EvaluationReport",
    "ImageEntry",
    "ImageSet",
    "MetricSummary",
    "QueryResult",
    "first_positive_ranks",
    "read_image_set",
    "read_pairs",
    "run_evaluation",
    "summarize",
]
