"""Alert rules (compute) and the store's alert methods: from changed ids to pending, sent and blocked rows."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.alerts.compute import compute_alerts, is_price_drop
from bot.userdata import SqliteUserStore
from bot.userdata.store import SavedWatch
from indexer.config import AlertSettings
from indexer.sync.changes import PriceChange

ANN, MINJI, BORA = 5151, 5252, 5353
SETTINGS = AlertSettings()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteUserStore]:
    opened = await SqliteUserStore.open(tmp_path / "users.sqlite3")
    yield opened
    await opened.close()


@pytest.mark.parametrize(
    ("told", "new", "expected"),
    [
        (100_000, 95_000, True),  # exactly 5 % and 5,000 won
        (100_000, 95_001, False),  # just under 5 %
        (10_000, 9_000, True),  # 10 % and exactly 1,000 won
        (10_000, 9_100, False),  # 9 % but only 900 won
        (100_000, 100_000, False),
        (100_000, 120_000, False),
        (None, 1_000, False),
    ],
)
def test_a_price_drop_needs_both_the_percent_and_the_won_threshold(
    told: int | None, new: int, expected: bool
) -> None:
    assert is_price_drop(told, new, SETTINGS) is expected


def test_compute_raises_drops_and_restocks_of_changed_products_only() -> None:
    changes = [
        PriceChange(1, 50_000, 40_000, False, False),  # a drop
        PriceChange(2, 50_000, 49_500, False, False),  # too small
        PriceChange(3, 30_000, 30_000, True, False),  # back in stock
        PriceChange(4, 30_000, 20_000, False, True),  # cheaper but sold out now
    ]
    watches = [
        SavedWatch(ANN, 1, 50_000, False),
        SavedWatch(MINJI, 1, 41_000, False),  # told 41,000 already: 1,000 won but 2.4 %
        SavedWatch(ANN, 2, 50_000, False),
        SavedWatch(ANN, 3, 30_000, True),
        SavedWatch(MINJI, 3, 30_000, False),  # never told it was sold out: no restock
        SavedWatch(ANN, 4, 30_000, False),
        SavedWatch(ANN, 99, 30_000, False),  # not changed in this sync
    ]
    computed = compute_alerts(changes, watches, SETTINGS)
    assert [(a.user_id, a.product_id, a.kind, a.price, a.old_price) for a in computed.alerts] == [
        (ANN, 1, "price_drop", 40_000, 50_000),
        (ANN, 3, "restock", 30_000, 30_000),
    ]
    assert computed.sold_out == [4]


async def test_record_send_and_block_alerts(store: SqliteUserStore, tmp_path: Path) -> None:
    for user in (ANN, MINJI, BORA):
        await store.save_product(user, 1, price=50_000, sold_out=False)
    await store.save_product(ANN, 4, price=30_000, sold_out=False)
    await store.set_alerts(BORA, False)
    assert await store.note_telegram_language(MINJI, "ko-KR")
    assert not await store.note_telegram_language(777, "en")  # no row: nothing stored, none created

    watches = await store.saved_watches([1, 4])
    assert {(w.user_id, w.product_id) for w in watches} == {(ANN, 1), (MINJI, 1), (ANN, 4)}  # BORA: off
    changes = [PriceChange(1, 50_000, 40_000, False, False), PriceChange(4, 30_000, 30_000, False, True)]
    computed = compute_alerts(changes, watches, SETTINGS)
    assert not await store.alert_computed("s1")
    assert await store.record_alerts("s1", computed.alerts, computed.sold_out) == 2
    assert await store.alert_computed("s1")
    assert await store.record_alerts("s1", computed.alerts, computed.sold_out) == 0  # UNIQUE: no repeat

    pending = await store.pending_alerts()
    assert [(a.user_id, a.kind, a.telegram_language) for a in pending] == [
        (ANN, "price_drop", None),
        (MINJI, "price_drop", "ko-KR"),
    ]
    await store.mark_alerts_sent([pending[0]])
    assert [a.user_id for a in await store.pending_alerts()] == [MINJI]
    assert await store.block_alerts(MINJI) == 1
    assert await store.pending_alerts() == []
    assert not (await store.get_settings(MINJI)).alerts  # type: ignore[union-attr]

    with sqlite3.connect(tmp_path / "users.sqlite3") as raw:
        told = dict(raw.execute("SELECT user_id || ':' || product_id, told_price FROM saved_products"))
        sold_out = dict(
            raw.execute("SELECT product_id, told_sold_out FROM saved_products WHERE user_id = ?", (ANN,))
        )
        states = dict(raw.execute("SELECT user_id, state FROM alert_log"))
    assert told[f"{ANN}:1"] == 40_000 and told[f"{MINJI}:1"] == 50_000  # only the sent one moved
    assert sold_out == {1: 0, 4: 1}  # product 4 sold out: its return will be a restock
    assert states == {ANN: "sent", MINJI: "blocked"}


def test_a_message_lists_up_to_n_products_then_says_how_many_more() -> None:
    from bot.alerts.compose import alert_message
    from bot.userdata.store import PendingAlert

    def pending(pid: int, old: int, new: int) -> PendingAlert:
        return PendingAlert(pid, ANN, pid, "price_drop", new, old, "s1", None, "ko", True)

    alerts = [pending(1, 10_000, 9_000), pending(2, 10_000, 5_000), pending(3, 10_000, 8_000)]
    html = alert_message("en", alerts, {}, web_url="https://www.musinsa.com", max_items=2)
    lines = html.splitlines()
    assert lines[2].startswith(
        '📉 <a href="https://www.musinsa.com/products/2">Product 2</a>: ₩10,000 → <b>₩5,000'
    )
    assert lines[3].startswith('📉 <a href="https://www.musinsa.com/products/3">')  # biggest drops first
    assert "…and 1 more." in lines
    assert "/products/1" not in html
