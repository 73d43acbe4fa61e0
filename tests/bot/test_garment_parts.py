"""The garment pick's parts on their own: pending photos, callback data, buttons, the preview."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from telegram.constants import InlineKeyboardButtonLimit

from bot.garment_finder import crop_jpeg, pending_garment
from bot.pending import PendingGarment, PendingPhotos
from bot.preview import COLOURS, PREVIEW_SIDE, draw_preview
from bot.render import (
    GarmentButton,
    category_name,
    garment_data,
    garment_keyboard,
    garment_name,
    results_header,
    results_keyboard,
)
from indexer.clothes_parser import Garment
from tests.bot.buttons import parse_callback


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def crop(label: str = "pants", size: int = 10) -> PendingGarment:
    return PendingGarment(label, ("003",), 0.1, (0, 0, 5, 5), b"j" * size)


def test_pending_photos_are_bounded_per_user() -> None:
    clock = Clock()
    pending = PendingPhotos(per_user=2, ttl_seconds=60, clock=clock)
    first = pending.add(1, b"a", [crop()])
    second = pending.add(1, b"b", [crop()])
    other = pending.add(2, b"c", [crop()])
    assert len({first.id, second.id, other.id}) == 3
    third = pending.add(1, b"d", [crop(), crop("shoes")])
    assert pending.get(first.id) is None  # the user's oldest made room
    assert pending.get(second.id) is second and pending.get(third.id) is third
    assert pending.get(other.id) is other
    assert third.garments[1].label == "shoes" and third.data == b"d"
    assert len(pending) == 3 and pending.bytes == 3 * (1 + 10) + 10


def test_pending_photos_expire() -> None:
    clock = Clock()
    pending = PendingPhotos(per_user=3, ttl_seconds=60, clock=clock)
    old = pending.add(1, b"a", [crop()])
    clock.now += 30
    young = pending.add(2, b"b", [crop()])
    clock.now += 30
    assert pending.get(old.id) is old  # exactly the TTL: still there
    clock.now += 1
    assert pending.get(old.id) is None
    assert pending.get(young.id) is young
    clock.now += 40
    pending.add(3, b"c", [crop()])  # adding also drops what expired
    assert len(pending) == 1 and pending.get(young.id) is None


def test_pending_photos_are_bounded_in_bytes() -> None:
    pending = PendingPhotos(per_user=5, ttl_seconds=60, max_bytes=100, clock=Clock())
    first = pending.add(1, b"x" * 40, [crop(size=10)])
    second = pending.add(2, b"x" * 40, [crop(size=10)])
    assert pending.bytes == 100
    third = pending.add(3, b"x" * 20, [])
    assert pending.get(first.id) is None and pending.get(second.id) is second and pending.get(third.id)
    assert pending.bytes == 70
    huge = pending.add(4, b"x" * 500, [])  # the newest is always kept, even alone over the budget
    assert len(pending) == 1 and pending.get(huge.id) is huge
    with pytest.raises(ValueError):
        PendingPhotos(per_user=0)


def test_garment_callback_data_round_trips_within_64_bytes() -> None:
    for number in (1, 9, 42):
        data = garment_data("AbCd-_12", number)
        assert data == f"v1:g:AbCd-_12:{number}"
        assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
        assert parse_callback(data) == GarmentButton("AbCd-_12", number)
    assert garment_data("AbCd-_12", None) == "v1:g:AbCd-_12:w"
    assert parse_callback("v1:g:AbCd-_12:w") == GarmentButton("AbCd-_12", None)
    for forged in ("v1:g:AbCd-_12:0", "v1:g:AbCd-_12:-1", "v1:g:bad id!:1", "v1:g:AbCd-_12", "v0:g:AbCd:1"):
        assert parse_callback(forged) is None, forged
    with pytest.raises(ValueError, match="64 bytes"):
        garment_data("x" * 60, 1)


def test_garment_buttons_in_both_languages() -> None:
    labels = ["hat", "upper-clothes", "pants", "shoes", "coat-only-torso-region"]
    english = garment_keyboard("en", "AbCd-_12", labels).inline_keyboard
    assert [[b.text for b in row] for row in english] == [
        ["1 🧢 Hat", "2 👕 Top"],
        ["3 👖 Pants", "4 👟 Shoes"],
        ["5 🏷️ coat only torso region"],
        ["🖼 Whole photo"],
    ]
    assert english[1][0].callback_data == "v1:g:AbCd-_12:3"
    assert english[-1][0].callback_data == "v1:g:AbCd-_12:w"
    korean = garment_keyboard("ko", "AbCd-_12", labels[1:4]).inline_keyboard
    assert [[b.text for b in row] for row in korean] == [
        ["1 👕 상의", "2 👖 바지"],
        ["3 👟 신발"],
        ["🖼 전체 사진"],
    ]
    assert garment_name("ko", "dress") == "👗 원피스" and garment_name("en", "bag") == "👜 Bag"


def test_garment_results_header_and_keyboard() -> None:
    assert category_name("en", ("001", "002")) == "tops, outer"
    assert category_name("ko", ("003",)) == "바지"
    header = results_header("en", first=1, last=6, category=("001", "002"), garment="upper-clothes")
    assert header == "🔎 👕 Top · results 1–6 · tops, outer"
    markup = results_keyboard(
        "en",
        search_id="Srch1234",
        first_rank=1,
        count=2,
        next_page=2,
        category=("003",),
        whole_photo="Ph0t0Id1",
    )
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows[-2:] == [[("🖼 Whole photo", "v1:g:Ph0t0Id1:w")], [("Category: pants ✏️", "v1:c:menu")]]
    plain = results_keyboard("en", search_id="Srch1234", first_rank=1, count=2, next_page=None, category=None)
    assert "🖼 Whole photo" not in [b.text for row in plain.inline_keyboard for b in row]


def test_preview_draws_numbered_boxes_in_distinct_colours() -> None:
    image = Image.new("RGB", (400, 600), (128, 128, 128))
    boxes = [(40, 30, 360, 300), (80, 300, 320, 580)]
    preview = Image.open(io.BytesIO(draw_preview(image, boxes)))
    assert preview.format == "JPEG" and preview.size == (400, 600)
    pixels = np.asarray(preview.convert("RGB")).astype(int)

    def near(point: tuple[int, int], colour: str) -> bool:
        expected = np.array(Image.new("RGB", (1, 1), colour).getpixel((0, 0)))
        return bool(np.abs(pixels[point[1], point[0]] - expected).max() < 40)

    assert near((200, 31), COLOURS[0]) and near((41, 150), COLOURS[0])  # box 1's top and left edges
    assert near((319, 450), COLOURS[1]) and near((200, 578), COLOURS[1])  # box 2's right and bottom edges
    assert near((200, 450), "#808080")  # the photo itself is untouched inside the boxes
    # Each number sits in a filled tag of its box's colour at the box's corner, white digits on it.
    tag = pixels[30:60, 40:70]
    assert (np.abs(tag - pixels[33, 43]).max(axis=-1) > 100).any()  # white digit strokes in the tag


def test_preview_of_a_large_photo_is_scaled_down_with_its_boxes() -> None:
    image = Image.new("RGB", (4000, 3000), (200, 200, 200))
    preview = Image.open(io.BytesIO(draw_preview(image, [(0, 0, 4000, 3000)])))
    assert preview.size == (PREVIEW_SIDE, 960)
    pixels = np.asarray(preview.convert("RGB")).astype(int)
    red = np.array([0xE6, 0x19, 0x4B])
    assert np.abs(pixels[480, 1] - red).max() < 40 and np.abs(pixels[958, 640] - red).max() < 40


def test_a_pending_garment_keeps_its_crop_as_jpeg() -> None:
    image = Image.new("RGB", (30, 40), (10, 200, 30))
    garment = Garment("pants", ("003",), 0.25, (1, 2, 31, 42), image)
    pending = pending_garment(garment)
    assert (pending.label, pending.categories, pending.area, pending.box) == (
        "pants",
        ("003",),
        0.25,
        (1, 2, 31, 42),
    )
    decoded = Image.open(io.BytesIO(pending.crop))
    assert decoded.format == "JPEG" and decoded.size == (30, 40)
    assert pending.crop == crop_jpeg(image)


async def test_the_finder_decodes_for_the_parser_and_bounds_its_queue() -> None:
    from bot.garment_finder import MAX_WAITING, GarmentFinder
    from bot.search import BadImageError, SearchBusyError
    from indexer.clothes_parser import GarmentParser, LazyGarmentParser
    from indexer.config import GarmentSettings, ImageSettings
    from tests.clothes_parser.planted import TOP_AND_PANTS, PlantedSegmenter
    from tests.image_corpus import case

    settings = GarmentSettings(padding=0.0)
    segmenter = PlantedSegmenter(TOP_AND_PANTS)
    lazy = LazyGarmentParser(settings, loader=lambda: GarmentParser(segmenter, settings))
    finder = GarmentFinder(settings, ImageSettings(), lazy)
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 4000), (90, 90, 90)).save(buffer, "JPEG")
    found = await finder.find(buffer.getvalue())
    assert found is not None and [g.label for g in found.garments] == ["upper-clothes", "pants"]
    assert found.image.size == segmenter.sizes[0] == (1500, 2000)  # JPEG draft for a 512 px model
    full = await finder.find(buffer.getvalue(), full_size=True)
    assert full is not None and full.image.size == (3000, 4000)
    assert full.garments[1].box == (0, 2000, 3000, 4000)
    with pytest.raises(BadImageError) as caught:
        await finder.find(case("truncated_jpeg").data)
    assert caught.value.image_code == "truncated"
    finder._waiting = MAX_WAITING
    with pytest.raises(SearchBusyError):
        await finder.find(buffer.getvalue())
    assert await GarmentFinder.disabled().find(buffer.getvalue()) is None
