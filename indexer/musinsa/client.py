"""MusinsaClient: every request snapfit makes to Musinsa goes through here.

One shared aiohttp session; one global pace (``requests_per_second`` with jitter) and a bound
on requests in flight (``max_concurrency``) across all callers; retries with exponential
backoff and jitter on 429/403/5xx, timeouts, resets and malformed or odd-shaped bodies,
honouring Retry-After; robots.txt read once per host (again after a day, or after a cool-down
when it could not be read) and obeyed, its Crawl-delay included; a circuit breaker per host
that holds requests back after repeated 403/429 and lets one probe through after a cool-down.
Every failure ends as one of the typed errors in ``indexer.musinsa.errors``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Self, TypeVar
from urllib.parse import urlsplit

import aiohttp

from indexer.config import ImageSettings, MusinsaSettings
from indexer.musinsa.errors import (
    BlockedError,
    ImageDownloadError,
    ImageNotFoundError,
    ImageTooLargeError,
    MalformedBodyError,
    MusinsaError,
    NotAnImageResponseError,
    PlaceholderImageError,
    ProductPageNotFoundError,
    RequestFailedError,
    RobotsDisallowedError,
    RobotsUnreachableError,
    UnexpectedResponseError,
)
from indexer.musinsa.listing import decode_json, parse_listing
from indexer.musinsa.models import CategoryCrawl, ListingPage, RequestStats
from indexer.musinsa.pacing import (
    Admission,
    CircuitBreaker,
    RateLimiter,
    parse_retry_after,
    retry_delay,
)
from indexer.musinsa.product_page import parse_product_page
from indexer.musinsa.robots import RobotsTxt
from indexer.musinsa.urls import IMAGE_REFERER, listing_url, origin, product_url
from indexer.product import Product

log = logging.getLogger(__name__)

T = TypeVar("T")
Kind = Literal["json", "html", "image", "text"]
PageCallback = Callable[[CategoryCrawl], None]

# MusinsaObserver caps its walk at 999 pages; a category that never says hasNext=false is a bug.
PAGE_SAFETY_CAP = 1000
TEXT_BODY_LIMIT = 16 * 1024 * 1024
BLOCK_STATUSES = frozenset({403, 429})
# A breaker's cool-down starts at [musinsa] max_backoff_seconds and doubles up to this many times that.
BREAKER_BACKOFF_LIMIT = 16
# RFC 9309 §2.4: a robots.txt read is not used for more than a day.
ROBOTS_MAX_AGE_SECONDS = 24 * 3600
ACCEPT = {
    "json": "application/json, text/plain, */*",
    "html": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "image": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8",
    "text": "text/plain,*/*;q=0.8",
}


@dataclass(frozen=True)
class _RobotsEntry:
    """One host's robots.txt as last read: its rules, or why it could not be read; until when."""

    rules: RobotsTxt | None
    unreachable: str | None  # the cause, when it could not be read
    expires: float  # the client's clock time after which robots.txt is read again


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Mapping[str, str]  # case-insensitive (aiohttp's CIMultiDictProxy)
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _RetryError(Exception):
    """An attempt failed in a way worth retrying; ``final(attempts)`` is the error if none is left."""

    def __init__(
        self, final: Callable[[int], MusinsaError], *, retry_after: float | None = None, problem: str = ""
    ) -> None:
        super().__init__(problem)
        self.final = final
        self.retry_after = retry_after
        self.problem = problem


class MusinsaClient:
    """Async client for Musinsa's listing API, product pages and image CDN.

    Use as ``async with MusinsaClient(settings.musinsa, images=settings.images) as client``.
    ``retry_sleep`` and ``rng`` exist so tests can observe and shorten the waits between
    retries without touching the pacing of requests themselves; ``clock`` (monotonic seconds)
    times the robots.txt cache and the circuit breaker's cool-downs. ``breaker`` is public so
    that monitoring can report its state.
    """

    def __init__(
        self,
        settings: MusinsaSettings,
        *,
        images: ImageSettings | None = None,
        retry_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        placeholder_sha256: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.stats = RequestStats()
        self._image_max_bytes = (images or ImageSettings()).max_bytes
        self._placeholders = {h.lower() for h in (*settings.placeholder_sha256, *placeholder_sha256)}
        self._retry_sleep = retry_sleep
        self._rng = rng or random.Random()
        self._limiter = RateLimiter(settings.requests_per_second, rng=self._rng)
        self._in_flight = asyncio.Semaphore(settings.max_concurrency)
        self.breaker = CircuitBreaker(
            settings.max_consecutive_blocks,
            cooldown=settings.max_backoff_seconds,
            max_cooldown=settings.max_backoff_seconds * BREAKER_BACKOFF_LIMIT,
            clock=clock,
        )
        self._clock = clock
        self._robots: dict[str, _RobotsEntry] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}
        self._host_pace: dict[str, RateLimiter] = {}  # hosts whose robots.txt asks for a Crawl-delay
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            headers={"User-Agent": self.settings.user_agent, "Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"},
            connector=aiohttp.TCPConnector(limit=self.settings.max_concurrency + 1),
            trust_env=True,
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ----------------------------------------------------------------- public API

    async def crawl_category(
        self, code: str, max_pages: int = 0, on_page: PageCallback | None = None
    ) -> CategoryCrawl:
        """Walk a category's listing until ``hasNext`` is false (or ``max_pages``, 0 = no limit).

        Never raises for a failed page: the result says ``complete=False`` with the reason and
        keeps what earlier pages gave. RobotsDisallowedError (a policy, not a fault) and
        cancellation propagate.
        """
        result = CategoryCrawl(code=code)
        limit = max_pages if max_pages > 0 else PAGE_SAFETY_CAP
        seen: set[int] = set()
        page = 1
        _notify(on_page, result)
        try:
            while True:
                listing = await self._list_page(code, page, result.stats)
                result.pages += 1
                result.skipped += len(listing.skipped)
                result.total_count = listing.total_count
                for product in listing.products:
                    if product.id not in seen:
                        seen.add(product.id)
                        result.products.append(product)
                if not listing.has_next:
                    result.complete = True
                    break
                if not listing.products and not listing.skipped:
                    result.failed = True
                    result.reason = f"page {page} is empty but the listing says hasNext=true"
                    break
                if page >= limit:
                    cut = (
                        f"max_pages={max_pages}" if max_pages > 0 else f"the safety cap of {PAGE_SAFETY_CAP}"
                    )
                    result.reason = f"stopped at {cut}; more pages remain"
                    break
                page += 1
                _notify(on_page, result)
        except RobotsDisallowedError as exc:
            result.failed, result.finished = True, True
            result.reason = str(exc)
            result.error = exc
            raise
        except MusinsaError as exc:
            result.failed = True
            result.reason = f"page {page} failed: {exc}"
            result.error = exc
            log.warning("category %s incomplete: %s", code, result.reason)
        except BaseException:  # cancelled: the walk is over, but nobody waits for a report
            result.finished = True
            raise
        result.finished = True
        _notify(on_page, result)
        return result

    async def fetch_product(self, goods_no: int) -> Product:
        """The product page of ``goods_no`` parsed into a Product; ProductPageNotFoundError on 404."""
        url = product_url(self.settings.web_url, goods_no)

        def parse(response: _Response) -> Product:
            if response.status in (404, 410):
                raise ProductPageNotFoundError(goods_no, url=url)
            if response.content_type and "html" not in response.content_type:
                raise _RetryError(
                    lambda n: MalformedBodyError(
                        url, f"expected an HTML page, got {response.content_type}", attempts=n
                    ),
                    problem=f"content type {response.content_type}",
                )
            product = parse_product_page(
                response.text(),
                url=url,
                web_url=self.settings.web_url,
                image_host=self.settings.image_url,
                goods_no=goods_no,
            )
            if product.id != goods_no:
                log.warning("%s describes product %d, not %d", url, product.id, goods_no)
            return product

        return await self._request(url, "html", parse, None, passthrough=frozenset({404, 410}))

    async def fetch_image(self, url: str) -> bytes:
        """A catalog image's bytes, fetched with Musinsa's Referer; ImageDownloadError subclasses otherwise.

        Stops reading past [images] max_bytes, refuses non-image answers (an HTML challenge page)
        and known placeholder images, so what it returns is worth decoding and embedding.
        """

        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ImageDownloadError(f"not an http(s) image URL: {url!r}", url=str(url))

        def parse(response: _Response) -> bytes:
            if response.status in (404, 410):
                raise ImageNotFoundError(f"image not found (HTTP {response.status}): {url}", url=url)
            if not response.content_type.startswith("image/") or not response.body:
                what = response.content_type or "no content type"
                size = len(response.body)
                raise _RetryError(
                    lambda n: NotAnImageResponseError(
                        f"not an image ({what}, {size} bytes) after {n} attempts: {url}", url=url
                    ),
                    problem=f"not an image ({what})",
                )
            digest = hashlib.sha256(response.body).hexdigest()
            if digest in self._placeholders:
                raise PlaceholderImageError(
                    f"the CDN sent a placeholder image (sha256 {digest[:12]}…): {url}", url=url
                )
            return response.body

        return await self._request(url, "image", parse, None, passthrough=frozenset({404, 410}))

    # ------------------------------------------------------------- internals

    async def _list_page(self, category: str, page: int, stats: RequestStats | None) -> ListingPage:
        settings = self.settings
        url = listing_url(
            settings.api_url,
            category=category,
            page=page,
            size=settings.page_size,
            sort_code=settings.sort_code,
            gender=settings.gender,
        )
        crawled_at = datetime.now(UTC)

        def parse(response: _Response) -> ListingPage:
            try:
                return parse_listing(
                    decode_json(response.body, url),
                    url=url,
                    category=category,
                    page=page,
                    image_host=settings.image_url,
                    web_url=settings.web_url,
                    crawled_at=crawled_at,
                )
            except UnexpectedResponseError as exc:
                # A body that is not JSON, a soft refusal or an envelope of another shape: on one
                # page these are transient edge answers far more often than a real API change, so
                # they are retried like a 5xx and fail the category only when retries run out.
                error_type, problem = type(exc), exc.problem
                raise _RetryError(lambda n: error_type(url, problem, attempts=n), problem=problem) from None

        return await self._request(url, "json", parse, stats)

    def _headers(self, kind: Kind) -> dict[str, str]:
        headers = {"Accept": ACCEPT[kind]}
        if kind == "image":
            headers["Referer"] = IMAGE_REFERER
        elif kind == "json":
            headers["Referer"] = f"{self.settings.web_url}/"
            headers["Origin"] = self.settings.web_url
        return headers

    def _count(self, stats: RequestStats | None, **increments: int) -> None:
        for target in (self.stats, stats):
            if target is not None:
                for name, value in increments.items():
                    setattr(target, name, getattr(target, name) + value)

    async def _request(
        self,
        url: str,
        kind: Kind,
        parse: Callable[[_Response], T],
        stats: RequestStats | None,
        *,
        passthrough: frozenset[int] = frozenset(),
        check_robots: bool = True,
        retry_log_level: int = logging.DEBUG,
    ) -> T:
        """GET ``url`` with retries; ``parse`` turns a 2xx (or a ``passthrough`` status) into the result."""
        try:
            return await self._attempts(url, kind, parse, stats, passthrough, check_robots, retry_log_level)
        except MusinsaError:
            self._count(stats, failures=1)
            raise

    async def _attempts(
        self,
        url: str,
        kind: Kind,
        parse: Callable[[_Response], T],
        stats: RequestStats | None,
        passthrough: frozenset[int],
        check_robots: bool,
        retry_log_level: int,
    ) -> T:
        if self._session is None:
            raise RuntimeError("MusinsaClient is not open: use `async with MusinsaClient(...) as client`")
        attempts = self.settings.max_retries + 1
        last: _RetryError | None = None
        for attempt in range(attempts):
            if check_robots and self.settings.obey_robots_txt:
                await self._check_robots(url)
            try:
                response = await self._send(url, kind, stats, attempt, passthrough)
                return self._judge(response, url, parse, stats, passthrough)
            except _RetryError as retry:
                last = retry
            if attempt + 1 < attempts:
                delay = retry_delay(
                    attempt,
                    base=self.settings.backoff_seconds,
                    cap=self.settings.max_backoff_seconds,
                    retry_after=last.retry_after,
                    rng=self._rng,
                )
                self._count(stats, retries=1)
                log.log(
                    retry_log_level,
                    "retrying %s in %.2f s (%s; attempt %d of %d)",
                    url,
                    delay,
                    last.problem,
                    attempt + 2,
                    attempts,
                )
                await self._retry_sleep(delay)
        assert last is not None
        raise last.final(attempts)

    def _judge(
        self,
        response: _Response,
        url: str,
        parse: Callable[[_Response], T],
        stats: RequestStats | None,
        passthrough: frozenset[int],
    ) -> T:
        status = response.status
        blocked = status in BLOCK_STATUSES and status not in passthrough
        if 200 <= status < 300 or status in passthrough:
            return parse(response)
        if blocked:
            self._count(stats, throttled=1)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _RetryError(
                lambda n: BlockedError(
                    f"HTTP {status} from {url} after {n} attempts (throttled or blocked)",
                    url=url,
                    status=status,
                    attempts=n,
                ),
                retry_after=retry_after,
                problem=f"HTTP {status}",
            )
        if status >= 500 or status == 408:
            self._count(stats, server_errors=1 if status >= 500 else 0)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _RetryError(
                lambda n: RequestFailedError(
                    f"HTTP {status} from {url} after {n} attempts", url=url, status=status, attempts=n
                ),
                retry_after=retry_after,
                problem=f"HTTP {status}",
            )
        snippet = response.text()[:120].replace("\n", " ")
        raise RequestFailedError(f"HTTP {status} from {url}: {snippet!r}", url=url, status=status)

    async def _send(
        self, url: str, kind: Kind, stats: RequestStats | None, attempt: int, passthrough: frozenset[int]
    ) -> _Response:
        """One paced attempt past the breaker; network trouble becomes _RetryError, oversize bodies a
        final error. The breaker hears the status as soon as it is known."""
        assert self._session is not None
        limit = self._image_max_bytes if kind == "image" else TEXT_BODY_LIMIT
        host = origin(url)
        async with self._in_flight:
            host_pace = self._host_pace.get(host)
            if host_pace is not None:  # robots.txt's Crawl-delay: only ever slower than the global pace
                await host_pace.acquire()
            await self._limiter.acquire()
            # Checked after the wait for a turn, so requests queued behind a block never go out.
            admission = self.breaker.admit(host)
            if admission is Admission.REFUSE:
                raise BlockedError(
                    f"{host} answered 403/429 {self.breaker.consecutive(host)} times in a row; "
                    f"stopped to respect the block (circuit breaker), not requesting {url}; "
                    f"one request tries again in {self.breaker.retry_in(host):.0f} s",
                    url=url,
                    attempts=attempt,
                )
            probe = admission is Admission.PROBE
            if probe:
                log.info("%s: circuit breaker half-open, probing with %s", host, url)
            answered = False
            self._count(stats, requests=1)
            try:
                async with self._session.get(url, headers=self._headers(kind)) as resp:
                    blocked = resp.status in BLOCK_STATUSES and resp.status not in passthrough
                    was_open = self.breaker.is_open(host)
                    self.breaker.record(host, blocked=blocked, probe=probe)
                    answered = True
                    if probe or (blocked and not was_open and self.breaker.is_open(host)):
                        self._log_breaker(host, resp.status, probe=probe, blocked=blocked)
                    ok = 200 <= resp.status < 300
                    if ok and resp.content_length is not None and resp.content_length > limit:
                        raise self._too_large(url, kind, limit, resp.content_length)
                    body = bytearray()
                    async for chunk in resp.content.iter_chunked(64 * 1024):
                        body += chunk
                        if len(body) > limit:
                            raise self._too_large(url, kind, limit, None)
                    return _Response(resp.status, resp.headers, bytes(body))
            except (TimeoutError, aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                self._count(stats, network_errors=1)
                problem = _describe_network_error(exc, self.settings.timeout_seconds)
                raise _RetryError(
                    lambda n: RequestFailedError(
                        f"{problem} for {url} after {n} attempts", url=url, attempts=n
                    ),
                    problem=problem,
                ) from None
            except aiohttp.ClientError as exc:
                raise RequestFailedError(f"request to {url} failed: {exc}", url=url) from None
            finally:
                if probe and not answered:
                    self.breaker.probe_unanswered(host)

    def _log_breaker(self, host: str, status: int, *, probe: bool, blocked: bool) -> None:
        if probe and not blocked:
            log.warning("%s answered the circuit breaker's probe (HTTP %d): closed again", host, status)
            return
        log.warning(
            "%s answered HTTP %d%s: circuit breaker open, no request to it for %.0f s, then one probe",
            host,
            status,
            " to the probe" if probe else f" ({self.breaker.consecutive(host)} blocks in a row)",
            self.breaker.retry_in(host),
        )

    @staticmethod
    def _too_large(url: str, kind: Kind, limit: int, declared: int | None) -> MusinsaError:
        size = f"{declared} bytes" if declared is not None else f"more than {limit} bytes"
        if kind == "image":
            return ImageTooLargeError(f"image is {size}, over the {limit}-byte limit: {url}", url=url)
        return UnexpectedResponseError(url, f"body is {size}, over the {limit}-byte limit")

    async def _check_robots(self, url: str) -> None:
        host = origin(url)
        entry = await self._robots_entry(host)
        if entry.rules is None:
            raise RobotsUnreachableError(
                url,
                host=host,
                cause=entry.unreachable or "robots.txt could not be read",
                robots_url=f"{host}/robots.txt",
                retry_seconds=max(0.0, round(entry.expires - self._clock())),
            )
        decision = entry.rules.check(url, self.settings.user_agent)
        if not decision.allowed:
            raise RobotsDisallowedError(
                url,
                rule=decision.describe(),
                user_agent=self.settings.user_agent,
                robots_url=f"{host}/robots.txt",
            )

    async def _robots_entry(self, host: str) -> _RobotsEntry:
        """The host's robots.txt, read by whichever request needs it first, again once it expired."""
        entry = self._robots.get(host)
        if entry is not None and self._clock() < entry.expires:
            return entry
        lock = self._robots_locks.setdefault(host, asyncio.Lock())
        async with lock:
            entry = self._robots.get(host)
            if entry is None or self._clock() >= entry.expires:
                entry = await self._fetch_robots(host)
                self._robots[host] = entry
                self._pace_host(host, entry.rules)
        return entry

    async def _fetch_robots(self, host: str) -> _RobotsEntry:
        """RFC 9309 §2.3.1: 2xx is parsed; 4xx (not 429) means no rules; anything else, after the
        usual retries (each one logged), means disallow all until the next read."""
        url = f"{host}/robots.txt"
        unavailable = frozenset(range(400, 500)) - {429}

        def parse(response: _Response) -> RobotsTxt:
            if response.status >= 400:
                log.info("%s answered %d: no robots rules apply", url, response.status)
                return RobotsTxt.allow_all()
            return RobotsTxt.parse(response.text())

        try:
            rules = await self._request(
                url,
                "text",
                parse,
                None,
                passthrough=unavailable,
                check_robots=False,
                retry_log_level=logging.WARNING,
            )
        except MusinsaError as exc:  # the RobotsUnreachableError that follows says it; callers log it
            return _RobotsEntry(None, str(exc), self._clock() + self.settings.max_backoff_seconds)
        return _RobotsEntry(rules, None, self._clock() + ROBOTS_MAX_AGE_SECONDS)

    def _pace_host(self, host: str, rules: RobotsTxt | None) -> None:
        """Honour robots.txt's Crawl-delay for ``host`` where it is slower than the global pace."""
        delay = rules.crawl_delay(self.settings.user_agent) if rules is not None else None
        if delay is None or delay <= self._limiter.interval:
            self._host_pace.pop(host, None)
            return
        if host not in self._host_pace or self._host_pace[host].interval != delay:
            log.info(
                "%s/robots.txt asks for Crawl-delay: %g s; at most one request every %g s to %s "
                "(slower than requests_per_second = %g)",
                host,
                delay,
                delay,
                host,
                self.settings.requests_per_second,
            )
            self._host_pace[host] = RateLimiter(1.0 / delay, rng=self._rng)


def _describe_network_error(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no complete answer within {timeout:g} s"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"response body cut off ({exc.__class__.__name__})"
    return f"connection failed ({exc.__class__.__name__}: {exc})"


def _notify(callback: PageCallback | None, result: CategoryCrawl) -> None:
    if callback is not None:
        callback(result)


def image_client(musinsa: MusinsaSettings, images: ImageSettings, **kwargs: object) -> MusinsaClient:
    """A client for the image CDN with its own pace ([images] requests_per_second, download_concurrency).

    Catalog images come from a CDN built for image traffic; pacing them like listing pages would
    make a cold sync (and the bot's albums) needlessly slow, so they get a separate, still bounded pace.
    """
    paced = musinsa.model_copy(
        update={
            "requests_per_second": images.requests_per_second,
            "max_concurrency": images.download_concurrency,
        }
    )
    return MusinsaClient(paced, images=images, **kwargs)  # type: ignore[arg-type]
