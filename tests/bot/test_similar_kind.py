"""Similar means the same kind of thing, and the user's filters apply to every flow, end to end.

/similar and "Similar #n" search the source product's own top-level category whatever /category
says; "Widen to all categories" runs the same search over every category. Saved filters (set here
through ``bot.preferences``, as /filter does) apply to photos, /similar, "Similar #n", "More" and
"Widen"; a search keeps the filters it was made with.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram.ext import Application

from bot.context import BotContext
from bot.preferences import set_user_filters
from bot.render import WidenButton
from indexer.product import Product
from indexer.store import SearchFilters
from tests.bot.buttons import parse_callback
from tests.bot.conftest import World
from tests.bot.world import WAIT, buttons, message_text, next_album, next_text, product_ids, services
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.server import Call

ANN = 7171  # English
MINJI = 7272  # Korean
WIDEN = "🌐 Widen to all categories"


def set_filters(app: Application, user_id: int, filters: SearchFilters) -> None:  # type: ignore[type-arg]
    """What /filter saves for ``user_id``, through the one place handlers keep it."""
    set_user_filters(BotContext(app, user_id=user_id), filters)


async def results(fake: FakeTelegram, chat_id: int, push: Callable[[], object]) -> tuple[list[int], Call]:
    """Push something that searches; the album's product ids and the message with its buttons."""
    since = fake.mark()
    push()
    album = await next_album(fake, chat_id, since)
    keyboard = await next_text(fake, chat_id, album.index, with_buttons=True)
    return product_ids(album), keyboard


async def pressed(fake: FakeTelegram, chat_id: int, keyboard: Call, label: str) -> tuple[list[int], Call]:
    return await results(fake, chat_id, lambda: fake.press(keyboard.result, text=label))


def labels(keyboard: Call) -> list[str]:
    return [button["text"] for button in buttons(keyboard)]


async def test_similar_stays_in_the_sources_category_whatever_category_is_chosen(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    since = fake.mark()
    fake.push_message(ANN, "/category shoes")
    await next_text(fake, ANN, since)
    hoodie = world.in_category("001004")[0]
    ids, keyboard = await results(fake, ANN, lambda: fake.push_message(ANN, f"/similar {hoodie.id}"))
    tops = [p.id for p in world.in_category("001") if not p.sold_out and p.id != hoodie.id]
    assert hoodie.id not in ids and set(ids) <= set(tops) and len(ids) == min(6, len(tops))
    expected = await services(bot).catalog.similar(hoodie.id, category="001", limit=6)
    assert ids == [item.product.id for item in expected]
    assert message_text(keyboard).endswith(f"· results 1–{len(ids)} · tops")
    assert WIDEN in labels(keyboard)
    widen = next(b for b in buttons(keyboard) if b["text"] == WIDEN)
    assert len(widen["callback_data"].encode()) <= 64
    assert isinstance(parse_callback(widen["callback_data"]), WidenButton)
    # The user's category still applies to photos.
    shoes = {p.id for p in world.in_category("103")}
    photo_ids, _ = await results(
        fake, ANN, lambda: fake.push_photo(ANN, world.musinsa.image_bytes(world.in_category("003")[0].id))
    )
    assert photo_ids and set(photo_ids) <= shoes


async def test_widen_searches_every_category_as_a_new_search(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    pants = world.in_category("003")[1]
    narrow, keyboard = await results(fake, MINJI, lambda: fake.push_message(MINJI, f"/similar {pants.id}"))
    assert all(world.product(i).category.startswith("003") for i in narrow)
    assert "더 보기 ▶" not in labels(keyboard)  # 3 other pants: one page
    wide, wide_keyboard = await pressed(fake, MINJI, keyboard, "🌐 모든 카테고리로 넓히기")
    expected = await services(bot).catalog.similar(pants.id, limit=6)
    assert wide == [item.product.id for item in expected] and pants.id not in wide
    assert len({world.product(i).category[:3] for i in wide}) > 1
    assert message_text(wide_keyboard).endswith("결과 1–6 · 전체")
    assert "🌐 모든 카테고리로 넓히기" not in labels(wide_keyboard)
    # The widened search pages on over every category, never showing the source.
    more, _ = await pressed(fake, MINJI, wide_keyboard, "더 보기 ▶")
    assert not set(more) & set(wide) and pants.id not in more
    assert more == [item.product.id for item in await services(bot).catalog.similar(pants.id, limit=12)][6:]
    # "Similar #n" of a widened result: that product's own kind again.
    other = next(n for n, i in enumerate(wide, start=1) if not world.product(i).category.startswith("003"))
    kind = world.product(wide[other - 1]).category[:3]
    theirs, _ = await pressed(fake, MINJI, wide_keyboard, f"비슷한 #{other}")
    assert theirs and all(world.product(i).category.startswith(kind) for i in theirs)
    assert not fake.unanswered_callback_queries()


async def test_widen_of_a_product_only_musinsa_knows_needs_no_second_fetch(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    goods_no = world.not_indexed[0]
    kind = world.musinsa.catalog.get(goods_no).category[:3]
    narrow, keyboard = await results(fake, ANN, lambda: fake.push_message(ANN, f"/similar {goods_no}"))
    assert narrow and all(world.product(i).category.startswith(kind) for i in narrow)
    page = f"/products/{goods_no}"
    asked = len(world.musinsa.requests_to(page))
    assert asked >= 1
    wide, _ = await pressed(fake, ANN, keyboard, WIDEN)
    assert len(wide) == 6 and goods_no not in wide
    assert len({world.product(i).category[:3] for i in wide}) > 1
    assert len(world.musinsa.requests_to(page)) == asked  # widened with the query vector it kept


def allowed(product: Product, filters: SearchFilters) -> bool:
    """Whether ``filters`` let ``product`` through (the rule the engines apply)."""
    price = product.effective_price
    if filters.min_price is not None and price < filters.min_price:
        return False
    if filters.max_price is not None and price > filters.max_price:
        return False
    if filters.excluded_gender_label is not None and product.gender == filters.excluded_gender_label:
        return False
    return filters.include_sold_out or not product.sold_out


async def test_saved_filters_apply_to_photo_more_similar_and_widen(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    filters = SearchFilters(max_price=160_000, gender="women")
    passing = {p.id for p in world.products if allowed(p, filters)}
    assert 6 < len(passing) < len(world.on_sale)  # a real cut, and more than one page
    set_filters(bot, ANN, filters)
    photo = world.musinsa.image_bytes(world.products[0].id)
    first, keyboard = await results(fake, ANN, lambda: fake.push_photo(ANN, photo))
    assert len(first) == 6 and set(first) <= passing
    # The search keeps the filters it was made with: clearing them now does not change "More".
    set_filters(bot, ANN, SearchFilters())
    second, _ = await pressed(fake, ANN, keyboard, "More ▶")
    assert second and set(second) <= passing and not set(second) & set(first)
    assert len(first) + len(second) == min(12, len(passing))
    # "Similar #n" uses the search's filters too, in the product's own category.
    similar, similar_keyboard = await pressed(fake, ANN, keyboard, "Similar #1")
    kind = world.product(first[0]).category[:3]
    assert set(similar) <= {i for i in passing if world.product(i).category.startswith(kind)}
    wide, _ = await pressed(fake, ANN, similar_keyboard, WIDEN)
    assert wide and set(wide) <= passing
    expected = await services(bot).catalog.similar(first[0], filters=filters, limit=6)
    assert wide == [item.product.id for item in expected]
    # /similar takes the user's filters as they are now (cleared: anything on sale).
    target = world.in_category("001")[0]
    now, _ = await results(fake, ANN, lambda: fake.push_message(ANN, f"/similar {target.id}"))
    expected = await services(bot).catalog.similar(target.id, category="001", limit=6)
    assert now == [item.product.id for item in expected]


async def test_sold_out_products_are_hidden_unless_the_user_asks_for_them(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    sold_out = world.sold_out[0]
    photo = world.musinsa.image_bytes(sold_out.id)
    hidden, _ = await results(fake, ANN, lambda: fake.push_photo(ANN, photo))
    assert not {p.id for p in world.sold_out} & set(hidden)
    set_filters(bot, ANN, SearchFilters(include_sold_out=True))
    shown, _ = await results(fake, ANN, lambda: fake.push_photo(ANN, photo))
    assert shown[0] == sold_out.id
    # /similar of a sold-out product works either way: the source is looked up, never filtered.
    set_filters(bot, ANN, SearchFilters())
    ids, keyboard = await results(fake, ANN, lambda: fake.push_message(ANN, f"/similar {sold_out.id}"))
    assert ids and sold_out.id not in ids and not {p.id for p in world.sold_out} & set(ids)
    assert message_text(keyboard).startswith(f"🔁 Similar to {sold_out.brand_name} · ")
    await fake.wait_until(lambda: ANN not in services(bot).active, WAIT, "the search to end")


def test_widen_callback_data() -> None:
    from bot.render import widen_data

    data = widen_data("AbC-_123")
    assert data == "v1:w:AbC-_123" and WidenButton.parse(data) == WidenButton("AbC-_123")
    for forged in ("v1:w:", "v1:w:bad!", "v1:w:AbC-_123:2", "v0:w:AbC-_123", "v1:W:AbC-_123", None, 7):
        assert WidenButton.parse(forged) is None and parse_callback(forged) is None


async def test_a_widen_button_of_a_forgotten_search_asks_to_search_again(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    _, keyboard = await results(fake, ANN, lambda: fake.push_message(ANN, f"/similar {world.products[0].id}"))
    since = fake.mark()
    qid = fake.press(keyboard.result, "v1:w:zzzzzzzz", check_button=False)["callback_query"]["id"]
    await fake.wait_until(lambda: fake.callback_answer(qid), WAIT, "an answer")
    assert fake.callback_answer(qid)["text"] == "This search has expired — please send the photo again."
    assert not fake.calls_of("sendMediaGroup", since=since)
