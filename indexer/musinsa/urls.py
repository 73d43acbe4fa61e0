"""The URL forms Musinsa uses: listing API, product pages and image paths made absolute."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

LISTING_PATH = "/api2/dp/v1/plp/goods"
# The CDN serves the product photo only to requests from musinsa.com.
IMAGE_REFERER = "https://www.musinsa.com/"


def listing_url(
    api_url: str, *, category: str, page: int, size: int, sort_code: str = "POPULAR", gender: str = "A"
) -> str:
    """``GET {api_url}/api2/dp/v1/plp/goods?gf=A&category=…&caller=CATEGORY&sortCode=…&page=…&size=…``."""
    query = urlencode(
        {
            "gf": gender,
            "category": category,
            "caller": "CATEGORY",
            "sortCode": sort_code,
            "page": page,
            "size": size,
        }
    )
    return f"{api_url.rstrip('/')}{LISTING_PATH}?{query}"


def product_url(web_url: str, goods_no: int) -> str:
    return f"{web_url.rstrip('/')}/products/{goods_no}"


def absolute_url(value: str, host: str) -> str | None:
    """A URL from Musinsa's data made absolute against ``host``, or None when it is not a URL.

    Image references come in three forms: ``//host/path`` takes the scheme of
    the configured host (https for the real CDN), ``/images/…`` is joined to the host, and
    ``http://`` becomes ``https://`` when the host is https. Anything else (empty, ``data:``,
    a bare word) is not a URL.
    """
    if not isinstance(value, str):
        return None
    value = value.strip()
    scheme = urlsplit(host).scheme or "https"
    if value.startswith("//"):
        value = f"{scheme}:{value}"
    elif value.startswith("/"):
        value = host.rstrip("/") + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        return None
    if parts.scheme == "http" and scheme == "https":
        value = "https" + value[4:]
    return value


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: the unit robots.txt and the circuit breaker work per."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
