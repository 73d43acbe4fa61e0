"""What a plain text message asks for: products like a linked one, or a search by its words.

A message holding a link is about that link: a Musinsa product link does what /similar does, a
Musinsa link that is not a product is answered with what to send, any other shop's link with the
one line that only Musinsa links work. A bare number is a product number. Anything else is words
for the text search (which decides whether any of them are searchable). Telegram's own ``url``
entities are not needed: a link is found in the text itself, with or without its scheme.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from indexer.musinsa.refs import APP_LINK_HOSTS, MUSINSA_HOSTS, SHORT_HOSTS

# A link as people paste it: with a scheme, or a host with a letter TLD and a path ("mss.kr/123").
_LINK = re.compile(
    r"(?<![\w@.])(?:[a-z][a-z0-9+.-]*://[^\s<>\"]+|(?:[\w-]+\.)+[a-z]{2,}(?::\d+)?(?:[/?#][^\s<>\"]*)?)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]'\"”’>"  # punctuation that ends a sentence, not the link
MUSINSA_FAMILY = MUSINSA_HOSTS | SHORT_HOSTS | APP_LINK_HOSTS | {"global.musinsa.com"}


@dataclass(frozen=True)
class ProductRef:
    """A Musinsa link or a bare product number: its neighbours are wanted (``ref`` as written)."""

    ref: str


@dataclass(frozen=True)
class OtherShopLink:
    """A link to a shop that is not Musinsa."""

    host: str


@dataclass(frozen=True)
class Words:
    """Text to search by its words (possibly none that can be searched: the search says so)."""

    words: str


@dataclass(frozen=True)
class Blank:
    """Nothing but whitespace (or only the bot's @mention, in a group)."""


PlainText = ProductRef | OtherShopLink | Words | Blank


def links_in(message: str) -> list[str]:
    """The links in ``message``, in order, without the punctuation that ends a sentence."""
    return [match.group(0).rstrip(_TRAILING) for match in _LINK.finditer(message)]


def host_of(link: str) -> str:
    """The lower-case host of a link written with or without its scheme ('' when there is none)."""
    has_scheme = re.match(r"^[a-z][a-z0-9+.-]*://", link, re.IGNORECASE)
    try:
        return (urlsplit(link if has_scheme else f"https://{link}").hostname or "").lower()
    except ValueError:
        return ""


def is_musinsa_host(host: str, extra_hosts: frozenset[str] = frozenset()) -> bool:
    return host in MUSINSA_FAMILY or host in extra_hosts or host.endswith(".musinsa.com")


def read_plain_text(message: str, *, musinsa_hosts: frozenset[str] = frozenset()) -> PlainText:
    """What ``message`` asks for; ``musinsa_hosts`` adds hosts treated as Musinsa (a test server's)."""
    stripped = message.strip()
    if not stripped:
        return Blank()
    if stripped.isascii() and stripped.isdigit():
        return ProductRef(stripped)
    links = links_in(stripped)
    musinsa = [link for link in links if is_musinsa_host(host_of(link), musinsa_hosts)]
    if musinsa:
        return ProductRef(musinsa[0])
    if links:
        return OtherShopLink(host_of(links[0]) or links[0][:40])
    return Words(stripped)


def without_mention(message: str, username: str | None) -> str:
    """``message`` without the bot's ``@username`` (how a group addresses the bot)."""
    if not username:
        return message
    return re.sub(rf"@{re.escape(username)}\b", " ", message, flags=re.IGNORECASE).strip()
