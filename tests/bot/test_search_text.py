"""SearchService.search_text against the session's real index (fake Musinsa names, real kiwipiepy,
the tiny model's text tower)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.search import EmptyTextError, SearchService, StaleSearchError, TextTooLongError
from bot.services import BotServices
from bot.timing import StageTimings
from indexer.config import DataSettings, ModelSettings, Settings, StoreSettings
from indexer.product import Product
from indexer.store import NO_FILTERS, SearchFilters
from indexer.text import MAX_QUERY_CHARS, tokens
from tests.bot.conftest import World
from tests.bot.world import image_settings


@pytest.fixture
async def services(world: World, store_dir: Path, tmp_path: Path) -> AsyncIterator[BotServices]:
    settings = Settings(
        musinsa=world.musinsa.musinsa_settings(),
        images=image_settings(),
        model=ModelSettings(name=f"local-dir:{world.model_dir}"),
        store=StoreSettings(path=str(store_dir)),
        data=DataSettings(dir=str(tmp_path / "data")),
    )
    opened = await BotServices.open(settings)
    try:
        yield opened
    finally:
        await opened.close()


def holds_every_word(product: Product, words: str) -> bool:
    return set(tokens(words)) <= set(tokens(f"{product.name} {product.brand_name} {product.brand}"))


def shared_words(world: World) -> str:
    """Two words that several indexed products share (an adjective and a category noun)."""
    for product in world.products:
        words = " ".join(tokens(product.name)[:2])
        if sum(holds_every_word(p, words) and not p.sold_out for p in world.products) >= 2:
            return words
    raise AssertionError("the fake catalog has no two products sharing two words")


async def test_products_with_every_word_rank_first(services: BotServices, world: World) -> None:
    search: SearchService = services.search
    words = shared_words(world)
    timings = StageTimings()
    result = await search.search_text(words, limit=30, timings=timings)
    full = {p.id for p in world.products if holds_every_word(p, words) and not p.sold_out}
    got = [item.product.id for item in result.items]
    assert set(got[: len(full)]) == full
    assert not any(item.product.sold_out for item in result.items)
    assert result.words == words and result.query_vector is None  # Hangul only: words alone
    assert (result.limit, result.offset, result.filters) == (30, 0, SearchFilters())
    assert {"analyse", "search"} <= set(timings.seconds)
    # The next page, without the first.
    page = await search.search_text_page(words, None, limit=5, offset=5)
    assert [item.product.id for item in page] == got[5:10]
    everything = await search.search_text(words, limit=30, filters=NO_FILTERS)
    assert {p.id for p in world.products if holds_every_word(p, words)} <= {
        item.product.id for item in everything.items
    }


async def test_latin_words_are_embedded_and_fused(services: BotServices, world: World) -> None:
    brand = next(p for p in world.products if not p.sold_out)
    result = await services.search.search_text(f"{brand.brand} hoodie", limit=10)
    assert result.query_vector is not None
    assert result.query_vector.model_id == services.encoder.model_id
    assert result.items[0].product.brand == brand.brand
    # More pages on with the stored vector: the same ranking, without embedding again.
    again = await services.search.search_text_page(result.words, result.query_vector, limit=5, offset=5)
    whole = await services.search.search_text(f"{brand.brand} hoodie", limit=10)
    assert [i.product.id for i in again] == [i.product.id for i in whole.items][5:10]


async def test_a_text_tower_failure_searches_words_only(
    services: BotServices, world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(texts: list[str]) -> None:
        raise RuntimeError("no tokenizer")

    monkeypatch.setattr(services.encoder, "embed_texts", broken)
    brand = world.products[0].brand
    with caplog.at_level(logging.WARNING, logger="bot.search"):
        result = await services.search.search_text(brand)
    assert result.query_vector is None and result.items
    assert "words only" in caplog.text


@pytest.mark.parametrize(
    ("words", "error"),
    [
        ("", EmptyTextError),
        ("   \n ", EmptyTextError),
        ("😀🔥👍", EmptyTextError),
        ("?!... ~~~ ♥", EmptyTextError),
        ("가" * (MAX_QUERY_CHARS + 1), TextTooLongError),
        ("x" * 500, TextTooLongError),
    ],
)
async def test_text_that_cannot_be_a_query_is_refused(
    services: BotServices, words: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await services.search.search_text(words)


async def test_markup_and_sql_are_only_words(services: BotServices) -> None:
    for words in ("<b>후드</b>", "'; DROP TABLE products; --", "{{7*7}} $(rm -rf /)"):
        result = await services.search.search_text(words)
        assert isinstance(result.items, list)


async def test_a_page_with_another_models_vector_is_stale(services: BotServices, world: World) -> None:
    result = await services.search.search_text(f"{world.products[0].brand} shirt")
    assert result.query_vector is not None
    other = type(result.query_vector)(result.query_vector.vector, "another-model@squash")
    with pytest.raises(StaleSearchError):
        await services.search.search_text_page(result.words, other)
