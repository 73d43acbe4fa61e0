"""The parser's logic on planted label maps: masks → boxes, merging, min_area, categories, crops."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from indexer.clothes_parser import LabelPlan, find_garments
from indexer.clothes_parser.regions import mask_box, opening, pad_box, scale_box
from indexer.config import GarmentSettings
from tests.tiny_segformer import CLOTHES_LABELS

ID = {name: index for index, name in enumerate(CLOTHES_LABELS)}
DEFAULTS = GarmentSettings()
PLAN = LabelPlan.build(dict(enumerate(CLOTHES_LABELS)), DEFAULTS.categories, DEFAULTS.merge)


def label_map(height: int, width: int, *regions: tuple[str, int, int, int, int]) -> np.ndarray:
    """(h, w) background map with ``(label, top, left, bottom, right)`` rectangles painted in order."""
    labels = np.zeros((height, width), dtype=np.uint8)
    for name, top, left, bottom, right in regions:
        labels[top:bottom, left:right] = ID[name]
    return labels


def gradient(width: int, height: int) -> Image.Image:
    """An image whose every pixel is distinct enough to tell crops apart."""
    x = np.arange(width, dtype=np.uint16)[None, :].repeat(height, 0)
    y = np.arange(height, dtype=np.uint16)[:, None].repeat(width, 1)
    pixels = np.stack([(x * 3) % 200, (y * 2) % 200, ((x + y) % 150) + 20], axis=-1).astype(np.uint8)
    return Image.fromarray(pixels, mode="RGB")


def test_masks_become_padded_boxes_top_to_bottom() -> None:
    labels = label_map(
        100,
        80,
        ("Pants", 50, 25, 90, 55),  # painted first, listed second: results go top to bottom
        ("Upper-clothes", 10, 20, 50, 60),
        ("Face", 0, 30, 10, 50),
        ("Hair", 0, 25, 5, 55),
        ("Left-arm", 15, 5, 45, 20),
    )
    image = gradient(80, 100)
    exact = find_garments(image, labels, PLAN, min_area=0.0, padding=0.0)
    assert [(g.label, g.box) for g in exact] == [
        ("upper-clothes", (20, 10, 60, 50)),
        ("pants", (25, 50, 55, 90)),
    ]
    assert exact[0].area == pytest.approx(40 * 40 / 8000)
    assert exact[1].area == pytest.approx(30 * 40 / 8000)
    assert exact[0].categories == ("001", "002") and exact[1].categories == ("003",)
    assert np.array_equal(np.asarray(exact[1].crop), np.asarray(image.crop((25, 50, 55, 90))))
    padded = find_garments(image, labels, PLAN, min_area=0.0, padding=0.1)
    # 10 % of the width (40 → 4) and height (40 → 4) on each side.
    assert padded[0].box == (16, 6, 64, 54)
    assert padded[1].box == (22, 46, 58, 94)  # 30 → 3 sideways, 40 → 4 up and down
    assert padded[1].crop.size == (36, 48)


def test_skin_hair_face_and_background_are_never_garments() -> None:
    labels = label_map(
        60,
        60,
        ("Hair", 0, 0, 20, 60),
        ("Face", 20, 0, 30, 60),
        ("Left-leg", 30, 0, 45, 30),
        ("Right-leg", 30, 30, 45, 60),
        ("Left-arm", 45, 0, 60, 30),
        ("Right-arm", 45, 30, 60, 60),
    )
    assert find_garments(gradient(60, 60), labels, PLAN, min_area=0.0) == []
    assert find_garments(gradient(60, 60), np.zeros((60, 60), np.uint8), PLAN, min_area=0.0) == []


def test_left_and_right_shoes_are_one_garment() -> None:
    labels = label_map(100, 100, ("Left-shoe", 85, 10, 95, 30), ("Right-shoe", 88, 60, 98, 85))
    (shoes,) = find_garments(gradient(100, 100), labels, PLAN, min_area=0.0, padding=0.0)
    assert shoes.label == "shoes" and shoes.categories == ("103",)
    assert shoes.box == (10, 85, 85, 98)
    assert shoes.area == pytest.approx((200 + 250) / 10_000)
    # Each shoe alone is under min_area; together they are over it.
    assert [g.label for g in find_garments(gradient(100, 100), labels, PLAN, min_area=0.04)] == ["shoes"]


def test_min_area_drops_small_garments() -> None:
    labels = label_map(100, 100, ("Hat", 0, 40, 10, 50), ("Upper-clothes", 20, 20, 60, 80))  # 1 % and 24 %
    image = gradient(100, 100)
    assert [g.label for g in find_garments(image, labels, PLAN, min_area=0.02)] == ["upper-clothes"]
    assert [g.label for g in find_garments(image, labels, PLAN, min_area=0.01)] == ["hat", "upper-clothes"]
    assert [g.label for g in find_garments(image, labels, PLAN, min_area=0.011)] == ["upper-clothes"]
    assert find_garments(image, labels, PLAN, min_area=0.5) == []


def test_the_default_label_map_follows_the_issue() -> None:
    expected = {
        "upper-clothes": ("001", "002"),
        "pants": ("003",),
        "skirt": ("100",),
        "dress": ("100",),
        "shoes": ("103",),
        "bag": ("004",),
        "hat": ("101",),
        "scarf": ("101",),
        "belt": ("101",),
        "sunglasses": ("101",),
    }
    assert PLAN.categories == expected
    assert PLAN.garments["shoes"] == (ID["Left-shoe"], ID["Right-shoe"])
    assert PLAN.garments["upper-clothes"] == (ID["Upper-clothes"],)
    for name in ("background", "hair", "face", "left-leg", "right-arm", "left-shoe"):
        assert name not in PLAN.garments


def test_another_parser_is_served_by_the_config_table() -> None:
    """A parser with other labels (and other ids): the map is keyed by label name, not by id."""
    id2label = {0: "background", 1: "coat_only_torso_region", 2: "left_pants", 3: "right_pants", 4: "face"}
    settings = GarmentSettings(
        categories={"coat_only_torso_region": ["002"], "pants": ["003"], "Face": ["101"]},
        merge={"pants": ["left_pants", "right_pants"]},
    )
    plan = LabelPlan.build(id2label, settings.categories, settings.merge)
    assert plan.garments == {"coat-only-torso-region": (1,), "pants": (2, 3), "face": (4,)}
    labels = np.zeros((50, 40), np.uint8)
    labels[5:25, 5:35] = 1
    labels[25:45, 8:18] = 2
    labels[25:45, 22:32] = 3
    found = find_garments(gradient(40, 50), labels, plan, min_area=0.0, padding=0.0)
    assert [(g.label, g.categories, g.box) for g in found] == [
        ("coat-only-torso-region", ("002",), (5, 5, 35, 25)),
        ("pants", ("003",), (8, 25, 32, 45)),
    ]
    # The default table knows none of these labels except the face it leaves out.
    assert LabelPlan.build(id2label, DEFAULTS.categories, DEFAULTS.merge).garments == {}


def test_boxes_at_the_image_borders_are_clamped() -> None:
    labels = label_map(
        100, 80, ("Upper-clothes", 0, 0, 40, 30), ("Bag", 60, 70, 100, 80), ("Pants", 40, 30, 100, 60)
    )
    found = {g.label: g for g in find_garments(gradient(80, 100), labels, PLAN, min_area=0.0, padding=0.25)}
    assert found["upper-clothes"].box == (0, 0, 38, 50)  # 30 → 8 (rounded), 40 → 10; left/top stay at 0
    assert found["bag"].box == (68, 50, 80, 100)  # right and bottom stay at the image's edge
    assert found["pants"].box == (22, 25, 68, 100)
    for garment in found.values():
        left, top, right, bottom = garment.box
        assert garment.crop.size == (right - left, bottom - top)
    whole = find_garments(gradient(80, 100), label_map(100, 80, ("Dress", 0, 0, 100, 80)), PLAN, padding=1.0)
    assert whole[0].box == (0, 0, 80, 100)


def test_box_math() -> None:
    assert pad_box((10, 10, 20, 30), 0.5, (100, 100)) == (5, 0, 25, 40)
    assert pad_box((0, 0, 10, 10), 0.0, (10, 10)) == (0, 0, 10, 10)
    assert pad_box((95, 95, 100, 100), 1.0, (100, 100)) == (90, 90, 100, 100)
    # A label map of a quarter the image's size: boxes scale up, rounded outwards.
    assert scale_box((1, 2, 3, 4), (25, 25), (100, 100)) == (4, 8, 12, 16)
    assert scale_box((1, 1, 2, 2), (3, 3), (10, 10)) == (3, 3, 7, 7)
    assert scale_box((0, 0, 3, 3), (3, 3), (10, 10)) == (0, 0, 10, 10)
    assert mask_box(np.zeros((4, 4), bool)) is None
    single = np.zeros((4, 5), bool)
    single[2, 3] = True
    assert mask_box(single) == (3, 2, 4, 3)


def test_a_smaller_label_map_gives_boxes_in_image_pixels() -> None:
    labels = label_map(50, 40, ("Skirt", 20, 10, 40, 30))
    image = gradient(160, 200)
    (skirt,) = find_garments(image, labels, PLAN, min_area=0.0, padding=0.0)
    assert skirt.box == (40, 80, 120, 160) and skirt.categories == ("100",)
    assert skirt.area == pytest.approx(400 / 2000)


def test_cutout_paints_everything_outside_the_mask_white() -> None:
    labels = label_map(40, 40, ("Upper-clothes", 10, 10, 30, 30))
    labels[10:15, 10:15] = ID["Left-arm"]  # a notch of skin inside the garment's box
    image = Image.new("RGB", (40, 40), (10, 120, 200))
    (top,) = find_garments(image, labels, PLAN, min_area=0.0, padding=0.25, crop_mode="cutout")
    assert top.box == (5, 5, 35, 35)
    pixels = np.asarray(top.crop)
    inside = labels[5:35, 5:35] == ID["Upper-clothes"]
    assert (pixels[inside] == (10, 120, 200)).all()
    assert (pixels[~inside] == (255, 255, 255)).all()
    assert (~inside).sum() == 30 * 30 - (20 * 20 - 25)
    (boxed,) = find_garments(image, labels, PLAN, min_area=0.0, padding=0.25, crop_mode="box")
    assert (np.asarray(boxed.crop) == (10, 120, 200)).all()


def test_cutout_from_a_smaller_label_map_follows_the_scaled_mask() -> None:
    labels = label_map(10, 10, ("Pants", 2, 4, 10, 6))
    image = Image.new("RGB", (100, 100), (0, 0, 0))
    (pants,) = find_garments(image, labels, PLAN, min_area=0.0, padding=0.5, crop_mode="cutout")
    assert pants.box == (30, 0, 70, 100)
    pixels = np.asarray(pants.crop)
    assert (pixels[20:, 10:30] == 0).all()  # the mask (columns 40-60 of the image)
    assert (pixels[:, :10] == 255).all() and (pixels[:, 30:] == 255).all()
    assert (pixels[:20] == 255).all()  # rows 0-20 are above the mask


def test_stray_specks_do_not_stretch_a_box() -> None:
    labels = label_map(200, 200, ("Upper-clothes", 40, 50, 120, 150))
    labels[190, 5] = ID["Upper-clothes"]  # specks far away, narrower than 1 % of the side (2 px)
    labels[10:14, 180] = ID["Upper-clothes"]
    (top,) = find_garments(gradient(200, 200), labels, PLAN, min_area=0.0, padding=0.0)
    assert top.box == (50, 40, 150, 120)
    assert top.area == pytest.approx((80 * 100 + 1 + 4) / 40_000)
    labels[10:12, 180:182] = ID["Upper-clothes"]  # 2 × 2 is a region, not a speck
    (top,) = find_garments(gradient(200, 200), labels, PLAN, min_area=0.0, padding=0.0)
    assert top.box == (50, 10, 182, 120)
    # A label made of nothing but specks is no garment, whatever its area.
    specks = np.zeros((200, 200), np.uint8)
    specks[::4, ::4] = ID["Bag"]
    assert find_garments(gradient(200, 200), specks, PLAN, min_area=0.0) == []


def test_opening_keeps_shapes_wider_than_its_square() -> None:
    mask = np.zeros((12, 12), bool)
    mask[2:8, 3:9] = True
    mask[10, 10] = True
    opened = opening(mask, 3)
    expected = np.zeros_like(mask)
    expected[2:8, 3:9] = True
    assert np.array_equal(opened, expected)
    assert np.array_equal(opening(mask, 1), mask)
    assert not opening(mask, 7).any()
    ell = np.zeros((10, 10), bool)
    ell[0:6, 0:2] = True
    ell[4:6, 0:8] = True
    assert np.array_equal(opening(ell, 2), ell)


def test_bad_label_maps_are_refused() -> None:
    with pytest.raises(ValueError, match="2-D"):
        find_garments(gradient(10, 10), np.zeros((1, 10, 10), np.uint8), PLAN)
    with pytest.raises(ValueError, match="2-D"):
        find_garments(gradient(10, 10), np.zeros((0, 0), np.uint8), PLAN)
    with pytest.raises(ValueError, match="crop_mode"):
        find_garments(gradient(10, 10), np.zeros((10, 10), np.uint8), PLAN, crop_mode="mask")  # type: ignore[arg-type]


def test_garment_json() -> None:
    labels = label_map(100, 100, ("Bag", 30, 60, 63, 90))
    (bag,) = find_garments(gradient(100, 100), labels, PLAN, min_area=0.0, padding=0.0)
    assert bag.to_json() == {"label": "bag", "categories": ["004"], "box": [60, 30, 90, 63], "area": 0.099}
