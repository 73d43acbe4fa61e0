"""The one product record every part of snapfit passes around.

The crawler produces it, the snapshot stores it as JSON lines, the vector store keeps it
as payload and the bot renders it. Keeping a single typed shape avoids drift between them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

# Fields whose change means nothing to the index (they change on every crawl).
VOLATILE_FIELDS = frozenset({"crawled_at"})


def category_path(code: str) -> list[str]:
    """Every ancestor of a category code, itself included: '001004' -> ['001', '001004']."""
    return [code[:end] for end in range(3, len(code) + 1, 3)]


class Product(BaseModel):
    """A Musinsa product as snapfit knows it. ``id`` is Musinsa's goodsNo."""

    # Stored payloads carry derived keys (category_path, ...) next to these fields: ignore them on load.
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int = Field(gt=0)
    name: str
    brand: str
    brand_name: str
    category: str
    price: int = Field(ge=0)
    normal_price: int = Field(ge=0)
    sale_rate: int = Field(default=0, ge=0, le=100)
    final_price: int | None = None
    image_url: str
    url: str
    gender: str | None = None
    sold_out: bool = False
    review_count: int = Field(default=0, ge=0)
    rating: float | None = Field(default=None, ge=0, le=5)
    crawled_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def category_path(self) -> list[str]:
        return category_path(self.category)

    @property
    def effective_price(self) -> int:
        """What the shopper pays now: the final price after extra discounts when Musinsa reports one."""
        return self.final_price if self.final_price is not None else self.price

    @property
    def discount_percent(self) -> int:
        """Discount against the list price, from the prices themselves when sale_rate is missing."""
        if self.sale_rate:
            return self.sale_rate
        if self.normal_price > self.effective_price > 0:
            return round(100 * (self.normal_price - self.effective_price) / self.normal_price)
        return 0

    def index_fields(self) -> dict[str, object]:
        """The fields that matter to the index (everything but the crawl time)."""
        return self.model_dump(exclude=set(VOLATILE_FIELDS), mode="json")
