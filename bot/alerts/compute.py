"""Which saved products deserve an alert after one sync: pure rules, no I/O (tested and benchmarked alone).

Only the sync's changed ids are looked at (``PriceChanges``), and only the saved rows of those
products (the store's ``saved_products_by_product`` index), never the whole saved table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.userdata.store import NewAlert, SavedWatch
from indexer.config import AlertSettings
from indexer.sync.changes import PriceChange


def is_price_drop(told: int | None, new: int, settings: AlertSettings) -> bool:
    """The new price is below the told one by at least ``min_drop_percent`` AND ``min_drop_won``."""
    if told is None or told <= 0 or new >= told:
        return False
    drop = told - new
    return drop >= settings.min_drop_won and drop * 100 >= settings.min_drop_percent * told


@dataclass
class Computed:
    alerts: list[NewAlert] = field(default_factory=list)
    # Products now sold out: their saved rows get told_sold_out, so their return is a restock.
    sold_out: list[int] = field(default_factory=list)


def compute_alerts(
    changes: Iterable[PriceChange], watches: Iterable[SavedWatch], settings: AlertSettings
) -> Computed:
    """Alerts for ``watches`` (saved rows of the changed products, users with alerts on).

    A product the user was told is sold out and now is not is a restock, whatever its price; one
    in stock whose price fell enough below the told price is a price drop. A product sold out now
    raises nothing.
    """
    by_id = {change.product_id: change for change in changes}
    computed = Computed(
        sold_out=sorted(pid for pid, c in by_id.items() if c.new_sold_out and c.stock_changed)
    )
    for watch in watches:
        change = by_id.get(watch.product_id)
        if change is None or change.new_sold_out:
            continue
        if watch.told_sold_out:  # the user last heard it was sold out; it is not now
            computed.alerts.append(
                NewAlert(watch.user_id, watch.product_id, "restock", change.new_price, watch.told_price)
            )
        elif is_price_drop(watch.told_price, change.new_price, settings):
            computed.alerts.append(
                NewAlert(watch.user_id, watch.product_id, "price_drop", change.new_price, watch.told_price)
            )
    return computed
