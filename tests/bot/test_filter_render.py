"""The filter and settings menus, the results header's filters and their callback data, without a network."""

from __future__ import annotations

import pytest
from telegram.constants import InlineKeyboardButtonLimit

from bot.render import (
    ClearFiltersButton,
    FilterButton,
    SettingsButton,
    clear_filters_data,
    filter_data,
    filter_keyboard,
    filters_summary,
    price_range_text,
    results_header,
    results_keyboard,
    settings_keyboard,
    settings_language_data,
)
from indexer.store import SearchFilters
from tests.bot.buttons import parse_callback
from tests.fakes.telegram.formatting import format_text


def test_callback_data_round_trips() -> None:
    cases = {
        filter_data("p", "u30k"): FilterButton("p", "u30k"),
        filter_data("p", "o100k"): FilterButton("p", "o100k"),
        filter_data("p", "any"): FilterButton("p", "any"),
        filter_data("g", "women"): FilterButton("g", "women"),
        filter_data("g", "all"): FilterButton("g", "all"),
        filter_data("s", "show"): FilterButton("s", "show"),
        filter_data("x", "all"): FilterButton("x", "all"),
        filter_data("m", "open"): FilterButton("m", "open"),
        clear_filters_data(): ClearFiltersButton(),
        settings_language_data("ko"): SettingsButton("ko"),
        settings_language_data(None): SettingsButton(None),
    }
    for data, button in cases.items():
        assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
        assert parse_callback(data) == button


@pytest.mark.parametrize(
    "data",
    [
        "v1:f:p:u999k",
        "v1:f:g:kids",
        "v1:f:s:maybe",
        "v1:f:x",
        "v1:f:q:all",
        "v1:fc:x",
        "v1:t:l:fr",
        "v1:t:x:ko",
        "v2:fc",
    ],
)
def test_forged_filter_and_settings_data_is_stale(data: str) -> None:
    assert parse_callback(data) is None


def test_presses_change_one_filter_each() -> None:
    saved = SearchFilters(min_price=10_000, max_price=20_000, gender="men", include_sold_out=True)
    assert FilterButton("p", "u50k").applied_to(saved) == saved.replace(min_price=None, max_price=50_000)
    assert FilterButton("p", "o100k").applied_to(saved) == saved.replace(min_price=100_000, max_price=None)
    assert FilterButton("p", "any").applied_to(saved) == saved.replace(min_price=None, max_price=None)
    assert FilterButton("g", "all").applied_to(saved) == saved.replace(gender=None)
    assert FilterButton("s", "hide").applied_to(saved) == saved.replace(include_sold_out=False)
    assert FilterButton("x", "all").applied_to(saved).is_default
    assert FilterButton("m", "open").applied_to(saved) == saved


def test_prices_and_summaries_in_both_languages() -> None:
    assert price_range_text("en", 30_000, 80_000) == "₩30,000–₩80,000"
    assert price_range_text("ko", 30_000, 80_000) == "30,000원~80,000원"
    assert price_range_text("en", None, 50_000) == "up to ₩50,000"
    assert price_range_text("ko", 100_000, None) == "100,000원 이상"
    assert price_range_text("ko", None, None) == "모든 가격"
    both = SearchFilters(max_price=50_000, gender="women", include_sold_out=True)
    assert filters_summary("en", both) == "up to ₩50,000 · women · incl. sold out"
    assert filters_summary("ko", both) == "50,000원 이하 · 여성 · 품절 포함"
    assert filters_summary("en", SearchFilters()) == "none"


def test_the_menu_marks_the_current_choices() -> None:
    rows = filter_keyboard("ko", SearchFilters(min_price=100_000, gender="men")).inline_keyboard
    assert [[b.text for b in row] for row in rows] == [
        ["~3만원", "~5만원", "~10만원", "✓ 10만원+"],
        ["모든 가격"],
        ["성별 전체", "✓ 남성", "여성"],
        ["✓ 품절 숨기기", "품절 보기"],
        ["✖ 모두 지우기"],
    ]
    typed = filter_keyboard("en", SearchFilters(min_price=30_000, max_price=80_000)).inline_keyboard
    assert not any(b.text.startswith("✓") for b in typed[0] + typed[1])  # a typed range is no preset
    languages = settings_keyboard("en", "ko").inline_keyboard[0]
    assert [b.text for b in languages] == ["Auto", "✓ 한국어", "English"]


def test_the_header_shows_filters_and_caption_words_escaped() -> None:
    header = results_header(
        "en",
        first=1,
        last=6,
        category="003",
        filters=SearchFilters(max_price=50_000, gender="women"),
        understood=("5만원 이하", "<b>women</b>"),
    )
    assert header == (
        "🔎 Results 1–6 · pants\nFilters: up to ₩50,000 · women\n"
        "From your caption: “5만원 이하”, “&lt;b&gt;women&lt;/b&gt;”"
    )
    format_text(header, "HTML", None)
    assert (
        results_header("en", first=1, last=6, category=None, filters=SearchFilters())
        == "🔎 Results 1–6 · All"
    )
    plain = results_keyboard("en", search_id="AbCd1234", first_rank=1, count=1, next_page=None, category=None)
    assert [b.text for b in plain.inline_keyboard[-1]] == ["Category: All ✏️"]
    clear = results_keyboard(
        "en", search_id="AbCd1234", first_rank=1, count=1, next_page=None, category=None, clear_filters=True
    )
    assert [(b.text, b.callback_data) for b in clear.inline_keyboard[-1]] == [
        ("Category: All ✏️", "v1:c:menu"),
        ("✖ Clear filters", "v1:fc"),
    ]
