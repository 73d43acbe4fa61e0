"""One sync run end to end against the fake Musinsa, the tiny model and both store backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from indexer.config import Settings
from indexer.store import Catalog
from indexer.sync import load_last_summary, run_sync
from tests.fakes.musinsa import IMAGE_PATH, FakeMusinsa
from tests.sync.conftest import (
    COUNT,
    CountingEncoder,
    assert_matches_fake,
    contents,
    expected_vector,
    make_config,
    read_state,
    stored_vector,
)


async def test_first_sync_indexes_everything_and_a_second_embeds_nothing(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings, tiny_encoder: Any
) -> None:
    first = await run_sync(config, catalog=catalog, encoder=encoder)
    assert first.ok, first.error
    assert (first.crawled, first.added, first.updated, first.removed, first.failed) == (COUNT, COUNT, 0, 0, 0)
    assert first.rebuild and first.committed and first.embedded == COUNT
    assert encoder.images == COUNT
    assert catalog.version is not None and catalog.version.model_id == encoder.model_id
    stored = await contents(catalog)
    assert_matches_fake(stored, fake)
    for pid in list(stored)[:3]:
        np.testing.assert_allclose(
            await stored_vector(catalog, pid), expected_vector(tiny_encoder, fake, pid), atol=1e-5
        )

    encoder.calls = encoder.images = 0
    image_requests = len(fake.requests_to(IMAGE_PATH))
    second = await run_sync(config, catalog=catalog, encoder=encoder)
    assert second.ok, second.error
    assert encoder.calls == 0
    assert len(fake.requests_to(IMAGE_PATH)) == image_requests  # no image was downloaded either
    assert (second.crawled, second.added, second.updated, second.unchanged, second.removed) == (
        COUNT,
        0,
        0,
        COUNT,
        0,
    )
    assert not second.rebuild
    assert await contents(catalog) == stored
    saved = load_last_summary(config.data.dir)
    assert saved is not None and saved.to_json() == second.to_json()


async def test_price_and_flag_changes_update_the_payload_without_embedding(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings
) -> None:
    await run_sync(config, catalog=catalog, encoder=encoder)
    cheaper, sold_out = sorted(fake.catalog.ids())[:2]
    before = {pid: await stored_vector(catalog, pid) for pid in (cheaper, sold_out)}
    fake.catalog.set_price(cheaper, fake.catalog.get(cheaper).price - 1000)
    fake.catalog.update(sold_out, sold_out=not fake.catalog.get(sold_out).sold_out)
    encoder.calls = 0

    summary = await run_sync(config, catalog=catalog, encoder=encoder)

    assert summary.ok, summary.error
    assert encoder.calls == 0
    assert (summary.updated, summary.payload_updates, summary.reembedded) == (2, 2, 0)
    assert summary.unchanged == COUNT - 2
    assert_matches_fake(await contents(catalog), fake)
    for pid, vector in before.items():
        np.testing.assert_array_equal(await stored_vector(catalog, pid), vector)


async def test_an_image_change_reembeds_that_product_only(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings, tiny_encoder: Any
) -> None:
    await run_sync(config, catalog=catalog, encoder=encoder)
    pid = sorted(fake.catalog.ids())[5]
    old = await stored_vector(catalog, pid)
    fake.catalog.change_image(pid)
    encoder.calls = encoder.images = 0

    summary = await run_sync(config, catalog=catalog, encoder=encoder)

    assert summary.ok, summary.error
    assert (encoder.calls, encoder.images) == (1, 1)
    assert (summary.updated, summary.reembedded, summary.added) == (1, 1, 0)
    new = await stored_vector(catalog, pid)
    np.testing.assert_allclose(new, expected_vector(tiny_encoder, fake, pid), atol=1e-5)
    assert not np.allclose(new, old)
    assert_matches_fake(await contents(catalog), fake)


async def test_a_removed_product_is_retired_only_after_k_complete_syncs(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings, tmp_path: Path
) -> None:
    await run_sync(config, catalog=catalog, encoder=encoder)
    gone, flaky = sorted(fake.catalog.ids())[:2]
    fake.catalog.remove(gone)
    flaky_product = fake.catalog.remove(flaky)

    first = await run_sync(config, catalog=catalog, encoder=encoder)
    assert first.ok and first.removed == 0 and first.missing == 2
    assert {gone, flaky} <= set(await contents(catalog))
    assert read_state(tmp_path / "data", "missing.json")["missing"] == {str(gone): 1, str(flaky): 1}

    fake.catalog.add(flaky_product)  # back on the listing: its count starts again
    second = await run_sync(config, catalog=catalog, encoder=encoder)
    assert second.ok and second.removed == 1 and second.missing == 0
    stored = await contents(catalog)
    assert gone not in stored and flaky in stored
    assert read_state(tmp_path / "data", "missing.json")["missing"] == {}

    fake.catalog.remove(flaky)
    third = await run_sync(config, catalog=catalog, encoder=encoder)
    assert third.removed == 0 and flaky in await contents(catalog)
    fourth = await run_sync(config, catalog=catalog, encoder=encoder)
    assert fourth.removed == 1
    assert_matches_fake(await contents(catalog), fake)


async def test_remove_after_missed_is_configurable(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, tmp_path: Path, tiny_model_dir: Path
) -> None:
    config = make_config(fake, tmp_path / "data", tiny_model_dir, remove_after_missed=1)
    await run_sync(config, catalog=catalog, encoder=encoder)
    gone = sorted(fake.catalog.ids())[3]
    fake.catalog.remove(gone)
    summary = await run_sync(config, catalog=catalog, encoder=encoder)
    assert summary.removed == 1
    assert_matches_fake(await contents(catalog), fake)


async def test_a_shrunken_crawl_removes_nothing_in_that_category(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings
) -> None:
    await run_sync(config, catalog=catalog, encoder=encoder)
    before = await contents(catalog)
    outer = fake.listing_ids("002")
    for pid in outer[: int(len(outer) * 0.7)]:  # 002's listing suddenly returns 30 % of it
        fake.catalog.remove(pid)
    tops_gone = fake.listing_ids("001")[0]
    fake.catalog.remove(tops_gone)

    for _ in range(3):
        summary = await run_sync(config, catalog=catalog, encoder=encoder)
        assert summary.ok
    stored = await contents(catalog)
    assert set(stored) == set(before) - {tops_gone}  # 001 is trusted, 002 is not
    reports = {report.code: report for report in summary.categories}
    assert reports["001"].removals_checked and reports["001"].removals_skipped is None
    assert not reports["002"].removals_checked
    assert "min_crawl_ratio" in (reports["002"].removals_skipped or "")
    assert reports["002"].indexed == len(outer)
    assert any("002: nothing removed" in note for note in summary.notes())


async def test_an_incomplete_crawl_removes_nothing_and_still_adds(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings
) -> None:
    await run_sync(config, catalog=catalog, encoder=encoder)
    before = set(await contents(catalog))
    cut = config.model_copy(update={"musinsa": config.musinsa.model_copy(update={"max_pages": 1})})
    added = fake.catalog.add(category="001004")
    fake.catalog.update(added.goods_no, review_count=10**6)  # first on page 1 (POPULAR order)
    for _ in range(3):
        summary = await run_sync(cut, catalog=catalog, encoder=encoder)
        assert summary.ok and summary.removed == 0
    assert set(await contents(catalog)) == before | {added.goods_no}
    assert all(not report.complete and not report.removals_checked for report in summary.categories)
    assert all("max_pages=1" in (report.reason or "") for report in summary.categories)


async def test_a_crawl_of_a_parent_category_covers_products_stored_under_its_children(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, tmp_path: Path, tiny_model_dir: Path
) -> None:
    data = tmp_path / "data"
    leaves = make_config(fake, data, tiny_model_dir, categories=["001004", "002"])
    await run_sync(leaves, catalog=catalog, encoder=encoder)
    hoodies = fake.listing_ids("001004")
    assert {p.category for p in (await contents(catalog)).values() if p.id in hoodies} == {"001004"}

    tops = make_config(fake, data, tiny_model_dir, categories=["001"])
    fake.catalog.remove(hoodies[0])
    encoder.images = 0
    first = await run_sync(tops, catalog=catalog, encoder=encoder)
    # The other hoodies are now listed under 001: a metadata change, no new embedding for them.
    assert first.payload_updates == len(hoodies) - 1
    assert first.added == len(fake.listing_ids("001")) - (len(hoodies) - 1)
    assert encoder.images == first.added
    assert first.missing == 1  # the gone hoodie: 001 covers 001004
    second = await run_sync(tops, catalog=catalog, encoder=encoder)
    assert second.removed == 1
    stored = await contents(catalog)
    assert hoodies[0] not in stored
    # 002 was not crawled by the second config: its products are kept, whatever their age.
    assert set(fake.listing_ids("002")) <= set(stored)


async def test_configured_top_level_codes_index_products_under_their_sub_categories(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, tmp_path: Path, tiny_model_dir: Path
) -> None:
    config = make_config(fake, tmp_path / "data", tiny_model_dir, musinsa={"expand_subcategories": True})
    summary = await run_sync(config, catalog=catalog, encoder=encoder)
    assert summary.ok, summary.error
    stored = await contents(catalog)
    assert_matches_fake(stored, fake)
    hoodies = set(fake.listing_ids("001004"))
    assert hoodies and {pid for pid, p in stored.items() if p.category == "001004"} == hoodies
    assert await catalog.count("001004") == len(hoodies)
    assert await catalog.count("001") == len(fake.listing_ids("001"))
    # Walking both the parent and its children never embeds a product twice.
    assert encoder.images == COUNT
