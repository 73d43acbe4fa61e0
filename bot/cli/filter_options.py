"""The shopper's filters as options: ``--min-price``, ``--max-price``, ``--gender``, ``--include-sold-out``.

``snapfit search`` and ``snapfit similar`` take them as the bot's /filter sets them and turn them into
one ``SearchFilters``. Prices are read here rather than by Click so that a bad value is one line
naming the option (exit 2), like every other usage mistake of these commands.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli import EXIT_USAGE, fail

if TYPE_CHECKING:
    from indexer.store import SearchFilters

MinPriceOption = Annotated[
    str | None,
    typer.Option(
        "--min-price",
        metavar="WON",
        help="Only products that cost at least this many won now (after discounts): 30000 or 30,000.",
        show_default=False,
    ),
]
MaxPriceOption = Annotated[
    str | None,
    typer.Option(
        "--max-price",
        metavar="WON",
        help="Only products that cost at most this many won now (after discounts).",
        show_default=False,
    ),
]
GenderOption = Annotated[
    str | None,
    typer.Option(
        "--gender",
        metavar="men|women",
        help="Only men's or women's products; unisex and unlabelled products match both. 'all': no filter.",
        show_default=False,
    ),
]
SoldOutOption = Annotated[
    bool,
    typer.Option("--include-sold-out", help="Also show sold-out products (hidden by default, as in the bot)"),
]

# A whole number of won, digits grouped by commas or underscores or not at all (a leading minus is
# read too, so that "-5" is answered as a negative price rather than as not a number).
_WON = re.compile(r"-?\d{1,3}(?:([,_])\d{3}(?:\1\d{3})*)?|-?\d+")
_GENDERS = {"men": "men", "women": "women", "all": None}
_OPTION_OF_FIELD = {"min_price": "--min-price", "max_price": "--max-price"}


def parse_won(option: str, text: str) -> int:
    """``text`` as a whole number of won; exit 2 with one line naming ``option`` otherwise."""
    value = text.strip().removesuffix("원").strip()
    if not _WON.fullmatch(value):
        raise fail(f"{option} must be a whole number of won (like 30000 or 30,000), got {text!r}", EXIT_USAGE)
    return int(value.replace(",", "").replace("_", ""))


def search_filters(
    min_price: str | None, max_price: str | None, gender: str | None, include_sold_out: bool
) -> SearchFilters:
    """The options as one checked ``SearchFilters``; a bad value or combination exits 2 with one line."""
    from indexer.store import FilterError, SearchFilters

    low = parse_won("--min-price", min_price) if min_price is not None else None
    high = parse_won("--max-price", max_price) if max_price is not None else None
    wanted = gender.strip().lower() if gender is not None else None
    if wanted is not None and wanted not in _GENDERS:
        raise fail(f"--gender must be men, women or all, got {gender!r}", EXIT_USAGE)
    try:
        return SearchFilters(
            min_price=low,
            max_price=high,
            gender=_GENDERS[wanted] if wanted is not None else None,
            include_sold_out=include_sold_out,
        )
    except FilterError as exc:
        message = str(exc)
        for field, option in _OPTION_OF_FIELD.items():
            message = message.replace(field, option)
        raise fail(message, EXIT_USAGE) from None


def describe_filters(filters: SearchFilters) -> str:
    """The active filters in a few words for a table title: '30,000–80,000 won, women' ('' by default)."""
    parts: list[str] = []
    if filters.min_price is not None and filters.max_price is not None:
        parts.append(f"{filters.min_price:,}–{filters.max_price:,} won")
    elif filters.min_price is not None:
        parts.append(f"from {filters.min_price:,} won")
    elif filters.max_price is not None:
        parts.append(f"up to {filters.max_price:,} won")
    if filters.gender is not None:
        parts.append(filters.gender)
    if filters.include_sold_out:
        parts.append("sold-out included")
    return ", ".join(parts)
