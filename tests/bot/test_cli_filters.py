"""``snapfit search`` and ``snapfit similar`` with the shopper's filters: price, gender, sold-out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from indexer.product import Product
from tests.bot.conftest import World
from tests.bot.test_cli_bot import one_line, write_config

runner = CliRunner()
EVERYTHING = ["--limit", "100"]  # more than the index holds: a search returns every product it lets through
GENDER_WORDS = {"남성": "men", "여성": "women", "공용": "unisex"}


@pytest.fixture
def config(world: World, store_dir: Path, tmp_path: Path) -> Path:
    return write_config(tmp_path / "config.toml", world, store_dir)


@pytest.fixture
def photo(world: World, tmp_path: Path) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(world.musinsa.image_bytes(world.products[9].id))
    return path


def rows_of(config: Path, *args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, [*args, "--json", *EVERYTHING, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def ids_of(rows: list[dict[str, Any]]) -> set[int]:
    return {row["id"] for row in rows}


def ids(products: list[Product]) -> set[int]:
    return {product.id for product in products}


def test_sold_out_products_are_hidden_unless_asked_for(config: Path, world: World, photo: Path) -> None:
    sold_out = [p for p in world.products if p.sold_out]
    assert sold_out and len(sold_out) < len(world.products), "the fake catalog must have some sold-out items"
    shown = rows_of(config, "search", str(photo))
    assert ids_of(shown) == ids([p for p in world.products if not p.sold_out])
    assert not any(row["sold_out"] for row in shown)

    everything = rows_of(config, "search", str(photo), "--include-sold-out")
    assert ids_of(everything) == ids(world.products)
    assert {row["id"] for row in everything if row["sold_out"]} == ids(sold_out)


def test_json_carries_gender_and_sold_out(config: Path, world: World, photo: Path) -> None:
    rows = rows_of(config, "search", str(photo), "--include-sold-out")
    for row in rows:
        product = world.product(row["id"])
        assert row["gender"] == GENDER_WORDS[product.gender]
        assert row["sold_out"] is product.sold_out
    assert {row["gender"] for row in rows} == {"men", "women", "unisex"}


def test_price_range(config: Path, world: World, photo: Path) -> None:
    prices = sorted(p.effective_price for p in world.products if not p.sold_out)
    low, high = prices[len(prices) // 4], prices[3 * len(prices) // 4]
    rows = rows_of(config, "search", str(photo), "--min-price", str(low), "--max-price", f"{high:,}")
    expected = [p for p in world.products if low <= p.effective_price <= high and not p.sold_out]
    assert ids_of(rows) == ids(expected)
    assert 0 < len(rows) < len(prices)
    assert all(low <= row["price"] <= high for row in rows)

    cheap = rows_of(config, "search", str(photo), "--max-price", str(low))
    assert ids_of(cheap) == ids([p for p in world.products if p.effective_price <= low and not p.sold_out])


@pytest.mark.parametrize(("gender", "other"), [("men", "여성"), ("women", "남성")])
def test_gender_keeps_unisex_products(
    config: Path, world: World, photo: Path, gender: str, other: str
) -> None:
    rows = rows_of(config, "search", str(photo), "--gender", gender)
    expected = [p for p in world.products if p.gender != other and not p.sold_out]
    assert ids_of(rows) == ids(expected)
    assert {row["gender"] for row in rows} == {gender, "unisex"}


def test_filters_combine_and_the_table_says_so(config: Path, world: World, photo: Path) -> None:
    sold_out = next(p for p in world.products if p.sold_out)
    price = sold_out.effective_price
    args = ["--min-price", str(price), "--max-price", str(price), "--include-sold-out"]
    rows = rows_of(config, "search", str(photo), *args)
    assert ids_of(rows) == ids([p for p in world.products if p.effective_price == price])
    table = runner.invoke(app, ["search", str(photo), *args, "--config", str(config)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert f"{price:,}–{price:,} won, sold-out included" in table.stdout
    line = next(line for line in table.stdout.splitlines() if str(sold_out.id) in line)
    assert "sold out" in line


def test_similar_takes_the_same_filters(config: Path, world: World) -> None:
    source = world.products[4]
    women = rows_of(config, "similar", str(source.id), "--gender", "women", "--include-sold-out")
    assert ids_of(women) == ids([p for p in world.products if p.gender != "남성" and p.id != source.id])
    prices = sorted(p.effective_price for p in world.products)
    cap = prices[len(prices) // 2]
    cheap = rows_of(config, "similar", str(source.id), "--max-price", str(cap))
    expected = [
        p for p in world.products if p.effective_price <= cap and not p.sold_out and p.id != source.id
    ]
    assert ids_of(cheap) == ids(expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--min-price", "abc"],
            "snapfit: --min-price must be a whole number of won (like 30000 or 30,000), got 'abc'",
        ),
        (["--max-price", "-5"], "snapfit: --max-price must not be negative, got -5"),
        (
            ["--max-price", "999000000000000"],
            "snapfit: --max-price 999,000,000,000,000 won is above 100,000,000 won, the most a product costs",
        ),
        (
            ["--min-price", "80000", "--max-price", "30,000"],
            "snapfit: --min-price 80,000 is above --max-price 30,000",
        ),
        (["--gender", "kids"], "snapfit: --gender must be men, women or all, got 'kids'"),
    ],
)
def test_bad_filters_are_one_line_usage_errors(
    world: World, tmp_path: Path, photo: Path, args: list[str], message: str
) -> None:
    """Said before anything is opened: the index here was never built, and the answer is still the filter."""
    config = write_config(tmp_path / "empty.toml", world, tmp_path / "no-index")
    for command in (["search", str(photo)], ["similar", "4276948"]):
        result = runner.invoke(app, [*command, *args, "--config", str(config)])
        assert result.exit_code == 2, result.output
        assert one_line(result) == message
