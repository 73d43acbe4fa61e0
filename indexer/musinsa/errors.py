"""Typed errors of the Musinsa client; each message is one line naming the URL and what went wrong.

Callers choose by type: sync skips a category on ``RequestFailedError``/``BlockedError`` and
stops the run on ``RobotsDisallowedError`` (``RobotsUnreachableError`` included); the bot
answers "unknown product" on ``ProductPageNotFoundError``; a catalog image is dropped on
``ImageDownloadError``.
"""

from __future__ import annotations


class MusinsaError(Exception):
    """Base of everything the Musinsa client raises. ``url`` is the request it concerns."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class RobotsDisallowedError(MusinsaError):
    """robots.txt forbids this URL for our user agent (and obey_robots_txt is on)."""

    def __init__(self, url: str, *, rule: str, user_agent: str, robots_url: str) -> None:
        super().__init__(
            f"robots.txt ({robots_url}) disallows {url} for user agent {user_agent!r} ({rule}); "
            "crawl only with the site owner's permission (then set [musinsa] obey_robots_txt = false)",
            url=url,
        )
        self.rule = rule
        self.user_agent = user_agent
        self.robots_url = robots_url


class RobotsUnreachableError(RobotsDisallowedError):
    """robots.txt could not be read (no connection, timeout, 5xx, 429): nothing is requested from the host.

    RFC 9309 §2.3.1.4 says to assume a complete disallow then, so every caller stops as for a
    refusal (hence the subclass); the message names the network cause, not a rule, and gives no
    advice about permission, because nobody refused anything.
    """

    def __init__(self, url: str, *, host: str, cause: str, robots_url: str, retry_seconds: float) -> None:
        MusinsaError.__init__(
            self,
            f"cannot reach {host}: {cause}; without its robots.txt ({robots_url}) snapfit requests "
            f"nothing from {host} (RFC 9309) and reads robots.txt again in {retry_seconds:g} s",
            url=url,
        )
        self.rule = ""
        self.user_agent = ""
        self.robots_url = robots_url
        self.host = host
        self.cause = cause


class RequestFailedError(MusinsaError):
    """The request did not succeed: a non-retryable HTTP status, or retries ran out."""

    def __init__(self, message: str, *, url: str, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.attempts = attempts


class BlockedError(RequestFailedError):
    """Musinsa keeps answering 403/429: the circuit breaker is open, stop this category."""


class UnexpectedResponseError(MusinsaError):
    """The body is not what Musinsa's API or pages look like (shape changed, meta.result failed, ...)."""

    def __init__(self, url: str, problem: str, *, attempts: int = 1) -> None:
        tried = f" (after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"unexpected response from {url}: {problem}{tried}", url=url)
        self.problem = problem
        self.attempts = attempts


class ProductPageNotFoundError(MusinsaError):
    """Musinsa has no product with this goodsNo (HTTP 404)."""

    def __init__(self, goods_no: int, *, url: str) -> None:
        super().__init__(f"unknown product {goods_no}: {url} answered 404", url=url)
        self.goods_no = goods_no


class ImageDownloadError(MusinsaError):
    """A catalog image that must not be used; subclasses say why."""


class ImageNotFoundError(ImageDownloadError):
    """The image URL answered 404/410."""


class ImageTooLargeError(ImageDownloadError):
    """The image is bigger than [images] max_bytes; the download stopped early."""


class NotAnImageResponseError(ImageDownloadError):
    """The response is not an image (for example an HTML challenge page) or is empty."""


class PlaceholderImageError(ImageDownloadError):
    """The CDN sent a known placeholder instead of the product photo."""


class MalformedBodyError(UnexpectedResponseError):
    """The body is not JSON (or not the JSON/HTML asked for): often a transient edge error, retried."""


class ResultNotSuccessError(UnexpectedResponseError):
    """HTTP 200 with ``meta.result`` other than SUCCESS: Musinsa's soft refusal, retried later."""
