"""Product photos for albums: downloaded with the Referer, checked, cached by file_id, failures left out."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from bot.photos import PhotoRejectedError, ProductPhotos, prepare_photo
from indexer.musinsa import MusinsaClient, image_client
from tests.bot.conftest import World
from tests.bot.world import image_settings
from tests.image_corpus import case


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def downloads(world: World) -> AsyncIterator[MusinsaClient]:
    async with image_client(world.musinsa.musinsa_settings(), image_settings()) as client:
        yield client


async def test_one_download_per_photo_then_the_file_id(downloads: MusinsaClient, world: World) -> None:
    photos = ProductPhotos(downloads, image_settings())
    product = world.products[0]
    first, second = await asyncio.gather(photos.get(product), photos.get(product))
    assert first == second == world.musinsa.image_bytes(product.id)  # a JPEG that fits is sent as it is
    assert photos.downloads == 1
    photos.remember(product, "AgACAgIAAxkBAAfile")
    assert await photos.get(product) == "AgACAgIAAxkBAAfile"
    assert photos.downloads == 1
    # A changed image URL is another photo.
    moved = product.model_copy(update={"image_url": product.image_url.replace("_500", "_501")})
    assert photos.cached(moved) is None
    photos.forget(product)
    assert isinstance(await photos.get(product), bytes)
    assert photos.downloads == 2


async def test_file_id_cache_is_bounded(downloads: MusinsaClient, world: World) -> None:
    photos = ProductPhotos(downloads, image_settings(), cache_size=2)
    a, b, c = world.products[:3]
    photos.remember(a, "file-a")
    photos.remember(b, "file-b")
    assert photos.cached(a) == "file-a"  # a is now the most recently used
    photos.remember(c, "file-c")
    assert photos.cached(b) is None
    assert photos.cached(a) == "file-a" and photos.cached(c) == "file-c"


async def test_a_missing_photo_is_left_out_and_retried_later(downloads: MusinsaClient, world: World) -> None:
    clock = Clock()
    photos = ProductPhotos(downloads, image_settings(), failure_seconds=60, clock=clock)
    product = world.products[1]
    gone = product.model_copy(
        update={"image_url": f"{world.musinsa.url}/images/goods_img/20240101/1/1_1_500.jpg"}
    )
    requests = len(world.musinsa.requests_to("/images/goods_img/20240101/1/"))
    assert await photos.get(gone) is None
    assert await photos.get(gone) is None  # remembered: no second request
    assert len(world.musinsa.requests_to("/images/goods_img/20240101/1/")) == requests + 1
    clock.now += 61
    assert await photos.get(gone) is None
    assert len(world.musinsa.requests_to("/images/goods_img/20240101/1/")) == requests + 2


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def test_prepare_photo_keeps_what_telegram_accepts_and_reencodes_the_rest() -> None:
    settings = image_settings()
    jpeg = encode(Image.new("RGB", (500, 600), (10, 20, 30)), "JPEG")
    png = encode(Image.new("RGB", (500, 600), (10, 20, 30)), "PNG")
    assert prepare_photo(jpeg, settings) == jpeg
    assert prepare_photo(png, settings) == png
    for data in (case("webp").data, case("animated_gif").data, case("tiff").data, case("cmyk_jpeg").data):
        converted = prepare_photo(data, settings)
        with Image.open(io.BytesIO(converted)) as image:
            assert image.format in ("JPEG", "PNG")
    huge = encode(Image.new("RGB", (6000, 4500), (200, 200, 200)), "JPEG", quality=50)
    with Image.open(io.BytesIO(prepare_photo(huge, settings))) as image:
        assert image.format == "JPEG" and max(image.size) <= 1280


@pytest.mark.parametrize("name", ["truncated_jpeg", "html", "empty", "png_1x5000"])
def test_prepare_photo_refuses_broken_images(name: str) -> None:
    with pytest.raises(PhotoRejectedError):
        prepare_photo(case(name).data, image_settings())


def test_prepare_photo_refuses_shapes_telegram_refuses() -> None:
    strip = encode(Image.new("RGB", (2100, 100), (0, 0, 0)), "PNG")  # 21:1
    with pytest.raises(PhotoRejectedError):
        prepare_photo(strip, image_settings())
