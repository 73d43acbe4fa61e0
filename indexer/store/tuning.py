"""The HNSW graph settings and search widths both engines use, so that filtered search stays exact.

A filter matching fewer points of a segment than ``FULL_SCAN_KB`` of float32 vectors (60 000 KB =
20 000 768-d vectors) is answered by a full scan of those points, not the graph; at 100k products
that covers a top-level category and every narrower filter, where the graph alone lost recall at
Qdrant's default threshold (10 000 KB). Filters that match more use the graph, with per-value payload
links (``PAYLOAD_M``; the payload indexes exist before the build), searched wider when a shopper
filter (category, price, gender) leaves 20-40 % of the points. Figures: BENCHMARKS.md
(``python -m bench.store``). The graph settings apply to index versions created from now on; an
existing version keeps its own (the search width applies at once).
"""

from __future__ import annotations

from indexer.store.query import SearchQuery

HNSW_M = 16
HNSW_EF_CONSTRUCT = 100
HNSW_PAYLOAD_M = 16
FULL_SCAN_KB = 60_000
HNSW_EF = 256  # no filter, or only sold-out hidden (about 90 % of the points)
HNSW_EF_FILTERED = 512  # a category, price or gender filter


def search_ef(query: SearchQuery) -> int:
    """The graph search's width: wider when a shopper filter leaves part of the graph unreachable,
    and never below the results asked for."""
    narrowed = bool(query.categories) or query.filters.has_price or query.filters.gender is not None
    return max(HNSW_EF_FILTERED if narrowed else HNSW_EF, query.limit + query.offset)
