"""One user's alert message for one sync: up to N products (name, old → new price, link), "and K more"."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from bot.messages import Html, Lang, format_price, language_of, plain, text
from bot.render import fit_message, product_summary
from bot.userdata.store import PendingAlert
from indexer.musinsa.urls import product_url
from indexer.product import Product


def alert_language(alert: PendingAlert) -> Lang:
    """The user's /settings choice, else their last seen Telegram language, else English (what the bot
    answers a user whose Telegram language it does not know)."""
    if alert.language in ("en", "ko"):
        return alert.language  # type: ignore[return-value]
    return language_of(alert.telegram_language)


def alert_message(
    lang: Lang,
    alerts: Sequence[PendingAlert],
    products: Mapping[int, Product],
    *,
    web_url: str,
    max_items: int,
) -> str:
    """HTML for ``alerts`` (one user, one sync): price drops biggest first, then restocks."""
    ordered = sorted(alerts, key=lambda a: (a.kind != "price_drop", -_drop_percent(a), a.product_id))
    lines = [text(lang, "alert_header"), ""]
    for alert in ordered[:max_items]:
        product = products.get(alert.product_id)
        label = (
            product_summary(product)
            if product
            else plain(lang, "alert_product_fallback", id=alert.product_id)
        )
        url = product.url if product else product_url(web_url, alert.product_id)
        link = Html(f'<a href="{html.escape(url, quote=True)}">{html.escape(label, quote=False)}</a>')
        new = format_price(lang, alert.price) if alert.price is not None else "?"
        if alert.kind == "price_drop" and alert.old_price is not None:
            lines.append(
                text(
                    lang,
                    "alert_price_drop",
                    link=link,
                    old=format_price(lang, alert.old_price),
                    new=new,
                    percent=round(_drop_percent(alert)),
                )
            )
        else:
            lines.append(text(lang, "alert_restock", link=link, new=new))
    if len(ordered) > max_items:
        lines.append(text(lang, "alert_more", count=len(ordered) - max_items))
    lines += ["", text(lang, "alert_footer")]
    return fit_message("\n".join(lines))


def _drop_percent(alert: PendingAlert) -> float:
    if alert.kind != "price_drop" or not alert.old_price or alert.price is None:
        return 0.0
    return 100 * (alert.old_price - alert.price) / alert.old_price
