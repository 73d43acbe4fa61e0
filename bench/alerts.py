"""Alerts after a sync: computing them for 100 000 users × 20 saved products, and how long sending takes.

A temporary SQLite user store (the bot's own ``SqliteUserStore``, WAL, its schema and indexes) is
seeded with ``--users`` users who each saved ``--saved`` distinct products out of ``--products``;
a sync then changes ``--changed`` (5 %) of the products: most get cheaper (some by less than the
threshold), some dearer, some sell out and some come back. Measured, as the bot runs it:

1. the computation: the saved rows of the changed ids (``saved_products_by_product``), the rules
   (``bot.alerts.compute``) and the recording of every alert as a pending row in one transaction;
   its time (median of ``--repeat`` runs, each under a new sync id) and its peak Python memory
   (tracemalloc, in a separate run: tracing slows the code);
2. reading the pending rows back and wording every user's message (``pending_alerts`` +
   ``alert_message``), the CPU side of sending;
3. sending at Telegram's pace: messages ÷ 30/s (and ÷ the default ``messages_per_second``),
   and a measured run of ``--measured`` messages through PTB's bot with ``AIORateLimiter`` against
   the tests' fake Bot API, store updates included.

    python -m bench.alerts            # full run, writes the "alerts" section of BENCHMARKS.md
    python -m bench.alerts --quick    # 5 000 users: proves the script works, writes nothing
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/alerts.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import write_section
from bot.alerts.compose import alert_language, alert_message
from bot.alerts.compute import compute_alerts
from bot.alerts.send import Pacer, by_message, send_pending
from bot.userdata import SqliteUserStore
from indexer.config import AlertSettings
from indexer.sync.changes import PriceChange

TELEGRAM_PER_SECOND = 30.0
WEB_URL = "https://www.musinsa.com"
NOW = "2026-12-01T00:00:00.000000Z"


def seed_store(path: Path, users: int, saved: int, products: int, rng: random.Random) -> dict[int, int]:
    """Users, their saved products (told price = today's price) straight into SQLite; returns prices."""
    prices = {pid: rng.randrange(10_000, 300_000, 100) for pid in range(1, products + 1)}
    ids = list(prices)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous = OFF")
        db.executemany(
            "INSERT INTO user_settings (user_id, created_at, updated_at, telegram_language) "
            "VALUES (?, ?, ?, ?)",
            ((user, NOW, NOW, "ko" if user % 3 else "en") for user in range(1, users + 1)),
        )
        rows = (
            (user, pid, prices[pid], 0, prices[pid], 0, NOW)
            for user in range(1, users + 1)
            for pid in rng.sample(ids, saved)
        )
        db.executemany("INSERT INTO saved_products VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return prices


def make_changes(prices: dict[int, int], share: float, rng: random.Random) -> list[PriceChange]:
    """``share`` of the products changed: 60 % cheaper by 5-40 %, 15 % cheaper by under the threshold,
    15 % dearer, 5 % sold out, 5 % back in stock."""
    changed = rng.sample(sorted(prices), round(share * len(prices)))
    changes = []
    for pid in changed:
        old = prices[pid]
        roll = rng.random()
        if roll < 0.60:
            changes.append(PriceChange(pid, old, old * rng.randrange(60, 96) // 100, False, False))
        elif roll < 0.75:
            changes.append(PriceChange(pid, old, old - 500, False, False))
        elif roll < 0.90:
            changes.append(PriceChange(pid, old, old * 11 // 10, False, False))
        elif roll < 0.95:
            changes.append(PriceChange(pid, old, old, False, True))
        else:
            changes.append(PriceChange(pid, old, old, True, False))
    return changes


async def compute_once(store: SqliteUserStore, sync_id: str, changes: list[PriceChange]) -> tuple[int, int]:
    """What ``AlertRunner`` does per sync; returns (saved rows looked at, alerts recorded)."""
    watches = await store.saved_watches([change.product_id for change in changes])
    computed = compute_alerts(changes, watches, AlertSettings())
    added = await store.record_alerts(sync_id, computed.alerts, computed.sold_out)
    return len(watches), added


async def reset_alerts(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM alert_log")
        db.execute("DELETE FROM alert_computations")
        db.execute("UPDATE saved_products SET told_sold_out = 0")


async def measure(args: argparse.Namespace) -> dict[str, object]:
    rng = random.Random(19)
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as folder:
        path = Path(folder) / "users.sqlite3"
        store = await SqliteUserStore.open(path)
        await store.close()  # the schema, then seeded outside the store (speed)
        started = time.perf_counter()
        prices = seed_store(path, args.users, args.saved, args.products, rng)
        # Restocks need users told "sold out": the sold-out-now products' rows are set by the computation.
        changes = make_changes(prices, args.changed, rng)
        with sqlite3.connect(path) as db:
            back = [c.product_id for c in changes if c.old_sold_out]
            db.executemany(
                "UPDATE saved_products SET told_sold_out = 1 WHERE product_id = ?", [(p,) for p in back]
            )
        seed_seconds = time.perf_counter() - started
        store = await SqliteUserStore.open(path)
        try:
            times = []
            watches = added = 0
            for run in range(args.repeat):
                await reset_alerts(path)
                begin = time.perf_counter()
                watches, added = await compute_once(store, f"sync-{run}", changes)
                times.append(time.perf_counter() - begin)
            with sqlite3.connect(path) as db:
                back_rows = db.execute(
                    "SELECT count(*) FROM saved_products WHERE told_sold_out = 1"
                ).fetchone()[0]
            await reset_alerts(path)
            with sqlite3.connect(path) as db:
                db.executemany(
                    "UPDATE saved_products SET told_sold_out = 1 WHERE product_id = ?", [(p,) for p in back]
                )
            tracemalloc.start()
            await compute_once(store, "sync-traced", changes)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()

            begin = time.perf_counter()
            pending = await store.pending_alerts()
            messages = by_message(pending)
            settings = AlertSettings()
            for group in messages:
                alert_message(
                    alert_language(group[0]),
                    group,
                    {},
                    web_url=WEB_URL,
                    max_items=settings.max_items_per_message,
                )
            word_seconds = time.perf_counter() - begin
            measured = await measured_send(store, pending, args.measured) if args.measured else None
        finally:
            await store.close()
    return {
        "users": args.users,
        "saved": args.saved,
        "products": args.products,
        "changed": len(changes),
        "watches": watches,
        "alerts": added,
        "restock_rows": back_rows,
        "messages": len(messages),
        "seed_seconds": seed_seconds,
        "compute_seconds": statistics.median(times),
        "compute_runs": times,
        "peak_bytes": peak,
        "word_seconds": word_seconds,
        "measured": measured,
    }


async def measured_send(store: SqliteUserStore, pending: list, count: int) -> dict[str, float] | None:
    """``count`` messages through PTB (AIORateLimiter) to the fake Bot API, paced at 30/s."""
    from telegram import Bot
    from telegram.ext import AIORateLimiter, ExtBot

    from tests.fakes.telegram import FakeTelegram

    chosen = {group[0].user_id for group in by_message(pending)[:count]}
    async with FakeTelegram() as fake:
        for user in chosen:
            fake.user(user)
        bot: Bot = ExtBot("123456:bench", base_url=fake.base_url, rate_limiter=AIORateLimiter())
        async with bot:

            class Subset:
                """The store, answering only the chosen users' pending rows."""

                def __getattr__(self, name: str) -> object:
                    return getattr(store, name)

                async def pending_alerts(self) -> list:
                    return [alert for alert in await store.pending_alerts() if alert.user_id in chosen]

            async def no_products(ids: list[int]) -> dict:
                return {}

            begin = time.perf_counter()
            report = await send_pending(
                bot,
                Subset(),  # type: ignore[arg-type]
                no_products,
                AlertSettings(messages_per_second=TELEGRAM_PER_SECOND),
                web_url=WEB_URL,
                pacer=Pacer(TELEGRAM_PER_SECOND),
            )
            seconds = time.perf_counter() - begin
    return {"messages": report.messages, "seconds": seconds, "per_second": report.messages / seconds}


def report(result: dict[str, object]) -> str:
    messages = int(result["messages"])  # type: ignore[call-overload]
    default_rate = AlertSettings().messages_per_second
    runs = len(result["compute_runs"])  # type: ignore[arg-type]
    peak_mib = int(result["peak_bytes"]) / 2**20  # type: ignore[call-overload]
    lines = [
        f"{result['users']:,} users × {result['saved']} saved products out of {result['products']:,} "
        f"(SQLite seeded in {result['seed_seconds']:.0f} s); a sync changed {result['changed']:,} products "
        f"(5 %: 60 % cheaper by 5-40 %, 15 % by 500 won, 15 % dearer, 5 % sold out, 5 % back).",
        "",
        "| step | figure |",
        "|---|---|",
        f"| saved rows of the changed ids (`saved_products_by_product`) | {result['watches']:,} |",
        f"| alerts recorded (pending) | {result['alerts']:,} for {messages:,} users (messages) |",
        f"| computation: read rows + rules + record in one transaction (median of {runs}) "
        f"| {result['compute_seconds']:.2f} s |",
        f"| computation's peak Python memory (tracemalloc) | {peak_mib:.0f} MiB |",
        f"| reading the pending rows back and wording every message | {result['word_seconds']:.2f} s |",
        f"| sending at Telegram's 30 messages/s | {messages / TELEGRAM_PER_SECOND / 60:.0f} min |",
        f"| sending at the default `messages_per_second` = {default_rate:g} "
        f"| {messages / default_rate / 60:.0f} min |",
    ]
    measured = result.get("measured")
    if isinstance(measured, dict):
        lines.append(
            f"| measured: {measured['messages']:.0f} messages through PTB's AIORateLimiter to the fake "
            f"Bot API, paced at 30/s, store updates included | {measured['seconds']:.1f} s "
            f"({measured['per_second']:.1f} messages/s) |"
        )
    lines += [
        "",
        "The computation touches only the changed products' saved rows; its cost grows with the number of "
        "alerts, not with the saved table. Sending is bound by Telegram's pace, not by the bot: a pass "
        "marks each user's rows sent right after their message, so a restart resumes where it stopped.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--saved", type=int, default=20)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--measured", type=int, default=300, help="messages sent to the fake Bot API (0: none)"
    )
    parser.add_argument("--quick", action="store_true", help="5 000 users, 60 messages; writes nothing")
    args = parser.parse_args()
    if args.quick:
        args.users, args.products, args.repeat, args.measured = 5_000, 5_000, 1, 60
    result = asyncio.run(measure(args))
    body = report(result)
    print(body)
    if not args.quick:
        write_section("alerts", "Alerts after a sync (bench/alerts.py)", body)


if __name__ == "__main__":
    main()
