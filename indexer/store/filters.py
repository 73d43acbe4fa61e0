"""What a shopper narrows a search to: price range, gender, sold-out items. One frozen, checked value.

Every search flow (photo, garment, text, similar, More) carries one ``SearchFilters``; the engines
turn it into Qdrant conditions on payload fields the crawl records (``effective_price``, ``gender``,
``sold_out``). Musinsa labels each product's gender ``남성``, ``여성`` or ``공용`` (unisex): a
gender filter excludes the other gender's label, so unisex products, and products with no label,
match both.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

Gender = Literal["men", "women"]
GENDERS: tuple[Gender, ...] = get_args(Gender)
# The Musinsa gender label (listing ``displayGenderText``) a gender filter leaves out.
EXCLUDED_LABEL: dict[Gender, str] = {"men": "여성", "women": "남성"}
# No product on Musinsa costs more; a larger bound is a typo ("999조원"), answered as such.
MAX_PRICE_WON = 100_000_000


class FilterError(ValueError):
    """Filters that cannot apply (min above max, a negative or absurd price); the message says which."""


def check_price(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FilterError(f"{name} must be a number of won, got {value!r}")
    if value < 0:
        raise FilterError(f"{name} must not be negative, got {value}")
    if value > MAX_PRICE_WON:
        raise FilterError(f"{name} {value:,} won is above {MAX_PRICE_WON:,} won, the most a product costs")


@dataclass(frozen=True)
class SearchFilters:
    """``min_price``/``max_price`` bound ``Product.effective_price`` in won (inclusive); ``gender``
    keeps that gender's and unisex products; sold-out products are hidden unless ``include_sold_out``."""

    min_price: int | None = None
    max_price: int | None = None
    gender: Gender | None = None
    include_sold_out: bool = False

    def __post_init__(self) -> None:
        check_price("min_price", self.min_price)
        check_price("max_price", self.max_price)
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise FilterError(f"min_price {self.min_price:,} is above max_price {self.max_price:,}")
        if self.gender is not None and self.gender not in GENDERS:
            raise FilterError(f"gender must be one of {', '.join(GENDERS)}, got {self.gender!r}")
        if not isinstance(self.include_sold_out, bool):
            raise FilterError(f"include_sold_out must be true or false, got {self.include_sold_out!r}")

    @property
    def is_default(self) -> bool:
        """No price bound, every gender, sold-out hidden: what a new user searches with."""
        return self == SearchFilters()

    @property
    def has_price(self) -> bool:
        return self.min_price is not None or self.max_price is not None

    @property
    def excluded_gender_label(self) -> str | None:
        return EXCLUDED_LABEL[self.gender] if self.gender is not None else None

    def replace(self, **changes: Any) -> SearchFilters:
        """A copy with ``changes`` applied (checked again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SearchFilters:
        """Stored filters; anything unreadable (an older or damaged record) gives the defaults."""
        if not isinstance(data, Mapping):
            return cls()
        known = {field.name for field in dataclasses.fields(cls)}
        try:
            return cls(**{key: value for key, value in data.items() if key in known})
        except (FilterError, TypeError):
            return cls()


DEFAULT_FILTERS = SearchFilters()  # a new user's: every price and gender, sold-out hidden
NO_FILTERS = SearchFilters(include_sold_out=True)  # everything: lookups that must not hide products
