"""``snapfit search IMAGE --garments`` and ``--garment LABEL``, the tiny SegFormer folder as the parser."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from bot.cli import app
from bot.garment_finder import crop_jpeg
from bot.services import BotServices
from indexer.clothes_parser import Garment, GarmentParser
from indexer.config import GarmentSettings, ModelSettings, load_settings
from indexer.images import ImageDecoder
from tests.bot.conftest import World
from tests.bot.test_cli_bot import one_line, toml_value, write_config
from tests.image_corpus import case

runner = CliRunner()


def garment_config(path: Path, world: World, store_dir: Path, model: Path, **garments: object) -> Path:
    """The CLI tests' config plus a [garments] section aimed at ``model``."""
    write_config(path, world, store_dir)
    values = {"model": str(model), **garments}
    lines = ["[garments]", *(f"{key} = {toml_value(value)}" for key, value in values.items()), ""]
    path.write_text(path.read_text(encoding="utf-8") + "\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def outfit(world: World, tmp_path: Path) -> Path:
    """A top's photo above a pair of pants' photo, as a PNG file."""
    top = Image.open(io.BytesIO(world.musinsa.image_bytes(world.in_category("001")[0].id))).convert("RGB")
    pants = Image.open(io.BytesIO(world.musinsa.image_bytes(world.in_category("003")[0].id))).convert("RGB")
    canvas = Image.new("RGB", (top.width, top.height + pants.height), (255, 255, 255))
    canvas.paste(top, (0, 0))
    canvas.paste(pants, (0, top.height))
    path = tmp_path / "outfit.png"
    canvas.save(path)
    return path


def parsed(model: Path, photo: Path) -> list[Garment]:
    """What the parser itself finds in the file, at the file's resolution (the CLI's expected answer)."""
    parser = GarmentParser.from_settings(GarmentSettings(model=str(model)), ModelSettings())
    return parser.parse(ImageDecoder(load_settings(None).images, None).decode(photo.read_bytes()))


def test_garments_json_lists_labels_categories_boxes_and_areas(
    world: World, store_dir: Path, tmp_path: Path, tiny_segformer_dir: Path, outfit: Path
) -> None:
    config = garment_config(tmp_path / "config.toml", world, store_dir, tiny_segformer_dir, enabled=False)
    result = runner.invoke(app, ["search", str(outfit), "--garments", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = parsed(tiny_segformer_dir, outfit)
    assert len(expected) >= 2, "the tiny model's map should hold at least two garments"
    assert rows == [
        {
            "number": number,
            "label": garment.label,
            "categories": list(garment.categories),
            "box": list(garment.box),
            "area": round(garment.area, 4),
        }
        for number, garment in enumerate(expected, start=1)
    ]
    categories = {"upper-clothes": ["001", "002"], "pants": ["003"], "shoes": ["103"]}
    for row in rows:
        assert row["categories"] == categories[row["label"]]
        left, top, right, bottom = row["box"]
        assert 0 <= left < right <= 96 and 0 <= top < bottom <= 224  # the file's own pixels
        assert 0.02 <= row["area"] <= 1
    table = runner.invoke(app, ["search", str(outfit), "--garments", "--config", str(config)])
    assert table.exit_code == 0, table.output
    assert all(row["label"] in table.stdout for row in rows)


def test_garment_label_searches_that_crop_in_its_categories(
    world: World, store_dir: Path, tmp_path: Path, tiny_segformer_dir: Path, outfit: Path
) -> None:
    config = garment_config(tmp_path / "config.toml", world, store_dir, tiny_segformer_dir)
    garment = parsed(tiny_segformer_dir, outfit)[0]
    label = garment.label.upper().replace("-", "_")  # any spelling of the label
    result = runner.invoke(
        app, ["search", str(outfit), "--garment", label, "--json", "-n", "4", "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)

    async def expected() -> list[int]:
        services = await BotServices.open(load_settings(config))
        try:
            found = await services.search.search_image(
                crop_jpeg(garment.crop), category=garment.categories, limit=4
            )
        finally:
            await services.close()
        return [item.product.id for item in found.items]

    assert rows and [row["id"] for row in rows] == asyncio.run(expected())
    assert all(row["category"][:3] in garment.categories for row in rows)
    # --category wins over the garment's categories, as /category does in the bot.
    shoes = runner.invoke(
        app,
        [
            "search",
            str(outfit),
            "--garment",
            garment.label,
            "--category",
            "shoes",
            "--json",
            "-c",
            str(config),
        ],
    )
    assert shoes.exit_code == 0, shoes.output
    assert {row["category"][:3] for row in json.loads(shoes.stdout)} == {"103"}


def test_garment_errors_are_one_line(
    world: World, store_dir: Path, tmp_path: Path, tiny_segformer_dir: Path, outfit: Path
) -> None:
    config = garment_config(tmp_path / "config.toml", world, store_dir, tiny_segformer_dir)
    found = {garment.label for garment in parsed(tiny_segformer_dir, outfit)}
    assert "hat" not in found

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["search", *args, "--config", str(config)])
        return result.exit_code, one_line(result)

    code, line = run(str(outfit), "--garment", "hat")
    seen = ", ".join(g.label for g in parsed(tiny_segformer_dir, outfit))
    assert code == 1 and line == f"snapfit: no hat found in outfit.png (garments found: {seen})"
    code, line = run(str(outfit), "--garment", "coat")
    assert code == 2 and line.startswith("snapfit: 'coat' is not one of the garment parser's garments (hat, ")
    code, line = run(str(outfit), "--garments", "--garment", "pants")
    assert code == 2 and line == "snapfit: use either --garments (list them) or --garment LABEL (search one)"
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(case("truncated_jpeg").data)
    code, line = run(str(broken), "--garments")
    assert code == 1 and line.startswith("snapfit: not a usable image (truncated): ")
    missing = garment_config(tmp_path / "missing.toml", world, store_dir, tmp_path / "no-model")
    # A file that is no image is said before the parser loads (this one cannot).
    result = runner.invoke(app, ["search", str(broken), "--garments", "--config", str(missing)])
    assert result.exit_code == 1
    assert one_line(result).startswith("snapfit: not a usable image (truncated): ")
    result = runner.invoke(app, ["search", str(outfit), "--garments", "--config", str(missing)])
    assert result.exit_code == 1
    line = one_line(result)
    assert (
        line.startswith("snapfit: garment parser folder ") and "hf download mattmdjaga/segformer_b2" in line
    )
