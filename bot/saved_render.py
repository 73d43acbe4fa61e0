"""How a /saved page looks: one entry per saved product (brand and name, the price now and its change
since saving, sold-out state, the Musinsa link), a '✖ #k' per entry and Prev/Next.

Entries are plain lines of HTML whose tags close on the line they open, names and brands are
shortened, so a page of ``PAGE_SIZE`` entries stays far below Telegram's 4096 characters;
``fit_message`` is the last guard.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.messages import Lang, escape, format_price, plain, text
from bot.render import fit_message, price_line, remove_saved_data, saved_page_data
from bot.saved import SavedItem, SavedPage
from indexer.musinsa.urls import product_url

NAME_CHARS = 80
BRAND_CHARS = 40


def _short(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def percent_text(change: int, base: int) -> str:
    """'-25%', '+3%'; one decimal below 1 % ('-0.4%') so a small change does not read as none."""
    share = 100 * change / base
    shown = f"{abs(share):.1f}" if abs(share) < 1 else f"{round(abs(share))}"
    return ("-" if change < 0 else "+") + shown + "%"


def price_change(lang: Lang, saved_price: int | None, now: int) -> str | None:
    """'▼ ₩10,000 (-25%) since saved', '▲ …', 'no change since saved'; None when the saved price is
    unknown."""
    if saved_price is None:
        return None
    change = now - saved_price
    if change == 0:
        return text(lang, "saved_same")
    key = "saved_down" if change < 0 else "saved_up"
    percent = percent_text(change, saved_price) if saved_price > 0 else ""
    return text(lang, key, amount=format_price(lang, abs(change)), percent=percent)


def _link(lang: Lang, url: str) -> str:
    return f'<a href="{escape(url)}">{escape(plain(lang, "view_on_musinsa"))}</a>'


def entry(lang: Lang, item: SavedItem, web_url: str) -> str:
    """One saved product, a few lines of HTML."""
    saved = item.saved
    product = item.product
    if product is None:
        key = "saved_gone_title" if item.state == "gone" else "saved_unknown_title"
        lines = [text(lang, key, k=item.number, id=saved.product_id)]
        if saved.saved_price is not None:
            lines.append(text(lang, "saved_was", price=format_price(lang, saved.saved_price)))
        lines.append(_link(lang, product_url(web_url, saved.product_id)))
        return "\n".join(lines)
    brand = _short(product.brand_name or product.brand, BRAND_CHARS)
    lines = [
        text(lang, "saved_entry_title", k=item.number, brand=brand, name=_short(product.name, NAME_CHARS))
    ]
    price = price_line(lang, product)
    change = price_change(lang, saved.saved_price, product.effective_price)
    lines.append(f"{price} · {change}" if change else price)
    if product.sold_out:
        lines.append(f"⛔ {escape(plain(lang, 'sold_out'))}")
    elif saved.saved_sold_out:
        lines.append(text(lang, "saved_back_in_stock"))
    lines.append(_link(lang, product.url))
    return "\n".join(lines)


def saved_page_text(lang: Lang, page: SavedPage, web_url: str) -> str:
    """The whole /saved message for ``page`` (the hint how to save when there is nothing)."""
    if not page.items:
        return text(lang, "saved_empty")
    header = text(lang, "saved_header", first=page.first, last=page.last, total=page.total)
    return fit_message("\n\n".join([header, *(entry(lang, item, web_url) for item in page.items)]))


def saved_keyboard(lang: Lang, page: SavedPage) -> InlineKeyboardMarkup | None:
    """'✖ #k' for each entry of the page, then '◀ Prev' / 'Next ▶' where there is such a page."""
    if not page.items:
        return None
    remove = [
        InlineKeyboardButton(
            plain(lang, "saved_remove_button", k=item.number),
            callback_data=remove_saved_data(page.user_id, item.saved.product_id, page.page),
        )
        for item in page.items
    ]
    rows = [remove]
    nav = []
    if page.page > 1:
        nav.append(
            InlineKeyboardButton(
                plain(lang, "saved_prev_button"), callback_data=saved_page_data(page.user_id, page.page - 1)
            )
        )
    if page.page < page.pages:
        nav.append(
            InlineKeyboardButton(
                plain(lang, "saved_next_button"), callback_data=saved_page_data(page.user_id, page.page + 1)
            )
        )
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)
