"""Deliver pending alerts: one message per user per sync, paced, each user's rows marked sent right after.

At-least-once with a window of one message: a row is marked sent right after its message is
accepted, so a restart (or a crash) in the middle of sending resends at most the message in
flight and loses none. A user who blocked the bot (403 ``Forbidden``) gets alerts turned off and
their rows marked blocked, never retried. A message Telegram refuses (400) is marked failed; a
network error or flood wait stops the pass with the rest pending, sent by the next pass.
Messages go through the application's bot, so PTB's ``AIORateLimiter`` applies; ``Pacer`` also
keeps all alert messages together under ``[alerts] messages_per_second``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.alerts.compose import alert_language, alert_message
from bot.userdata.store import PendingAlert, UserStore
from indexer.config import AlertSettings
from indexer.product import Product

log = logging.getLogger(__name__)

ProductLookup = Callable[[list[int]], Awaitable[Mapping[int, Product]]]


class Pacer:
    """At most ``per_second`` calls of ``wait`` return per second (evenly spaced)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        delay = self._next - now
        self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class SendReport:
    messages: int = 0
    alerts: int = 0
    blocked_users: int = 0
    failed_messages: int = 0
    skipped: int = 0  # rows of users who turned alerts off before they were sent
    stopped: str | None = None  # why the pass ended with alerts still pending


def by_message(pending: Sequence[PendingAlert]) -> list[list[PendingAlert]]:
    """Pending rows grouped into messages: one per (sync, user), in the store's order."""
    return [list(group) for _, group in groupby(pending, key=lambda a: (a.sync_id, a.user_id))]


async def send_pending(
    bot: Bot,
    store: UserStore,
    products: ProductLookup,
    settings: AlertSettings,
    *,
    web_url: str,
    pacer: Pacer,
) -> SendReport:
    report = SendReport()
    pending = await store.pending_alerts()
    off = [alert.id for alert in pending if not alert.alerts_on]
    if off:
        await store.mark_alerts(off, "failed")
        report.skipped = len(off)
    messages = by_message([alert for alert in pending if alert.alerts_on])
    if not messages:
        return report
    known = await products(sorted({alert.product_id for group in messages for alert in group}))
    for group in messages:
        user_id = group[0].user_id
        lang = alert_language(group[0])
        html = alert_message(lang, group, known, web_url=web_url, max_items=settings.max_items_per_message)
        await pacer.wait()
        try:
            await bot.send_message(
                chat_id=user_id,
                text=html,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except Forbidden as exc:
            blocked = await store.block_alerts(user_id)
            report.blocked_users += 1
            log.info("user %s blocked the bot (%s): alerts off, %d alerts dropped", user_id, exc, blocked)
            continue
        except BadRequest as exc:
            await store.mark_alerts([alert.id for alert in group], "failed")
            report.failed_messages += 1
            log.warning("Telegram refused the alert message to %s: %s", user_id, exc)
            continue
        except TelegramError as exc:  # network, timeout, flood wait past the limiter's retries
            report.stopped = f"{type(exc).__name__}: {exc}"
            log.warning("alert sending paused (%s); the rest is sent on the next pass", report.stopped)
            return report
        await store.mark_alerts_sent(group)
        report.messages += 1
        report.alerts += len(group)
    return report
