"""Product references: every accepted id/URL form, and clear refusals for everything else."""

from __future__ import annotations

import pytest

from indexer.musinsa.refs import ProductRefSyntaxError, parse_product_ref


@pytest.mark.parametrize(
    "text",
    [
        "3783092",
        " 3783092 \n",
        "https://www.musinsa.com/products/3783092",
        "http://www.musinsa.com/products/3783092",
        "https://musinsa.com/products/3783092",
        "www.musinsa.com/products/3783092",
        "musinsa.com/products/3783092",
        "https://www.musinsa.com/products/3783092/",
        "https://www.musinsa.com/products/3783092?utm_source=share&loc=x",
        "https://www.musinsa.com/products/3783092#reviews",
        "HTTPS://WWW.MUSINSA.COM/products/3783092",
        "/products/3783092",
        "/app/goods/3783092",
        "https://www.musinsa.com/app/goods/3783092",
        "https://www.musinsa.com/app/goods/3783092/0",
        "https://www.musinsa.com/app/goods/3783092/0?loc=goods_rank",
        "https://store.musinsa.com/app/goods/3783092",
        "store.musinsa.com/app/goods/3783092/0",
        "http://mss.kr/3783092",
        "https://mss.kr/3783092",
        "mss.kr/3783092",
        "mss.kr/3783092?ref=x",
    ],
)
def test_accepted_forms(text: str) -> None:
    assert parse_product_ref(text) == 3783092


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty product reference"),
        ("   ", "empty product reference"),
        ("0", "0 is not a Musinsa product number"),
        ("000", "0 is not a Musinsa product number"),
        ("12345678901234567890", "too long"),
        ("https://www.musinsa.com/products/0", "0 is not"),
        ("https://www.musinsa.com/products/123456789012", "does not point to a product"),
        ("https://global.musinsa.com/us/goods/3783092", "Musinsa Global"),
        ("https://musinsaapp.page.link/abcd", "app share links"),
        ("https://musinsa.onelink.me/xyz", "app share links"),
        ("https://www.example.com/products/3783092", "www.example.com is not Musinsa"),
        ("https://musinsa.com.evil.example/products/1", "is not Musinsa"),
        ("https://www.musinsa.com/brand/adidas", "does not point to a product"),
        ("https://www.musinsa.com/products/abc", "does not point to a product"),
        ("https://www.musinsa.com/products/123/reviews", "does not point to a product"),
        ("https://www.musinsa.com:8443/products/123", "not a Musinsa product link"),
        ("ftp://www.musinsa.com/products/123", "not a Musinsa product link"),
        ("javascript:alert(1)", "not a Musinsa product link"),
        ("hello world", "not a Musinsa product link"),
        ("3783092 4149670", "not a Musinsa product link"),
        ("-5", "not Musinsa"),
        ("١٢٣", "not Musinsa"),  # Arabic-Indic digits are not an id
        ("https://www.musinsa.com/products/3783092" + "x" * 3000, "not a Musinsa product link"),
    ],
)
def test_rejected_forms_have_clear_messages(text: str, message: str) -> None:
    with pytest.raises(ProductRefSyntaxError) as caught:
        parse_product_ref(text)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


def test_extra_hosts_for_a_configured_web_url() -> None:
    assert parse_product_ref("http://127.0.0.1:8123/products/42", extra_hosts={"127.0.0.1"}) == 42
    with pytest.raises(ProductRefSyntaxError):
        parse_product_ref("http://127.0.0.1:8123/products/42")


def test_non_string_is_rejected() -> None:
    with pytest.raises(ProductRefSyntaxError):
        parse_product_ref(3783092)  # type: ignore[arg-type]
