"""Bad nights: crawler faults, broken images, crashes mid-run, robots.txt refusals and blocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from indexer.config import Settings
from indexer.store import Catalog
from indexer.sync import load_last_summary, run_sync
from tests.fakes.musinsa import IMAGE_PATH, LISTING_PATH, MUSINSA_ROBOTS, FakeMusinsa, Fault
from tests.sync.conftest import (
    COUNT,
    CountingEncoder,
    assert_matches_fake,
    contents,
    expected_ids,
    expected_vector,
    make_config,
    stored_vector,
)


class CrashingCatalog:
    """The real catalog, except that its ``crash_on``-th upsert raises (a crash between batches)."""

    def __init__(self, inner: Catalog, crash_on: int) -> None:
        self.inner = inner
        self.crash_on = crash_on
        self.upserts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def version(self) -> Any:
        return self.inner.version

    async def upsert(self, items: Any, *, model_id: str | None = None) -> int:
        self.upserts += 1
        if self.upserts >= self.crash_on:
            raise RuntimeError("injected crash in the store")
        return await self.inner.upsert(items, model_id=model_id)


def serve_corrupt_image(fake: FakeMusinsa, pid: int) -> None:
    """Make the fake CDN answer the product's image URL with a JPEG header and garbage (image/*)."""
    product = fake.catalog.get(pid)
    fmt = "PNG" if product.image_path.endswith(".png") else "JPEG"
    fake._images[(product.image_seed, product.image_ts, fmt)] = b"\xff\xd8\xff\xe0" + bytes(range(200))


async def test_thirty_percent_crawler_faults_give_the_same_index(
    fake: FakeMusinsa, catalog: Catalog, tmp_path: Path, tiny_model_dir: Path, tiny_encoder: Any
) -> None:
    faults = [Fault.throttled("0"), Fault.http(500), Fault.http(502), Fault.http(503)]
    fake.faults.random(0.3, faults, seed=11)  # listing pages, robots.txt and images alike
    config = make_config(fake, tmp_path / "data", tiny_model_dir, musinsa={"max_retries": 12})
    encoder = CountingEncoder(tiny_encoder)

    summary = await run_sync(config, catalog=catalog, encoder=encoder)

    assert sum(1 for r in fake.requests if r.fault is not None) > 10
    assert summary.ok, summary.error
    assert (summary.added, summary.failed) == (COUNT, 0)
    assert all(report.complete for report in summary.categories)
    stored = await contents(catalog)
    assert_matches_fake(stored, fake)
    for pid in list(stored)[:5]:
        np.testing.assert_allclose(
            await stored_vector(catalog, pid), expected_vector(tiny_encoder, fake, pid), atol=1e-5
        )


async def test_one_bad_shape_listing_page_is_retried_and_leaves_no_category_stale(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings
) -> None:
    fake.faults.next(Fault.changed_shape(), match=LISTING_PATH)
    fake.faults.next(Fault.malformed_json(), match=LISTING_PATH)

    summary = await run_sync(config, catalog=catalog, encoder=encoder)

    assert summary.ok, summary.error
    assert all(report.complete and report.removals_skipped is None for report in summary.categories)
    assert sum(1 for r in fake.requests_to(LISTING_PATH) if r.fault is not None) == 2


async def test_image_failures_are_counted_skipped_and_recovered_next_run(
    fake: FakeMusinsa, catalog: Catalog, tmp_path: Path, tiny_model_dir: Path, tiny_encoder: Any
) -> None:
    config = make_config(
        fake, tmp_path / "data", tiny_model_dir, musinsa={"placeholder_sha256": [fake.placeholder_sha256]}
    )
    missing, placeholder, corrupt = sorted(fake.catalog.ids())[:3]
    fake.faults.next(Fault.http(404), times=50, match=fake.catalog.get(missing).image_path)
    fake.placeholder_goods.add(placeholder)
    serve_corrupt_image(fake, corrupt)
    encoder = CountingEncoder(tiny_encoder)

    first = await run_sync(config, catalog=catalog, encoder=encoder)

    assert first.ok, first.error  # failed images never stop a sync
    assert (first.failed, first.added) == (3, COUNT - 3)
    assert first.committed  # the first index goes live even with a few failures
    stages = {failure.product_id: failure.stage for failure in first.failures}
    assert stages == {missing: "download", placeholder: "download", corrupt: "decode"}
    assert set(await contents(catalog)) == expected_ids(fake) - {missing, placeholder, corrupt}
    assert "placeholder" in next(f.message for f in first.failures if f.product_id == placeholder)

    fake.faults.clear()
    fake.placeholder_goods.clear()
    fake._images.clear()
    encoder.images = 0
    second = await run_sync(config, catalog=catalog, encoder=encoder)

    assert second.ok and (second.failed, second.added, encoder.images) == (0, 3, 3)
    assert_matches_fake(await contents(catalog), fake)
    np.testing.assert_allclose(
        await stored_vector(catalog, corrupt), expected_vector(tiny_encoder, fake, corrupt), atol=1e-5
    )


async def test_a_failed_image_change_keeps_the_old_vector_until_it_succeeds(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings, tiny_encoder: Any
) -> None:
    await run_sync(config, catalog=catalog, encoder=encoder)
    pid = sorted(fake.catalog.ids())[7]
    old_vector = await stored_vector(catalog, pid)
    old_url = (await catalog.get([pid]))[0].product.image_url
    fake.catalog.change_image(pid)
    serve_corrupt_image(fake, pid)

    failed = await run_sync(config, catalog=catalog, encoder=encoder)
    assert failed.failed == 1 and failed.updated == 0
    [kept] = await catalog.get([pid], with_vectors=True)
    assert kept.product.image_url == old_url
    np.testing.assert_array_equal(np.asarray(kept.vector), old_vector)

    fake._images.clear()
    fixed = await run_sync(config, catalog=catalog, encoder=encoder)
    assert (fixed.failed, fixed.reembedded) == (0, 1)
    np.testing.assert_allclose(
        await stored_vector(catalog, pid), expected_vector(tiny_encoder, fake, pid), atol=1e-5
    )


async def test_an_encoder_crash_mid_rebuild_resumes_without_reembedding(
    fake: FakeMusinsa, catalog: Catalog, config: Settings, tiny_encoder: Any
) -> None:
    crashing = CountingEncoder(tiny_encoder, crash_on_call=3)  # chunks of 4: two are stored first
    crashed = await run_sync(config, catalog=catalog, encoder=crashing)
    assert crashed.error is not None and "injected crash" in crashed.error
    assert not crashed.committed and catalog.version is None  # nothing half-built is served
    assert crashed.added == 8
    assert all(report.removals_skipped == "the run ended early" for report in crashed.categories)
    saved = load_last_summary(config.data.dir)
    assert saved is not None and saved.error == crashed.error

    encoder = CountingEncoder(tiny_encoder)
    resumed = await run_sync(config, catalog=catalog, encoder=encoder)
    assert resumed.ok and resumed.committed
    assert encoder.images == COUNT - 8  # what the crashed run stored is not embedded again
    assert (resumed.added, resumed.unchanged) == (COUNT - 8, 8)
    assert_matches_fake(await contents(catalog), fake)


async def test_a_store_crash_between_batches_then_a_clean_run_completes(
    fake: FakeMusinsa, catalog: Catalog, tmp_path: Path, tiny_model_dir: Path, tiny_encoder: Any
) -> None:
    data = tmp_path / "data"
    await run_sync(
        make_config(fake, data, tiny_model_dir, categories=["002"]),
        catalog=catalog,
        encoder=CountingEncoder(tiny_encoder),
    )
    config = make_config(fake, data, tiny_model_dir)
    crashing = CrashingCatalog(catalog, crash_on=3)
    crashed = await run_sync(config, catalog=crashing, encoder=CountingEncoder(tiny_encoder))  # type: ignore[arg-type]
    assert crashed.error is not None and "injected crash in the store" in crashed.error
    assert crashed.added == 8 and crashed.removed == 0
    tops = len(fake.listing_ids("001"))
    assert len(await contents(catalog)) == len(fake.listing_ids("002")) + 8

    encoder = CountingEncoder(tiny_encoder)
    finished = await run_sync(config, catalog=catalog, encoder=encoder)
    assert finished.ok and encoder.images == tops - 8
    assert_matches_fake(await contents(catalog), fake)


async def test_a_robots_refusal_leaves_the_index_untouched(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings
) -> None:
    await run_sync(config, catalog=catalog, encoder=encoder)
    before = await contents(catalog)
    fake.robots_txt = MUSINSA_ROBOTS
    gone, cheaper = sorted(fake.catalog.ids())[:2]
    fake.catalog.remove(gone)
    fake.catalog.set_price(cheaper, 1000)
    encoder.calls = 0
    listing_requests = len(fake.requests_to(LISTING_PATH))

    summary = await run_sync(config, catalog=catalog, encoder=encoder)

    assert summary.error is not None and "robots.txt" in summary.error
    assert "the index was not changed" in summary.error
    assert encoder.calls == 0 and summary.crawled == 0
    assert len(fake.requests_to(LISTING_PATH)) == listing_requests  # refused before asking
    assert await contents(catalog) == before


async def test_a_blocked_crawl_stops_before_touching_the_index(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, tmp_path: Path, tiny_model_dir: Path
) -> None:
    config = make_config(
        fake, tmp_path / "data", tiny_model_dir, musinsa={"max_retries": 1, "max_consecutive_blocks": 3}
    )
    await run_sync(config, catalog=catalog, encoder=encoder)
    before = await contents(catalog)
    fake.catalog.remove(sorted(fake.catalog.ids())[0])
    fake.catalog.set_price(sorted(fake.catalog.ids())[0], 1000)
    fake.faults.next(Fault.forbidden(), times=1000, match=LISTING_PATH)
    images_before = len(fake.requests_to(IMAGE_PATH))

    summary = await run_sync(config, catalog=catalog, encoder=encoder)

    assert summary.error is not None and "blocked" in summary.error
    assert "without changing the index" in summary.error
    assert await contents(catalog) == before
    assert len(fake.requests_to(IMAGE_PATH)) == images_before


async def test_a_blocked_image_host_stops_downloads_and_the_next_run_finishes(
    fake: FakeMusinsa, catalog: Catalog, tmp_path: Path, tiny_model_dir: Path, tiny_encoder: Any
) -> None:
    config = make_config(
        fake, tmp_path / "data", tiny_model_dir, musinsa={"max_retries": 1, "max_consecutive_blocks": 3}
    )
    fake.faults.next(Fault.forbidden(), times=10_000, match=IMAGE_PATH)
    blocked = await run_sync(config, catalog=catalog, encoder=CountingEncoder(tiny_encoder))
    assert blocked.error is not None and blocked.error.startswith("image downloads stopped")
    assert blocked.added == 0 and catalog.version is None
    # The block is respected: a handful of requests, not one per product.
    assert len(fake.requests_to(IMAGE_PATH)) < COUNT

    fake.faults.clear()
    encoder = CountingEncoder(tiny_encoder)
    finished = await run_sync(config, catalog=catalog, encoder=encoder)
    assert finished.ok and finished.committed and encoder.images == COUNT
    assert_matches_fake(await contents(catalog), fake)
