"""What a sync sent to Musinsa is in its summary (``http``), and the last successful run is kept apart."""

from __future__ import annotations

from indexer.config import Settings
from indexer.store import Catalog
from indexer.sync import load_last_ok_summary, load_last_summary, run_sync
from tests.fakes.musinsa import IMAGE_PATH, LISTING_PATH, FakeMusinsa, Fault
from tests.sync.conftest import COUNT, CountingEncoder


async def test_the_summary_counts_requests_and_retries_per_client(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings
) -> None:
    fake.faults.next(Fault.http(503), times=2, match=LISTING_PATH)
    first = await run_sync(config, catalog=catalog, encoder=encoder)
    assert first.ok, first.error
    listing, images = first.http["listing"], first.http["images"]
    # Every request the fake saw, and no other, is in one of the two counts (robots.txt included).
    assert listing["requests"] + images["requests"] == len(fake.requests)
    assert listing["requests"] >= len(fake.requests_to(LISTING_PATH)) > 2
    assert listing["retries"] == 2 and listing["server_errors"] == 2 and listing["failures"] == 0
    assert images["requests"] >= len(fake.requests_to(IMAGE_PATH)) == COUNT
    assert images["retries"] == 0
    assert load_last_summary(config.data.dir).http == first.http  # type: ignore[union-attr]

    # Nothing changed: the crawl again, and not one image.
    second = await run_sync(config, catalog=catalog, encoder=encoder)
    assert second.http["images"]["requests"] == 0
    assert second.http["listing"]["retries"] == 0


async def test_a_failed_run_keeps_the_last_successful_one(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings
) -> None:
    good = await run_sync(config, catalog=catalog, encoder=encoder)
    assert good.ok
    fake.faults.next(Fault.forbidden(), times=10_000, match=LISTING_PATH)
    bad = await run_sync(config, catalog=catalog, encoder=encoder)
    assert not bad.ok
    assert load_last_summary(config.data.dir).to_json() == bad.to_json()  # type: ignore[union-attr]
    assert load_last_ok_summary(config.data.dir).to_json() == good.to_json()  # type: ignore[union-attr]
