"""Listing API responses (``/api2/dp/v1/plp/goods``) to Products, field by field as the API sends them.

The envelope must look exactly like Musinsa's (``meta.result``, ``data.list``,
``data.pagination.hasNext``), otherwise the whole page is an error naming the URL. Single
items are judged one by one: an item without a required field is skipped and counted, so
one odd product never costs a page.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from indexer.musinsa.errors import MalformedBodyError, ResultNotSuccessError, UnexpectedResponseError
from indexer.musinsa.models import ListingPage, SkippedItem
from indexer.musinsa.urls import absolute_url, product_url
from indexer.product import Product

log = logging.getLogger(__name__)


class _SkipError(Exception):
    """An item that cannot become a Product; the message is the reason."""


def as_int(value: Any) -> int | None:
    """An integer from JSON: ints, integral floats and digit strings ('39,900' too); never bools."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        digits = value.strip().replace(",", "")
        if digits.isascii() and digits.isdigit():
            return int(digits)
    return None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_item(item: Any, *, category: str, image_host: str, web_url: str, crawled_at: datetime) -> Product:
    """One listing item to a Product, or _SkipError naming the missing or invalid required field."""
    if not isinstance(item, dict):
        raise _SkipError(f"item is {type(item).__name__}, not an object")
    goods_no = as_int(item.get("goodsNo"))
    if goods_no is None or goods_no <= 0:
        raise _SkipError("goodsNo missing or not a positive integer")
    name = _text(item.get("goodsName"))
    if name is None:
        raise _SkipError("goodsName missing or empty")
    price = as_int(item.get("price"))
    final_price = as_int(item.get("finalPrice"))
    if price is None:
        price = final_price
    if price is None:
        raise _SkipError("price missing or not an integer")
    image_url = absolute_url(item.get("thumbnail"), image_host)
    if image_url is None:
        raise _SkipError(f"thumbnail missing or not an image URL ({item.get('thumbnail')!r})")

    brand = _text(item.get("brand")) or ""
    link = absolute_url(item.get("goodsLinkUrl"), web_url) if item.get("goodsLinkUrl") else None
    sale_rate = as_int(item.get("saleRate"))
    review_score = as_int(item.get("reviewScore"))
    review_count = as_int(item.get("reviewCount"))
    sold_out = item.get("isSoldOut")
    try:
        return Product(
            id=goods_no,
            name=name,
            brand=brand,
            brand_name=_text(item.get("brandName")) or brand,
            category=category,
            price=price,
            normal_price=as_int(item.get("normalPrice")) or price,
            sale_rate=sale_rate if sale_rate is not None and 0 <= sale_rate <= 100 else 0,
            final_price=final_price,
            image_url=image_url,
            url=link or product_url(web_url, goods_no),
            gender=_text(item.get("displayGenderText")),
            sold_out=sold_out if isinstance(sold_out, bool) else False,
            review_count=review_count if review_count is not None and review_count >= 0 else 0,
            rating=round(review_score / 20, 2)
            if review_score is not None and 0 <= review_score <= 100
            else None,
            crawled_at=crawled_at,
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        raise _SkipError(f"{field}: {first['msg']}") from None


def decode_json(body: bytes, url: str) -> Any:
    """JSON from a response body, or MalformedBodyError (retryable) naming the URL."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        start = body[:80].decode("utf-8", "replace").replace("\n", " ")
        raise MalformedBodyError(url, f"body is not JSON ({exc}); it starts with {start!r}") from None


def _envelope(payload: Any, url: str) -> tuple[list[Any], dict[str, Any]]:
    if not isinstance(payload, dict):
        raise UnexpectedResponseError(url, f"top level is {type(payload).__name__}, expected an object")
    meta = payload.get("meta")
    if not isinstance(meta, dict) or "result" not in meta:
        raise UnexpectedResponseError(url, "no meta.result in the response")
    if meta["result"] != "SUCCESS":
        detail = meta.get("message") or meta.get("errorCode") or ""
        raise ResultNotSuccessError(
            url, f"meta.result is {meta['result']!r}, not 'SUCCESS'" + (f": {detail}" if detail else "")
        )
    data = payload.get("data")
    if not isinstance(data, dict):
        raise UnexpectedResponseError(url, "meta.result is SUCCESS but data is missing or not an object")
    items = data.get("list")
    if not isinstance(items, list):
        raise UnexpectedResponseError(url, "data.list is missing or not a list")
    pagination = data.get("pagination")
    if not isinstance(pagination, dict):
        raise UnexpectedResponseError(url, "data.pagination is missing or not an object")
    if not isinstance(pagination.get("hasNext"), bool):
        raise UnexpectedResponseError(url, "data.pagination.hasNext is missing or not a boolean")
    return items, pagination


def parse_listing(
    payload: Any,
    *,
    url: str,
    category: str,
    page: int,
    image_host: str,
    web_url: str,
    crawled_at: datetime | None = None,
) -> ListingPage:
    """A decoded listing response to a ListingPage; envelope problems raise, item problems are counted."""
    items, pagination = _envelope(payload, url)
    crawled_at = crawled_at or datetime.now(UTC)
    products = []
    seen: set[int] = set()
    skipped: list[SkippedItem] = []
    for index, item in enumerate(items):
        try:
            product = parse_item(
                item, category=category, image_host=image_host, web_url=web_url, crawled_at=crawled_at
            )
        except _SkipError as skip:
            goods_no = as_int(item.get("goodsNo")) if isinstance(item, dict) else None
            skipped.append(SkippedItem(index, goods_no, str(skip)))
            log.warning("skipped item %d (goodsNo %s) of %s: %s", index, goods_no, url, skip)
            continue
        if product.id not in seen:
            seen.add(product.id)
            products.append(product)
    return ListingPage(
        url=url,
        category=category,
        page=page,
        products=products,
        skipped=skipped,
        has_next=pagination["hasNext"],
        total_count=as_int(pagination.get("totalCount")),
        total_pages=as_int(pagination.get("totalPages")),
    )
