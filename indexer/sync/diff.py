"""Pure decisions of a sync: what changed since the index was written, and what may be removed.

No I/O, so the rules that protect the index are tested directly: ``plan_changes`` (embed,
payload update or nothing), ``removal_safety`` (which crawled categories may count absences)
and ``decide_removals`` (a miss per absent product, removal after ``remove_after_missed``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from indexer.musinsa.models import CategoryCrawl
from indexer.product import Product
from indexer.store.payload import product_fingerprint
from indexer.sync.changes import PriceChange


@dataclass(frozen=True)
class StoredRef:
    """What the diff needs of a stored product."""

    image_url: str
    fingerprint: str
    price: int | None = None  # effective price stored (None: an index written before it was read)
    sold_out: bool | None = None


@dataclass
class SyncPlan:
    new: list[Product] = field(default_factory=list)
    image_changed: list[Product] = field(default_factory=list)
    metadata_changed: list[Product] = field(default_factory=list)
    unchanged: int = 0
    # Stored products whose effective price or sold-out state differs in the crawl (for alerts).
    price_changes: dict[int, PriceChange] = field(default_factory=dict)

    @property
    def to_embed(self) -> list[Product]:
        """Products that need an image download and an embedding, new ones first."""
        return self.new + self.image_changed


def plan_changes(products: Iterable[Product], stored: Mapping[int, StoredRef]) -> SyncPlan:
    plan = SyncPlan()
    for product in products:
        ref = stored.get(product.id)
        if ref is None:
            plan.new.append(product)
        elif ref.image_url != product.image_url:
            plan.image_changed.append(product)
            _note_price_change(plan, ref, product)
        elif ref.fingerprint != product_fingerprint(product):
            plan.metadata_changed.append(product)
            _note_price_change(plan, ref, product)
        else:
            plan.unchanged += 1
    return plan


def price_change(ref: StoredRef, product: Product) -> PriceChange | None:
    """The change of effective price or sold-out state between the stored ref and the crawl, if any."""
    change = PriceChange(product.id, ref.price, product.effective_price, ref.sold_out, product.sold_out)
    return change if change.price_changed or change.stock_changed else None


def _note_price_change(plan: SyncPlan, ref: StoredRef, product: Product) -> None:
    change = price_change(ref, product)
    if change is not None:
        plan.price_changes[product.id] = change


def removal_safety(crawl: CategoryCrawl, indexed: int, min_crawl_ratio: float) -> str | None:
    """None when absences in this category may be counted, else why not (one line)."""
    if not crawl.complete:
        return f"its crawl is incomplete ({crawl.reason})"
    crawled = len(crawl.products)
    if indexed and crawled < min_crawl_ratio * indexed:
        return (
            f"the crawl returned {crawled} products but the index holds {indexed} "
            f"(below min_crawl_ratio = {min_crawl_ratio:g}): a shrunken listing is not trusted"
        )
    return None


def covers(code: str, category: str) -> bool:
    """A crawl of ``code`` lists every product stored under ``category`` (itself or a subcategory)."""
    return category.startswith(code)


@dataclass
class RemovalDecision:
    remove: list[int] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)  # the new miss counters to persist
    missing: int = 0  # absent products counted but kept for now


def decide_removals(
    absent: Mapping[int, str | None],
    *,
    safe_codes: Sequence[str],
    previous: Mapping[int, int],
    remove_after_missed: int,
) -> RemovalDecision:
    """``absent`` maps every stored id missing from the crawl to its stored category (None: unknown).

    Counters of products not in ``absent`` (seen again, or no longer stored) are dropped.
    Counters of absent products that no safe category covers are kept as they are: an
    incomplete crawl is neither a sync in which they were missing nor one in which they were seen.
    """
    decision = RemovalDecision()
    for pid, category in absent.items():
        count = previous.get(pid, 0)
        if category is not None and any(covers(code, category) for code in safe_codes):
            count += 1
            if count >= remove_after_missed:
                decision.remove.append(pid)
                continue
            decision.missing += 1
        if count:
            decision.counts[pid] = count
    decision.remove.sort()
    return decision
