"""The ⭐ and /saved buttons' callback data, and how a /saved page reads (price change, states, limits)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from bot.render import (
    RemoveSavedButton,
    SaveButton,
    SavedPageButton,
    remove_saved_data,
    results_keyboard,
    save_data,
    saved_page_data,
)
from bot.saved import SavedItem, SavedPage, page_count
from bot.saved_render import percent_text, price_change, saved_keyboard, saved_page_text
from bot.userdata import SavedProduct
from indexer.product import Product
from tests.bot.buttons import parse_callback
from tests.fakes.telegram.formatting import format_text

WEB = "https://www.musinsa.com"
BIG_USER = 2**52  # Telegram user ids fit in 52 bits
TITLE = "커버낫 · 오버핏 후드 티셔츠_블랙"


def product(**changes: object) -> Product:
    fields: dict[str, object] = {
        "id": 3783092,
        "name": "오버핏 후드 티셔츠_블랙",
        "brand": "covernat",
        "brand_name": "커버낫",
        "category": "001004",
        "price": 29_900,
        "normal_price": 39_900,
        "image_url": "https://image.msscdn.net/a.jpg",
        "url": f"{WEB}/products/3783092",
    }
    fields.update(changes)
    return Product.model_validate(fields)


def saved(product_id: int = 3783092, price: int | None = 39_900, sold_out: bool = False) -> SavedProduct:
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    return SavedProduct(1, product_id, price, sold_out, price, moment)


def test_save_and_list_data_round_trip_within_64_bytes() -> None:
    cases = {
        save_data("AbCd-_12", 10): SaveButton("AbCd-_12", 10),
        saved_page_data(BIG_USER, 40): SavedPageButton(BIG_USER, 40),
        remove_saved_data(BIG_USER, 99_999_999_999, 40): RemoveSavedButton(BIG_USER, 99_999_999_999, 40),
    }
    for data, button in cases.items():
        assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
        assert parse_callback(data) == button


@pytest.mark.parametrize(
    "data",
    [
        "v1:v:AbCd1234:0",
        "v1:v:AbCd1234",
        "v1:vl:0:1",
        "v1:vl:12:x",
        "v1:vr:12:34",
        "v1:vr:-1:34:1",
        "v1:vl:1:1:1",
    ],
)
def test_malformed_save_and_list_data_is_stale(data: str) -> None:
    assert parse_callback(data) is None


def test_ten_results_get_two_rows_of_five_stars() -> None:
    markup = results_keyboard("en", search_id="AbCd1234", first_rank=1, count=10, next_page=2, category=None)
    stars = [row for row in markup.inline_keyboard if row[0].text.startswith("⭐")]
    assert [[b.text for b in row] for row in stars] == [
        [f"⭐{n}" for n in range(1, 6)],
        [f"⭐{n}" for n in range(6, 11)],
    ]


def test_price_change_in_won_and_percent() -> None:
    assert price_change("en", 39_900, 29_900) == "▼ ₩10,000 (-25%) since saved"
    assert price_change("ko", 39_900, 29_900) == "저장 후 ▼ 10,000원 (-25%)"
    assert price_change("en", 20_000, 23_000) == "▲ ₩3,000 (+15%) since saved"
    assert price_change("en", 100_000, 99_900) == "▼ ₩100 (-0.1%) since saved"
    assert price_change("ko", 20_000, 20_000) == "저장 후 변동 없음"
    assert price_change("en", None, 20_000) is None
    assert percent_text(-1, 3) == "-33%"


def test_a_page_lists_the_price_now_its_change_states_and_links() -> None:
    items = (
        SavedItem(6, saved(), product(), "listed"),
        SavedItem(
            7,
            saved(11, 5000, sold_out=True),
            product(id=11, url=f"{WEB}/products/11", price=5000, normal_price=5000),
            "listed",
        ),
        SavedItem(
            8,
            saved(12, 9000),
            product(id=12, url=f"{WEB}/products/12", sold_out=True, price=9500, normal_price=9500),
            "listed",
        ),
        SavedItem(9, saved(13, 7000), None, "gone"),
        SavedItem(10, saved(14, None), None, "unknown"),
    )
    page = SavedPage(777, items, 2, 3, 12)
    html = saved_page_text("en", page, WEB)
    shown = format_text(html, "HTML", None)
    assert shown.text.split("\n\n") == [
        "⭐ Saved products · 6–10 of 12",
        f"6. {TITLE}\n₩29,900 ₩39,900 25% off · ▼ ₩10,000 (-25%) since saved\nView on Musinsa",
        f"7. {TITLE}\n₩5,000 · no change since saved\n✅ Back in stock\nView on Musinsa",
        f"8. {TITLE}\n₩9,500 · ▲ ₩500 (+6%) since saved\n⛔ Sold out\nView on Musinsa",
        "9. Product 13 · 🚫 no longer on Musinsa\nsaved at ₩7,000\nView on Musinsa",
        "10. Product 14 · the price now can't be checked right now\nView on Musinsa",
    ]
    links = [entity["url"] for entity in shown.entities if entity["type"] == "text_link"]
    assert links == [f"{WEB}/products/{n}" for n in (3783092, 11, 12, 13, 14)]
    korean = format_text(saved_page_text("ko", page, WEB), "HTML", None).text
    assert korean.startswith("⭐ 저장한 상품 · 12개 중 6–10\n\n")
    assert "9. 상품 13 · 🚫 무신사에서 내려간 상품\n저장할 때 7,000원" in korean
    markup = saved_keyboard("en", page)
    assert markup is not None
    assert [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard] == [
        [
            ("✖ #6", "v1:vr:777:3783092:2"),
            ("✖ #7", "v1:vr:777:11:2"),
            ("✖ #8", "v1:vr:777:12:2"),
            ("✖ #9", "v1:vr:777:13:2"),
            ("✖ #10", "v1:vr:777:14:2"),
        ],
        [("◀ Prev", "v1:vl:777:1"), ("Next ▶", "v1:vl:777:3")],
    ]


def test_names_are_escaped_and_a_page_of_long_names_fits_one_message() -> None:
    long = product(name="<b>&" * 300, brand_name="<i>" * 100)
    page = SavedPage(1, tuple(SavedItem(n, saved(), long, "listed") for n in range(1, 6)), 1, 1, 5)
    html = saved_page_text("ko", page, WEB)
    assert len(html) <= MessageLimit.MAX_TEXT_LENGTH
    shown = format_text(html, "HTML", None).text  # parses: every tag closed, every name escaped
    assert shown.count("1. <i><i>") == 1 and "<b>&<b>&" in shown


def test_an_empty_list_says_how_to_save() -> None:
    empty = SavedPage(1, (), 1, 1, 0)
    assert format_text(saved_page_text("en", empty, WEB), "HTML", None).text.startswith(
        "⭐ You haven't saved any products yet.\nTap ⭐n under search results"
    )
    assert "검색 결과 아래 <b>⭐n</b>을 누르면" in saved_page_text("ko", empty, WEB)
    assert saved_keyboard("en", empty) is None
    assert [page_count(n) for n in (0, 1, 5, 6, 200)] == [1, 1, 1, 2, 40]
