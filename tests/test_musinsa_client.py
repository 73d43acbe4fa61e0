"""MusinsaClient against the fake Musinsa: pages, headers, retries, pacing, robots, products, images."""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import random
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from PIL import Image

from indexer.config import ImageSettings
from indexer.musinsa import (
    CategoryCrawl,
    MusinsaClient,
    crawl_catalog,
    image_client,
)
from indexer.musinsa.errors import (
    BlockedError,
    ImageDownloadError,
    ImageNotFoundError,
    ImageTooLargeError,
    MalformedBodyError,
    NotAnImageResponseError,
    PlaceholderImageError,
    ProductPageNotFoundError,
    RequestFailedError,
    ResultNotSuccessError,
    RobotsDisallowedError,
    RobotsUnreachableError,
    UnexpectedResponseError,
)
from tests.fakes.musinsa import LISTING_PATH, MUSINSA_ROBOTS, FakeMusinsa, Fault
from tests.fakes.musinsa_catalog import FakeCatalog

CATEGORIES = ("001004", "001001", "002022")


class FakeClock:
    """Monotonic seconds that only move when a test moves them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """Records the waits between retries instead of waiting them out."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeMusinsa]:
    catalog = FakeCatalog.generate(seed=5, count=42, categories=CATEGORIES)
    for product in catalog:
        catalog.update(product.goods_no, is_ad=False)
    # one sponsored product in 001, repeated on top of pages 2 and 3
    catalog.update(catalog.listing("001")[4].goods_no, is_ad=True)
    async with FakeMusinsa(catalog) as server:
        yield server


def client_for(
    fake: FakeMusinsa,
    sleeps: Sleeps | None = None,
    images: ImageSettings | None = None,
    clock: FakeClock | None = None,
    **overrides: object,
) -> MusinsaClient:
    return MusinsaClient(
        fake.musinsa_settings(**overrides),
        images=images,
        retry_sleep=sleeps or Sleeps(),
        rng=random.Random(0),
        **({"clock": clock} if clock is not None else {}),
    )


def listing_requests(fake: FakeMusinsa):
    return fake.requests_to(LISTING_PATH)


async def first_page(client: MusinsaClient, code: str) -> CategoryCrawl:
    """The first listing page of ``code``; the error that stopped it, if any, is raised."""
    result = await client.crawl_category(code, max_pages=1)
    if result.error is not None:
        raise result.error
    return result


def on_page(number: str):
    return lambda request: request.path == LISTING_PATH and request.query.get("page") == number


# ----------------------------------------------------------------- pagination


async def test_crawl_walks_every_page_until_has_next_is_false(fake: FakeMusinsa) -> None:
    expected = fake.listing_ids("001")
    assert len(expected) == 28
    assert fake.page_ids("001", 2, 10)[0] == expected[4]  # the sponsored repeat really is served
    async with client_for(fake) as client:
        result = await client.crawl_category("001")
    assert result.complete and not result.failed and result.reason is None
    assert result.pages == 3
    assert result.total_count == 28
    assert [p.id for p in result.products] == expected  # every product once, in listing order
    assert result.product_ids == set(expected)
    assert all(p.category == "001" for p in result.products)
    pages = [r.query for r in listing_requests(fake)]
    assert [q["page"] for q in pages] == ["1", "2", "3"]
    for query in pages:
        assert query == {**query, "gf": "A", "category": "001", "caller": "CATEGORY", "sortCode": "POPULAR"}
        assert query["size"] == "10"


async def test_every_request_carries_our_user_agent_and_browser_headers(fake: FakeMusinsa) -> None:
    some = fake.listing_ids("002")[0]
    async with client_for(fake, user_agent="snapfit-test/1.0 (+mailto:ops@example.com)") as client:
        await client.crawl_category("002")
        await client.fetch_product(some)
        await client.fetch_image(fake.image_url(some))
    assert fake.requests
    for request in fake.requests:
        assert request.header("User-Agent") == "snapfit-test/1.0 (+mailto:ops@example.com)"
        assert request.header("Accept-Language").startswith("ko-KR")
    listing = listing_requests(fake)[0]
    assert listing.header("Accept").startswith("application/json")
    assert listing.header("Referer") == f"{fake.url}/"
    page = fake.requests_to("/products/")[0]
    assert page.header("Accept").startswith("text/html")
    image = fake.requests_to("/images/")[0]
    assert image.header("Referer") == "https://www.musinsa.com/"
    assert image.header("Accept").startswith("image/")
    assert len(fake.requests_to("/robots.txt")) == 1  # once per host, not per request


async def test_max_pages_cut_off_is_not_complete(fake: FakeMusinsa) -> None:
    async with client_for(fake) as client:
        cut = await client.crawl_category("001", max_pages=2)
        whole = await client.crawl_category("001", max_pages=3)
    assert not cut.complete and not cut.failed
    assert cut.pages == 2
    assert cut.reason == "stopped at max_pages=2; more pages remain"
    assert [p.id for p in cut.products] == fake.listing_ids("001")[:20]
    assert whole.complete and whole.pages == 3  # the last page reached within the limit


async def test_on_page_reports_progress(fake: FakeMusinsa) -> None:
    seen: list[tuple[int, int, bool]] = []
    async with client_for(fake) as client:
        await client.crawl_category(
            "001", on_page=lambda c: seen.append((c.pages, len(c.products), c.finished))
        )
    assert seen[0] == (0, 0, False)
    assert seen[-1] == (3, 28, True)
    assert [pages for pages, _, _ in seen] == sorted(pages for pages, _, _ in seen)


async def test_crawl_catalog_merges_categories_once_each(fake: FakeMusinsa) -> None:
    async with client_for(fake) as client:
        run = await crawl_catalog(client, ["001", "001004", "002", "001"])
    assert [c.code for c in run.categories] == ["001", "001004", "002"]
    assert run.complete and not run.failed
    ids = [p.id for p in run.products]
    assert len(ids) == len(set(ids)) == 42
    hoodies = set(fake.listing_ids("001004"))
    assert {p.category for p in run.products if p.id in hoodies} == {"001004"}  # the specific code wins
    assert run.stats.requests == len(fake.requests)


# -------------------------------------------------------------------- retries


async def test_a_burst_of_429_and_5xx_loses_nothing(fake: FakeMusinsa) -> None:
    for fault in (
        Fault.throttled("0"),
        Fault.throttled(None),
        Fault.http(500),
        Fault.http(502),
        Fault.http(503),
    ):
        fake.faults.next(fault, match=LISTING_PATH)
    fake.faults.next(Fault.http(504), times=2, match=on_page("3"))
    sleeps = Sleeps()
    async with client_for(fake, sleeps, max_retries=6) as client:
        result = await client.crawl_category("001")
        stats = client.stats
    assert result.complete
    assert [p.id for p in result.products] == fake.listing_ids("001")
    assert result.stats.retries == 7 == len(sleeps.calls)
    assert result.stats.throttled == 2 and result.stats.server_errors == 5
    assert stats.failures == 0
    assert len(listing_requests(fake)) == 3 + 7


async def test_403_is_treated_like_429(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.forbidden(), times=2, match=LISTING_PATH)
    async with client_for(fake) as client:
        result = await client.crawl_category("002")
    assert result.complete
    assert result.stats.throttled == 2


async def test_retry_after_seconds_and_date_are_read_and_capped(fake: FakeMusinsa) -> None:
    future = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    for retry_after in ("7", "999", future):
        fake.faults.next(Fault.throttled(retry_after), match=LISTING_PATH)
    sleeps = Sleeps()
    async with client_for(fake, sleeps, max_backoff_seconds=30.0, backoff_seconds=0.25) as client:
        await first_page(client, "002")
    assert 7.0 <= sleeps.calls[0] <= 7.7
    assert sleeps.calls[1] == 30.0  # capped by max_backoff_seconds
    assert 17.0 <= sleeps.calls[2] <= 22.0
    fake.faults.next(Fault.throttled(None), match=LISTING_PATH)
    async with client_for(fake, sleeps, backoff_seconds=0.25) as client:
        await first_page(client, "002")
    assert 0.125 <= sleeps.calls[3] <= 0.25  # no Retry-After: exponential backoff from backoff_seconds


async def test_retry_after_is_really_waited(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.throttled("1"), match=LISTING_PATH)
    async with MusinsaClient(fake.musinsa_settings(backoff_seconds=0.001)) as client:  # real asyncio.sleep
        await first_page(client, "002")
    throttled, retried = listing_requests(fake)
    assert throttled.status == 429 and retried.status == 200
    assert retried.time - throttled.time >= 0.99


async def test_timeouts_resets_and_cut_bodies_are_retried(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.slow(3.0), match=on_page("1"))
    # aiohttp itself resends once when a reused keep-alive connection closes unanswered
    # (RFC 9112 §9.3.1), so the second drop is the one the client sees and retries.
    fake.faults.next(Fault.drop(), times=2, match=on_page("2"))
    fake.faults.next(Fault.truncate(), match=on_page("3"))
    async with client_for(fake, timeout_seconds=0.4) as client:
        result = await client.crawl_category("001")
    assert result.complete
    assert [p.id for p in result.products] == fake.listing_ids("001")
    assert result.stats.network_errors == 3
    assert result.stats.retries == 3
    assert [r.status for r in listing_requests(fake) if r.query["page"] == "2"] == [None, None, 200]


async def test_malformed_json_and_challenge_pages_are_retried(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.malformed_json(), match=LISTING_PATH)
    fake.faults.next(Fault.challenge_page(), match=LISTING_PATH)
    fake.faults.next(Fault.not_success(), match=LISTING_PATH)
    async with client_for(fake) as client:
        page = await first_page(client, "002")
    assert [p.id for p in page.products] == fake.listing_ids("002")[:10]
    assert len(listing_requests(fake)) == 4


async def test_persistent_malformed_json_is_a_clear_error(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.malformed_json(), times=10, match=LISTING_PATH)
    async with client_for(fake, max_retries=2) as client:
        with pytest.raises(MalformedBodyError) as caught:
            await first_page(client, "002")
        assert client.stats.failures == 1
    message = str(caught.value)
    assert f"{fake.url}{LISTING_PATH}?gf=A&category=002" in message
    assert "body is not JSON" in message
    assert "after 3 attempts" in message
    assert len(listing_requests(fake)) == 3


async def test_persistent_meta_result_failure_is_reported(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.not_success("BLOCKED"), times=10, match=LISTING_PATH)
    async with client_for(fake, max_retries=1) as client:
        with pytest.raises(
            ResultNotSuccessError, match=r"meta.result is 'BLOCKED', not 'SUCCESS'.*after 2 attempts"
        ):
            await first_page(client, "002")


async def test_one_bad_shape_page_is_retried_and_the_category_completes(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.changed_shape(), match=on_page("2"))
    sleeps = Sleeps()
    async with client_for(fake, sleeps, max_retries=2) as client:
        result = await client.crawl_category("001")
    assert result.complete and not result.failed
    assert [p.id for p in result.products] == fake.listing_ids("001")
    assert result.stats.retries == 1 == len(sleeps.calls)
    assert [r.query["page"] for r in listing_requests(fake)] == ["1", "2", "2", "3"]


async def test_a_persistent_changed_shape_fails_after_max_retries(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.changed_shape(), times=10, match=LISTING_PATH)
    async with client_for(fake, max_retries=2) as client:
        with pytest.raises(UnexpectedResponseError, match=r"data\.list is missing") as caught:
            await first_page(client, "002")
    assert fake.url in str(caught.value)
    assert "after 3 attempts" in str(caught.value)
    assert len(listing_requests(fake)) == 3


async def test_a_bad_request_is_not_retried(fake: FakeMusinsa) -> None:
    async with client_for(fake, sort_code="BOGUS") as client:
        with pytest.raises(RequestFailedError) as caught:
            await first_page(client, "002")
    assert caught.value.status == 400
    assert "unknown sortCode BOGUS" in str(caught.value)
    assert len(listing_requests(fake)) == 1


async def test_a_failing_page_keeps_earlier_pages_and_says_why(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.http(503), times=100, match=on_page("2"))
    async with client_for(fake, max_retries=2) as client:
        result = await client.crawl_category("001")
    assert not result.complete and result.failed
    assert result.pages == 1
    assert [p.id for p in result.products] == fake.listing_ids("001")[:10]
    assert result.reason.startswith("page 2 failed: HTTP 503 from ")
    assert "after 3 attempts" in result.reason


async def test_circuit_breaker_stops_the_category_and_the_run(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.forbidden(), times=1000, match=LISTING_PATH)
    async with client_for(fake, max_retries=10, max_consecutive_blocks=4) as client:
        first = await client.crawl_category("001")
        second = await client.crawl_category("002")
        with pytest.raises(BlockedError):
            await first_page(client, "003")
    assert not first.complete and first.failed
    assert "403/429 4 times in a row" in first.reason
    assert "circuit breaker" in first.reason
    assert not second.complete and "circuit breaker" in second.reason
    assert len(listing_requests(fake)) == 4  # nothing more once the breaker opened


async def test_after_a_burst_of_429s_the_image_breaker_probes_and_closes(fake: FakeMusinsa) -> None:
    """The bot's long-lived image client: a short block must not stop its images for good."""
    clock = FakeClock()
    goods = fake.listing_ids("001")[:4]
    fake.faults.next(Fault.throttled("0"), times=3, match="/images/")
    settings = fake.musinsa_settings(max_retries=0, max_consecutive_blocks=3, max_backoff_seconds=30.0)
    async with image_client(settings, ImageSettings(), rng=random.Random(0), clock=clock) as client:
        for no in goods[:3]:
            with pytest.raises(BlockedError, match="HTTP 429"):
                await client.fetch_image(fake.image_url(no))
        assert client.breaker.status().open
        with pytest.raises(BlockedError, match=r"circuit breaker.*tries again in 30 s"):
            await client.fetch_image(fake.image_url(goods[3]))
        assert len(fake.requests_to("/images/")) == 3  # held back: nothing sent while open
        clock.now += 30
        assert await client.fetch_image(fake.image_url(goods[3])) == fake.image_bytes(goods[3])  # the probe
        assert not client.breaker.status().open
        photos = await asyncio.gather(*(client.fetch_image(fake.image_url(no)) for no in goods[:3]))
    assert photos == [fake.image_bytes(no) for no in goods[:3]]
    assert len(fake.requests_to("/images/")) == 3 + 1 + 3


async def test_a_blocked_probe_keeps_the_breaker_open_for_twice_as_long(fake: FakeMusinsa) -> None:
    clock = FakeClock()
    goods = fake.listing_ids("001")[0]
    fake.faults.next(Fault.throttled("0"), times=3, match="/images/")
    settings = fake.musinsa_settings(max_retries=0, max_consecutive_blocks=2, max_backoff_seconds=10.0)
    async with image_client(settings, ImageSettings(), rng=random.Random(0), clock=clock) as client:
        for _ in range(2):
            with pytest.raises(BlockedError):
                await client.fetch_image(fake.image_url(goods))
        clock.now += 10
        with pytest.raises(BlockedError, match="HTTP 429"):
            await client.fetch_image(fake.image_url(goods))  # the probe, still refused
        assert client.breaker.status().next_probe_in_seconds == 20.0
        clock.now += 19
        with pytest.raises(BlockedError, match="circuit breaker"):
            await client.fetch_image(fake.image_url(goods))
        clock.now += 1
        assert await client.fetch_image(fake.image_url(goods)) == fake.image_bytes(goods)
    assert len(fake.requests_to("/images/")) == 4


# --------------------------------------------------------------------- pacing


async def test_pacing_holds_across_concurrent_requests(fake: FakeMusinsa) -> None:
    rate, window = 20.0, 0.3
    async with client_for(fake, requests_per_second=rate, max_concurrency=4) as client:
        await asyncio.gather(*(first_page(client, "001") for _ in range(12)))
    times = sorted(r.time for r in fake.requests)
    assert len(times) == 13  # robots.txt + 12 pages
    allowed = rate * window + 1  # the limiter's burst is one request
    for start in times:
        in_window = sum(1 for t in times if start <= t < start + window)
        assert in_window <= allowed, (in_window, times)


# --------------------------------------------------------------------- robots


async def test_robots_disallow_is_obeyed_with_a_clear_message(fake: FakeMusinsa) -> None:
    fake.robots_txt = MUSINSA_ROBOTS
    async with client_for(fake) as client:
        with pytest.raises(RobotsDisallowedError) as caught:
            await client.crawl_category("001")
        with pytest.raises(RobotsDisallowedError):
            await client.fetch_product(fake.listing_ids("001")[0])
    message = str(caught.value)
    assert f"{fake.url}{LISTING_PATH}?gf=A&category=001" in message
    assert f"(group User-agent: *, path {LISTING_PATH}?gf=A&category=001" in message
    assert "snapfit/0.1" in message
    assert "obey_robots_txt" in message
    assert not isinstance(caught.value, RobotsUnreachableError)
    assert listing_requests(fake) == []
    assert fake.requests_to("/products/") == []
    assert len(fake.requests_to("/robots.txt")) == 1


async def test_robots_override_crawls_without_reading_robots(fake: FakeMusinsa) -> None:
    fake.robots_txt = MUSINSA_ROBOTS
    async with client_for(fake, obey_robots_txt=False) as client:
        result = await client.crawl_category("002")
    assert result.complete
    assert fake.requests_to("/robots.txt") == []


async def test_missing_robots_allows_everything(fake: FakeMusinsa) -> None:
    fake.robots_txt = None  # 404: RFC 9309 "unavailable", no rules apply
    async with client_for(fake) as client:
        assert (await first_page(client, "002")).products


async def test_an_unreachable_robots_names_the_cause_logs_each_retry_and_refuses(
    fake: FakeMusinsa, caplog: pytest.LogCaptureFixture
) -> None:
    fake.faults.next(Fault.http(503), times=100, match="/robots.txt")
    with caplog.at_level(logging.WARNING, logger="indexer.musinsa"):
        async with client_for(fake, max_retries=2) as client:
            with pytest.raises(RobotsUnreachableError) as caught:
                await first_page(client, "002")
    assert isinstance(caught.value, RobotsDisallowedError)  # callers stop the run as for a refusal
    message = str(caught.value)
    assert message.startswith(
        f"cannot reach {fake.url}: HTTP 503 from {fake.url}/robots.txt after 3 attempts"
    )
    assert "disallows" not in message and "obey_robots_txt" not in message  # nobody refused anything
    assert listing_requests(fake) == []  # RFC 9309: nothing is crawled without robots.txt
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert len(retries) == 2 and all("/robots.txt" in line and "HTTP 503" in line for line in retries)


async def test_a_connection_failure_is_named_not_called_a_refusal(fake: FakeMusinsa) -> None:
    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    settings = {"api_url": nowhere, "max_retries": 0, "timeout_seconds": 5.0}
    async with client_for(fake, **settings) as client:
        with pytest.raises(RobotsUnreachableError) as caught:
            await first_page(client, "002")
    message = str(caught.value)
    assert message.startswith(f"cannot reach {nowhere}: connection failed (")
    assert "disallows" not in message and "obey_robots_txt" not in message


async def test_an_unreachable_robots_is_read_again_after_a_cool_down(fake: FakeMusinsa) -> None:
    clock = FakeClock()
    fake.faults.next(Fault.http(503), times=2, match="/robots.txt")
    async with client_for(fake, clock=clock, max_retries=1, max_backoff_seconds=30.0) as client:
        with pytest.raises(RobotsUnreachableError, match=r"reads robots\.txt again in 30 s"):
            await first_page(client, "002")
        clock.now += 10
        with pytest.raises(RobotsUnreachableError, match=r"again in 20 s"):
            await first_page(client, "002")  # within the cool-down: not asked again
        assert len(fake.requests_to("/robots.txt")) == 2
        clock.now += 25
        assert (await first_page(client, "002")).products
    assert len(fake.requests_to("/robots.txt")) == 3


async def test_robots_is_read_again_after_a_day(fake: FakeMusinsa) -> None:
    clock = FakeClock()
    async with client_for(fake, clock=clock) as client:
        await first_page(client, "002")
        clock.now += 23 * 3600
        await first_page(client, "002")
        assert len(fake.requests_to("/robots.txt")) == 1
        fake.robots_txt = MUSINSA_ROBOTS
        clock.now += 3600
        with pytest.raises(RobotsDisallowedError):
            await first_page(client, "002")
    assert len(fake.requests_to("/robots.txt")) == 2


async def test_crawl_delay_slows_the_pace_for_its_host(fake: FakeMusinsa) -> None:
    fake.robots_txt = "User-agent: *\nCrawl-delay: 0.3\nAllow: /\n"
    async with client_for(fake, requests_per_second=20.0) as client:
        result = await client.crawl_category("001")
    assert result.complete
    times = [r.time for r in listing_requests(fake)]
    assert len(times) == 3
    assert all(later - earlier >= 0.29 for earlier, later in itertools.pairwise(times)), times


async def test_crawl_delay_never_speeds_up_the_pace(fake: FakeMusinsa) -> None:
    fake.robots_txt = "User-agent: *\nCrawl-delay: 0.01\nAllow: /\n"
    async with client_for(fake, requests_per_second=4.0) as client:
        await client.crawl_category("001")
    times = [r.time for r in listing_requests(fake)]
    assert all(later - earlier >= 0.24 for earlier, later in itertools.pairwise(times)), times


async def test_robots_is_fetched_once_under_concurrency(fake: FakeMusinsa) -> None:
    async with client_for(fake, max_concurrency=4) as client:
        await asyncio.gather(*(first_page(client, "002") for _ in range(4)))
    assert len(fake.requests_to("/robots.txt")) == 1


# ------------------------------------------------------------------- products


async def test_fetch_product_parses_the_page(fake: FakeMusinsa) -> None:
    goods_no = fake.listing_ids("002")[3]
    expected = fake.catalog.get(goods_no)
    fake.faults.next(Fault.http(502), match="/products/")
    async with client_for(fake) as client:
        product = await client.fetch_product(goods_no)
    assert product.id == goods_no
    assert product.name == expected.name
    assert product.category == expected.category
    assert product.price == expected.price
    assert product.final_price == expected.final_price
    assert product.sold_out == expected.sold_out
    assert product.image_url == fake.url + expected.image_path
    assert product.url == f"{fake.url}/products/{goods_no}"


async def test_unknown_product_is_a_clear_error_without_retries(fake: FakeMusinsa) -> None:
    async with client_for(fake) as client:
        with pytest.raises(ProductPageNotFoundError, match="unknown product 1234567") as caught:
            await client.fetch_product(1234567)
    assert caught.value.goods_no == 1234567
    assert len(fake.requests_to("/products/")) == 1


# --------------------------------------------------------------------- images


async def test_fetch_image_sends_the_referer_and_returns_the_product_photo(fake: FakeMusinsa) -> None:
    goods_no = fake.listing_ids("001")[0]
    async with client_for(fake) as client:
        data = await client.fetch_image(fake.image_url(goods_no))
    assert data == fake.image_bytes(goods_no)
    assert data != fake.placeholder_bytes
    Image.open(io.BytesIO(data)).verify()


async def test_placeholder_images_are_refused(fake: FakeMusinsa) -> None:
    goods_no = fake.listing_ids("001")[0]
    fake.placeholder_goods.add(goods_no)
    async with client_for(fake, placeholder_sha256=[fake.placeholder_sha256]) as client:
        with pytest.raises(PlaceholderImageError, match="placeholder"):
            await client.fetch_image(fake.image_url(goods_no))
    assert len(fake.requests_to("/images/")) == 1


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_images_stop_early(fake: FakeMusinsa, chunked: bool) -> None:
    fake.chunked_images = chunked
    goods_no = fake.listing_ids("001")[0]
    assert len(fake.image_bytes(goods_no)) > 1024
    async with client_for(fake, images=ImageSettings(max_bytes=1024)) as client:
        with pytest.raises(ImageTooLargeError, match="over the 1024-byte limit"):
            await client.fetch_image(fake.image_url(goods_no))
    assert len(fake.requests_to("/images/")) == 1


async def test_chunked_images_within_the_limit_arrive_whole(fake: FakeMusinsa) -> None:
    fake.chunked_images = True
    goods_no = fake.listing_ids("002")[0]
    async with client_for(fake) as client:
        assert await client.fetch_image(fake.image_url(goods_no)) == fake.image_bytes(goods_no)


async def test_html_instead_of_an_image_is_refused(fake: FakeMusinsa) -> None:
    goods_no = fake.listing_ids("001")[0]
    fake.faults.next(Fault.challenge_page(), times=10, match="/images/")
    async with client_for(fake, max_retries=1) as client:
        with pytest.raises(NotAnImageResponseError, match="text/html"):
            await client.fetch_image(fake.image_url(goods_no))
    assert len(fake.requests_to("/images/")) == 2


@pytest.mark.parametrize("url", ["", "/images/a.jpg", "data:image/png;base64,AAAA", "ftp://x/a.jpg"])
async def test_image_urls_must_be_absolute_http(fake: FakeMusinsa, url: str) -> None:
    async with client_for(fake) as client:
        with pytest.raises(ImageDownloadError, match="not an http"):
            await client.fetch_image(url)
    assert fake.requests == []


async def test_missing_image_is_not_retried(fake: FakeMusinsa) -> None:
    async with client_for(fake) as client:
        with pytest.raises(ImageNotFoundError, match="404"):
            await client.fetch_image(f"{fake.url}/images/goods_img/20240101/1/1_1_500.jpg")
    assert len(fake.requests_to("/images/")) == 1


# ---------------------------------------------------------------------- misc


async def test_client_must_be_opened(fake: FakeMusinsa) -> None:
    client = client_for(fake)
    with pytest.raises(RuntimeError, match="async with"):
        await first_page(client, "001")


async def test_cancellation_stops_the_crawl_cleanly(fake: FakeMusinsa) -> None:
    fake.faults.next(Fault.slow(3.0), match=on_page("2"))
    async with client_for(fake) as client:
        task = asyncio.create_task(client.crawl_category("001"))
        for _ in range(200):
            if any(r.query.get("page") == "2" for r in listing_requests(fake)):
                break
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_image_client_paces_images_by_the_images_settings(fake: FakeMusinsa) -> None:
    musinsa = fake.musinsa_settings(requests_per_second=0.5, max_concurrency=1)
    images = ImageSettings(requests_per_second=40.0, download_concurrency=6)
    goods = fake.listing_ids("001")[:6]
    async with image_client(musinsa, images) as client:
        assert client.settings.requests_per_second == 40.0
        assert client.settings.max_concurrency == 6
        photos = await asyncio.gather(*(client.fetch_image(fake.image_url(no)) for no in goods))
    assert photos == [fake.image_bytes(no) for no in goods]
    image_requests = [r for r in fake.requests if r.path.startswith("/images/")]
    assert len(image_requests) == len(goods)
    assert all(r.header("Referer") == "https://www.musinsa.com/" for r in image_requests)
