"""Prices as shoppers type them (``bot.price_words``): Korean and English forms, and each refusal's reason."""

from __future__ import annotations

import pytest

from bot.price_words import PriceWordsError, find_price_range, parse_price_range
from indexer.store import SearchFilters
from indexer.store.filters import MAX_PRICE_WON


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # ranges
        ("3-8만원", (30_000, 80_000)),
        ("3~5만원", (30_000, 50_000)),
        ("3 ~ 5 만원", (30_000, 50_000)),
        ("3-8만", (30_000, 80_000)),
        ("1.5-3만원", (15_000, 30_000)),
        ("30000-80000", (30_000, 80_000)),
        ("30,000-80,000원", (30_000, 80_000)),
        ("30k-80k", (30_000, 80_000)),
        ("30K ~ 80K", (30_000, 80_000)),
        ("3만-8", (30_000, 80_000)),
        ("5000-3만", (5_000, 30_000)),
        ("3만–8만원", (30_000, 80_000)),  # an en dash
        ("3만〜8만원", (30_000, 80_000)),  # a wave dash
        ("３만～８만원", (30_000, 80_000)),  # full width
        ("3만원부터 5만원까지", (30_000, 50_000)),
        ("3만원 이상 5만원 이하", (30_000, 50_000)),
        ("3만원에서 5만원", (30_000, 50_000)),
        ("3만~5만 사이", (30_000, 50_000)),
        ("between 30k and 80k", (30_000, 80_000)),
        ("from 30000 to 80000", (30_000, 80_000)),
        ("30k to 80k", (30_000, 80_000)),
        ("0-5만", (0, 50_000)),
        # upper bounds
        ("5만원 이하", (None, 50_000)),
        ("5만원이하", (None, 50_000)),
        ("5만원 이하로", (None, 50_000)),
        ("5만원 미만", (None, 50_000)),
        ("5만원까지", (None, 50_000)),
        ("5만원 이내", (None, 50_000)),
        ("under 50000", (None, 50_000)),
        ("Under ₩50,000", (None, 50_000)),
        ("below 50k", (None, 50_000)),
        ("less than 50000 won", (None, 50_000)),
        ("up to 50k", (None, 50_000)),
        ("max 50k", (None, 50_000)),
        ("50k max", (None, 50_000)),
        ("<= 50000", (None, 50_000)),
        ("50,000 won or less", (None, 50_000)),
        ("50k 이하", (None, 50_000)),
        ("~5만", (None, 50_000)),
        ("~ 50000원", (None, 50_000)),
        # a lone amount is a budget
        ("5만원", (None, 50_000)),
        ("1.5만", (None, 15_000)),
        ("2만5천원", (None, 25_000)),
        ("2만 5천원", (None, 25_000)),
        ("2만5000원", (None, 25_000)),
        ("5천원", (None, 5_000)),
        ("39,900원", (None, 39_900)),
        ("₩39,900", (None, 39_900)),
        ("50000", (None, 50_000)),
        ("1억", (None, 100_000_000)),
        ("1천만원", (None, 10_000_000)),
        # lower bounds
        ("3만원 이상", (30_000, None)),
        ("3만원부터", (30_000, None)),
        ("3만원 초과", (30_000, None)),
        ("10만+", (100_000, None)),
        ("10만원+", (100_000, None)),
        ("over 30k", (30_000, None)),
        ("above 30000", (30_000, None)),
        ("at least 30k", (30_000, None)),
        ("more than 30,000", (30_000, None)),
        ("30k and up", (30_000, None)),
        ("30000 or more", (30_000, None)),
        ("> 30000", (30_000, None)),
        ("5만~", (50_000, None)),
        # a band: the 50,000s
        ("5만원대", (50_000, 59_999)),
        ("10만원대", (100_000, 199_999)),
        ("3천원대", (3_000, 3_999)),
    ],
)
def test_readable_ranges(typed: str, expected: tuple[int | None, int | None]) -> None:
    assert parse_price_range(typed) == expected
    low, high = expected
    SearchFilters(min_price=low, max_price=high)  # every range read is one the filters accept


@pytest.mark.parametrize(
    ("typed", "code", "english"),
    [
        ("8-3만원", "min_above_max", "The lowest price (₩80,000) is above the highest (₩30,000)."),
        ("80000-30000", "min_above_max", "The lowest price (₩80,000) is above the highest (₩30,000)."),
        (
            "5만원 이상 3만원 이하",
            "min_above_max",
            "The lowest price (₩50,000) is above the highest (₩30,000).",
        ),
        ("-5000", "negative", "A price can't be negative (-5000)."),
        ("-5만원", "negative", "A price can't be negative (-5만원)."),
        ("under -5000", "negative", "A price can't be negative (-5000)."),
        (
            "999조원",
            "too_high",
            "₩999,000,000,000,000 is more than any product costs (at most ₩100,000,000).",
        ),
        ("2억", "too_high", "₩200,000,000 is more than any product costs (at most ₩100,000,000)."),
        ("3만-2억", "too_high", "₩200,000,000 is more than any product costs (at most ₩100,000,000)."),
        (
            "9" * 30,
            "too_high",
            f"{'9' * 30} is more than any product costs (at most ₩100,000,000).",
        ),
        ("3-8", "too_low", "₩8 is too low for a price — did you mean 8만원?"),
        ("5", "too_low", "₩5 is too low for a price — did you mean 5만원?"),
        ("", "empty", "Type a price range after /filter."),
        ("   ", "empty", "Type a price range after /filter."),
        ("cheap", "unreadable", "I couldn't read “cheap” as a price range."),
        ("싼 거", "unreadable", "I couldn't read “싼 거” as a price range."),
        ("5만원 이하 여성", "unreadable", "I couldn't read “5만원 이하 여성” as a price range."),
        ("3만 8만", "unreadable", "I couldn't read “3만 8만” as a price range."),
        ("$50", "unreadable", "I couldn't read “$50” as a price range."),
        ("🙂🙂", "unreadable", "I couldn't read “🙂🙂” as a price range."),
        ("0", "unreadable", "I couldn't read “0” as a price range."),
        ("under", "unreadable", "I couldn't read “under” as a price range."),
        (
            "'; DROP TABLE users; --",
            "unreadable",
            "I couldn't read “'; DROP TABLE users; --” as a price range.",
        ),
    ],
)
def test_refusals_say_why(typed: str, code: str, english: str) -> None:
    with pytest.raises(PriceWordsError) as raised:
        parse_price_range(typed)
    assert raised.value.code == code
    assert str(raised.value) == english
    assert isinstance(raised.value, ValueError)
    assert raised.value.reason("ko")  # every reason exists in Korean too


def test_korean_reasons_use_korean_prices() -> None:
    with pytest.raises(PriceWordsError) as raised:
        parse_price_range("8-3만원")
    assert raised.value.reason("ko") == "최저 가격(80,000원)이 최고 가격(30,000원)보다 높아요."
    with pytest.raises(PriceWordsError) as raised:
        parse_price_range("999조원")
    assert (
        raised.value.reason("ko")
        == "999,000,000,000,000원은(는) 너무 커요. 상품 가격은 최대 100,000,000원이에요."
    )


def test_the_most_a_price_can_be_is_the_filters_own_limit() -> None:
    assert parse_price_range(f"{MAX_PRICE_WON}") == (None, MAX_PRICE_WON)
    with pytest.raises(PriceWordsError, match="more than any product costs"):
        parse_price_range(f"{MAX_PRICE_WON + 1}")


def test_long_input_is_refused_quickly() -> None:
    with pytest.raises(PriceWordsError):
        parse_price_range("5만원 " * 2000)


@pytest.mark.parametrize(
    ("caption", "bounds", "written"),
    [
        ("여성 바지 5만원 이하", (None, 50_000), "5만원 이하"),
        ("women shoes under 50000", (None, 50_000), "under 50000"),
        ("바지 3~5만원 정도", (30_000, 50_000), "3~5만원"),
        ("50k 이하 pants", (None, 50_000), "50k 이하"),
        ("원피스 30000-80000", (30_000, 80_000), "30000-80000"),
        ("신발 10만원대로 찾아줘", (100_000, 199_999), "10만원대로"),
        ("코트 2만5천원", (None, 25_000), "2만5천원"),
    ],
)
def test_a_price_inside_a_caption(caption: str, bounds: tuple[int | None, int | None], written: str) -> None:
    found = find_price_range(caption)
    assert found is not None
    assert (found.min_price, found.max_price) == bounds
    assert found.text == written


@pytest.mark.parametrize(
    "caption",
    ["2024 신상", "나이키 270", "size 95-100", "2019-2024 collection", "원피스", "black hoodie", ""],
)
def test_numbers_without_price_words_are_not_prices(caption: str) -> None:
    assert find_price_range(caption) is None


def test_a_caption_price_that_cannot_apply_raises() -> None:
    with pytest.raises(PriceWordsError) as raised:
        find_price_range("자켓 999조원")
    assert raised.value.code == "too_high"
