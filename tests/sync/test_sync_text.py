"""Text search through the sync: an index made before it gets text vectors without embedding images
again, and renamed products are found by their new words (both backends, the real analyser)."""

from __future__ import annotations

from functools import partialmethod

import numpy as np
import pytest

from indexer.config import Settings
from indexer.store import Catalog, ProductIndex, TextIndexMissingError, TextQuery
from indexer.sync import load_last_summary, run_sync
from indexer.text import sparse_terms, tokens
from tests.fakes.musinsa import IMAGE_PATH, FakeMusinsa
from tests.sync.conftest import COUNT, CountingEncoder, stored_vector


def words_query(text: str, limit: int = 50) -> TextQuery:
    return TextQuery(sparse_terms(tokens(text)), limit=limit)


async def found(catalog: Catalog, text: str) -> list[int]:
    return [hit.product.id for hit in await catalog.search_text(words_query(text))]


async def test_an_index_made_before_text_search_gets_it_from_the_next_sync(
    fake: FakeMusinsa,
    catalog: Catalog,
    encoder: CountingEncoder,
    config: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_upgrade(self: ProductIndex, *, page_size: int = 512) -> int:
        return 0

    with monkeypatch.context() as old_code:  # the first sync as before text search: no text at all
        old_code.setattr(Catalog, "begin_rebuild", partialmethod(Catalog.begin_rebuild, text_index=False))
        old_code.setattr(ProductIndex, "add_text_index", no_upgrade)
        first = await run_sync(config, catalog=catalog, encoder=encoder)
    assert first.ok and first.committed, first.error
    old = catalog.version
    assert old is not None and not old.text_index
    with pytest.raises(TextIndexMissingError, match="next sync"):
        await found(catalog, "후드")
    pid = sorted(fake.catalog.ids())[0]
    before = await stored_vector(catalog, pid)
    encoder.calls = encoder.images = 0
    image_requests = len(fake.requests_to(IMAGE_PATH))

    second = await run_sync(config, catalog=catalog, encoder=encoder)

    assert second.ok, second.error
    assert second.text_indexed == COUNT and not second.rebuild
    assert encoder.calls == 0  # no product was embedded again
    assert len(fake.requests_to(IMAGE_PATH)) == image_requests
    assert (second.added, second.updated, second.unchanged) == (0, 0, COUNT)
    assert catalog.version is not None and catalog.version.text_index
    assert catalog.version.model_id == old.model_id
    np.testing.assert_allclose(await stored_vector(catalog, pid), before, atol=1e-6)
    product = fake.catalog.get(pid)
    words = " ".join(tokens(product.name)[:2])
    hits = await found(catalog, words)
    holding = {
        p: set(tokens(words)) <= set(tokens(fake.catalog.get(p).name))
        for p in fake.catalog.ids()
        if not fake.catalog.get(p).sold_out
    }
    assert {p for p, every in holding.items() if every} == set(hits[: sum(holding.values())])
    saved = load_last_summary(config.data.dir)
    assert saved is not None and saved.text_indexed == COUNT
    assert any("text search added" in note for note in second.notes())

    third = await run_sync(config, catalog=catalog, encoder=encoder)
    assert third.ok and third.text_indexed == 0 and encoder.calls == 0


async def test_a_renamed_product_is_found_by_its_new_words(
    fake: FakeMusinsa, catalog: Catalog, encoder: CountingEncoder, config: Settings
) -> None:
    await run_sync(config, catalog=catalog, encoder=encoder)
    assert catalog.version is not None and catalog.version.text_index
    pid = next(p for p in sorted(fake.catalog.ids()) if not fake.catalog.get(p).sold_out)
    assert pid not in await found(catalog, "코듀로이 조거")
    fake.catalog.update(pid, name="코듀로이 조거 팬츠")
    encoder.calls = 0

    summary = await run_sync(config, catalog=catalog, encoder=encoder)

    assert summary.ok, summary.error
    assert (summary.payload_updates, summary.reembedded) == (1, 0)
    assert encoder.calls == 0
    assert (await found(catalog, "코듀로이 조거"))[0] == pid
    assert (await catalog.search_text(words_query("코듀로이 조거", limit=1)))[
        0
    ].product.name == "코듀로이 조거 팬츠"
