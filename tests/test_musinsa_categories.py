"""The category table: codes, English and Korean names and aliases resolve; unknown names get suggestions."""

from __future__ import annotations

import pytest

from indexer.categories import (
    CATEGORIES,
    UnknownCategoryError,
    category_code,
    crawl_plan,
    from_korean_path,
    get_category,
    is_category_code,
    is_known_code,
    normalize_name,
    resolve_category,
    subcategories,
    suggest,
    top_level_categories,
    walk_plan,
)

TOP_LEVEL = {
    "001",
    "002",
    "003",
    "004",
    "017",
    "026",
    "100",
    "101",
    "102",
    "103",
    "104",
    "105",
    "106",
    "107",
    "108",
}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("tops", "001"),
        ("상의", "001"),
        ("001", "001"),
        ("TOPS", "001"),
        ("  Tops ", "001"),
        ("outer", "002"),
        ("outerwear", "002"),
        ("아우터", "002"),
        ("pants", "003"),
        ("바지", "003"),
        ("dresses & skirts", "100"),
        ("Dresses and Skirts", "100"),
        ("원피스·스커트", "100"),
        ("원피스/스커트", "100"),
        ("shoes", "103"),
        ("신발", "103"),
        ("bags", "004"),
        ("가방", "004"),
        ("hoodie", "001004"),
        ("후드 티셔츠", "001004"),
        ("후드티셔츠", "001004"),
        ("후드", "001004"),
        ("001004", "001004"),
        ("후드 집업", "002022"),
        ("sneakers", "103004"),
        ("스니커즈", "103004"),
        ("T-Shirt", "001001"),
        ("jeans", "003002"),
        ("백팩", "004001"),
    ],
)
def test_resolve_accepts_codes_names_and_aliases(text: str, code: str) -> None:
    category = resolve_category(text)
    assert category is not None, text
    assert category.code == code


@pytest.mark.parametrize("text", ["", "   ", "all", "topz", "999", "상의상의", "hood1e"])
def test_resolve_returns_none_for_unknown(text: str) -> None:
    assert resolve_category(text) is None


def test_table_covers_the_reference() -> None:
    codes = {c.code for c in CATEGORIES}
    assert codes >= TOP_LEVEL
    assert {"109", "111"} <= codes
    # every clothing, bag and shoe sub-category Musinsa lists
    for code in ("001001", "001011", "002001", "002027", "003002", "003010", "100001", "100006"):
        assert code in codes
    for code in ("004001", "004016", "103001", "103007", "026005", "017016"):
        assert code in codes
    for category in CATEGORIES:
        assert is_category_code(category.code) and is_known_code(category.code)
        assert category.name and category.name_ko
        if not category.is_top_level:
            assert get_category(category.parent_code or "") is not None, category.code


def test_every_key_is_unique_and_resolves_to_its_own_category() -> None:
    for category in CATEGORIES:
        for key in (category.code, category.name, category.name_ko, *category.aliases):
            assert resolve_category(key) == category, key


def test_top_level_listing_for_a_keyboard() -> None:
    tops = top_level_categories()
    assert [c.code for c in tops][:4] == ["001", "002", "003", "004"]
    assert all(c.is_top_level for c in tops)
    assert {c.code for c in tops} >= TOP_LEVEL
    assert tops[0].label == "상의 (tops)"
    assert {c.code for c in subcategories("103")} >= {"103004", "103001"}


def test_suggest_close_names() -> None:
    assert suggest("hoody")[0].code == "001004"
    assert suggest("sneaker")[0].code == "103004"
    assert suggest("tpos")[0].code == "001"
    assert suggest("qqqqqqqq") == []
    assert suggest("") == []
    assert len(suggest("shirt", 2)) <= 2


def test_normalize_name_ignores_case_space_and_separators() -> None:
    assert normalize_name(" Dresses &  Skirts ") == normalize_name("dresses and skirts") == "dressesskirts"
    assert normalize_name("원피스·스커트") == normalize_name("원피스/스커트")
    assert normalize_name("ＴＯＰＳ") == "tops"  # full-width letters


def test_korean_path_from_product_pages() -> None:
    assert from_korean_path(["아우터", "후드 집업"]).code == "002022"
    assert from_korean_path(["상의", "후드 티셔츠"]).code == "001004"
    assert from_korean_path(["상의", "모르는 분류"]).code == "001"  # deepest known level
    assert from_korean_path(["스포츠/레저", "상의"]).code == "017016"
    assert from_korean_path(["모르는 분류"]) is None
    # a sub-category name is only looked for under its own parent
    assert from_korean_path(["바지", "후드 집업"]).code == "003"


def test_category_code_for_command_line_arguments() -> None:
    assert category_code("tops") == "001"
    assert category_code("001004") == "001004"
    assert category_code("017016005") == "017016005"  # a deeper code under a known parent
    with pytest.raises(UnknownCategoryError, match=r"unknown category 'topz' \(did you mean 001 tops"):
        category_code("topz")
    with pytest.raises(UnknownCategoryError, match="unknown category code '999'"):
        category_code("999")
    with pytest.raises(UnknownCategoryError, match="unknown category code '999001'"):
        category_code("999001")
    with pytest.raises(UnknownCategoryError, match="known categories include 001 tops"):
        category_code("zzzzzzzz")


def test_crawl_plan_walks_sub_categories_before_their_parent() -> None:
    plan = crawl_plan(["001", "103", "101"], expand_subcategories=True)
    tops = [c.code for c in subcategories("001")]
    shoes = [c.code for c in subcategories("103")]
    assert tops and shoes and "001004" in tops
    assert plan == [*tops, "001", *shoes, "103", "101"]
    assert len(plan) == len(set(plan))


def test_crawl_plan_without_expansion_keeps_codes_once() -> None:
    assert crawl_plan(["001", "001004", "001"], expand_subcategories=False) == ["001", "001004"]
    assert crawl_plan(["001004"], expand_subcategories=True) == ["001004"]


def test_code_syntax_is_three_digits_per_level_down_to_nine() -> None:
    for code in ("001", "001004", "017016005"):
        assert is_category_code(code)
    for value in ("01", "0010", "001004005006", "00a", "001\n", "٠٠١", "", None, 1):
        assert not is_category_code(value), value
    assert is_known_code("017016005") and is_known_code("001")
    assert not is_known_code("999001") and not is_known_code("tops")


def test_walk_plan_expands_only_the_configured_categories() -> None:
    configured = ["001", "tops", "103"]
    expanded = walk_plan(None, configured=configured, expand_subcategories=True)
    assert expanded == crawl_plan(["001", "103"], expand_subcategories=True)
    assert walk_plan(None, configured=configured, expand_subcategories=False) == ["001", "103"]
    # asked for explicitly: walked as given, names resolved, never expanded
    assert walk_plan(["hoodie", "001", "001004"], configured=configured, expand_subcategories=True) == [
        "001004",
        "001",
    ]
    with pytest.raises(UnknownCategoryError):
        walk_plan(["999"], configured=configured, expand_subcategories=True)
