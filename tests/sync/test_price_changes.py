"""The sync's price changes (for alerts): from its own diff, written beside the summary."""

from __future__ import annotations

from indexer.config import Settings
from indexer.store import Catalog
from indexer.sync import run_sync
from indexer.sync.changes import load_changes, sync_id_of
from tests.fakes.musinsa import FakeMusinsa
from tests.sync.conftest import CountingEncoder


async def test_a_sync_records_the_price_and_stock_changes_it_stored(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings
) -> None:
    first = await run_sync(config, catalog=catalog, encoder=encoder)
    assert first.ok, first.error
    assert load_changes(config.data.dir) == []  # the first index: nothing to compare with

    ids = sorted(fake.catalog.ids())
    cheaper, restocked, renamed, new_image = ids[0], ids[1], ids[2], ids[3]
    old_price = await _effective_price(catalog, cheaper)
    fake.catalog.set_price(cheaper, fake.catalog.get(cheaper).price - 2000)
    fake.catalog.update(restocked, sold_out=not fake.catalog.get(restocked).sold_out)
    fake.catalog.update(renamed, name="a new name, same price")
    was_out = fake.catalog.get(restocked).sold_out
    fake.catalog.change_image(new_image)
    fake.catalog.set_price(new_image, fake.catalog.get(new_image).price + 500)

    second = await run_sync(config, catalog=catalog, encoder=encoder)
    assert second.ok, second.error
    [saved] = load_changes(config.data.dir)
    assert saved.sync_id == sync_id_of(second.started_at) and saved.ok
    by_id = {change.product_id: change for change in saved.changes}
    assert set(by_id) == {cheaper, restocked, new_image}  # a renamed product's price did not change
    assert by_id[cheaper].old_price == old_price
    assert by_id[cheaper].new_price == await _effective_price(catalog, cheaper)
    assert by_id[cheaper].new_price < old_price
    assert by_id[restocked].new_sold_out is was_out and by_id[restocked].old_sold_out is (not was_out)
    assert by_id[new_image].price_changed

    third = await run_sync(config, catalog=catalog, encoder=encoder)
    assert third.ok
    assert len(load_changes(config.data.dir)) == 1  # nothing changed: no new file


async def _effective_price(catalog: Catalog, pid: int) -> int:
    [item] = await catalog.get([pid])
    return item.product.effective_price
