"""indexer.images.decode: every corpus input gives a correct RGB image or the right error code."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps

from indexer import image_memory, images
from indexer.config import ImageSettings
from indexer.image_memory import MIB, DecodeBudget, decoded_bytes, shared_budget
from indexer.images import ERROR_CODES, ImageDecoder, ImageError, decode
from tests.image_corpus import (
    CORPUS_MAX_BYTES,
    CORPUS_MAX_PIXELS,
    RED,
    WHITE,
    ImageCase,
    bad_cases,
    case,
    colour_at,
    corpus,
    encode,
    exif_jpeg,
    good_cases,
    png_header_only,
    quadrant_image,
)

DRAFT = 448  # ImageDecoder's draft size for a 224-pixel model


def _decode(data: bytes, draft_size: int | None = None) -> Image.Image:
    return decode(data, max_bytes=CORPUS_MAX_BYTES, max_pixels=CORPUS_MAX_PIXELS, draft_size=draft_size)


def test_error_codes_are_stable() -> None:
    # The bot maps these to its texts: renaming one is a breaking change.
    assert ERROR_CODES == (
        "empty",
        "too_many_bytes",
        "not_an_image",
        "unsupported_format",
        "too_many_pixels",
        "too_big",
        "bad_aspect_ratio",
        "truncated",
        "corrupt",
    )


def test_corpus_covers_every_error_code() -> None:
    assert {item.error for item in bad_cases()} == set(ERROR_CODES)


@pytest.mark.parametrize("draft_size", [None, DRAFT], ids=["full", "draft"])
@pytest.mark.parametrize("item", bad_cases(), ids=lambda item: item.name)
def test_bad_input_gets_its_error_code(item: ImageCase, draft_size: int | None) -> None:
    with pytest.raises(ImageError) as caught:
        _decode(item.data, draft_size)
    assert caught.value.code == item.error
    message = str(caught.value)
    assert message and "\n" not in message and len(message) < 200


@pytest.mark.parametrize("item", good_cases(), ids=lambda item: item.name)
def test_good_input_decodes_to_rgb_full_size(item: ImageCase) -> None:
    image = _decode(item.data)
    assert image.mode == "RGB"
    assert image.size == item.size
    assert item.check is not None
    item.check(image)
    assert not isinstance(image, ImageFile.ImageFile), "the result must not hold on to the input bytes"


@pytest.mark.parametrize("item", good_cases(), ids=lambda item: item.name)
def test_good_input_decodes_near_the_draft_size(item: ImageCase) -> None:
    image = _decode(item.data, DRAFT)
    assert image.mode == "RGB"
    assert item.size is not None and item.check is not None
    item.check(image)
    short_side = min(item.size)
    if short_side >= 2 * DRAFT:
        assert DRAFT <= min(image.size) < short_side
        assert abs(image.width / image.height - item.size[0] / item.size[1]) < 0.02
    else:
        assert image.size == item.size


def test_a_12_megapixel_photo_decodes_at_a_quarter_in_draft_mode() -> None:
    assert _decode(case("photo_12mp_jpeg").data, DRAFT).size == (1000, 750)


def test_exif_rotation_applies_after_the_jpeg_draft() -> None:
    # Stored 2400×1600 landscape with the red block top-left; orientation 6 shows it top-right.
    image = _decode(case("jpeg_exif_6_large").data, DRAFT)
    assert image.size == (800, 1200)
    assert colour_at(image, 0.9, 0.1)[0] > 200 and colour_at(image, 0.9, 0.1)[1] < 60
    assert colour_at(image, 0.1, 0.1) == pytest.approx(WHITE, abs=10)


@pytest.mark.parametrize(
    "name",
    [
        "bomb_png_20000x20000",
        "bomb_jpeg_20000x20000",
        "png_header_10000x10000",
        "png_header_9000x9000",
        "png_1x5000",
        "png_rgba_header_7000x7000",
    ],
)
def test_oversized_images_are_refused_from_the_header(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pixel_decoding(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_pixel_decoding)
    with pytest.raises(ImageError) as caught:
        _decode(case(name).data)
    assert caught.value.code == case(name).error


def test_pixel_cap_is_configurable() -> None:
    data = encode(quadrant_image(100, 100), "PNG")
    assert decode(data, max_bytes=CORPUS_MAX_BYTES, max_pixels=10_000).size == (100, 100)
    with pytest.raises(images.TooManyPixelsError, match=r"100×100"):
        decode(data, max_bytes=CORPUS_MAX_BYTES, max_pixels=9_999)


def test_byte_cap_is_checked_before_anything_else() -> None:
    data = encode(quadrant_image(100, 100), "PNG")
    with pytest.raises(images.TooManyBytesError):
        decode(data, max_bytes=len(data) - 1, max_pixels=CORPUS_MAX_PIXELS)
    assert decode(data, max_bytes=len(data), max_pixels=CORPUS_MAX_PIXELS).size == (100, 100)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_broken_exif_block_loses_only_the_rotation() -> None:
    data = encode(quadrant_image(40, 40), "JPEG", exif=b"Exif\x00\x00MM\x00*garbage")
    image = _decode(data)
    assert image.size == (40, 40)
    assert colour_at(image, 0.25, 0.25) == pytest.approx(RED, abs=40)


def test_an_srgb_profile_leaves_pixels_alone() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(Image.new("RGB", (8, 8), (200, 30, 60)), "PNG", icc_profile=srgb)
    assert _decode(data).getpixel((4, 4)) == (200, 30, 60)


def test_a_damaged_icc_profile_falls_back_to_plain_conversion() -> None:
    data = encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG", icc_profile=b"not a profile" * 10)
    assert colour_at(_decode(data), 0.5, 0.5) == pytest.approx(RED, abs=40)


def test_bytes_like_inputs_are_accepted() -> None:
    data = case("webp").data
    assert _decode(bytearray(data)).size == _decode(memoryview(data)).size == (64, 48)  # type: ignore[arg-type]


def test_mpo_is_not_on_the_allow_list_but_phone_mpo_files_open() -> None:
    assert "MPO" not in images.allowed_formats()
    assert _decode(case("mpo_two_frames").data).size == (40, 30)


def test_heic_is_allowed_exactly_when_pillow_heif_is_installed() -> None:
    try:
        import pillow_heif  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        assert "HEIF" not in images.allowed_formats()
    else:
        assert "HEIF" in images.allowed_formats()


def test_image_decoder_takes_limits_from_settings_and_drafts_at_twice_the_model_size() -> None:
    decoder = ImageDecoder(ImageSettings(max_bytes=2048, max_pixels=1000), target_size=224)
    assert decoder.draft_size == 448
    with pytest.raises(images.TooManyBytesError):
        decoder.decode(case("progressive_jpeg").data)
    with pytest.raises(images.TooManyPixelsError):
        decoder.decode(encode(Image.new("RGB", (40, 40), RED), "PNG"))
    photo = ImageDecoder(ImageSettings(), target_size=224).decode(case("photo_12mp_jpeg").data)
    assert photo.size == (1000, 750)
    assert ImageDecoder(ImageSettings(), target_size=None).decode(case("webp").data).size == (64, 48)


def test_corpus_is_deterministic() -> None:
    corpus.cache_clear()
    first = {item.name: item.data for item in corpus()}
    corpus.cache_clear()
    second = {item.name: item.data for item in corpus()}
    assert [name for name in first if first[name] != second[name]] == []


def test_decoded_image_is_independent_of_the_input_buffer() -> None:
    buffer = bytearray(case("bmp").data)
    image = _decode(buffer)
    buffer[:] = bytes(len(buffer))
    assert colour_at(image, 0.25, 0.25) == RED
    assert image.tobytes() == _decode(case("bmp").data).tobytes()


# --- the decoded-memory budget ---


def test_a_small_7000x7000_rgba_png_is_refused_from_its_header(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under the 50 MP cap, but its RGBA pixels plus their RGB copy need about 374 MiB.
    data = png_header_only(7000, 7000, colour_type=6)
    with Image.open(io.BytesIO(data)) as opened:
        assert images.decode_memory(opened, DRAFT) >= 2 * 7000 * 7000 * 4
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("pixels were decoded"))
    decoder = ImageDecoder(ImageSettings(), target_size=224)
    with pytest.raises(images.TooBigToDecodeError, match=r"7000×7000 RGBA") as caught:
        decoder.decode(data)
    assert caught.value.code == "too_big"
    assert decoder.budget.in_use == 0


def test_the_estimate_counts_the_mode_and_the_rgb_copies() -> None:
    pixels = 1000 * 1000
    # Pillow keeps RGB at 4 bytes a pixel; the result is a copy detached from the file.
    assert decoded_bytes("RGB", (1000, 1000)) == 8 * pixels
    assert decoded_bytes("RGBA", (1000, 1000)) == 8 * pixels  # plus the white background
    assert decoded_bytes("P", (1000, 1000)) == 5 * pixels
    assert decoded_bytes("P", (1000, 1000), transparency=True) == 9 * pixels
    assert decoded_bytes("RGB", (1000, 1000), colour_profile=True) == 8 * pixels
    assert decoded_bytes("RGB", (1000, 1000), transposed=True) == 8 * pixels
    assert decoded_bytes("RGB", (1000, 1000), reduce_factor=2) == 5 * pixels


def test_the_memory_cap_is_configurable_and_refuses_non_jpeg() -> None:
    data = encode(quadrant_image(1000, 1000), "PNG")  # 4 MB of RGB pixels and their detached copy
    assert ImageDecoder(ImageSettings(max_decoded_mb=8), None).decode(data).size == (1000, 1000)
    with pytest.raises(images.TooBigToDecodeError):
        ImageDecoder(ImageSettings(max_decoded_mb=7), None).decode(data)


@pytest.mark.parametrize("draft_size", [None, DRAFT], ids=["full", "draft"])
def test_a_jpeg_over_the_cap_decodes_smaller_instead_of_being_refused(draft_size: int | None) -> None:
    data = case("photo_12mp_jpeg").data  # 4000×3000: 46 MiB at full scale
    image = decode(
        data,
        max_bytes=CORPUS_MAX_BYTES,
        max_pixels=CORPUS_MAX_PIXELS,
        draft_size=draft_size,
        max_decoded_bytes=2 * MIB,
    )
    assert image.size == (500, 375)  # the ⅛ DCT scale, the largest that fits 2 MiB
    case("photo_12mp_jpeg").check(image)  # type: ignore[misc]


def _reference_decode(data: bytes, draft_size: int | None) -> Image.Image:
    """The decode of a plain RGB JPEG written out in Pillow calls, as it was before the memory budget."""
    with Image.open(io.BytesIO(data)) as opened:
        if draft_size:
            opened.draft("RGB", (draft_size, draft_size))
        opened.load()
        image = ImageOps.exif_transpose(opened).convert("RGB")
    factor = min(image.size) // draft_size if draft_size else 1
    return image.reduce(factor) if factor >= 2 else image


@pytest.mark.parametrize("draft_size", [None, DRAFT, 768], ids=["full", "draft", "draft768"])
@pytest.mark.parametrize(
    "data",
    [
        encode(quadrant_image(500, 600), "JPEG", quality=90),
        case("photo_12mp_jpeg").data,
        exif_jpeg(quadrant_image(4000, 3000), orientation=6),
    ],
    ids=["catalogue_500x600", "phone_12mp", "phone_12mp_rotated"],
)
def test_images_under_the_cap_decode_to_the_same_pixels_as_before(
    data: bytes, draft_size: int | None
) -> None:
    # The model id depends on these pixels: a change would need an index rebuild.
    expected = _reference_decode(data, draft_size)
    for settings in (ImageSettings(), ImageSettings(max_decoded_mb=100_000, decode_budget_mb=100_000)):
        decoder = ImageDecoder(settings, None)
        decoder.draft_size = draft_size
        image = decoder.decode(data)
        assert image.size == expected.size
        assert image.tobytes() == expected.tobytes()


def test_every_decode_reserves_its_estimate_and_gives_it_back() -> None:
    budget = DecodeBudget(64 * MIB)
    seen: list[int] = []
    original = ImageFile.ImageFile.load

    def spying_load(self: ImageFile.ImageFile):  # type: ignore[no-untyped-def]
        seen.append(budget.in_use)
        return original(self)

    data = encode(Image.new("RGBA", (1000, 800), (255, 0, 0, 128)), "PNG")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ImageFile.ImageFile, "load", spying_load)
        decode(data, max_bytes=CORPUS_MAX_BYTES, max_pixels=CORPUS_MAX_PIXELS, budget=budget)
    assert set(seen) == {8 * 1000 * 800}  # load() runs again, as a no-op, in convert()
    assert budget.in_use == 0
    with pytest.raises(images.TruncatedImageError):
        decode(
            data[: len(data) // 2], max_bytes=CORPUS_MAX_BYTES, max_pixels=CORPUS_MAX_PIXELS, budget=budget
        )
    assert budget.in_use == 0


def test_a_decode_waits_until_its_share_of_the_budget_is_free() -> None:
    budget = DecodeBudget(10 * MIB)
    data = encode(quadrant_image(1000, 1000), "PNG")  # needs 8 MB
    done = threading.Event()

    def decode_in_thread() -> None:
        decode(data, max_bytes=CORPUS_MAX_BYTES, max_pixels=CORPUS_MAX_PIXELS, budget=budget)
        done.set()

    with budget.reserve(8 * MIB):
        worker = threading.Thread(target=decode_in_thread)
        worker.start()
        assert not done.wait(0.3), "the decode ran although the budget was taken"
    worker.join(10)
    assert done.is_set()
    assert budget.peak <= budget.capacity


def test_eight_concurrent_decodes_never_hold_more_than_the_budget() -> None:
    settings = ImageSettings(decode_budget_mb=10)  # two 4.8 MiB decodes (4 MB + the halved copy) at a time
    decoder = ImageDecoder(settings, target_size=224)
    assert decoder.budget is shared_budget(10 * MIB)
    data = encode(quadrant_image(1000, 1000), "PNG")
    threads = [threading.Thread(target=decoder.decode, args=(data,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert decoder.budget.in_use == 0
    assert 5 * 1000 * 1000 <= decoder.budget.peak <= 10 * MIB


def test_a_share_larger_than_the_budget_runs_alone() -> None:
    budget = DecodeBudget(MIB)
    with budget.reserve(5 * MIB):
        assert budget.in_use == MIB
    assert budget.in_use == 0


def test_memory_is_handed_back_once_the_last_large_decode_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []
    monkeypatch.setattr(image_memory, "release_free_memory", lambda: trims.append(1) or True)
    budget = DecodeBudget(512 * MIB)
    with budget.reserve(MIB):
        pass
    assert trims == [], "small decodes leave the heap alone"
    with budget.reserve(MIB):
        with budget.reserve(image_memory.TRIM_AFTER_BYTES):
            pass
        assert trims == [], "not while another decode runs"
    assert trims == [1]


def test_release_free_memory_works_or_says_it_cannot() -> None:
    assert isinstance(image_memory.release_free_memory(), bool)
