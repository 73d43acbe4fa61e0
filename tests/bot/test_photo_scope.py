"""Where a photo is searched: the user's saved scope, refined by its caption for that one search.

(How captions are read is ``tests/bot/test_caption.py``; here, that the photo flow applies it.)
"""

from __future__ import annotations

from telegram.ext import Application

from tests.bot.conftest import World
from tests.bot.world import WAIT, message_text, next_album, next_text, product_ids, services
from tests.fakes.telegram import FakeTelegram

ANN = 9191  # English
MINJI = 9292  # Korean


async def searched(fake: FakeTelegram, app: Application, chat_id: int, since: int) -> list[int]:  # type: ignore[type-arg]
    """The products of the next album in the chat, once its search is over (results and buttons sent)."""
    album = await next_album(fake, chat_id, since)
    await next_text(fake, chat_id, album.index, with_buttons=True)
    await fake.wait_until(lambda: chat_id not in services(app).active, WAIT, "the search to end")
    return product_ids(album)


async def test_a_caption_narrows_that_one_search(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    photo = world.musinsa.image_bytes(world.products[0].id)
    cheap = {p.id for p in world.on_sale if p.effective_price <= 100_000}
    assert 6 < len(cheap) < len(world.on_sale)
    since = fake.mark()
    fake.push_photo(MINJI, photo, caption="10만원 이하")
    narrowed = await searched(fake, bot, MINJI, since)
    assert len(narrowed) == 6 and set(narrowed) <= cheap
    # Nothing was saved: the next photo, without a caption, is searched as before.
    since = fake.mark()
    fake.push_photo(MINJI, photo)
    again = await searched(fake, bot, MINJI, since)
    assert not set(again) <= cheap


async def test_a_caption_with_nothing_to_apply_is_said_so_and_the_photo_searched(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    target = world.on_sale[3]
    since = fake.mark()
    fake.push_photo(ANN, world.musinsa.image_bytes(target.id), caption="look at this!")
    note = await next_text(fake, ANN, since)
    assert message_text(note).startswith("I searched the photo alone: I found no price, gender or category")
    assert (await searched(fake, bot, ANN, since))[0] == target.id
    since = fake.mark()
    fake.push_photo(ANN, world.musinsa.image_bytes(target.id), caption="999조원 이하")
    note = await next_text(fake, ANN, since)
    assert message_text(note) == (
        "I left out the caption's price: ₩999,000,000,000,000 is more than any product costs "
        "(at most ₩100,000,000)."
    )
    assert (await searched(fake, bot, ANN, since))[0] == target.id
