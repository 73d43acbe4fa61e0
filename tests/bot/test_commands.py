"""Commands end to end: menus, /start and /help, /category (and its persistence in the user store, the
old settings file's import), /similar, admin /stats."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable

import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.userdata import USERS_FILE
from bot.userdata.legacy import LEGACY_FILE
from indexer.config import Settings
from tests.bot.conftest import World
from tests.bot.world import ADMIN, WAIT, buttons, message_text, next_album, next_text, product_ids, running
from tests.fakes.telegram import FakeTelegram

ANN = 5151  # English
MINJI = 5252  # Korean
USER_MENU = [
    "start",
    "help",
    "category",
    "similar",
    "filter",
    "settings",
    "saved",
    "alerts",
    "privacy",
    "forget",
]


async def command(fake: FakeTelegram, chat_id: int, text: str) -> str:
    """Send a command; the text of the bot's next message in that chat."""
    since = fake.mark()
    fake.push_message(chat_id, text)
    return message_text(await next_text(fake, chat_id, since))


async def test_command_menus_per_scope_and_language(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    fake = fake_telegram
    fake.user(ADMIN, "Admin", language_code="en")  # has written to the bot before
    stranger_admin = 999_999  # configured, but never wrote to the bot: Telegram refuses a menu for them
    async with running(build_application(make_settings(admin_ids=[ADMIN, stranger_admin]))):
        for scope in ({"type": "all_private_chats"}, {"type": "all_group_chats"}):
            english = fake.commands(scope)
            korean = fake.commands(scope, "ko")
            assert [c["command"] for c in english] == USER_MENU
            assert [c["command"] for c in korean] == USER_MENU
            assert english[2]["description"] == "Choose the product category to search"
            assert korean[2]["description"] == "검색할 상품 카테고리 선택"
        for lang in ("", "ko"):
            admin = fake.commands({"type": "chat", "chat_id": ADMIN}, lang)
            assert [c["command"] for c in admin] == [*USER_MENU, "stats", "sync"]
        assert fake.commands({"type": "chat", "chat_id": stranger_admin}) == []
        assert (
            f"could not set the admin command menu for {stranger_admin} yet (Chat not found)" in caplog.text
        )
        fake.user(ANN, language_code="en")
        since = fake.mark()
        assert (await command(fake, ANN, "/help")).startswith("👋 snapfit")  # the bot runs all the same
        assert not fake.calls_of("setMyCommands", since=since)  # a user's message sets no menu


async def test_an_admins_menu_is_set_when_they_first_write(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    late_admin = 999_998  # configured, but had not started the bot when it started
    fake.user(ADMIN, language_code="en")
    async with running(build_application(make_settings(admin_ids=[ADMIN, late_admin]))):
        assert fake.commands({"type": "chat", "chat_id": late_admin}) == []
        fake.user(late_admin, language_code="ko")
        since = fake.mark()
        assert (await command(fake, late_admin, "/start")).startswith("👋 snapfit")
        for lang in ("", "ko"):
            admin = fake.commands({"type": "chat", "chat_id": late_admin}, lang)
            assert [c["command"] for c in admin] == [*USER_MENU, "stats", "sync"]
        assert len(fake.calls_of("setMyCommands", ok=True, since=since)) == 2  # en and ko
        # Once per process: later messages set nothing.
        since = fake.mark()
        await command(fake, late_admin, "/help")
        await command(fake, ADMIN, "/help")
        assert not fake.calls_of("setMyCommands", since=since)


async def test_start_and_help(bot: Application, fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    fake.user(ADMIN, language_code="en")
    start = await command(fake, ANN, "/start")
    assert start.startswith("👋 snapfit finds Musinsa products that look like the clothes in your photo.")
    assert "Send a photo of an outfit" in start
    assert "Example: send a photo of a grey hoodie, or try /similar 3783092." in start
    assert "Current category: All (change it with /category)." in start
    menu = {c["command"]: c["description"] for c in fake.commands({"type": "all_private_chats"})}
    for name, description in menu.items():  # /help is generated from the menu's own list
        assert f"— {description}" in start and f"/{name}" in start
    assert "/stats" not in start
    assert "/similar <id or link>" in start and "/category [name]" in start
    assert await command(fake, ANN, "/help") == start
    korean = await command(fake, MINJI, "/help")
    assert korean.startswith("👋 snapfit은 사진 속 옷과 비슷한 무신사 상품을 찾아 드려요.")
    assert "현재 카테고리: 전체" in korean
    admin_help = await command(fake, ADMIN, "/help")
    assert "Admin commands" in admin_help and "/stats — Index size per category and model" in admin_help


async def test_category_by_name_code_and_alias(bot: Application, fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    assert await command(fake, ANN, "/category tops") == "Category set to tops. Send a photo to search it."
    assert await command(fake, ANN, "/category 001") == "Category set to tops. Send a photo to search it."
    assert (
        await command(fake, ANN, "/category hoodie") == "Category set to hoodie. Send a photo to search it."
    )
    assert await command(fake, ANN, "/category all") == "Category set to All. Send a photo to search it."
    assert (
        await command(fake, MINJI, "/category 상의")
        == "카테고리를 상의(으)로 바꿨어요. 사진을 보내 검색해 보세요."
    )
    assert (
        await command(fake, MINJI, "/category 후드")
        == "카테고리를 후드 티셔츠(으)로 바꿨어요. 사진을 보내 검색해 보세요."
    )
    assert (
        await command(fake, MINJI, "/category 전체")
        == "카테고리를 전체(으)로 바꿨어요. 사진을 보내 검색해 보세요."
    )
    # A category the index holds nothing of (beauty is not crawled) says so.
    beauty = await command(fake, ANN, "/category beauty")
    assert (
        beauty.startswith("Category set to beauty.") and "Nothing is indexed in this category yet" in beauty
    )
    unknown = await command(fake, ANN, "/category hodie")
    assert unknown.startswith("I don't know the category “hodie”. Did you mean: hoodie (001004)")
    nothing = await command(fake, ANN, "/category qqqqqqqq")
    assert nothing == "I don't know the category “qqqqqqqq”. Pick one from the list with /category."


async def test_category_keyboard(bot: Application, fake_telegram: FakeTelegram, world: World) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    since = fake.mark()
    fake.push_message(MINJI, "/category")
    prompt = await next_text(fake, MINJI, since, with_buttons=True)
    assert message_text(prompt) == "검색할 카테고리를 고르세요 (현재: 전체):"
    labels = [b["text"] for b in buttons(prompt)]
    assert labels == ["상의", "아우터", "바지", "가방", "원피스/스커트", "패션소품", "신발", "✓ 전체"]
    since = fake.mark()
    press = fake.press(prompt.result, text="바지")
    edit = await fake.wait_for("editMessageText", timeout=WAIT, ok=True, since=since)
    assert edit.result["text"] == "카테고리를 바지(으)로 바꿨어요. 사진을 보내 검색해 보세요."
    assert "reply_markup" not in edit.result
    assert fake.callback_answer(press["callback_query"]["id"]) is not None
    # The results' own category button opens the same choice.
    since = fake.mark()
    fake.push_photo(MINJI, world.musinsa.image_bytes(world.products[0].id))
    album = await next_album(fake, MINJI, since)
    assert {world.product(i).category[:3] for i in product_ids(album)} == {"003"}
    keyboard = await next_text(fake, MINJI, album.index, with_buttons=True)
    since = fake.mark()
    fake.press(keyboard.result, text="카테고리: 바지 ✏️")
    menu = await next_text(fake, MINJI, since, with_buttons=True)
    assert [b["text"] for b in buttons(menu)][2] == "✓ 바지"


async def test_category_survives_a_restart(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    settings = make_settings()
    async with running(build_application(settings)):
        assert (await command(fake, MINJI, "/category 신발")).startswith("카테고리를 신발(으)로")
    assert (settings.data.path / USERS_FILE).is_file()
    assert not (settings.data.path / LEGACY_FILE).exists()  # the old pickle file is no longer written
    async with running(build_application(settings)):
        assert "현재 카테고리: 신발" in await command(fake, MINJI, "/help")
        since = fake.mark()
        fake.push_photo(MINJI, world.musinsa.image_bytes(world.in_category("001")[0].id))
        album = await next_album(fake, MINJI, since)
        assert {world.product(i).category[:3] for i in product_ids(album)} == {"103"}


_SAVED = pickle.dumps(
    {"conversations": {}, "user_data": {MINJI: {"category": "103"}}, "chat_data": {}, "bot_data": {}}
)


async def test_the_old_settings_file_is_imported_once(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """Settings of a release that kept them in PTB's pickle file carry over, and the file is read once."""
    caplog.set_level(logging.INFO, logger="bot.userdata")
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    fake.user(ANN, language_code="ko")
    settings = make_settings()
    settings.data.path.mkdir(parents=True, exist_ok=True)
    old = settings.data.path / LEGACY_FILE
    old.write_bytes(
        pickle.dumps(
            {
                "conversations": {},
                "user_data": {
                    MINJI: {"category": "103"},
                    ANN: {"language": "en", "filters": {"max_price": 50000}, "category": 7},
                    6363: {},
                },
                "chat_data": {},
                "bot_data": {},
            }
        )
    )
    async with running(build_application(settings)):
        assert "현재 카테고리: 신발" in await command(fake, MINJI, "/help")
        # ANN's language override and category of the wrong type (the default) came over too.
        assert "Current category: All" in await command(fake, ANN, "/help")
        assert (await command(fake, MINJI, "/category 바지")).startswith("카테고리를 바지(으)로")
    migrated = settings.data.path / f"{LEGACY_FILE}.migrated"
    assert not old.exists() and migrated.is_file()
    assert f"moved the settings of 2 users from {LEGACY_FILE}" in caplog.text
    async with running(build_application(settings)):  # not imported again: the later choice stands
        assert "현재 카테고리: 바지" in await command(fake, MINJI, "/help")
    assert migrated.read_bytes() != b"" and not old.exists()


@pytest.mark.parametrize(
    "damaged",
    [b"", _SAVED[: len(_SAVED) // 2], b"\x00garbage, not a pickle\xff" * 10],
    ids=["empty", "half-written", "garbage"],
)
async def test_a_damaged_settings_file_is_set_aside_and_the_bot_starts(
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
    damaged: bytes,
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    settings = make_settings()
    settings.data.path.mkdir(parents=True, exist_ok=True)
    saved = settings.data.path / LEGACY_FILE
    saved.write_bytes(damaged)
    async with running(build_application(settings)):
        assert "현재 카테고리: 전체" in await command(fake, MINJI, "/help")
        assert (await command(fake, MINJI, "/category 신발")).startswith("카테고리를 신발(으)로")
    copies = list(settings.data.path.glob(f"{LEGACY_FILE}.damaged-*"))
    assert len(copies) == 1 and copies[0].read_bytes() == damaged
    assert f"{saved} could not be read" in caplog.text and copies[0].name in caplog.text
    async with running(build_application(settings)):  # the user store kept the new choice
        assert "현재 카테고리: 신발" in await command(fake, MINJI, "/help")
    assert not saved.exists()


async def test_similar_by_id_and_link(bot: Application, fake_telegram: FakeTelegram, world: World) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    target = world.products[6]  # a sold-out T-shirt: its neighbours can be shown, itself is never hidden
    assert target.sold_out and target.category.startswith("001")
    catalog = bot.bot_data["snapfit.services"].catalog
    # Within its own top-level category (tops), sold-out products hidden.
    expected = [item.product.id for item in await catalog.similar(target.id, category="001", limit=6)]
    assert len(expected) == 6 and all(world.product(i).category.startswith("001") for i in expected)
    for ref in (
        str(target.id),
        f"{world.musinsa.url}/products/{target.id}",
        f"https://www.musinsa.com/products/{target.id}",
    ):
        since = fake.mark()
        fake.push_message(ANN, f"/similar {ref}")
        album = await next_album(fake, ANN, since)
        assert product_ids(album) == expected
        header = await next_text(fake, ANN, album.index, with_buttons=True)
        assert message_text(header).startswith(f"🔁 Similar to {target.brand_name} · ")
        assert message_text(header).endswith("· results 1–6 · tops")


async def test_similar_of_a_product_only_musinsa_knows(
    bot: Application, fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    goods_no = world.not_indexed[1]
    assert world.musinsa.catalog.get(goods_no).category.startswith("001")  # a T-shirt
    tops = {product.id for product in world.in_category("001") if not product.sold_out}
    since = fake.mark()
    fake.push_message(ANN, f"/similar {goods_no}")
    album = await next_album(fake, ANN, since)
    ids = product_ids(album)
    assert len(ids) == 6 and goods_no not in ids and set(ids) <= tops
    header = await next_text(fake, ANN, album.index, with_buttons=True)
    more = next(b for b in buttons(header) if b["text"] == "More ▶")
    since = fake.mark()
    fake.press(header.result, more["callback_data"])
    second = product_ids(await next_album(fake, ANN, since))
    # The second page holds the rest of the tops on sale: the category and filters were kept.
    assert not set(second) & set(ids) and set(ids) | set(second) == tops


async def test_similar_errors(bot: Application, fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    usage = await command(fake, ANN, "/similar")
    assert usage.startswith("Send /similar with a Musinsa product number or link")
    unknown = await command(fake, ANN, "/similar 1234")
    assert unknown == "I couldn't find product 1234 on Musinsa. Please check the number or link."
    invalid = await command(fake, ANN, "/similar https://example.com/products/1")
    assert invalid.startswith("Example.com is not Musinsa; send a product number like 3783092")
    korean = await command(fake, MINJI, "/similar 장난")
    assert korean.startswith("무신사 상품이 아니에요.")
    assert (
        await command(fake, MINJI, "/similar 1234")
        == "무신사에서 상품 1234을(를) 찾지 못했어요. 번호나 링크를 확인해 주세요."
    )


async def test_stats_for_admins_only(bot: Application, fake_telegram: FakeTelegram, world: World) -> None:
    fake = fake_telegram
    fake.user(ADMIN, language_code="en")
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    stats = await command(fake, ADMIN, "/stats")
    services = bot.bot_data["snapfit.services"]
    assert stats.startswith(
        f"Index: {len(world.products)} products · model {services.encoder.model_id} (32-d)"
    )
    for code in ("001", "002", "003", "004", "100", "103"):
        count = len(world.in_category(code))
        assert f" {code}: {count}" in stats
    assert await command(fake, ANN, "/stats") == "Sorry, that command is only for the bot's admins."
    assert await command(fake, MINJI, "/stats") == "죄송해요, 이 명령어는 관리자만 쓸 수 있어요."


async def test_stats_sections_can_be_added(bot: Application, fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    fake.user(ADMIN, language_code="ko")
    services = bot.bot_data["snapfit.services"]

    async def last_sync(_services: object, lang: str) -> str:
        return "마지막 동기화: 없음" if lang == "ko" else "Last sync: never"

    async def broken(_services: object, lang: str) -> str:
        raise RuntimeError("boom")

    services.stats_sections += [last_sync, broken]
    stats = await command(fake, ADMIN, "/stats")
    assert stats.startswith("색인: 상품")
    assert stats.endswith("마지막 동기화: 없음\n\n⚠️ 이 항목은 지금 확인할 수 없어요 (RuntimeError).")


async def test_a_button_on_an_inaccessible_message_still_works(
    bot: Application, fake_telegram: FakeTelegram
) -> None:
    """Telegram withholds messages older than 48 h from callback queries (``date`` 0): answer anew."""
    from tests.fakes.telegram.state import CallbackQueryState

    fake = fake_telegram
    fake.user(ANN, "Ann", language_code="en")
    query_id = fake.state.next_query_id()
    fake.state.callback_queries[query_id] = CallbackQueryState(query_id, ANN, 1, "v1:c:001", ANN)
    since = fake.mark()
    fake.push_update(
        {
            "callback_query": {
                "id": query_id,
                "from": {"id": ANN, "is_bot": False, "first_name": "Ann", "language_code": "en"},
                "chat_instance": "8000000000042",
                "data": "v1:c:001",
                "message": {"message_id": 1, "date": 0, "chat": {"id": ANN, "type": "private"}},
            }
        }
    )
    reply = await next_text(fake, ANN, since)
    assert message_text(reply) == "Category set to tops. Send a photo to search it."
    assert fake.callback_answer(query_id) is not None
    assert not fake.calls_of("editMessageText", since=since)


async def test_a_query_without_data_is_answered_as_stale(
    bot: Application, fake_telegram: FakeTelegram
) -> None:
    """Every button handler has a pattern, yet PTB lets a query without data through: still answered once."""
    from tests.fakes.telegram.state import CallbackQueryState

    fake = fake_telegram
    fake.user(ANN, "Ann", language_code="en")
    query_id = fake.state.next_query_id()
    fake.state.callback_queries[query_id] = CallbackQueryState(query_id, ANN, 1, "", ANN)
    fake.push_update(
        {
            "callback_query": {
                "id": query_id,
                "from": {"id": ANN, "is_bot": False, "first_name": "Ann", "language_code": "en"},
                "chat_instance": "8000000000042",
                "message": {"message_id": 1, "date": 0, "chat": {"id": ANN, "type": "private"}},
            }
        }
    )
    await fake.wait_until(lambda: fake.callback_answer(query_id), WAIT, "an answer")
    assert fake.callback_answer(query_id)["text"] == "This search has expired — please send the photo again."
