"""Any way a person refers to a Musinsa product -> its goodsNo, or a message saying what to send.

Accepted: a bare id; ``/products/ID``; the legacy ``/app/goods/ID[/0]``;
the short link ``mss.kr/ID``; with or without scheme, ``www.``, query or fragment. Global-store
links, app links and other hosts are refused with a message a bot user can act on.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_ID_DIGITS = 10  # goodsNo has 6-7 digits today; anything past 10 is not an id
MUSINSA_HOSTS = frozenset({"musinsa.com", "www.musinsa.com", "store.musinsa.com", "m.musinsa.com"})
SHORT_HOSTS = frozenset({"mss.kr", "www.mss.kr"})
APP_LINK_HOSTS = frozenset({"musinsaapp.page.link", "musinsa.onelink.me"})

_ID = rf"(\d{{1,{MAX_ID_DIGITS}}})"
_SITE_PATH = re.compile(rf"^/(?:products/{_ID}|app/goods/{_ID}(?:/0)?)/?$")
_SHORT_PATH = re.compile(rf"^/{_ID}/?$")
_EXAMPLE = "a product number like 3783092 or a link like https://www.musinsa.com/products/3783092"


class ProductRefSyntaxError(ValueError):
    """The text is not a Musinsa product reference; ``str(error)`` is a message for the user."""


def _positive(digits: str) -> int:
    goods_no = int(digits)
    if goods_no <= 0:
        raise ProductRefSyntaxError(f"0 is not a Musinsa product number; send {_EXAMPLE}")
    return goods_no


def parse_product_ref(text: str, *, extra_hosts: frozenset[str] | set[str] = frozenset()) -> int:
    """The goodsNo in ``text``, or ProductRefSyntaxError explaining what is accepted.

    ``extra_hosts`` adds hosts treated like www.musinsa.com (the configured web_url's host,
    e.g. a local test server).
    """
    if not isinstance(text, str):
        raise ProductRefSyntaxError(f"send {_EXAMPLE}")
    cleaned = text.strip()
    if not cleaned:
        raise ProductRefSyntaxError(f"empty product reference; send {_EXAMPLE}")
    if cleaned.isascii() and cleaned.isdigit():
        if len(cleaned) > MAX_ID_DIGITS:
            raise ProductRefSyntaxError(f"{cleaned[:20]}… is too long to be a Musinsa product number")
        return _positive(cleaned)
    if len(cleaned) > 2048 or any(ch.isspace() for ch in cleaned):
        raise ProductRefSyntaxError(f"not a Musinsa product link; send {_EXAMPLE}")

    if cleaned.startswith("/"):
        host, path = "www.musinsa.com", urlsplit(cleaned).path
    else:
        has_scheme = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", cleaned)
        if has_scheme and not cleaned.lower().startswith(("http://", "https://")):
            raise ProductRefSyntaxError(f"not a Musinsa product link; send {_EXAMPLE}")
        parts = urlsplit(cleaned if has_scheme else f"https://{cleaned}")
        try:
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            raise ProductRefSyntaxError(f"not a Musinsa product link; send {_EXAMPLE}") from None
        if port is not None and port not in (80, 443) and host not in extra_hosts:
            raise ProductRefSyntaxError(f"not a Musinsa product link; send {_EXAMPLE}")
        path = parts.path

    if host == "global.musinsa.com":
        raise ProductRefSyntaxError(
            "that is a Musinsa Global link, a different catalogue; send the www.musinsa.com product link"
        )
    if host in APP_LINK_HOSTS:
        raise ProductRefSyntaxError(
            "app share links can't be opened here; open it and send the www.musinsa.com/products/… link"
        )
    if host in SHORT_HOSTS:
        match = _SHORT_PATH.match(path)
        if match:
            return _positive(match.group(1))
    elif host in MUSINSA_HOSTS or host in extra_hosts:
        match = _SITE_PATH.match(path)
        if match:
            return _positive(match.group(1) or match.group(2))
    else:
        raise ProductRefSyntaxError(f"{host or cleaned[:40]!s} is not Musinsa; send {_EXAMPLE}")
    raise ProductRefSyntaxError(f"that Musinsa link does not point to a product; send {_EXAMPLE}")
