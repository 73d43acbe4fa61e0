"""A caption refines its photo's search (``bot.caption.refine``), through the real Korean analyser."""

from __future__ import annotations

import pytest

from bot.caption import refine
from bot.scope import SearchScope
from indexer.categories import get_category
from indexer.store import DEFAULT_FILTERS, SearchFilters

SAVED = SearchScope("103", SearchFilters(min_price=100_000, gender="men"))


@pytest.mark.parametrize(
    ("caption", "category", "filters", "understood"),
    [
        (
            "여성 바지 5만원 이하",
            "003",
            SearchFilters(max_price=50_000, gender="women"),
            ("5만원 이하", "여성", "바지"),
        ),
        (
            "women pants under 50000",
            "003",
            SearchFilters(max_price=50_000, gender="women"),
            ("under 50000", "women", "pants"),
        ),
        ("3~5만원", "103", SearchFilters(30_000, 50_000, gender="men"), ("3~5만원",)),
        ("50k 이하", "103", SearchFilters(max_price=50_000, gender="men"), ("50k 이하",)),
        ("여자", "103", SearchFilters(min_price=100_000, gender="women"), ("여자",)),
        ("Women", "103", SearchFilters(min_price=100_000, gender="women"), ("women",)),
        ("남성용", "103", SearchFilters(min_price=100_000, gender="men"), ("남성용",)),
        ("남녀공용", "103", SearchFilters(min_price=100_000), ("남녀공용",)),
        ("신발", "103", SAVED.filters, ("신발",)),
        ("바지", "003", SAVED.filters, ("바지",)),
        ("pants", "003", SAVED.filters, ("pants",)),
        ("아우터", "002", SAVED.filters, ("아우터",)),
        ("jacket", "002", SAVED.filters, ("jacket",)),
        ("청바지", "003002", SAVED.filters, ("청바지",)),
        ("후드 집업", "002022", SAVED.filters, ("후드 집업",)),
        ("bomber jacket", "002001", SAVED.filters, ("bomber jacket",)),
        ("여성바지", "003", SearchFilters(min_price=100_000, gender="women"), ("여성", "바지")),
        ("바지 신발", ("003", "103"), SAVED.filters, ("바지", "신발")),
        ("청바지 바지", "003", SAVED.filters, ("청바지", "바지")),  # the broader one covers both
        ("품절 포함", "103", SAVED.filters.replace(include_sold_out=True), ("품절 포함",)),
        ("incl. sold out", "103", SAVED.filters.replace(include_sold_out=True), ("incl. sold out",)),
    ],
)
def test_what_a_caption_says_applies_over_the_saved_scope(
    caption: str,
    category: str | tuple[str, ...],
    filters: SearchFilters,
    understood: tuple[str, ...],
) -> None:
    reading = refine(SAVED, caption)
    assert reading.understood
    assert reading.problem is None
    assert reading.scope == SearchScope(category, filters, understood)
    for code in (category,) if isinstance(category, str) else category:
        assert get_category(code) is not None  # every code a caption names is one the table knows


@pytest.mark.parametrize(
    "caption",
    ["", "   ", "nice photo!", "2024 신상", "이거 어디 거예요?", "🙂🙂🙂", "<b>hi</b>", "life is used"],
)
def test_a_caption_with_nothing_to_use_leaves_the_scope(caption: str) -> None:
    reading = refine(SAVED, caption)
    assert not reading.understood
    assert reading.scope == SAVED


def test_a_caption_is_never_saved_and_the_default_stays_untouched() -> None:
    fresh = SearchScope()
    reading = refine(fresh, "여성 5만원 이하")
    assert reading.scope.filters == SearchFilters(max_price=50_000, gender="women")
    assert fresh.filters == DEFAULT_FILTERS and fresh.understood == ()


def test_a_price_that_cannot_apply_is_reported_and_the_rest_still_applies() -> None:
    reading = refine(SAVED, "자켓 999조원")
    assert reading.understood
    assert reading.scope == SearchScope("002", SAVED.filters, ("자켓",))
    assert reading.problem is not None and reading.problem.code == "too_high"
    alone = refine(SAVED, "8-3만원")
    assert not alone.understood and alone.scope == SAVED
    assert alone.problem is not None and alone.problem.code == "min_above_max"


def test_a_long_caption_is_read_up_to_the_query_limit() -> None:
    reading = refine(SearchScope(), "여성 " + "아주 " * 500 + "바지")
    assert reading.understood and reading.scope.filters.gender == "women"
    assert reading.scope.category is None  # "바지" was past the limit
