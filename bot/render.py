"""How results look in Telegram: captions, header texts, inline keyboards and their callback data.

Telegram's limits (``telegram.constants``) are enforced here rather than discovered as errors: a
caption fits (the product name is shortened when needed), every value is HTML-escaped, and
``callback_data`` is compact, versioned and within its byte limit:

- ``v1:p:<search_id>:<page>``  the next page of a search ("More")
- ``v1:s:<search_id>:<n>``     products similar to result ``#n`` of a search
- ``v1:c:<code>`` / ``v1:c:all`` / ``v1:c:menu``  choose a category / show the category choices
- ``v1:g:<photo_id>:<n>`` / ``v1:g:<photo_id>:w``  search garment ``n`` of a pending photo / the whole photo
- ``v1:w:<search_id>``     a similar search again, over all categories ("Widen")
- ``v1:f:p:<preset>`` / ``v1:f:g:<gender>`` / ``v1:f:s:show|hide`` / ``v1:f:x:all`` / ``v1:f:m:open``
  the /filter menu: a price preset, a gender, sold-out items, clear all / open the menu
- ``v1:fc``  clear the user's saved filters (under a results header)
- ``v1:t:l:auto|ko|en``  /settings: the language
- ``v1:fb:<search_id>:<page>:u|d``  👍 / 👎 on page ``page`` of a search
- ``v1:fg:y|n:<user_id>``  /forget: confirm or cancel (only the asking user's press counts)
- ``v1:v:<search_id>:<n>``  save result ``#n`` of a search (⭐)
- ``v1:vl:<user_id>:<page>`` / ``v1:vr:<user_id>:<product_id>:<page>``  /saved: a page of the user's
  saved products / remove one of them and show that page again

Anything else (an older version, a forged value) parses to ``None`` and is answered as stale.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from bot.messages import LANGUAGES, TEXTS, Lang, escape, format_price, plain, text
from indexer.categories import Category, get_category, is_category_code, top_level_categories
from indexer.product import Product
from indexer.store import SearchFilters
from indexer.store.filters import GENDERS, Gender

CALLBACK_VERSION = "v1"
ALL = "all"
MENU = "menu"
SIMILAR_BUTTONS_PER_ROW = 3
CATEGORY_BUTTONS_PER_ROW = 2
GARMENT_BUTTONS_PER_ROW = 2
WHOLE = "w"
_SEARCH_ID = re.compile(r"^[A-Za-z0-9_-]{4,16}$")
_NUMBER = re.compile(r"^[1-9]\d{0,3}$")
_ID = re.compile(r"^[1-9]\d{0,15}$")  # a Telegram user id or a Musinsa goodsNo
SAVE_BUTTONS_PER_ROW = 8  # Telegram's most buttons in a row


# ----------------------------------------------------------------------------------- callback data


def _fields(data: object, kind: str, count: int) -> list[str] | None:
    """The ``count`` fields of ``v1:<kind>:...`` callback data; None for anything else."""
    parts = data.split(":") if isinstance(data, str) else []
    if len(parts) != 2 + count or parts[0] != CALLBACK_VERSION or parts[1] != kind:
        return None
    return parts[2:]


def _search_and_number(data: object, kind: str) -> tuple[str, int] | None:
    fields = _fields(data, kind, 2)
    if fields is None or not (_SEARCH_ID.match(fields[0]) and _NUMBER.match(fields[1])):
        return None
    return fields[0], int(fields[1])


@dataclass(frozen=True)
class PageButton:
    """'More': page ``page`` of search ``search_id``."""

    search_id: str
    page: int

    @classmethod
    def parse(cls, data: object) -> PageButton | None:
        fields = _search_and_number(data, "p")
        return cls(*fields) if fields else None


@dataclass(frozen=True)
class SimilarButton:
    """'Similar #n': products like result ``rank`` of search ``search_id``."""

    search_id: str
    rank: int

    @classmethod
    def parse(cls, data: object) -> SimilarButton | None:
        fields = _search_and_number(data, "s")
        return cls(*fields) if fields else None


@dataclass(frozen=True)
class CategoryButton:
    """A category choice."""

    code: str | None  # None: all categories

    @classmethod
    def parse(cls, data: object) -> CategoryButton | None:
        fields = _fields(data, "c", 1)
        if fields is None:
            return None
        if fields[0] == ALL:
            return cls(None)
        if is_category_code(fields[0]) and get_category(fields[0]) is not None:
            return cls(fields[0])
        return None


@dataclass(frozen=True)
class CategoryMenuButton:
    """'Category: …' under results: show the category choices."""

    @classmethod
    def parse(cls, data: object) -> CategoryMenuButton | None:
        return cls() if _fields(data, "c", 1) == [MENU] else None


@dataclass(frozen=True)
class GarmentButton:
    """Garment ``number`` of pending photo ``photo_id``, or the whole photo."""

    photo_id: str
    number: int | None  # None: the whole photo

    @classmethod
    def parse(cls, data: object) -> GarmentButton | None:
        fields = _fields(data, "g", 2)
        if fields is None or not _SEARCH_ID.match(fields[0]):
            return None
        if fields[1] == WHOLE:
            return cls(fields[0], None)
        return cls(fields[0], int(fields[1])) if _NUMBER.match(fields[1]) else None


# /filter's price presets: callback value -> (min, max) in won, and their button's text key.
PRICE_PRESETS: dict[str, tuple[int | None, int | None]] = {
    "u30k": (None, 30_000),
    "u50k": (None, 50_000),
    "u100k": (None, 100_000),
    "o100k": (100_000, None),
    "any": (None, None),
}
PRESET_LABELS = {
    "u30k": "filter_preset_up_to_30k",
    "u50k": "filter_preset_up_to_50k",
    "u100k": "filter_preset_up_to_100k",
    "o100k": "filter_preset_from_100k",
    "any": "filter_any_price_button",
}
_FILTER_VALUES: dict[str, tuple[str, ...]] = {
    "p": tuple(PRICE_PRESETS),
    "g": ("all", *GENDERS),
    "s": ("show", "hide"),
    "x": ("all",),
    "m": ("open",),
}
AUTO = "auto"


@dataclass(frozen=True)
class FilterButton:
    """A /filter menu press: ``action`` p (price preset), g (gender), s (sold-out), x (clear all) or
    m (open the menu), with its ``value``."""

    action: str
    value: str

    @classmethod
    def parse(cls, data: object) -> FilterButton | None:
        fields = _fields(data, "f", 2)
        if fields is None or fields[1] not in _FILTER_VALUES.get(fields[0], ()):
            return None
        return cls(fields[0], fields[1])

    def applied_to(self, filters: SearchFilters) -> SearchFilters:
        """``filters`` changed as this press says (the menu's own presses; "open" changes nothing)."""
        if self.action == "p":
            low, high = PRICE_PRESETS[self.value]
            return filters.replace(min_price=low, max_price=high)
        if self.action == "g":
            return filters.replace(gender=None if self.value == "all" else self.value)
        if self.action == "s":
            return filters.replace(include_sold_out=self.value == "show")
        if self.action == "x":
            return SearchFilters()
        return filters


@dataclass(frozen=True)
class ClearFiltersButton:
    """'Clear filters' under a results header: forget the user's saved filters."""

    @classmethod
    def parse(cls, data: object) -> ClearFiltersButton | None:
        return cls() if _fields(data, "fc", 0) == [] else None


@dataclass(frozen=True)
class SettingsButton:
    """/settings: answer in ``language`` from now on (None: follow Telegram's language)."""

    language: Lang | None

    @classmethod
    def parse(cls, data: object) -> SettingsButton | None:
        fields = _fields(data, "t", 2)
        if fields is None or fields[0] != "l":
            return None
        if fields[1] == AUTO:
            return cls(None)
        return next((cls(lang) for lang in LANGUAGES if lang == fields[1]), None)


@dataclass(frozen=True)
class WidenButton:
    """'Widen to all categories' under a similar search kept to its source's kind of product."""

    search_id: str

    @classmethod
    def parse(cls, data: object) -> WidenButton | None:
        fields = _fields(data, "w", 1)
        return cls(fields[0]) if fields is not None and _SEARCH_ID.match(fields[0]) else None


VOTES = {"u": 1, "d": -1}  # feedback callback value -> the stored vote


@dataclass(frozen=True)
class FeedbackButton:
    """👍 (``vote`` 1) or 👎 (-1) on page ``page`` of search ``search_id``."""

    search_id: str
    page: int
    vote: int

    @classmethod
    def parse(cls, data: object) -> FeedbackButton | None:
        fields = _fields(data, "fb", 3)
        if fields is None or not (_SEARCH_ID.match(fields[0]) and _NUMBER.match(fields[1])):
            return None
        vote = VOTES.get(fields[2])
        return cls(fields[0], int(fields[1]), vote) if vote is not None else None


@dataclass(frozen=True)
class ForgetButton:
    """/forget's confirmation (``confirm``) or cancel, for the user who asked (``user_id``)."""

    confirm: bool
    user_id: int

    @classmethod
    def parse(cls, data: object) -> ForgetButton | None:
        fields = _fields(data, "fg", 2)
        if fields is None or fields[0] not in ("y", "n") or not _ID.match(fields[1]):
            return None
        return cls(fields[0] == "y", int(fields[1]))


@dataclass(frozen=True)
class SaveButton:
    """'⭐n': save result ``rank`` of search ``search_id`` to the user's saved products."""

    search_id: str
    rank: int

    @classmethod
    def parse(cls, data: object) -> SaveButton | None:
        fields = _search_and_number(data, "v")
        return cls(*fields) if fields else None


@dataclass(frozen=True)
class SavedPageButton:
    """/saved's Prev/Next: page ``page`` of user ``user_id``'s saved products."""

    user_id: int
    page: int

    @classmethod
    def parse(cls, data: object) -> SavedPageButton | None:
        fields = _fields(data, "vl", 2)
        if fields is None or not (_ID.match(fields[0]) and _NUMBER.match(fields[1])):
            return None
        return cls(int(fields[0]), int(fields[1]))


@dataclass(frozen=True)
class RemoveSavedButton:
    """/saved's '✖ #k': remove product ``product_id`` from user ``user_id``'s saved products, then show
    page ``page`` again."""

    user_id: int
    product_id: int
    page: int

    @classmethod
    def parse(cls, data: object) -> RemoveSavedButton | None:
        fields = _fields(data, "vr", 3)
        if fields is None or not (_ID.match(fields[0]) and _ID.match(fields[1]) and _NUMBER.match(fields[2])):
            return None
        return cls(int(fields[0]), int(fields[1]), int(fields[2]))


def _data(*parts: object) -> str:
    data = ":".join([CALLBACK_VERSION, *(str(part) for part in parts)])
    if len(data.encode()) > InlineKeyboardButtonLimit.MAX_CALLBACK_DATA:
        raise ValueError(f"callback_data over {InlineKeyboardButtonLimit.MAX_CALLBACK_DATA} bytes: {data!r}")
    return data


def page_data(search_id: str, page: int) -> str:
    return _data("p", search_id, page)


def similar_data(search_id: str, rank: int) -> str:
    return _data("s", search_id, rank)


def widen_data(search_id: str) -> str:
    return _data("w", search_id)


def save_data(search_id: str, rank: int) -> str:
    return _data("v", search_id, rank)


def saved_page_data(user_id: int, page: int) -> str:
    return _data("vl", user_id, page)


def remove_saved_data(user_id: int, product_id: int, page: int) -> str:
    return _data("vr", user_id, product_id, page)


def category_data(code: str | None) -> str:
    return _data("c", code or ALL)


def category_menu_data() -> str:
    return _data("c", MENU)


def garment_data(photo_id: str, number: int | None) -> str:
    return _data("g", photo_id, WHOLE if number is None else number)


def filter_data(action: str, value: str) -> str:
    return _data("f", action, value)


def clear_filters_data() -> str:
    return _data("fc")


def settings_language_data(lang: Lang | None) -> str:
    return _data("t", "l", lang or AUTO)


def feedback_data(search_id: str, page: int, vote: int) -> str:
    return _data("fb", search_id, page, "u" if vote > 0 else "d")


def forget_data(confirm: bool, user_id: int) -> str:
    return _data("fg", "y" if confirm else "n", user_id)


# ------------------------------------------------------------------------------------- categories


def category_name(lang: Lang, code: str | Sequence[str] | None) -> str:
    """How a category is shown: '상의' / 'tops'; 'All' / '전체' for no category; 'tops, outer' for several."""
    if code is None:
        return plain(lang, "category_all")
    if not isinstance(code, str):
        return ", ".join(category_name(lang, one) for one in code)
    category = get_category(code)
    if category is None:  # a deeper code the table does not list: name its nearest known parent
        parent = next(
            (get_category(code[:n]) for n in range(len(code) - 3, 2, -3) if get_category(code[:n])), None
        )
        return f"{_name(lang, parent)} ({code})" if parent else code
    return _name(lang, category)


def _name(lang: Lang, category: Category) -> str:
    return category.name_ko if lang == "ko" else category.name


def category_choices(crawled: list[str]) -> list[str]:
    """The top-level categories worth offering: those the catalog crawls (all of them if none match)."""
    tops = {code[:3] for code in crawled}
    offered = [c.code for c in top_level_categories() if c.code in tops]
    return offered or [c.code for c in top_level_categories()]


def category_keyboard(lang: Lang, choices: list[str], current: str | None) -> InlineKeyboardMarkup:
    def button(code: str | None) -> InlineKeyboardButton:
        mark = "✓ " if code == current else ""
        return InlineKeyboardButton(mark + category_name(lang, code), callback_data=category_data(code))

    buttons = [button(code) for code in choices]
    rows = [
        buttons[i : i + CATEGORY_BUTTONS_PER_ROW] for i in range(0, len(buttons), CATEGORY_BUTTONS_PER_ROW)
    ]
    rows.append([button(None)])
    return InlineKeyboardMarkup(rows)


# ---------------------------------------------------------------------------------------- filters


def price_range_text(lang: Lang, low: int | None, high: int | None) -> str:
    """'₩30,000–₩80,000', 'up to ₩50,000', '₩100,000 and up' / '30,000원~80,000원', '50,000원 이하'."""
    if low is not None and high is not None:
        return plain(lang, "price_between", low=format_price(lang, low), high=format_price(lang, high))
    if high is not None:
        return plain(lang, "price_up_to", high=format_price(lang, high))
    if low is not None:
        return plain(lang, "price_from", low=format_price(lang, low))
    return plain(lang, "price_any")


def gender_text(lang: Lang, gender: Gender | None) -> str:
    return plain(lang, f"gender_{gender or 'all'}")


def filters_summary(lang: Lang, filters: SearchFilters) -> str:
    """The filters that narrow a search, 'up to ₩50,000 · women · incl. sold out'; 'none' when default."""
    parts = []
    if filters.has_price:
        parts.append(price_range_text(lang, filters.min_price, filters.max_price))
    if filters.gender is not None:
        parts.append(gender_text(lang, filters.gender))
    if filters.include_sold_out:
        parts.append(plain(lang, "incl_sold_out"))
    return " · ".join(parts) if parts else plain(lang, "no_filters")


def filter_prompt(lang: Lang, filters: SearchFilters) -> str:
    """The /filter menu's text: each filter as it is now."""
    sold_out = plain(lang, "sold_out_shown" if filters.include_sold_out else "sold_out_hidden")
    return text(
        lang,
        "filter_prompt",
        price=price_range_text(lang, filters.min_price, filters.max_price),
        gender=gender_text(lang, filters.gender),
        sold_out=sold_out,
    )


def filter_keyboard(lang: Lang, filters: SearchFilters) -> InlineKeyboardMarkup:
    """Price presets, 'Any price', genders, sold-out hidden/shown (✓ on the current ones), 'Clear all'."""

    def button(label: str, action: str, value: str, chosen: bool) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            ("✓ " if chosen else "") + label, callback_data=filter_data(action, value)
        )

    price = (filters.min_price, filters.max_price)
    presets = [
        button(plain(lang, PRESET_LABELS[key]), "p", key, PRICE_PRESETS[key] == price)
        for key in PRICE_PRESETS
    ]
    genders = [
        button(plain(lang, f"filter_gender_{value}_button"), "g", value, (filters.gender or "all") == value)
        for value in ("all", *GENDERS)
    ]
    sold_out = [
        button(plain(lang, "filter_hide_sold_out_button"), "s", "hide", not filters.include_sold_out),
        button(plain(lang, "filter_show_sold_out_button"), "s", "show", filters.include_sold_out),
    ]
    clear = [button(plain(lang, "filter_clear_all_button"), "x", "all", False)]
    return InlineKeyboardMarkup([presets[:4], presets[4:], genders, sold_out, clear])


def settings_prompt(
    lang: Lang, *, language: Lang | None, filters: SearchFilters, category: str | None
) -> str:
    chosen = plain(lang, f"language_{language or AUTO}")
    return text(
        lang,
        "settings_prompt",
        language=chosen,
        filters=filters_summary(lang, filters),
        category=category_name(lang, category),
    )


def settings_keyboard(lang: Lang, language: Lang | None) -> InlineKeyboardMarkup:
    """Language (auto, 한국어, English; ✓ on the chosen one), then the filter and category menus."""
    languages = [
        InlineKeyboardButton(
            ("✓ " if choice == language else "")
            + plain(lang, "language_auto_button" if choice is None else f"language_{choice}"),
            callback_data=settings_language_data(choice),
        )
        for choice in (None, "ko", "en")
    ]
    menus = [
        InlineKeyboardButton(plain(lang, "settings_filters_button"), callback_data=filter_data("m", "open")),
        InlineKeyboardButton(plain(lang, "settings_category_button"), callback_data=category_menu_data()),
    ]
    return InlineKeyboardMarkup([languages, menus])


# --------------------------------------------------------------------------------------- captions


def price_line(lang: Lang, product: Product) -> str:
    """'<b>₩29,900</b> <s>₩39,900</s> 25% off' when discounted, else just the price."""
    pays = product.effective_price
    line = f"<b>{escape(format_price(lang, pays))}</b>"
    if product.normal_price > pays:
        line += f" <s>{escape(format_price(lang, product.normal_price))}</s>"
        percent = product.discount_percent
        if percent > 0:
            line += " " + text(lang, "discount", percent=percent)
    return line


def caption(lang: Lang, rank: int, product: Product) -> str:
    """The album caption of result ``#rank``: brand, name, price, sold-out marker, Musinsa link."""
    rendered = _caption(lang, rank, product, product.name)
    if len(rendered) <= MessageLimit.CAPTION_LENGTH:
        return rendered
    # room for the escaped name and "…"
    budget = MessageLimit.CAPTION_LENGTH - (len(rendered) - len(escape(product.name))) - 1
    name, used = "", 0
    for char in product.name:
        used += len(escape(char))
        if used > budget:
            break
        name += char
    return _caption(lang, rank, product, name.rstrip() + "…" if name.strip() else "")


def _caption(lang: Lang, rank: int, product: Product, name: str) -> str:
    brand = product.brand_name or product.brand
    lines = [f"<b>#{rank} · {escape(brand[:100])}</b>"]
    if name:
        lines.append(escape(name))
    lines.append(price_line(lang, product))
    if product.sold_out:
        lines.append(f"⛔ {escape(plain(lang, 'sold_out'))}")
    lines.append(f'<a href="{escape(product.url)}">{escape(plain(lang, "view_on_musinsa"))}</a>')
    return "\n".join(lines)


def fit_message(html: str) -> str:
    """``html`` cut at a line end to fit one Telegram message, marked with '…' when cut."""
    if len(html) <= MessageLimit.MAX_TEXT_LENGTH:
        return html
    return html[: MessageLimit.MAX_TEXT_LENGTH - 1].rsplit("\n", 1)[0] + "\n…"


def product_summary(product: Product, limit: int = 60) -> str:
    """'BRAND · name' shortened for headers."""
    label = f"{product.brand_name or product.brand} · {product.name}"
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def results_list(lang: Lang, first_rank: int, products: list[Product]) -> str:
    """A text message listing products, for when none of their photos could be sent."""
    lines = [text(lang, "photos_unavailable")]
    for offset, product in enumerate(products):
        entry = caption(lang, first_rank + offset, product)
        if sum(len(line) + 2 for line in lines) + len(entry) > MessageLimit.MAX_TEXT_LENGTH:
            break
        lines.append(entry)
    return "\n\n".join(lines)


# ------------------------------------------------------------------------------ results messages


def results_header(
    lang: Lang,
    *,
    first: int,
    last: int,
    category: str | Sequence[str] | None,
    similar_to: str | None = None,
    garment: str | None = None,
    filters: SearchFilters | None = None,
    understood: Sequence[str] = (),
) -> str:
    """The line above a page's buttons; then the filters it was searched with (when any narrow it)
    and what was understood from the photo's caption."""
    name = category_name(lang, category)
    if garment is not None:
        shown = garment_name(lang, garment)
        header = text(lang, "garment_results_header", garment=shown, first=first, last=last, category=name)
    elif similar_to is not None:
        header = text(lang, "similar_header", name=similar_to, first=first, last=last, category=name)
    else:
        header = text(lang, "results_header", first=first, last=last, category=name)
    if filters is not None and not filters.is_default:
        header += "\n" + text(lang, "filters_line", filters=filters_summary(lang, filters))
    if understood:
        parts = ", ".join(f"“{part[:40]}”" for part in understood)
        header += "\n" + text(lang, "caption_line", parts=parts)
    return fit_message(header)


def no_results_text(
    lang: Lang, first_page: bool, category: str | Sequence[str] | None, filters: SearchFilters
) -> str:
    """Nothing (more) found; a first page empty under filters says they may be why."""
    if not first_page:
        return text(lang, "no_more_results")
    found = text(lang, "no_results", category=category_name(lang, category))
    if filters.has_price or filters.gender is not None:
        found += "\n" + text(lang, "filters_no_results_hint", filters=filters_summary(lang, filters))
    return found


def results_keyboard(
    lang: Lang,
    *,
    search_id: str,
    first_rank: int,
    count: int,
    next_page: int | None,
    category: str | Sequence[str] | None,
    whole_photo: str | None = None,
    widen: bool = False,
    clear_filters: bool = False,
    feedback_page: int | None = None,
) -> InlineKeyboardMarkup:
    """'Similar #n' and '⭐n' (save) for each shown result, 'More' when another page may exist, the
    category to change;
    'Whole photo' (of pending photo ``whole_photo``) after a garment's search; 'Widen to all
    categories' (``widen``) after a similar search kept to its source's category; 👍 / 👎 for this
    page (``feedback_page``); 'Clear filters' while the user has saved filters."""
    similar = [
        InlineKeyboardButton(
            plain(lang, "similar_button", n=rank), callback_data=similar_data(search_id, rank)
        )
        for rank in range(first_rank, first_rank + count)
    ]
    rows = [similar[i : i + SIMILAR_BUTTONS_PER_ROW] for i in range(0, len(similar), SIMILAR_BUTTONS_PER_ROW)]
    rows += save_rows(lang, search_id, first_rank, count)
    if next_page is not None:
        rows.append(
            [InlineKeyboardButton(plain(lang, "more_button"), callback_data=page_data(search_id, next_page))]
        )
    if widen:
        rows.append([InlineKeyboardButton(plain(lang, "widen_button"), callback_data=widen_data(search_id))])
    if whole_photo is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    plain(lang, "whole_photo_button"), callback_data=garment_data(whole_photo, None)
                )
            ]
        )
    if feedback_page is not None:
        rows.append(feedback_row(search_id, feedback_page))
    rows.append(
        [
            InlineKeyboardButton(
                plain(lang, "category_button", category=category_name(lang, category)),
                callback_data=category_menu_data(),
            )
        ]
    )
    if clear_filters:
        rows[-1].append(
            InlineKeyboardButton(plain(lang, "clear_filters_button"), callback_data=clear_filters_data())
        )
    return InlineKeyboardMarkup(rows)


def feedback_row(search_id: str, page: int) -> list[InlineKeyboardButton]:
    """👍 / 👎 for one page of results (the emoji read the same in every language)."""
    return [
        InlineKeyboardButton("👍", callback_data=feedback_data(search_id, page, 1)),
        InlineKeyboardButton("👎", callback_data=feedback_data(search_id, page, -1)),
    ]


def forget_keyboard(lang: Lang, user_id: int) -> InlineKeyboardMarkup:
    """/forget: delete everything, or keep it."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    plain(lang, "forget_confirm_button"), callback_data=forget_data(True, user_id)
                ),
                InlineKeyboardButton(
                    plain(lang, "forget_cancel_button"), callback_data=forget_data(False, user_id)
                ),
            ]
        ]
    )


def save_rows(lang: Lang, search_id: str, first_rank: int, count: int) -> list[list[InlineKeyboardButton]]:
    """'⭐1 ⭐2 … ⭐6': one save button per shown result, in as few rows as Telegram allows, evenly filled."""
    stars = [
        InlineKeyboardButton(plain(lang, "save_button", n=rank), callback_data=save_data(search_id, rank))
        for rank in range(first_rank, first_rank + count)
    ]
    if not stars:
        return []
    rows = -(-len(stars) // SAVE_BUTTONS_PER_ROW)
    per_row = -(-len(stars) // rows)
    return [stars[i : i + per_row] for i in range(0, len(stars), per_row)]


def without_more(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The same keyboard minus its 'More' button (that page is now shown below it)."""
    if markup is None:
        return None
    rows = []
    for row in markup.inline_keyboard:
        kept = [button for button in row if PageButton.parse(button.callback_data) is None]
        if kept:
            rows.append(kept)
    return InlineKeyboardMarkup(rows) if rows else None


# --------------------------------------------------------------------------------------- garments

GARMENT_EMOJI = {
    "upper-clothes": "👕",
    "pants": "👖",
    "skirt": "👗",
    "dress": "👗",
    "shoes": "👟",
    "bag": "👜",
    "hat": "🧢",
    "scarf": "🧣",
    "belt": "🪢",
    "sunglasses": "🕶️",
}
OTHER_GARMENT_EMOJI = "🏷️"


def garment_name(lang: Lang, label: str) -> str:
    """'👕 Top' / '👕 상의'; another parser's label as it is named ('🏷️ coat')."""
    key = f"garment_{label}"
    name = plain(lang, key) if key in TEXTS else label.replace("-", " ")
    return f"{GARMENT_EMOJI.get(label, OTHER_GARMENT_EMOJI)} {name}"


def garment_keyboard(lang: Lang, photo_id: str, labels: Sequence[str]) -> InlineKeyboardMarkup:
    """One button per garment, numbered like the boxes on the preview ('1 👕 Top'), then 'Whole photo'."""
    buttons = [
        InlineKeyboardButton(
            f"{number} {garment_name(lang, label)}", callback_data=garment_data(photo_id, number)
        )
        for number, label in enumerate(labels, start=1)
    ]
    per_row = GARMENT_BUTTONS_PER_ROW
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    whole = garment_data(photo_id, None)
    rows.append([InlineKeyboardButton(plain(lang, "whole_photo_button"), callback_data=whole)])
    return InlineKeyboardMarkup(rows)
