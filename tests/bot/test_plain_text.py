"""How a plain text message is read: a Musinsa link or number, another shop's link, or words."""

from __future__ import annotations

import pytest

from bot.plain_text import (
    Blank,
    OtherShopLink,
    PlainText,
    ProductRef,
    Words,
    links_in,
    read_plain_text,
    without_mention,
)

TEST_HOST = frozenset({"127.0.0.1"})


@pytest.mark.parametrize(
    ("message", "reading"),
    [
        ("3783092", ProductRef("3783092")),
        ("  3783092 \n", ProductRef("3783092")),
        ("https://www.musinsa.com/products/3783092", ProductRef("https://www.musinsa.com/products/3783092")),
        ("musinsa.com/products/3783092", ProductRef("musinsa.com/products/3783092")),
        ("mss.kr/3783092.", ProductRef("mss.kr/3783092")),
        (
            "이거 비슷한 거 https://www.musinsa.com/app/goods/3783092 찾아줘",
            ProductRef("https://www.musinsa.com/app/goods/3783092"),
        ),
        ("(https://www.musinsa.com/products/1)", ProductRef("https://www.musinsa.com/products/1")),
        ("http://127.0.0.1:8080/products/5", ProductRef("http://127.0.0.1:8080/products/5")),
        # Musinsa links that are not products still go to the product lookup, which says what to send.
        ("https://www.musinsa.com/brands/adidas", ProductRef("https://www.musinsa.com/brands/adidas")),
        ("https://global.musinsa.com/products/1", ProductRef("https://global.musinsa.com/products/1")),
        # A Musinsa link wins over another link in the same message.
        ("https://naver.me/x or musinsa.com/products/7", ProductRef("musinsa.com/products/7")),
        ("https://www.29cm.co.kr/products/123", OtherShopLink("www.29cm.co.kr")),
        ("zigzag.kr/catalog/products/9 이거요", OtherShopLink("zigzag.kr")),
        ("HTTPS://Shop.Example.COM/p/1", OtherShopLink("shop.example.com")),
        ("검정 와이드 슬랙스", Words("검정 와이드 슬랙스")),
        ("nike hoodie", Words("nike hoodie")),
        ("후드 2개 30000원", Words("후드 2개 30000원")),
        ("v2.0 hoodie", Words("v2.0 hoodie")),
        ("me@mail.com", Words("me@mail.com")),
        ("<b>hoodie</b>", Words("<b>hoodie</b>")),
        ("'; DROP TABLE products; --", Words("'; DROP TABLE products; --")),
        ("😀🔥", Words("😀🔥")),
        ("-3", Words("-3")),
        ("", Blank()),
        (" \n\t ", Blank()),
    ],
)
def test_read_plain_text(message: str, reading: PlainText) -> None:
    assert read_plain_text(message, musinsa_hosts=TEST_HOST) == reading


def test_links_drop_the_punctuation_that_ends_a_sentence() -> None:
    assert links_in("see https://a.example.com/x, and www.musinsa.com/products/1!") == [
        "https://a.example.com/x",
        "www.musinsa.com/products/1",
    ]


def test_the_bots_mention_is_left_out() -> None:
    assert without_mention("@Snapfit_Bot 후드", "snapfit_bot") == "후드"
    assert without_mention("후드 @snapfit_bot", "snapfit_bot") == "후드"
    assert without_mention("@snapfit_bot", "snapfit_bot") == ""
    assert without_mention("@snapfit_botty 후드", "snapfit_bot") == "@snapfit_botty 후드"
    assert without_mention("후드", None) == "후드"
