"""Text search over one index version: two tiers, paged exactly, on either engine.

Each product stores a sparse "text" vector (term id → count of its name and brand terms; the
engines weigh it by IDF) and the same term ids in its ``text_terms`` payload (an indexed integer
list). A ``TextQuery`` is answered in two tiers:

1. products whose ``text_terms`` hold every query term (a filter: one ``MatchValue`` per term);
2. the others (the same conditions in a nested ``must_not``).

Both engines support these filters, sparse queries and RRF fusion alike (a formula boost would
also work on Edge but ranks only what the prefetches return, so it could not guarantee tier 1).
Within a tier, products are ranked by the sparse (IDF) score, or, when the query carries a
text-tower vector, by reciprocal rank fusion of the sparse list and the nearest image vectors, each
prefetched ``FUSION_DEPTH`` deep under the same filter. Pages are exact: tier 1's length is counted
(sparse only: every match; fused: at most ``FUSION_DEPTH``, the depth of its prefetches), each page
reads a prefix of a tier's ranking, which does not depend on the page, and equal scores are ordered
by product id, newest (highest goodsNo) first; hits are read without payloads, then the page's
products are fetched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from indexer.store.engine import Hit
from indexer.store.query import TextQuery

FUSION_DEPTH = 200  # each prefetch of a fused query; tier 1 of a fused search ends there
RRF_K = 60  # reciprocal rank fusion's constant: 1 / (k + rank)
MAX_TIED = 20_000  # a tier is read this deep at most to order equal scores


def _order(hits: list[Hit]) -> list[Hit]:
    """Best score first; equal scores newest product (highest goodsNo) first."""
    return sorted(hits, key=lambda hit: (-hit[1], -hit[0]))


async def _prefix(tier: Callable[[int], Awaitable[list[Hit]]], end: int) -> list[Hit]:
    """The first ``end`` hits of a tier in ``_order``, the same whatever ``end`` is.

    An engine returns any of several products with equal scores at the cut (one word's matches
    often all score alike): read on until the last score read is below the score at ``end``.
    """
    size = end
    while True:
        hits = await tier(size)
        if len(hits) < size or size >= MAX_TIED:
            break
        ordered = _order(hits)
        if ordered[-1][1] < ordered[end - 1][1]:
            break
        size = min(size * 4, MAX_TIED)
    return _order(hits)[:end]


async def tiered_page(
    query: TextQuery,
    count_first: Callable[[], Awaitable[int]],
    tier: Callable[[bool, int], Awaitable[list[Hit]]],
) -> list[Hit]:
    """The page ``[offset, offset + limit)`` of tier 1 followed by tier 2.

    ``count_first()``: products holding every term; ``tier(every_term, n)``: a tier's first ``n``
    hits (payloads need not be read).
    """
    start, end = query.offset, query.offset + query.limit
    first = await count_first()
    if query.vector is not None:
        first = min(first, FUSION_DEPTH)
    hits: list[Hit] = []
    if start < first:
        stop = min(end, first)
        hits += (await _prefix(lambda n: tier(True, n), stop))[start:stop]
    if end > first:
        skip = max(start, first) - first
        hits += (await _prefix(lambda n: tier(False, n), end - first))[skip:]
    return hits
