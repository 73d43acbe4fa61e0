"""Product pages: the reference fixture and every source on its own (og metas, __NEXT_DATA__, __MSS__)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from indexer.musinsa.errors import UnexpectedResponseError
from indexer.musinsa.product_page import parse_product_page
from tests.fakes.musinsa_catalog import FakeCatalog, product_page

FIXTURE = Path(__file__).parent / "fixtures" / "musinsa_product_3783092.html"
URL = "https://www.musinsa.com/products/3783092"
BASE = "http://127.0.0.1:8000"


def parse_fixture(html: str):
    return parse_product_page(html, url=URL, goods_no=3783092)


def test_reference_fixture() -> None:
    product = parse_fixture(FIXTURE.read_text(encoding="utf-8"))
    assert product.id == 3783092
    assert product.name == "[크롭선택] ASI 포시즌 에센셜 후드 집업_피그먼트 차콜"
    assert product.brand == "dimitriblack"
    assert product.brand_name == "디미트리블랙"
    assert product.category == "002022"  # the deepest depth code
    assert (product.price, product.normal_price, product.sale_rate, product.final_price) == (
        39900,
        60900,
        34,
        39900,
    )
    # the main image (from __MSS__ thumbnailImageUrl), not a gallery detail shot
    assert product.image_url == (
        "https://image.msscdn.net/images/goods_img/20240109/3783092/3783092_17164556227922_500.png"
    )
    assert product.url == URL
    assert product.gender == "공용"
    assert product.sold_out is False
    assert product.review_count == 11609
    assert product.rating == 4.8


def test_og_metas_only() -> None:
    html = FIXTURE.read_text(encoding="utf-8")
    html = html.split("<script>")[0] + "</body></html>"
    product = parse_fixture(html)
    assert (
        product.name == "[크롭선택] ASI 포시즌 에센셜 후드 집업_피그먼트 차콜"
    )  # title suffix and brand stripped
    assert product.brand_name == "디미트리블랙"
    assert product.brand == "dimitriblack"  # from the English brand name
    assert product.category == "002022"  # '아우터 > 후드 집업' via the category table
    assert (product.price, product.normal_price, product.sale_rate) == (39900, 60900, 34)
    assert product.image_url.endswith("/3783092_17164556227922_500.png")
    assert product.id == 3783092


def test_og_metas_without_product_metas_take_the_price_from_the_description() -> None:
    html = FIXTURE.read_text(encoding="utf-8").split("<script>")[0] + "</body></html>"
    html = "\n".join(line for line in html.splitlines() if 'property="product:' not in line)
    product = parse_fixture(html)
    assert product.price == 39900
    assert product.normal_price == 39900  # nothing better is known
    assert product.brand_name == "디미트리블랙"


def fake_html(**changes) -> tuple[str, object]:
    catalog = FakeCatalog.generate(seed=11, count=5)
    fake_product = dataclasses.replace(next(iter(catalog)), **changes)
    return product_page(fake_product, BASE), fake_product


def parse_fake(html: str, goods_no: int):
    return parse_product_page(
        html, url=f"{BASE}/products/{goods_no}", web_url=BASE, image_host=BASE, goods_no=goods_no
    )


@pytest.mark.parametrize(
    "sources",
    [
        {"next_data", "mss", "og", "product_metas"},
        {"next_data"},
        {"mss"},
        {"og", "product_metas"},
        {"og"},
        {"mss", "og"},
    ],
)
def test_each_source_alone_gives_the_product(sources: set[str]) -> None:
    html, fake = fake_html(page_sources=frozenset(sources), sold_out=False)
    product = parse_fake(html, fake.goods_no)
    assert product.id == fake.goods_no
    assert product.name == fake.name
    assert product.brand_name == fake.brand_name
    assert product.brand == fake.brand
    assert product.category == fake.category
    assert product.price == fake.price
    assert product.url == f"{BASE}/products/{fake.goods_no}"
    if sources & {"mss", "og"}:
        assert product.image_url == BASE + fake.image_path
    else:  # __NEXT_DATA__ alone names only gallery images
        assert product.image_url == BASE + fake.detail_image_path
    if "next_data" in sources:
        assert product.final_price == fake.final_price
        assert product.review_count == fake.review_count
    if sources & {"next_data", "mss", "product_metas"}:
        assert product.normal_price == fake.normal_price
        assert product.sale_rate == fake.sale_rate


def test_mss_state_alone_parsed_with_raw_decode() -> None:
    html, fake = fake_html(page_sources=frozenset({"mss"}), gender_text="여성", name='따옴표 "}; 세미콜론 ;')
    product = parse_fake(html, fake.goods_no)
    assert product.name == '따옴표 "}; 세미콜론 ;'  # a naive '{.*?};' regex would cut it here
    assert product.gender == "여성"  # sexCode 4


def test_review_title_suffix_is_stripped() -> None:
    html, fake = fake_html(page_sources=frozenset({"og"}), review_title=True)
    assert "- 후기 | 무신사" in html
    assert parse_fake(html, fake.goods_no).name == fake.name


@pytest.mark.parametrize("sources", [{"next_data"}, {"mss"}, {"og", "product_metas"}])
def test_sold_out_from_each_source(sources: set[str]) -> None:
    html, fake = fake_html(page_sources=frozenset(sources), sold_out=True)
    assert parse_fake(html, fake.goods_no).sold_out is True
    html, fake = fake_html(page_sources=frozenset(sources), sold_out=False)
    assert parse_fake(html, fake.goods_no).sold_out is False


def test_broken_next_data_falls_back() -> None:
    html = FIXTURE.read_text(encoding="utf-8").replace('"props":{"pageProps"', '"props":{"pageProps" BROKEN')
    assert parse_fixture(html).rating is None  # __NEXT_DATA__ ignored, __MSS__ and metas still used
    assert parse_fixture(html).category == "002022"


@pytest.mark.parametrize(
    ("html", "missing"),
    [
        ("<html><head><title>무신사</title></head><body>점검 중입니다</body></html>", "price"),
        ("", "name"),
        ("<html><body>Just a moment...</body></html>", "image"),
    ],
)
def test_a_page_without_product_data_is_a_clear_error(html: str, missing: str) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse_product_page(html, url=URL, goods_no=3783092)
    assert URL in str(caught.value)
    assert missing in str(caught.value)
    assert "__NEXT_DATA__" in str(caught.value)
