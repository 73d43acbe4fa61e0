"""A fake musinsa.com for tests: listing API, product pages, image CDN and robots.txt on 127.0.0.1.

Faithful to the real listing API and product pages, and as strict as the real service:

- ``GET /api2/dp/v1/plp/goods``: the real envelope and item fields; ``hasNext`` false on the
  last page; 400 for ``size`` > 100 or missing/invalid parameters; sponsored (``isAd``) items
  repeated on later pages.
- ``GET /products/{id}``: HTML shaped like a real product page; 404 for unknown ids.
  ``GET /app/goods/{id}[/0]``: 301 to ``/products/{id}``. ``GET /api2/goods/{id}``: goods-detail JSON.
- ``GET /images/…`` (and ``/thumbnails/images/…``): the product's own generated image, or a
  placeholder when the ``Referer`` is not musinsa.com.
- ``GET /robots.txt``: configurable (permissive by default; ``MUSINSA_ROBOTS`` is Musinsa-like).

Test-side API::

    async with FakeMusinsa(FakeCatalog.generate(seed=1, count=40)) as fake:
        fake.url                                  # http://127.0.0.1:PORT (api, web and image host)
        fake.catalog.set_price(no, 12900)         # mutate between crawls (also change_image/remove/add)
        fake.faults.next(Fault.throttled("2"), times=3, match=LISTING_PATH)
        fake.faults.random(0.3, [Fault.throttled("0"), Fault.http(503)], seed=7)
        fake.musinsa_settings(max_retries=3)      # MusinsaSettings aimed at the fake, fast backoff
        fake.requests_to(LISTING_PATH)            # RecordedRequest(path, query, headers, time, status, fault)
        fake.image_bytes(no)                      # the exact bytes served for a product's image

For synchronous tests (the CLI runs its own event loop) use ``with FakeMusinsa.in_thread(...) as fake``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from indexer.config import MusinsaSettings
from tests.fakes.musinsa_catalog import (
    SORT_CODES,
    FakeCatalog,
    FakeProduct,
    goods_object,
    listing_item,
    product_page,
    render_image,
    render_placeholder,
)

LISTING_PATH = "/api2/dp/v1/plp/goods"
PRODUCT_PATH = "/products/"
IMAGE_PATH = "/images/"
PERMISSIVE_ROBOTS = "User-agent: *\nAllow: /\n"
# The structure of https://www.musinsa.com/robots.txt: named agents allowed,
# everyone else refused.
MUSINSA_ROBOTS = """# robots.txt for musinsa.com (structure as of 2025-10-24)
User-agent: Googlebot
User-agent: NaverBot
Allow: /
Disallow: /app/cart

User-agent: ChatGPT-User
User-agent: Claude-User
Allow: /

User-agent: *
Disallow: /

Sitemap: https://www.musinsa.com/sitemap-musinsa-index.xml
"""
CHALLENGE_PAGE = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    "<body>Checking your browser before accessing musinsa.com</body></html>"
)
MUSINSA_REFERER = re.compile(r"^https://(www\.)?musinsa\.com(/|$)")


@dataclass(frozen=True)
class Fault:
    """A misbehaviour to inject. Build with the class methods, e.g. ``Fault.throttled("5")``."""

    kind: str
    code: int = 200
    retry_after: str | None = None
    delay: float = 0.0
    result: str = "FAIL"

    @classmethod
    def http(cls, code: int, retry_after: str | None = None) -> Fault:
        """An error status with a JSON error body (and Retry-After when given)."""
        return cls("status", code=code, retry_after=retry_after)

    @classmethod
    def throttled(cls, retry_after: str | None = "0") -> Fault:
        """HTTP 429; ``retry_after`` in seconds or an HTTP-date, None for no header."""
        return cls.http(429, retry_after)

    @classmethod
    def forbidden(cls) -> Fault:
        return cls.http(403)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Answer normally, but only after ``seconds`` (past the client's timeout)."""
        return cls("slow", delay=seconds)

    @classmethod
    def drop(cls) -> Fault:
        """Close the connection without answering (a reset)."""
        return cls("drop")

    @classmethod
    def truncate(cls) -> Fault:
        """Send the headers and half of the body, then close."""
        return cls("truncate")

    @classmethod
    def malformed_json(cls) -> Fault:
        """HTTP 200, Content-Type JSON, body cut in the middle of the JSON."""
        return cls("malformed_json")

    @classmethod
    def changed_shape(cls) -> Fault:
        """HTTP 200 with valid JSON in a shape Musinsa never sent (data.list renamed)."""
        return cls("changed_shape")

    @classmethod
    def not_success(cls, result: str = "FAIL") -> Fault:
        """HTTP 200 with ``meta.result`` other than SUCCESS (Musinsa's soft refusal)."""
        return cls("not_success", result=result)

    @classmethod
    def challenge_page(cls) -> Fault:
        """HTTP 200 with a Cloudflare-like HTML challenge page (and a cf-ray header)."""
        return cls("challenge")


Matcher = str | Callable[["web.Request"], bool]


def _matches(matcher: Matcher, request: web.Request) -> bool:
    if callable(matcher):
        return matcher(request)
    return request.path.startswith(matcher)


@dataclass
class _NextRule:
    fault: Fault
    remaining: int
    match: Matcher


@dataclass
class _RandomRule:
    probability: float
    faults: Sequence[Fault]
    match: Matcher
    rng: random.Random


class FaultPlan:
    """Which requests misbehave. ``next`` rules are used up first, then ``random`` rules."""

    def __init__(self) -> None:
        self._next: list[_NextRule] = []
        self._random: list[_RandomRule] = []

    def next(self, fault: Fault, times: int = 1, *, match: Matcher = "/") -> None:
        """The next ``times`` requests whose path starts with ``match`` (or match(request)) get ``fault``."""
        self._next.append(_NextRule(fault, times, match))

    def random(
        self, probability: float, faults: Sequence[Fault], *, match: Matcher = "/", seed: int = 0
    ) -> None:
        """Each matching request gets one of ``faults`` (chosen by a seeded RNG) with ``probability``."""
        self._random.append(_RandomRule(probability, list(faults), match, random.Random(seed)))

    def clear(self) -> None:
        self._next.clear()
        self._random.clear()

    def pick(self, request: web.Request) -> Fault | None:
        for rule in self._next:
            if rule.remaining > 0 and _matches(rule.match, request):
                rule.remaining -= 1
                return rule.fault
        for random_rule in self._random:
            if _matches(random_rule.match, request) and random_rule.rng.random() < random_rule.probability:
                return random_rule.rng.choice(list(random_rule.faults))
        return None


@dataclass
class RecordedRequest:
    """One request as the fake saw it. ``time`` is time.monotonic() at arrival."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    time: float
    status: int | None = None  # None when the connection was dropped
    fault: Fault | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class FakeMusinsa:
    """The fake server. ``catalog``, ``robots_txt``, ``faults`` can be changed while it runs."""

    catalog: FakeCatalog = field(default_factory=FakeCatalog.generate)
    robots_txt: str | None = PERMISSIVE_ROBOTS  # None: robots.txt answers 404
    image_size: tuple[int, int] = (96, 112)
    # goodsNos whose image the CDN replaces by its placeholder even with the right Referer.
    placeholder_goods: set[int] = field(default_factory=set)
    chunked_images: bool = False  # send images without Content-Length (chunked)
    faults: FaultPlan = field(default_factory=FaultPlan)
    requests: list[RecordedRequest] = field(default_factory=list)
    _runner: web.AppRunner | None = field(default=None, repr=False)
    _url: str = field(default="", repr=False)
    _images: dict[tuple[int, int, str], bytes] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("FakeMusinsa is not started")
        return self._url

    async def start(self) -> FakeMusinsa:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/robots.txt", self._robots)
        app.router.add_get(LISTING_PATH, self._listing)
        app.router.add_get(r"/products/{goods_no}", self._product_page)
        app.router.add_get(r"/app/goods/{goods_no}", self._legacy_redirect)
        app.router.add_get(r"/app/goods/{goods_no}/0", self._legacy_redirect)
        app.router.add_get(r"/api2/goods/{goods_no}", self._goods_detail)
        app.router.add_get(r"/images/{path:.+}", self._image)
        app.router.add_get(r"/thumbnails/images/{path:.+}", self._image)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeMusinsa:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @classmethod
    @contextlib.contextmanager
    def in_thread(cls, catalog: FakeCatalog | None = None, **options: object) -> Iterator[FakeMusinsa]:
        """Run the fake on its own event loop in a thread (for tests that call asyncio.run themselves).

        Change the catalog or faults only while no client is talking to it.
        """
        fake = cls(catalog or FakeCatalog.generate(), **options)  # type: ignore[arg-type]
        loop = asyncio.new_event_loop()
        started = threading.Event()
        thread = threading.Thread(target=_serve, args=(loop, fake, started), daemon=True)
        thread.start()
        if not started.wait(timeout=30):
            raise RuntimeError("fake Musinsa did not start within 30 s")
        try:
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=30)
            loop.close()

    # ------------------------------------------------------------- test helpers

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def image_url(self, goods_no: int) -> str:
        return self.url + self.catalog.get(goods_no).image_path

    def image_bytes(self, goods_no: int) -> bytes:
        """Exactly what ``/images/…`` serves (with the Referer) for this product's main image now."""
        return self._image_for(self.catalog.get(goods_no), detail=False)

    @property
    def placeholder_bytes(self) -> bytes:
        return render_placeholder(self.image_size)

    @property
    def placeholder_sha256(self) -> str:
        return hashlib.sha256(self.placeholder_bytes).hexdigest()

    def listing_ids(self, category: str) -> list[int]:
        """Every goodsNo the category's listing holds, in listing order (ads not repeated)."""
        return [p.goods_no for p in self.catalog.listing(category)]

    def page_ids(self, category: str, page: int, size: int) -> list[int]:
        """The goodsNos on one listing page as served now, sponsored repeats included."""
        items, _ = self._page(category, page, size, "POPULAR", "A")
        return [int(item["goodsNo"]) for item in items]  # type: ignore[call-overload]

    def musinsa_settings(self, **overrides: object) -> MusinsaSettings:
        """[musinsa] settings aimed at this fake, with fast pacing and short backoff for tests."""
        values: dict[str, object] = {
            "api_url": self.url,
            "web_url": self.url,
            "image_url": self.url,
            "requests_per_second": 20.0,
            "backoff_seconds": 0.001,
            "max_backoff_seconds": 5.0,
            "timeout_seconds": 5.0,
            "page_size": 10,
            **overrides,
        }
        return MusinsaSettings(**values)  # type: ignore[arg-type]

    def config_toml(self, data_dir: str, **musinsa: object) -> str:
        """A config.toml pointing api_url/web_url/image_url at this fake (plus ``musinsa`` overrides)."""
        values: dict[str, object] = {
            "api_url": self.url,
            "web_url": self.url,
            "image_url": self.url,
            **musinsa,
        }
        lines = ["[musinsa]"] + [f"{key} = {_toml(value)}" for key, value in values.items()]
        lines += ["", "[data]", f"dir = {_toml(data_dir)}", ""]
        return "\n".join(lines)

    # ---------------------------------------------------------------- handlers

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], object]
    ) -> web.StreamResponse:
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            time=time.monotonic(),
        )
        self.requests.append(record)
        fault = self.faults.pick(request)
        record.fault = fault
        try:
            if fault is not None:
                response = await self._apply(fault, request, handler)
            else:
                response = await handler(request)  # type: ignore[misc]
        except web.HTTPException as exc:  # redirects and errors raised by handlers
            record.status = exc.status
            raise
        dropped = fault is not None and fault.kind in ("drop", "truncate")
        record.status = None if dropped else response.status
        return response

    async def _apply(
        self, fault: Fault, request: web.Request, handler: Callable[[web.Request], object]
    ) -> web.StreamResponse:
        if fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return web.json_response(
                _fail_body(f"HTTP {fault.code}", str(fault.code)), status=fault.code, headers=headers
            )
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay)
            return await handler(request)  # type: ignore[misc]
        if fault.kind == "drop":
            transport = request.transport
            if transport is not None:
                transport.abort()
            await asyncio.sleep(0)
            return web.Response(status=599)
        if fault.kind == "truncate":
            normal = await handler(request)  # type: ignore[misc]
            body = (
                normal.body if isinstance(normal, web.Response) and isinstance(normal.body, bytes) else b"{}"
            )
            response = web.StreamResponse(status=200, headers={"Content-Type": normal.content_type})
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            if request.transport is not None:
                request.transport.abort()
            return response
        if fault.kind == "malformed_json":
            return web.Response(
                body=b'{"meta": {"result": "SUCCESS"}, "data": {"list": [{"goodsNo": 37',
                content_type="application/json",
            )
        if fault.kind == "changed_shape":
            return web.json_response(
                {"meta": {"result": "SUCCESS"}, "data": {"items": [], "page": {"current": 1, "last": True}}}
            )
        if fault.kind == "not_success":
            return web.json_response(_fail_body("일시적인 오류입니다", "E500", result=fault.result))
        if fault.kind == "challenge":
            return web.Response(
                text=CHALLENGE_PAGE,
                content_type="text/html",
                headers={"cf-ray": "8a1b2c3d4e5f-ICN"},
            )
        raise ValueError(f"unknown fault {fault.kind!r}")

    async def _robots(self, request: web.Request) -> web.Response:
        if self.robots_txt is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(text=self.robots_txt, content_type="text/plain")

    async def _listing(self, request: web.Request) -> web.Response:
        query = request.query
        problems = []
        if query.get("gf") not in ("A", "M", "F"):
            problems.append("gf must be A, M or F")
        if query.get("caller") not in ("CATEGORY", "SEARCH"):
            problems.append("caller must be CATEGORY or SEARCH")
        category = query.get("category", "")
        if query.get("caller") == "CATEGORY" and not re.fullmatch(r"\d{3}(\d{3}){0,3}", category):
            problems.append("category must be a category code")
        sort_code = query.get("sortCode", "POPULAR")
        if sort_code not in SORT_CODES:
            problems.append(f"unknown sortCode {sort_code}")
        page = _positive_int(query.get("page"))
        size = _positive_int(query.get("size"))
        if page is None:
            problems.append("page must be a positive integer")
        if size is None or size > 100:
            problems.append("size must be between 1 and 100")
        if problems:
            return web.json_response(_fail_body("; ".join(problems), "INVALID_PARAMETER"), status=400)
        assert page is not None and size is not None
        items, pagination = self._page(category, page, size, sort_code, query["gf"])
        return web.json_response(
            {
                "meta": {"result": "SUCCESS"},
                "data": {"list": items, "pagination": pagination, "dsBucketProduct": "A"},
            }
        )

    def _page(
        self, category: str, page: int, size: int, sort_code: str, gender: str
    ) -> tuple[list[dict[str, object]], dict[str, object]]:
        """One page's items and pagination; from page 2 on a sponsored item is repeated on top."""
        products = self.catalog.listing(category, sort_code=sort_code, gender=gender)
        total_pages = math.ceil(len(products) / size)
        chosen = products[(page - 1) * size : page * size]
        items = [listing_item(p, self.url) for p in chosen]
        ads = [p for p in products if p.is_ad]
        if page > 1 and ads and chosen:
            items.insert(0, listing_item(ads[page % len(ads)], self.url, as_ad=True))
        pagination = {
            "page": page,
            "size": size,
            "totalCount": len(products),
            "totalPages": total_pages,
            "hasNext": page < total_pages,
        }
        return items, pagination

    def _known(self, request: web.Request) -> FakeProduct | None:
        goods_no = _positive_int(request.match_info["goods_no"])
        return self.catalog.get(goods_no) if goods_no is not None and goods_no in self.catalog else None

    async def _product_page(self, request: web.Request) -> web.Response:
        product = self._known(request)
        if product is None:
            return web.Response(
                status=404,
                text="<html><body>페이지를 찾을 수 없습니다</body></html>",
                content_type="text/html",
            )
        return web.Response(text=product_page(product, self.url), content_type="text/html")

    async def _legacy_redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(location=f"/products/{request.match_info['goods_no']}")

    async def _goods_detail(self, request: web.Request) -> web.Response:
        product = self._known(request)
        if product is None:
            return web.json_response(_fail_body("상품이 존재하지 않습니다", "NOT_FOUND"), status=404)
        data = {
            **goods_object(product, rich=True),
            "thumbnailImageUrl": product.image_path,
            "isPrePoint": False,
        }
        return web.json_response({"meta": {"result": "SUCCESS"}, "data": data})

    async def _image(self, request: web.Request) -> web.StreamResponse:
        path = "/images/" + request.match_info["path"]
        match = re.search(r"/(?:goods_img|prd_img)/\d{8}/(\d+)/", path)
        product = (
            self.catalog.get(int(match.group(1))) if match and int(match.group(1)) in self.catalog else None
        )
        if product is None or path not in (product.image_path, product.detail_image_path):
            return web.Response(status=404, text="Not Found")
        referer_ok = MUSINSA_REFERER.match(request.headers.get("Referer", ""))
        if not referer_ok or product.goods_no in self.placeholder_goods:
            return web.Response(body=self.placeholder_bytes, content_type="image/png")
        body = self._image_for(product, detail=path == product.detail_image_path)
        kind = "image/png" if path.endswith(".png") else "image/jpeg"
        if not self.chunked_images:
            return web.Response(body=body, content_type=kind)
        response = web.StreamResponse(headers={"Content-Type": kind})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 512):
            await response.write(body[start : start + 512])
        await response.write_eof()
        return response

    def _image_for(self, product: FakeProduct, *, detail: bool) -> bytes:
        fmt = "PNG" if product.image_path.endswith(".png") and not detail else "JPEG"
        seed = product.image_seed + (1 if detail else 0)
        key = (seed, product.image_ts, fmt)
        if key not in self._images:
            self._images[key] = render_image(seed, self.image_size, fmt)
        return self._images[key]


def _serve(loop: asyncio.AbstractEventLoop, fake: FakeMusinsa, started: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.run_until_complete(fake.start())
    started.set()
    loop.run_forever()


def _fail_body(message: str, code: str, *, result: str = "FAIL") -> dict[str, object]:
    return {"meta": {"result": result, "errorCode": code, "message": message}, "data": None}


def _positive_int(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if number > 0 else None


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
