"""The fake Musinsa itself: shaped and as strict as the real listing API and pages, deterministic, mutable."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from tests.fakes.musinsa import LISTING_PATH, MUSINSA_ROBOTS, FakeMusinsa, Fault
from tests.fakes.musinsa_catalog import FakeCatalog

FIXTURE_ITEM_KEYS = set(
    json.loads((Path(__file__).parent / "fixtures" / "musinsa_listing_002_page1.json").read_text("utf-8"))[
        "data"
    ]["list"][0]
)
MUSINSA = {"Referer": "https://www.musinsa.com/"}


@pytest.fixture
async def fake() -> AsyncIterator[FakeMusinsa]:
    async with FakeMusinsa(FakeCatalog.generate(seed=2, count=30)) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def listing_query(**changes: str) -> dict[str, str]:
    return {
        "gf": "A",
        "category": "001",
        "caller": "CATEGORY",
        "sortCode": "POPULAR",
        "page": "1",
        "size": "3",
        **changes,
    }


async def test_catalog_is_deterministic_and_varied() -> None:
    one, two = FakeCatalog.generate(seed=4, count=200), FakeCatalog.generate(seed=4, count=200)
    assert [p for p in one] == [p for p in two]
    assert [p for p in FakeCatalog.generate(seed=5, count=200)] != [p for p in one]
    products = list(one)
    assert len({p.goods_no for p in products}) == 200
    assert any(p.sold_out for p in products) and not all(p.sold_out for p in products)
    assert any(p.final_price is None for p in products)
    assert {p.thumbnail_form for p in products} == {"absolute", "protocol_relative", "relative"}
    assert any(p.is_ad for p in products)
    assert all(any("\uac00" <= ch <= "\ud7a3" for ch in p.name) for p in products)  # Korean names


async def test_listing_pages_and_envelope(fake: FakeMusinsa, http: aiohttp.ClientSession) -> None:
    ids: list[int] = []
    page = 1
    while True:
        async with http.get(fake.url + LISTING_PATH, params=listing_query(page=str(page))) as response:
            assert response.status == 200
            body = await response.json()
        assert body["meta"] == {"result": "SUCCESS"}
        assert set(body["data"]) == {"list", "pagination", "dsBucketProduct"}
        pagination = body["data"]["pagination"]
        assert set(pagination) == {"page", "size", "totalCount", "totalPages", "hasNext"}
        for item in body["data"]["list"]:
            assert set(item) >= FIXTURE_ITEM_KEYS
            if not item["isAd"]:
                ids.append(item["goodsNo"])
        if not pagination["hasNext"]:
            assert page == pagination["totalPages"]
            break
        page += 1
    assert ids == fake.listing_ids("001")
    assert len(ids) == pagination["totalCount"] > 3


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"size": "101"}, "size must be between 1 and 100"),
        ({"size": "0"}, "size must be between"),
        ({"page": "0"}, "page must be a positive integer"),
        ({"gf": "X"}, "gf must be A, M or F"),
        ({"caller": "NOPE"}, "caller must be"),
        ({"category": "tops"}, "category must be a category code"),
        ({"sortCode": "RANDOM"}, "unknown sortCode"),
    ],
)
async def test_listing_rejects_bad_parameters_with_400(
    fake: FakeMusinsa, http: aiohttp.ClientSession, changes: dict[str, str], problem: str
) -> None:
    async with http.get(fake.url + LISTING_PATH, params=listing_query(**changes)) as response:
        assert response.status == 400
        body = await response.json()
    assert body["meta"]["result"] == "FAIL"
    assert problem in body["meta"]["message"]


async def test_past_the_last_page_is_empty(fake: FakeMusinsa, http: aiohttp.ClientSession) -> None:
    async with http.get(fake.url + LISTING_PATH, params=listing_query(page="99")) as response:
        body = await response.json()
    assert body["data"]["list"] == []
    assert body["data"]["pagination"]["hasNext"] is False


async def test_product_pages_redirects_and_404(fake: FakeMusinsa, http: aiohttp.ClientSession) -> None:
    product = next(iter(fake.catalog))
    async with http.get(f"{fake.url}/products/{product.goods_no}") as response:
        html = await response.text()
    assert response.status == 200 and response.content_type == "text/html"
    assert '<script id="__NEXT_DATA__" type="application/json">' in html
    assert "window.__MSS__.product.state = {" in html
    assert 'property="og:description" content="제품분류 :' in html
    assert "사이즈 &amp; 후기 | 무신사</title>" in html
    async with http.get(
        f"{fake.url}/app/goods/{product.goods_no}/0?loc=x", allow_redirects=False
    ) as response:
        assert response.status == 301
        assert response.headers["Location"] == f"/products/{product.goods_no}"
    async with http.get(f"{fake.url}/products/1") as response:
        assert response.status == 404
    async with http.get(f"{fake.url}/api2/goods/{product.goods_no}") as response:
        detail = await response.json()
    assert detail["meta"]["result"] == "SUCCESS"
    assert detail["data"]["thumbnailImageUrl"] == product.image_path


async def test_images_need_the_referer_and_are_distinct(
    fake: FakeMusinsa, http: aiohttp.ClientSession
) -> None:
    digests = set()
    for product in list(fake.catalog)[:6]:
        async with http.get(fake.image_url(product.goods_no)) as response:
            assert await response.read() == fake.placeholder_bytes
        async with http.get(fake.image_url(product.goods_no), headers=MUSINSA) as response:
            data = await response.read()
            assert response.content_type == ("image/png" if product.image_ext == "png" else "image/jpeg")
        image = Image.open(io.BytesIO(data))
        assert image.size == (96, 112)
        image.load()
        digests.add(hashlib.sha256(data).hexdigest())
    assert len(digests) == 6
    assert fake.placeholder_sha256 not in digests


async def test_catalog_mutations_show_up_in_the_next_crawl(
    fake: FakeMusinsa, http: aiohttp.ClientSession
) -> None:
    first, second, third = list(fake.catalog)[:3]
    old_image = fake.image_bytes(first.goods_no)
    fake.catalog.change_image(first.goods_no)
    assert fake.image_bytes(first.goods_no) != old_image
    assert fake.catalog.get(first.goods_no).image_path != first.image_path
    async with http.get(fake.url + first.image_path, headers=MUSINSA) as response:
        assert response.status == 404  # the old URL is gone
    fake.catalog.set_price(second.goods_no, 12300)
    assert fake.catalog.get(second.goods_no).price == 12300
    fake.catalog.remove(third.goods_no)
    added = fake.catalog.add(category="001004")
    async with http.get(f"{fake.url}/products/{third.goods_no}") as response:
        assert response.status == 404
    assert added.goods_no in fake.listing_ids("001")
    assert third.goods_no not in fake.listing_ids(third.category[:3])


async def test_faults_next_and_random(fake: FakeMusinsa, http: aiohttp.ClientSession) -> None:
    fake.faults.next(Fault.throttled("3"), times=2, match=LISTING_PATH)
    for _ in range(2):
        async with http.get(fake.url + LISTING_PATH, params=listing_query()) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "3"
    async with http.get(fake.url + LISTING_PATH, params=listing_query()) as response:
        assert response.status == 200
    fake.faults.random(0.5, [Fault.http(503)], match=LISTING_PATH, seed=1)
    statuses = []
    for _ in range(20):
        async with http.get(fake.url + LISTING_PATH, params=listing_query()) as response:
            statuses.append(response.status)
    assert 3 <= statuses.count(503) <= 17 and statuses.count(200) >= 3
    recorded = fake.requests_to(LISTING_PATH)
    assert [r.status for r in recorded[-20:]] == statuses
    assert all(r.fault is not None for r in recorded[-20:] if r.status == 503)


async def test_robots_variants(fake: FakeMusinsa, http: aiohttp.ClientSession) -> None:
    async with http.get(fake.url + "/robots.txt") as response:
        assert "Allow: /" in await response.text()
    fake.robots_txt = MUSINSA_ROBOTS
    async with http.get(fake.url + "/robots.txt") as response:
        assert "User-agent: *\nDisallow: /" in await response.text()
    fake.robots_txt = None
    async with http.get(fake.url + "/robots.txt") as response:
        assert response.status == 404
