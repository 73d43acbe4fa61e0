"""Captions, keyboards, callback data and texts: Telegram's limits and both languages, without a network."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from telegram.constants import InlineKeyboardButtonLimit

from bot.commands import COMMANDS, help_lines, menu
from bot.messages import LANGUAGES, TEXTS, image_error_text, language_of, text
from bot.render import (
    CategoryButton,
    CategoryMenuButton,
    PageButton,
    SimilarButton,
    caption,
    category_choices,
    category_data,
    category_keyboard,
    category_menu_data,
    category_name,
    page_data,
    results_keyboard,
    results_list,
    similar_data,
    without_more,
)
from indexer.images import ERROR_CODES
from indexer.product import Product
from tests.bot.buttons import parse_callback
from tests.fakes.telegram.formatting import format_text


def product(**changes: object) -> Product:
    fields: dict[str, object] = {
        "id": 3783092,
        "name": "오버핏 후드 티셔츠_블랙",
        "brand": "covernat",
        "brand_name": "커버낫",
        "category": "001004",
        "price": 39_900,
        "normal_price": 59_000,
        "sale_rate": 32,
        "image_url": "https://image.msscdn.net/images/goods_img/20240109/3783092/3783092_1_500.jpg",
        "url": "https://www.musinsa.com/products/3783092",
        "crawled_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    fields.update(changes)
    return Product.model_validate(fields)


def test_language_from_telegram_code() -> None:
    assert language_of("ko") == "ko"
    assert language_of("ko-KR") == "ko"
    assert language_of("KO") == "ko"
    for code in ("en", "en-US", "ja", "kok", "", None):
        assert language_of(code) == "en"


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    for key, variants in TEXTS.items():
        assert set(variants) == set(LANGUAGES), key
        fields = {lang: sorted(re.findall(r"{(\w+)}", variants[lang])) for lang in LANGUAGES}
        assert fields["en"] == fields["ko"] or key == "invalid_ref", key  # the Korean ref text is generic


def test_every_image_error_code_has_its_own_text() -> None:
    for lang in LANGUAGES:
        replies = {code: image_error_text(lang, code) for code in ERROR_CODES}
        assert len(set(replies.values())) == len(ERROR_CODES), "each decode error gets a specific reply"
        assert image_error_text(lang, "some_future_code") == image_error_text(lang, "corrupt")


def test_values_are_escaped() -> None:
    rendered = text("en", "category_unknown", name="<b>&", suggestions="x")
    assert "&lt;b&gt;&amp;" in rendered
    assert format_text(rendered, "HTML", None).text.startswith("I don't know the category “<b>&”")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_caption_shows_brand_name_prices_discount_and_link(lang: str) -> None:
    item = product(name='Hood <R&D> "zip"', sold_out=True)
    rendered = caption(lang, 3, item)  # type: ignore[arg-type]
    parsed = format_text(rendered, "HTML", None)  # the fake's strict HTML parser: must not raise
    assert parsed.text.startswith('#3 · 커버낫\nHood <R&D> "zip"\n')
    if lang == "en":
        assert "₩39,900 ₩59,000 32% off" in parsed.text
        assert "Sold out" in parsed.text and "View on Musinsa" in parsed.text
    else:
        assert "39,900원 59,000원 32% 할인" in parsed.text
        assert "품절" in parsed.text and "무신사에서 보기" in parsed.text
    links = [e["url"] for e in parsed.entities if e["type"] == "text_link"]
    assert links == ["https://www.musinsa.com/products/3783092"]
    assert any(e["type"] == "strikethrough" for e in parsed.entities)


def test_caption_without_discount_has_one_price() -> None:
    rendered = caption("en", 1, product(price=59_000, normal_price=59_000, sale_rate=0))
    parsed = format_text(rendered, "HTML", None)
    assert "₩59,000" in parsed.text and "off" not in parsed.text and "Sold out" not in parsed.text
    assert not any(e["type"] == "strikethrough" for e in parsed.entities)


def test_caption_uses_the_final_price_after_extra_discounts() -> None:
    rendered = caption("en", 1, product(price=39_900, final_price=35_000, normal_price=50_000, sale_rate=0))
    assert "<b>₩35,000</b> <s>₩50,000</s> 30% off" in rendered


def test_long_names_are_shortened_to_fit_a_caption() -> None:
    long_name = "&<>" * 600  # escapes to five times its length
    rendered = caption("ko", 10, product(name=long_name, brand_name="B" * 300))
    assert len(rendered) <= 1024
    parsed = format_text(rendered, "HTML", None)
    assert len(parsed.text) <= 1024
    assert parsed.text.splitlines()[1].endswith("…")
    assert "무신사에서 보기" in parsed.text  # the link survives


def test_text_list_fallback_fits_one_message() -> None:
    products = [product(id=1000 + i, name="x" * 900) for i in range(10)]
    rendered = results_list("en", 1, products)
    assert len(rendered) <= 4096
    format_text(rendered, "HTML", None)


def test_callback_data_round_trips_and_stays_within_64_bytes() -> None:
    cases = {
        page_data("AbCd-_12", 9999): PageButton("AbCd-_12", 9999),
        similar_data("AbCd-_12", 10): SimilarButton("AbCd-_12", 10),
        category_data("001004"): CategoryButton("001004"),
        category_data(None): CategoryButton(None),
        category_menu_data(): CategoryMenuButton(),
    }
    for data, button in cases.items():
        assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
        assert data.startswith("v1:")
        assert parse_callback(data) == button


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "v1",
        "v0:p:AbCd1234:2",
        "v2:p:AbCd1234:2",
        "v1:p:AbCd1234:0",
        "v1:p:AbCd1234:x",
        "v1:p::2",
        "v1:x:AbCd1234:2",
        "v1:c:999",
        "v1:c:abc",
        "v1:s:AbCd1234",
        "v1:p:ab cd:2",
        "v1:c:001:extra",
    ],
)
def test_unknown_callback_data_is_stale(data: str | None) -> None:
    assert parse_callback(data) is None


def test_results_keyboard() -> None:
    markup = results_keyboard("en", search_id="AbCd1234", first_rank=7, count=5, next_page=3, category="001")
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows == [
        [
            ("Similar #7", "v1:s:AbCd1234:7"),
            ("Similar #8", "v1:s:AbCd1234:8"),
            ("Similar #9", "v1:s:AbCd1234:9"),
        ],
        [("Similar #10", "v1:s:AbCd1234:10"), ("Similar #11", "v1:s:AbCd1234:11")],
        [(f"⭐{n}", f"v1:v:AbCd1234:{n}") for n in range(7, 12)],
        [("More ▶", "v1:p:AbCd1234:3")],
        [("Category: tops ✏️", "v1:c:menu")],
    ]
    trimmed = without_more(markup)
    assert trimmed is not None
    assert [b.text for row in trimmed.inline_keyboard for b in row] == [
        "Similar #7",
        "Similar #8",
        "Similar #9",
        "Similar #10",
        "Similar #11",
        *(f"⭐{n}" for n in range(7, 12)),
        "Category: tops ✏️",
    ]
    last = results_keyboard("ko", search_id="AbCd1234", first_rank=1, count=2, next_page=None, category=None)
    assert [b.text for row in last.inline_keyboard for b in row] == [
        "비슷한 #1",
        "비슷한 #2",
        "⭐1",
        "⭐2",
        "카테고리: 전체 ✏️",
    ]


def test_category_keyboard_offers_the_crawled_top_levels_and_all() -> None:
    choices = category_choices(["001", "002", "003", "004", "100", "101", "103"])
    assert choices == ["001", "002", "003", "004", "100", "101", "103"]
    assert category_choices(["001004", "103004"]) == ["001", "103"]
    markup = category_keyboard("ko", choices, current="003")
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels[:3] == ["상의", "아우터", "✓ 바지"]
    assert labels[-1] == "전체"
    assert markup.inline_keyboard[-1][0].callback_data == "v1:c:all"


def test_category_names() -> None:
    assert category_name("en", None) == "All" and category_name("ko", None) == "전체"
    assert category_name("en", "001004") == "hoodie"
    assert category_name("ko", "001") == "상의"
    assert category_name("en", "001004999") == "hoodie (001004999)"  # deeper than the table: nearest parent
    assert category_name("ko", "001999") == "상의 (001999)"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_menus_and_help_come_from_one_command_list(lang: str) -> None:
    user_menu = [c.command for c in menu(lang, admin=False)]  # type: ignore[arg-type]
    admin_menu = [c.command for c in menu(lang, admin=True)]  # type: ignore[arg-type]
    assert user_menu == [
        "start",
        "help",
        "category",
        "similar",
        "filter",
        "settings",
        "saved",
        "alerts",
        "privacy",
        "forget",
    ]
    assert admin_menu == [*user_menu, "stats", "sync"]
    assert [c.name for c in COMMANDS] == admin_menu
    for command in menu(lang, admin=True):  # type: ignore[arg-type]
        assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
    # Telegram's 1–256 character limit is enforced by the fake in test_commands; here: each command
    # has its own description, not a shared or copied line.
    descriptions = [command.description for command in menu(lang, admin=True)]  # type: ignore[arg-type]
    assert len(set(descriptions)) == len(descriptions)
    lines = "\n".join(help_lines(lang, admin=False))  # type: ignore[arg-type]
    for name in user_menu:
        assert f"/{name}" in lines
    assert "/stats" not in lines
    assert "/stats" in "\n".join(help_lines(lang, admin=True))  # type: ignore[arg-type]
    format_text(lines, "HTML", None)
