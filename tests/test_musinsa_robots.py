"""robots.txt rules (RFC 9309, read by protego): group choice, longest match, wildcards, Crawl-delay,
and the group and path a refusal names."""

from __future__ import annotations

from indexer.musinsa.robots import RobotsTxt, product_token
from tests.fakes.musinsa import MUSINSA_ROBOTS

UA = "snapfit/0.1 (+https://github.com/snapfit/snapfit)"


def test_musinsa_robots_refuses_unnamed_crawlers_on_every_path() -> None:
    robots = RobotsTxt.parse(MUSINSA_ROBOTS)
    for url in (
        "https://api.musinsa.com/api2/dp/v1/plp/goods?category=001&page=1",
        "https://www.musinsa.com/products/3783092",
        "https://www.musinsa.com/",
    ):
        decision = robots.check(url, UA)
        assert not decision.allowed
        assert decision.group == "*"
    decision = robots.check("https://www.musinsa.com/products/3783092?x=1", UA)
    assert decision.describe() == "group User-agent: *, path /products/3783092?x=1"


def test_named_groups_apply_to_their_agents_only() -> None:
    robots = RobotsTxt.parse(MUSINSA_ROBOTS)
    assert robots.check("https://www.musinsa.com/products/1", "Googlebot/2.1").allowed
    decision = robots.check("https://www.musinsa.com/app/cart", "googlebot")
    assert not decision.allowed
    assert decision.describe() == "group User-agent: Googlebot, path /app/cart"
    assert robots.check("https://www.musinsa.com/x", "ChatGPT-User/1.0").allowed


def test_longest_match_wins_and_allow_wins_ties() -> None:
    robots = RobotsTxt.parse(
        "User-agent: *\nDisallow: /api2/\nAllow: /api2/dp/v1/plp/\nDisallow: /same\nAllow: /same\n"
    )
    assert robots.check("https://x/api2/dp/v1/plp/goods?page=1", UA).allowed
    assert not robots.check("https://x/api2/goods/1", UA).allowed
    assert robots.check("https://x/same/thing", UA).allowed
    assert robots.check("https://x/other", UA).allowed


def test_wildcards_and_end_anchor() -> None:
    robots = RobotsTxt.parse("User-agent: *\nDisallow: /*.json$\nDisallow: /products/*/reviews\n")
    assert not robots.check("https://x/data/file.json", UA).allowed
    assert robots.check("https://x/data/file.json?x=1", UA).allowed
    assert not robots.check("https://x/products/12/reviews", UA).allowed
    assert robots.check("https://x/products/12", UA).allowed


def test_query_strings_are_part_of_the_path() -> None:
    robots = RobotsTxt.parse("User-agent: *\nDisallow: /*?*sortCode=NEW\n")
    assert not robots.check("https://x/api2/dp/v1/plp/goods?page=1&sortCode=NEW", UA).allowed
    assert robots.check("https://x/api2/dp/v1/plp/goods?page=1&sortCode=POPULAR", UA).allowed


def test_our_own_group_beats_the_wildcard_and_matching_is_case_insensitive() -> None:
    robots = RobotsTxt.parse(
        "User-agent: *\nDisallow: /\n\nUser-agent: SnapFit\nAllow: /api2/\nDisallow: /\n"
    )
    assert robots.check("https://x/api2/dp/v1/plp/goods", UA).allowed
    decision = robots.check("https://x/products/1", UA)
    assert not decision.allowed
    assert "group User-agent: SnapFit" in decision.describe()


def test_comments_blank_lines_and_unknown_keys() -> None:
    robots = RobotsTxt.parse(
        "# hello\nUser-agent: * # everyone\nCrawl-delay: 10\nDisallow: /private # no\n"
        "Sitemap: https://x/s.xml\nDisallow:\n"
    )
    assert not robots.check("https://x/private/1", UA).allowed
    assert robots.check("https://x/public", UA).allowed


def test_empty_or_missing_rules_allow_everything() -> None:
    assert RobotsTxt.parse("").check("https://x/a", UA).allowed
    assert RobotsTxt.allow_all().check("https://x/a", UA).allowed
    other = RobotsTxt.parse("User-agent: other\nDisallow: /\n").check("https://x/a", UA)
    assert other.allowed and other.group is None


def test_robots_itself_is_always_allowed() -> None:
    assert RobotsTxt.parse("User-agent: *\nDisallow: /\n").check("https://x/robots.txt", UA).allowed


def test_crawl_delay_of_our_group() -> None:
    robots = RobotsTxt.parse(
        "User-agent: *\nCrawl-delay: 10\nDisallow: /private\n\nUser-agent: snapfit\nCrawl-delay: 2.5\n"
    )
    assert robots.crawl_delay(UA) == 2.5
    assert robots.crawl_delay("otherbot/1.0") == 10
    assert RobotsTxt.parse("User-agent: *\nCrawl-delay: soon\n").crawl_delay(UA) is None
    assert RobotsTxt.parse(MUSINSA_ROBOTS).crawl_delay(UA) is None


def test_non_ascii_paths_compare_percent_encoded() -> None:
    robots = RobotsTxt.parse("User-agent: *\nDisallow: /검색\n")
    assert not robots.check("https://x/%EA%B2%80%EC%83%89?q=1", UA).allowed


def test_product_token() -> None:
    assert product_token(UA) == "snapfit"
    assert product_token("Mozilla/5.0 (X11)") == "mozilla"
    assert product_token("  mybot ") == "mybot"
