"""``snapfit search --text WORDS``: products by their words (the real kiwipiepy analyser, the tiny model)."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from indexer.config import StoreSettings
from indexer.product import Product
from indexer.store import open_catalog
from indexer.text import MAX_QUERY_CHARS, document_text, tokens
from tests.bot.conftest import World
from tests.bot.test_cli_bot import REQUIRED_KEYS, one_line, write_config

runner = CliRunner()


@pytest.fixture
def config(world: World, store_dir: Path, tmp_path: Path) -> Path:
    return write_config(tmp_path / "config.toml", world, store_dir)


def search_text(config: Path, words: str, *args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["search", "--text", words, "--json", "-n", "100", *args, "-c", str(config)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def has_all(product: Product, words: tuple[str, ...]) -> bool:
    return set(words) <= set(tokens(product.name))


def two_words(products: list[Product]) -> tuple[str, str]:
    """Two words that at least two shown products' names share, and that other names hold only one of;
    the brand holds neither (so 'every word' is about the name)."""
    for product in products:
        for pair in itertools.combinations(dict.fromkeys(tokens(product.name)), 2):
            both = [p for p in products if has_all(p, pair)]
            one = [p for p in products if set(pair) & set(tokens(p.name)) and not has_all(p, pair)]
            in_brand = any(set(pair) & set(tokens(document_text(p))) - set(tokens(p.name)) for p in products)
            as_query = tokens(" ".join(pair)) == list(pair)  # the analyser reads the query as these two words
            if len(both) >= 2 and one and not in_brand and as_query and all(len(word) > 1 for word in pair):
                return pair
    raise AssertionError("the fake catalog must have names that share words")


def test_names_with_every_word_rank_first(config: Path, world: World) -> None:
    shown = [p for p in world.products if not p.sold_out]
    pair = two_words(shown)
    rows = search_text(config, " ".join(pair))
    assert all(set(row) >= REQUIRED_KEYS for row in rows)
    both = {p.id for p in shown if has_all(p, pair)}
    assert {row["id"] for row in rows[: len(both)]} == both
    rest = rows[len(both) :]
    assert rest, "names with one of the words follow"
    assert all(not has_all(world.product(row["id"]), pair) for row in rest)
    assert not any(row["sold_out"] for row in rows)
    assert [row["rank"] for row in rows] == list(range(1, len(rows) + 1))


def test_text_search_takes_the_filters(config: Path, world: World) -> None:
    pair = two_words([p for p in world.products if not p.sold_out])
    everything = search_text(config, " ".join(pair), "--include-sold-out")
    assert {row["id"] for row in everything} >= {p.id for p in world.products if has_all(p, pair)}
    for gender, other in (("men", "여성"), ("women", "남성")):
        rows = search_text(config, " ".join(pair), "--gender", gender, "--include-sold-out")
        expected = {row["id"] for row in everything if world.product(row["id"]).gender != other}
        assert {row["id"] for row in rows} == expected
    prices = sorted(row["price"] for row in everything)
    cap = prices[len(prices) // 2]
    cheap = search_text(config, " ".join(pair), "--max-price", str(cap), "--include-sold-out")
    assert {row["id"] for row in cheap} == {row["id"] for row in everything if row["price"] <= cap}


def test_a_brand_in_korean_or_english(config: Path, world: World) -> None:
    brand = world.products[0]
    korean = search_text(config, brand.brand_name)
    expected = {p.id for p in world.products if p.brand == brand.brand and not p.sold_out}
    assert {row["id"] for row in korean[: len(expected)]} == expected
    english = search_text(config, brand.brand)
    assert {row["id"] for row in english[: len(expected)]} == expected


def test_the_table_names_the_words(config: Path, world: World) -> None:
    pair = two_words([p for p in world.products if not p.sold_out])
    words = " ".join(pair)
    table = runner.invoke(app, ["search", "--text", words, "-c", str(config)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert f"Products matching {words!r}" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], 'snapfit: give a photo to search with (snapfit search IMAGE) or words (--text "WORDS")'),
        (["photo.jpg", "--text", "후드"], "snapfit: give either a photo or --text, not both"),
        (["--text", "   "], "snapfit: --text: the text is empty"),
        (
            ["--text", "가" * (MAX_QUERY_CHARS + 1)],
            f"snapfit: --text: the text has {MAX_QUERY_CHARS + 1} characters, "
            f"at most {MAX_QUERY_CHARS} are searched",
        ),
        (
            ["--text", "후드", "--garments"],
            "snapfit: --garments and --garment look at a photo: they do not go with --text",
        ),
        (
            ["--text", "후드", "--max-price", "lots"],
            "snapfit: --max-price must be a whole number of won (like 30000 or 30,000), got 'lots'",
        ),
    ],
)
def test_usage_errors_come_before_the_index(
    world: World, tmp_path: Path, args: list[str], message: str
) -> None:
    """One line, exit 2, said before the index (never built here) or a model (none here) is looked at."""
    config = write_config(
        tmp_path / "empty.toml", world, tmp_path / "no-index", model=f"local-dir:{tmp_path / 'no-model'}"
    )
    result = runner.invoke(app, ["search", *args, "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert one_line(result) == message


def test_the_index_is_checked_before_any_model_loads(world: World, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "empty.toml", world, tmp_path / "no-index", model=f"local-dir:{tmp_path / 'no-model'}"
    )
    result = runner.invoke(app, ["search", "--text", "nike hoodie", "--config", str(config)])
    assert result.exit_code == 1
    assert one_line(result) == "snapfit: nothing is indexed yet: build the index with `snapfit sync` first"


def test_words_with_nothing_to_search_for(config: Path) -> None:
    for words in ("🔥🔥🔥", "!!! ???"):
        result = runner.invoke(app, ["search", "--text", words, "--config", str(config)])
        assert result.exit_code == 2, result.output
        assert one_line(result) == "snapfit: --text: the text has no searchable word"


def test_an_index_from_before_text_search_says_how_to_add_it(
    world: World, store_dir: Path, tmp_path: Path
) -> None:
    """A version laid out before text search (no sparse vectors): photos work, words say `snapfit sync`."""

    async def without_text_index() -> None:
        catalog = await open_catalog(StoreSettings(path=str(store_dir)))
        try:
            version = catalog.version
            assert version is not None
            stored = await catalog.get([p.id for p in world.products], with_vectors=True)
            rebuild = await catalog.begin_rebuild(
                version.model_id, version.model_name, version.dimension, text_index=False
            )
            await rebuild.upsert([(s.product, s.vector) for s in stored], model_id=version.model_id)
            await rebuild.commit()
        finally:
            await catalog.close()

    asyncio.run(without_text_index())
    config = write_config(tmp_path / "config.toml", world, store_dir)
    result = runner.invoke(app, ["search", "--text", "후드", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert one_line(result) == (
        "snapfit: this index was built before text search: "
        "`snapfit sync` adds it (no image is embedded again)"
    )
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(world.musinsa.image_bytes(world.products[0].id))
    assert runner.invoke(app, ["search", str(photo), "--json", "--config", str(config)]).exit_code == 0
