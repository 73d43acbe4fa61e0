"""The pure rules of a sync (diff, removal safety, rebuild verdict) and its state files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from indexer.config import SyncSettings
from indexer.musinsa.crawl import CatalogCrawl
from indexer.musinsa.models import CategoryCrawl
from indexer.store import product_fingerprint
from indexer.sync import MissCounters, SyncSummary, load_last_summary, plan_changes, rebuild_verdict
from indexer.sync.diff import StoredRef, covers, decide_removals, removal_safety
from indexer.sync.state import atomic_write_json
from indexer.sync.summary import CategoryReport, ImageFailure, save_last_summary
from tests.store.conftest import make_product


def ref(product: object) -> StoredRef:
    return StoredRef(product.image_url, product_fingerprint(product))  # type: ignore[attr-defined]


def test_plan_sorts_products_into_new_image_changed_metadata_changed_and_unchanged() -> None:
    same, cheaper, new_photo, brand_new = (make_product(pid) for pid in (1, 2, 3, 4))
    stored = {p.id: ref(p) for p in (same, cheaper, new_photo)}
    stored[99] = ref(make_product(99))  # stored but not crawled: not the diff's business
    crawled = [
        same.model_copy(update={"crawled_at": datetime.now(UTC)}),  # a new crawl time changes nothing
        cheaper.model_copy(update={"price": cheaper.price - 100}),
        new_photo.model_copy(update={"image_url": new_photo.image_url + "?v=2", "price": 1}),
        brand_new,
    ]
    plan = plan_changes(crawled, stored)
    assert [p.id for p in plan.new] == [4]
    assert [p.id for p in plan.image_changed] == [3]
    assert [p.id for p in plan.metadata_changed] == [2]
    assert plan.unchanged == 1
    assert [p.id for p in plan.to_embed] == [4, 3]


@pytest.mark.parametrize(
    ("code", "category", "covered"),
    [("001", "001004", True), ("001", "001", True), ("001004", "001", False), ("001", "002001", False)],
)
def test_a_parent_code_covers_its_children_only(code: str, category: str, covered: bool) -> None:
    assert covers(code, category) is covered


def crawl_of(code: str, count: int, *, complete: bool = True) -> CategoryCrawl:
    products = [make_product(1000 + i, category=code) for i in range(count)]
    reason = None if complete else "page 2 failed: HTTP 503"
    return CategoryCrawl(code=code, products=products, complete=complete, reason=reason, finished=True)


def test_removal_safety_needs_a_complete_crawl_of_a_plausible_size() -> None:
    assert removal_safety(crawl_of("001", 50), indexed=100, min_crawl_ratio=0.5) is None
    assert removal_safety(crawl_of("001", 5), indexed=0, min_crawl_ratio=0.5) is None
    shrunk = removal_safety(crawl_of("001", 49), indexed=100, min_crawl_ratio=0.5)
    assert shrunk is not None and "returned 49 products but the index holds 100" in shrunk
    incomplete = removal_safety(crawl_of("001", 100, complete=False), indexed=100, min_crawl_ratio=0.5)
    assert incomplete == "its crawl is incomplete (page 2 failed: HTTP 503)"


def test_decide_removals_counts_consecutive_misses_in_safe_categories_only() -> None:
    absent = {1: "001004", 2: "001", 3: "002001", 4: None}
    decision = decide_removals(
        absent,
        safe_codes=["001"],
        previous={1: 1, 3: 1, 4: 1, 7: 3},  # 7 was seen again (not absent): its count goes
        remove_after_missed=2,
    )
    assert decision.remove == [1]  # second miss
    assert decision.counts == {2: 1, 3: 1, 4: 1}  # 3 and 4 not covered: kept as they were
    assert decision.missing == 1


def test_miss_counters_survive_a_reload_and_ignore_a_damaged_file(tmp_path: Path) -> None:
    counters = MissCounters.load(tmp_path)
    assert counters.counts == {}
    counters.save({5: 1, 6: 0, 7: 2})
    assert MissCounters.load(tmp_path).counts == {5: 1, 7: 2}
    counters.path.write_text('{"missing": {"5": 1', encoding="utf-8")  # torn by hand
    assert MissCounters.load(tmp_path).counts == {}
    counters.path.write_text('{"missing": {"5": "x", "abc": 1, "8": 2}}', encoding="utf-8")
    assert MissCounters.load(tmp_path).counts == {8: 2}


def test_an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "state" / "x.json"
    atomic_write_json(path, {"a": 1})

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        atomic_write_json(path, {"a": Unserialisable()})
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": 1}
    assert [item.name for item in path.parent.iterdir()] == ["x.json"]


def summary_with(**values: object) -> SyncSummary:
    summary = SyncSummary(started_at=datetime(2026, 5, 1, 19, 0, tzinfo=UTC), model_id="m", **values)  # type: ignore[arg-type]
    return summary


def catalog_crawl(*complete: bool) -> CatalogCrawl:
    return CatalogCrawl(categories=[crawl_of(f"00{i + 1}", 10, complete=c) for i, c in enumerate(complete)])


@pytest.mark.parametrize(
    ("summary", "crawl", "built", "live", "live_count", "verdict"),
    [
        (summary_with(crawled=100), catalog_crawl(True), 100, True, 100, None),
        (summary_with(crawled=100), catalog_crawl(False), 5, False, 0, None),  # the first index
        (summary_with(crawled=100, error="boom"), catalog_crawl(True), 90, False, 0, "the run ended early"),
        (summary_with(crawled=100), catalog_crawl(True), 0, False, 0, "it holds no products yet"),
        (summary_with(crawled=100), catalog_crawl(True, False), 100, True, 100, "did not complete"),
        (summary_with(crawled=100, failed=3), catalog_crawl(True), 97, True, 100, "3 of 100 images failed"),
        (summary_with(crawled=100, failed=2), catalog_crawl(True), 98, True, 100, None),
        (summary_with(crawled=40), catalog_crawl(True), 40, True, 100, "holds 40 products against 100"),
    ],
)
def test_rebuild_verdict(
    summary: SyncSummary, crawl: CatalogCrawl, built: int, live: bool, live_count: int, verdict: str | None
) -> None:
    result = rebuild_verdict(
        summary, crawl, built=built, live=live, live_count=live_count, settings=SyncSettings()
    )
    if verdict is None:
        assert result is None
    else:
        assert result is not None and verdict in result


def test_summary_json_has_the_design_keys_first_and_reads_back(tmp_path: Path) -> None:
    summary = summary_with(crawled=10, added=4, updated=2, unchanged=3, embedded=5)
    summary.categories.append(CategoryReport(code="001", crawled=10, complete=True, removals_checked=True))
    summary.record_failure(ImageFailure(7, "decode", "corrupt: broken"))
    summary.finish(summary.started_at + timedelta(seconds=2.5))
    data = summary.to_json()
    assert list(data)[:7] == ["crawled", "added", "updated", "unchanged", "removed", "failed", "seconds"]
    assert (data["seconds"], data["failed"], data["images_per_second"], data["ok"]) == (2.5, 1, 2.0, True)
    json.dumps(data)  # serialisable as is
    save_last_summary(tmp_path, summary)
    loaded = load_last_summary(tmp_path)
    assert loaded == summary
    assert "10 crawled, 4 added, 2 updated, 3 unchanged, 0 removed, 1 failed in 2.5 s" in summary.headline()
    assert "product 7: decode failed: corrupt: broken" in summary.notes()


def test_a_damaged_last_summary_reads_as_none(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "last_sync.json").write_text('{"crawled": 1}', encoding="utf-8")
    assert load_last_summary(tmp_path) is None
    assert load_last_summary(tmp_path / "nowhere") is None
