"""What /stats reports: a list of sections, each one async function of (services, language).

``bot.app`` gives the bot its sections (the index here, the nightly sync from ``bot.nightly``) in
``BotServices.stats_sections``. A section that fails is shown as unavailable, not the whole report.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.empty_catalog import empty_index_state, empty_state_text
from bot.messages import Lang, escape, text
from bot.render import category_name
from bot.userdata.store import UserStore, UserStoreError
from indexer.store.versions import same_model

if TYPE_CHECKING:
    from bot.services import BotServices

log = logging.getLogger(__name__)


async def index_stats_section(services: BotServices, lang: Lang) -> str:
    """Products indexed (total and per top-level category), the model and the index version."""
    stats = await services.catalog.stats()
    if stats.total == 0 or stats.model_id is None:
        empty = text(lang, "stats_index_empty", backend=stats.backend)
        state = empty_index_state(services)
        return empty if state.building else f"{empty}\n{empty_state_text(lang, state)}"
    lines = [
        text(
            lang,
            "stats_index",
            total=f"{stats.total:,}",
            model=stats.model_id,
            dimension=stats.dimension,
            version=stats.version,
            backend=stats.backend,
        )
    ]
    for code, count in stats.by_category.items():
        lines.append(f"• {escape(category_name(lang, code))} <code>{escape(code)}</code>: {count:,}")
    if not same_model(stats.model_id, services.encoder.model_id):
        lines.append(text(lang, "stats_model_mismatch", configured=services.encoder.model_id))
    return "\n".join(lines)


def users_stats_section(
    store_of: Callable[[], UserStore | None], reason_of: Callable[[], str | None] = lambda: None
) -> Callable[[BotServices, Lang], Awaitable[str]]:
    """The user store's numbers: users with settings, saved products, alerts the last sync sent,
    feedback 👍 / 👎 (``store_of``: the open store, None while it is unavailable for ``reason_of()``)."""

    async def users_section(services: BotServices, lang: Lang) -> str:
        store = store_of()
        if store is None:
            return text(lang, "stats_users_unavailable", reason=reason_of() or "not open")
        try:
            counts = await store.counts()
        except UserStoreError as exc:
            return text(lang, "stats_users_unavailable", reason=exc.reason)
        return text(
            lang,
            "stats_users",
            users=f"{counts.users_with_settings:,}",
            saved=f"{counts.saved_products:,}",
            alerts=f"{counts.alerts_sent_last_sync:,}",
            up=f"{counts.feedback.up:,}",
            down=f"{counts.feedback.down:,}",
        )

    return users_section


async def render_stats(services: BotServices, lang: Lang) -> str:
    """Every section, separated by blank lines."""
    parts = []
    for section in services.stats_sections:
        try:
            part = await section(services, lang)
        except Exception as exc:
            log.exception("stats section %r failed", section)
            part = text(lang, "stats_unavailable", error=type(exc).__name__)
        if part:
            parts.append(part)
    return "\n\n".join(parts)
