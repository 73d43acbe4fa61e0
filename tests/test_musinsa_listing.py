"""Listing responses to Products: the reference fixture, normalisation rules, skipped items, bad envelopes."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from indexer.musinsa.errors import MalformedBodyError, ResultNotSuccessError, UnexpectedResponseError
from indexer.musinsa.listing import decode_json, parse_listing
from indexer.musinsa.urls import absolute_url, listing_url

FIXTURE = Path(__file__).parent / "fixtures" / "musinsa_listing_002_page1.json"
URL = "https://api.musinsa.com/api2/dp/v1/plp/goods?gf=A&category=002&caller=CATEGORY&page=1&size=3"
CDN = "https://image.msscdn.net"
WEB = "https://www.musinsa.com"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def fixture() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def parse(payload: Any, category: str = "002"):
    return parse_listing(
        payload, url=URL, category=category, page=1, image_host=CDN, web_url=WEB, crawled_at=WHEN
    )


def test_reference_fixture_parses_field_by_field() -> None:
    page = parse(fixture())
    assert page.has_next is True
    assert page.total_count == 41230
    assert page.total_pages == 13744
    assert page.skipped == []
    assert [p.id for p in page.products] == [3783092, 4149670, 3771089]
    first = page.products[0]
    assert first.name == "[크롭선택] ASI 포시즌 에센셜 후드 집업_피그먼트 차콜"
    assert first.brand == "dimitriblack"
    assert first.brand_name == "디미트리블랙"
    assert first.category == "002"
    assert (first.price, first.normal_price, first.sale_rate, first.final_price) == (39900, 60900, 34, 39900)
    assert first.image_url == (
        "https://image.msscdn.net/images/goods_img/20240109/3783092/3783092_17164556227922_500.png"
    )
    assert first.url == "https://www.musinsa.com/products/3783092"
    assert first.gender == "공용"
    assert first.sold_out is False
    assert first.review_count == 11609
    assert first.rating == 4.8
    assert first.crawled_at == WHEN
    assert page.products[2].sold_out is True
    assert page.products[2].rating == 4.9


def with_item(**changes: Any) -> dict[str, Any]:
    payload = fixture()
    item = payload["data"]["list"][0]
    for key, value in changes.items():
        if value is ...:
            item.pop(key)
        else:
            item[key] = value
    return payload


@pytest.mark.parametrize(
    ("thumbnail", "expected"),
    [
        (
            "//image.msscdn.net/images/goods_img/1/1_500.jpg",
            "https://image.msscdn.net/images/goods_img/1/1_500.jpg",
        ),
        ("/images/goods_img/1/1_500.jpg", "https://image.msscdn.net/images/goods_img/1/1_500.jpg"),
        (
            "http://image.msscdn.net/images/goods_img/1/1_500.jpg",
            "https://image.msscdn.net/images/goods_img/1/1_500.jpg",
        ),
        (" https://image.msscdn.net/a_500.png ", "https://image.msscdn.net/a_500.png"),
    ],
)
def test_image_urls_become_absolute_https(thumbnail: str, expected: str) -> None:
    assert parse(with_item(thumbnail=thumbnail)).products[0].image_url == expected


def test_relative_images_use_the_configured_image_host() -> None:
    assert absolute_url("/images/a.jpg", "http://127.0.0.1:9000") == "http://127.0.0.1:9000/images/a.jpg"
    assert absolute_url("//127.0.0.1:9000/images/a.jpg", "http://127.0.0.1:9000") == (
        "http://127.0.0.1:9000/images/a.jpg"
    )
    for bad in ("", "images/a.jpg", "data:image/png;base64,AAAA", "javascript:x", None, 5):
        assert absolute_url(bad, CDN) is None  # type: ignore[arg-type]


def test_null_final_price_and_effective_price() -> None:
    product = parse(with_item(finalPrice=None)).products[0]
    assert product.final_price is None
    assert product.price == 39900
    assert product.effective_price == 39900
    coupon = parse(with_item(finalPrice=35900)).products[0]
    assert coupon.effective_price == 35900


def test_url_falls_back_to_the_product_page() -> None:
    assert parse(with_item(goodsLinkUrl=...)).products[0].url == "https://www.musinsa.com/products/3783092"
    assert parse(with_item(goodsLinkUrl="")).products[0].url == "https://www.musinsa.com/products/3783092"


def test_missing_optional_fields_get_defaults() -> None:
    optional = (
        "goodsLinkUrl",
        "brandName",
        "normalPrice",
        "saleRate",
        "finalPrice",
        "isSoldOut",
        "displayGenderText",
        "reviewCount",
        "reviewScore",
        "brand",
        "isAd",
        "snap",
        "score",
    )
    product = parse(with_item(**dict.fromkeys(optional, ...))).products[0]
    assert product.id == 3783092
    assert product.normal_price == product.price == 39900
    assert product.sale_rate == 0
    assert product.final_price is None
    assert product.sold_out is False
    assert product.gender is None
    assert product.review_count == 0
    assert product.rating is None
    assert product.brand == product.brand_name == ""


def test_unicode_names_survive_untouched() -> None:
    name = 'ＮＥＷ 🎉 [단독] 코튼 셔츠 — 아이보리 / Ivory "quoted" <b>'
    assert parse(with_item(goodsName=name)).products[0].name == name


def test_out_of_range_values_do_not_cost_the_item() -> None:
    product = parse(with_item(reviewScore=250, saleRate=-5, reviewCount=-1, isSoldOut="yes")).products[0]
    assert product.rating is None
    assert product.sale_rate == 0
    assert product.review_count == 0
    assert product.sold_out is False


def test_numeric_strings_are_accepted() -> None:
    product = parse(with_item(goodsNo="3783092", price="39,900")).products[0]
    assert (product.id, product.price) == (3783092, 39900)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"goodsNo": ...}, "goodsNo"),
        ({"goodsNo": 0}, "goodsNo"),
        ({"goodsNo": True}, "goodsNo"),
        ({"goodsName": ...}, "goodsName"),
        ({"goodsName": "   "}, "goodsName"),
        ({"price": ..., "finalPrice": None}, "price"),
        ({"price": "free", "finalPrice": None}, "price"),
        ({"thumbnail": ...}, "thumbnail"),
        ({"thumbnail": "no-image"}, "thumbnail"),
    ],
)
def test_item_missing_a_required_field_is_skipped_and_counted(changes: dict[str, Any], reason: str) -> None:
    page = parse(with_item(**changes))
    assert [p.id for p in page.products] == [4149670, 3771089]
    assert len(page.skipped) == 1
    assert page.skipped[0].index == 0
    assert reason in page.skipped[0].reason


def test_price_falls_back_to_final_price() -> None:
    assert parse(with_item(price=...)).products[0].price == 39900


def test_non_object_items_are_skipped() -> None:
    payload = fixture()
    payload["data"]["list"].insert(1, "garbage")
    payload["data"]["list"].insert(0, None)
    page = parse(payload)
    assert len(page.products) == 3
    assert [s.index for s in page.skipped] == [0, 2]


def test_duplicates_within_a_page_are_dropped() -> None:
    payload = fixture()
    ad = copy.deepcopy(payload["data"]["list"][1])
    ad["isAd"] = True
    payload["data"]["list"].insert(0, ad)
    page = parse(payload)
    assert [p.id for p in page.products] == [4149670, 3783092, 3771089]


def envelope(change) -> dict[str, Any]:
    payload = fixture()
    change(payload)
    return payload


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([], "top level is list"),
        ({"data": {}}, "no meta.result"),
        (envelope(lambda p: p.pop("data")), "data is missing"),
        (envelope(lambda p: p["data"].pop("list")), "data.list is missing"),
        (envelope(lambda p: p["data"].__setitem__("list", {"a": 1})), "data.list is missing or not a list"),
        (envelope(lambda p: p["data"].pop("pagination")), "data.pagination is missing"),
        (envelope(lambda p: p["data"]["pagination"].pop("hasNext")), "hasNext is missing"),
        (
            envelope(lambda p: p["data"]["pagination"].__setitem__("hasNext", "no")),
            "hasNext is missing or not a boolean",
        ),
    ],
)
def test_unexpected_shapes_raise_naming_the_url(payload: Any, problem: str) -> None:
    with pytest.raises(UnexpectedResponseError) as caught:
        parse(payload)
    assert not isinstance(caught.value, ResultNotSuccessError)
    message = str(caught.value)
    assert URL in message
    assert problem in message


def test_meta_result_other_than_success_raises() -> None:
    payload = fixture()
    payload["meta"] = {"result": "FAIL", "errorCode": "E429", "message": "잠시 후 다시 시도해 주세요"}
    with pytest.raises(ResultNotSuccessError, match=r"meta.result is 'FAIL', not 'SUCCESS': 잠시 후"):
        parse(payload)


def test_decode_json_names_the_url_and_shows_the_start() -> None:
    with pytest.raises(MalformedBodyError) as caught:
        decode_json(b"<!DOCTYPE html><html>Just a moment", URL)
    assert URL in str(caught.value)
    assert "<!DOCTYPE html>" in str(caught.value)
    with pytest.raises(MalformedBodyError):
        decode_json(b"\xff\xfe\x00", URL)


def test_listing_url_matches_the_reference_request() -> None:
    assert listing_url("https://api.musinsa.com", category="002", page=1, size=100) == (
        "https://api.musinsa.com/api2/dp/v1/plp/goods?gf=A&category=002&caller=CATEGORY&sortCode=POPULAR&page=1&size=100"
    )
