"""Garment pick end to end: outfit photo in, question with a boxed preview, press, album in the category.

The garment model is the only stand-in: ``PlantedSegmenter`` implements the segmenter interface
the real SegFormer implements, and answers a fixed label map. Decoding, the label plan, boxes,
crops, pending photos, buttons, the search and the delivery are the production code.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from telegram.ext import Application

from bot.app import build_application
from bot.garment_finder import GarmentFinder
from bot.pending import PendingPhoto, PendingPhotos
from bot.render import GarmentButton
from indexer.clothes_parser import GarmentParser, LazyGarmentParser
from indexer.config import GarmentSettings, ImageSettings, Settings
from tests.bot.conftest import World
from tests.bot.world import WAIT, buttons, message_text, next_album, next_text, product_ids, running, services
from tests.clothes_parser.planted import TOP_AND_PANTS, PlantedSegmenter
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.server import Call

ANN = 7171  # English
MINJI = 7272  # Korean
TTL = 900.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def garment_bot(
    make_settings: Callable[..., Settings],
    segmenter: PlantedSegmenter,
    clock: Clock | None = None,
    **garments: object,
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The production bot, its garment parser built around ``segmenter`` (loaded lazily, as in production)."""
    # The model the bot preloads at start-up is a folder that is not there (fails at once, offline);
    # the parser the photos use is the planted one.
    garments.setdefault("model", "/nonexistent/segformer")
    settings = make_settings(garments=GarmentSettings(padding=0.0, pending_ttl_seconds=TTL, **garments))
    async with running(build_application(settings)) as app:
        bot_services = services(app)
        loader = LazyGarmentParser(
            settings.garments, loader=lambda: GarmentParser(segmenter, settings.garments)
        )
        bot_services.garments = GarmentFinder(settings.garments, settings.images, loader)
        bot_services.pending = PendingPhotos(
            per_user=settings.garments.pending_per_user, ttl_seconds=TTL, clock=clock or Clock()
        )
        yield app


def outfit(world: World, top: int, bottom: int, *, image_format: str = "JPEG") -> bytes:
    """Two catalog photos stacked: a top above a pair of pants, like a (very tidy) outfit photo."""
    upper = Image.open(io.BytesIO(world.musinsa.image_bytes(top))).convert("RGB")
    lower = Image.open(io.BytesIO(world.musinsa.image_bytes(bottom))).convert("RGB")
    canvas = Image.new("RGB", (upper.width, upper.height + lower.height), (255, 255, 255))
    canvas.paste(upper, (0, 0))
    canvas.paste(lower, (0, upper.height))
    buffer = io.BytesIO()
    canvas.save(buffer, format=image_format, quality=95)
    return buffer.getvalue()


def an_outfit(world: World, **kw: str) -> bytes:
    return outfit(world, world.in_category("001")[0].id, world.in_category("003")[0].id, **kw)


async def question(fake: FakeTelegram, chat_id: int, since: int) -> Call:
    """The bot's garment question: its photo with boxes, a caption and the buttons."""
    return await fake.wait_for(
        "sendPhoto", lambda call: call.params.get("chat_id") == chat_id, WAIT, ok=True, since=since
    )


def pending_photo(app: Application, asked: Call) -> PendingPhoto:
    """The photo a garment question waits with (its buttons carry the photo's id)."""
    button = GarmentButton.parse(buttons(asked)[0]["callback_data"])
    assert button is not None
    photo = services(app).pending.get(button.photo_id)
    assert photo is not None
    return photo


def in_categories(world: World, ids: list[int], *prefixes: str) -> bool:
    return bool(ids) and all(world.product(i).category[:3] in prefixes for i in ids)


async def test_two_garments_get_a_boxed_preview_and_a_button_each(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    segmenter = PlantedSegmenter(TOP_AND_PANTS)
    async with garment_bot(make_settings, segmenter) as app:
        since = fake.mark()
        fake.push_photo(ANN, an_outfit(world))
        asked = await question(fake, ANN, since)
        assert asked.result["caption"] == (
            "I found 2 items in your photo. Which one should I search? The numbers match the boxes."
        )
        assert [b["text"] for b in buttons(asked)] == ["1 👕 Top", "2 👖 Pants", "🖼 Whole photo"]
        assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(asked))
        assert not fake.calls_of("sendMediaGroup", since=since)  # nothing is searched before the choice
        # The preview is the photo itself (decoded for the parser), with a coloured box per garment.
        preview = Image.open(io.BytesIO(asked.files["photo"].data)).convert("RGB")
        assert preview.size == segmenter.sizes[0] == (96, 224)
        assert np.abs(np.asarray(preview)[111, 48].astype(int) - (0xE6, 0x19, 0x4B)).max() < 60
        pending = pending_photo(app, asked)
        assert [(g.label, g.categories, g.box) for g in pending.garments] == [
            ("upper-clothes", ("001", "002"), (0, 0, 96, 112)),
            ("pants", ("003",), (0, 112, 96, 224)),
        ]


async def test_a_press_searches_that_garment_in_its_categories(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    async with garment_bot(make_settings, PlantedSegmenter(TOP_AND_PANTS)) as app:
        since = fake.mark()
        fake.push_photo(ANN, an_outfit(world))
        asked = await question(fake, ANN, since)
        pending = pending_photo(app, asked)

        since = fake.mark()
        press = fake.press(asked.result, text="2 👖 Pants")
        album = await next_album(fake, ANN, since)
        ids = product_ids(album)
        assert in_categories(world, ids, "003")
        expected = await services(app).search.search_image(pending.garments[1].crop, category="003", limit=6)
        assert ids == [item.product.id for item in expected.items]
        keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
        assert message_text(keyboard) == f"🔎 👖 Pants · results 1–{len(ids)} · pants"
        labels = [b["text"] for b in buttons(keyboard)]
        assert "🖼 Whole photo" in labels and labels[-1] == "Category: pants ✏️"
        assert fake.callback_answer(press["callback_query"]["id"]) is not None

        # Tops may be tops or outerwear: one ranking over both, paged with More.
        since = fake.mark()
        fake.press(asked.result, text="1 👕 Top")
        album = await next_album(fake, ANN, since)
        first = product_ids(album)
        expected = await services(app).search.search_image(
            pending.garments[0].crop, category=("001", "002"), limit=12
        )
        assert first == [item.product.id for item in expected.items][:6]
        assert in_categories(world, first, "001", "002")
        keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
        assert message_text(keyboard) == "🔎 👕 Top · results 1–6 · tops, outer"
        since = fake.mark()
        fake.press(keyboard.result, text="More ▶")
        album = await next_album(fake, ANN, since)
        assert product_ids(album) == [item.product.id for item in expected.items][6:12]
        more = await next_text(fake, ANN, album.index, with_buttons=True)
        assert message_text(more).startswith("🔎 👕 Top · results 7–")
        assert "🖼 Whole photo" in [b["text"] for b in buttons(more)]


async def test_whole_photo_searches_the_photo_as_sent(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    photo = an_outfit(world)
    async with garment_bot(make_settings, PlantedSegmenter(TOP_AND_PANTS)) as app:
        since = fake.mark()
        fake.push_photo(ANN, photo)
        asked = await question(fake, ANN, since)
        since = fake.mark()
        fake.press(asked.result, text="🖼 Whole photo")
        album = await next_album(fake, ANN, since)
        expected = await services(app).search.search_image(photo, limit=6)
        assert product_ids(album) == [item.product.id for item in expected.items]
        keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
        assert message_text(keyboard) == "🔎 Results 1–6 · All"
        assert "🖼 Whole photo" not in [b["text"] for b in buttons(keyboard)]


async def test_a_press_after_expiry_asks_for_the_photo_again(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    clock = Clock()
    async with garment_bot(make_settings, PlantedSegmenter(TOP_AND_PANTS), clock, pending_per_user=2):
        since = fake.mark()
        fake.push_photo(ANN, an_outfit(world))
        old = await question(fake, ANN, since)
        clock.now += TTL + 1
        since = fake.mark()
        for label in ("1 👕 Top", "🖼 Whole photo"):
            qid = fake.press(old.result, text=label)["callback_query"]["id"]
            await fake.wait_until(lambda qid=qid: fake.callback_answer(qid), WAIT, "an answer")
            assert fake.callback_answer(qid)["text"] == "This photo has expired — please send it again."
        assert not fake.calls_of("sendMediaGroup", since=since) and not fake.calls_of(
            "sendPhoto", since=since
        )

        # Newer photos push the oldest out too ([garments] pending_per_user = 2).
        asked = []
        for _ in range(3):
            since = fake.mark()
            fake.push_photo(ANN, an_outfit(world))
            asked.append(await question(fake, ANN, since))
        qid = fake.press(asked[0].result, text="2 👖 Pants")["callback_query"]["id"]
        await fake.wait_until(lambda: fake.callback_answer(qid), WAIT, "an answer")
        assert fake.callback_answer(qid)["text"] == "This photo has expired — please send it again."
        since = fake.mark()
        fake.press(asked[2].result, text="2 👖 Pants")
        assert product_ids(await next_album(fake, ANN, since))
    assert not fake.unanswered_callback_queries()


async def test_a_garment_question_answers_only_its_asker(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    group = -7_100_001
    fake.user(ANN, language_code="en")
    fake.user(MINJI, language_code="ko")
    async with garment_bot(make_settings, PlantedSegmenter(TOP_AND_PANTS)):
        since = fake.mark()
        fake.push_photo(group, an_outfit(world), user=ANN)
        asked = await question(fake, group, since)
        since = fake.mark()
        for label in ("2 👖 Pants", "🖼 Whole photo"):
            qid = fake.press(asked.result, text=label, user=MINJI)["callback_query"]["id"]
            await fake.wait_until(lambda qid=qid: fake.callback_answer(qid), WAIT, "an answer")
            assert (
                fake.callback_answer(qid)["text"]
                == "다른 사람의 검색 결과예요. 직접 사진을 보내 검색해 보세요."
            )
        assert not fake.calls_of("sendMediaGroup", since=since)
        fake.press(asked.result, text="2 👖 Pants", user=ANN)
        assert in_categories(world, product_ids(await next_album(fake, group, since)), "003")
    assert not fake.unanswered_callback_queries()


async def test_one_garment_is_searched_at_once_with_a_whole_photo_button(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    photo = an_outfit(world)
    pants_only = PlantedSegmenter({"Pants": (0.1, 0.5, 0.9, 1.0), "Face": (0.3, 0.0, 0.7, 0.2)})
    async with garment_bot(make_settings, pants_only) as app:
        since = fake.mark()
        fake.push_photo(ANN, photo)
        album = await next_album(fake, ANN, since)
        assert not fake.calls_of("sendPhoto", since=since)  # no question
        ids = product_ids(album)
        assert in_categories(world, ids, "003")
        keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
        assert message_text(keyboard).startswith("🔎 👖 Pants · results 1–")
        since = fake.mark()
        fake.press(keyboard.result, text="🖼 Whole photo")
        whole = await next_album(fake, ANN, since)
        expected = await services(app).search.search_image(photo, limit=6)
        assert product_ids(whole) == [item.product.id for item in expected.items]


async def test_no_garment_falls_back_to_the_whole_photo(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    target = world.products[3]
    photo = world.musinsa.image_bytes(target.id)
    skin_only = PlantedSegmenter(
        {"Hair": (0, 0, 1, 0.2), "Face": (0.2, 0.2, 0.8, 0.4), "Bag": (0.0, 0.9, 0.1, 1.0)}  # bag: 1 %
    )
    async with garment_bot(make_settings, skin_only) as app:
        since = fake.mark()
        fake.push_photo(ANN, photo)
        album = await next_album(fake, ANN, since)
        ids = product_ids(album)
        assert ids[0] == target.id and len(ids) == 6
        assert not fake.calls_of("sendPhoto", since=since)
        keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
        assert message_text(keyboard) == "🔎 Results 1–6 · All"
        assert "🖼 Whole photo" not in [b["text"] for b in buttons(keyboard)]
        assert skin_only.sizes and len(services(app).pending) == 0


async def test_the_users_category_wins_over_the_garments(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    async with garment_bot(make_settings, PlantedSegmenter(TOP_AND_PANTS)):
        since = fake.mark()
        fake.push_message(ANN, "/category outer")
        await next_text(fake, ANN, since)
        since = fake.mark()
        fake.push_photo(ANN, an_outfit(world))
        asked = await question(fake, ANN, since)
        since = fake.mark()
        fake.press(asked.result, text="2 👖 Pants")
        album = await next_album(fake, ANN, since)
        assert in_categories(world, product_ids(album), "002")
        keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
        assert message_text(keyboard).endswith(" · outer")
        assert message_text(keyboard).startswith("🔎 👖 Pants · results 1–")


async def test_a_picked_garment_is_searched_with_the_photos_caption_and_filters(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    """The pending photo keeps the scope it was sent with: the caption's price and the saved filters
    apply to the garment picked later, in the garment's own categories."""
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    async with garment_bot(make_settings, PlantedSegmenter(TOP_AND_PANTS)) as app:
        since = fake.mark()
        fake.push_photo(ANN, an_outfit(world), caption="under 100000")
        asked = await question(fake, ANN, since)
        assert pending_photo(app, asked).scope.filters.max_price == 100_000
        since = fake.mark()
        fake.press(asked.result, text="1 👕 Top")
        album = await next_album(fake, ANN, since)
        ids = product_ids(album)
        assert in_categories(world, ids, "001", "002")
        assert all(world.product(i).effective_price <= 100_000 and not world.product(i).sold_out for i in ids)


async def test_an_image_sent_as_a_file_gets_the_same_question(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    async with garment_bot(make_settings, PlantedSegmenter(TOP_AND_PANTS), crop_mode="cutout") as app:
        since = fake.mark()
        fake.push_document(MINJI, an_outfit(world, image_format="PNG"), "image/png", file_name="outfit.png")
        asked = await question(fake, MINJI, since)
        assert asked.result["caption"].startswith("사진에서 아이템 2개를 찾았어요.")
        assert [b["text"] for b in buttons(asked)] == ["1 👕 상의", "2 👖 바지", "🖼 전체 사진"]
        since = fake.mark()
        fake.press(asked.result, text="1 👕 상의")
        album = await next_album(fake, MINJI, since)
        assert in_categories(world, product_ids(album), "001", "002")
        keyboard = await next_text(fake, MINJI, album.index, with_buttons=True)
        assert message_text(keyboard).startswith("🔎 👕 상의 · 검색 결과 1–")
        assert "🖼 전체 사진" in [b["text"] for b in buttons(keyboard)]
        pending = pending_photo(app, asked)
        assert pending.garments[0].box == (0, 0, 96, 112)


async def test_an_unavailable_parser_searches_the_whole_photo_and_says_why_once(
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    world: World,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    settings = make_settings(garments=GarmentSettings(model=str(tmp_path / "no-model-here")))
    caplog.set_level(logging.WARNING, logger="indexer.clothes_parser")
    async with running(build_application(settings)) as app:
        for target in world.products[:2]:
            since = fake.mark()
            fake.push_photo(ANN, world.musinsa.image_bytes(target.id))
            album = await next_album(fake, ANN, since)
            assert product_ids(album)[0] == target.id
            await next_text(fake, ANN, album.index, with_buttons=True)  # the search is over
            assert not fake.calls_of("sendPhoto", since=since)
        assert services(app).garments.parser.state == "unavailable"
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("indexer.clothes_parser")]
    assert len(warnings) == 1
    assert "photos are searched whole" in warnings[0] and "[garments] model = " in warnings[0]


class BrokenSegmenter(PlantedSegmenter):
    def segment(self, image: Image.Image) -> np.ndarray:
        raise RuntimeError("out of memory (planted)")


async def test_a_parser_failure_costs_the_pick_not_the_search(
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = fake_telegram
    fake.user(ANN, language_code="en")
    target = world.products[7]
    async with garment_bot(make_settings, BrokenSegmenter(TOP_AND_PANTS)):
        since = fake.mark()
        fake.push_photo(ANN, world.musinsa.image_bytes(target.id))
        album = await next_album(fake, ANN, since)
        assert product_ids(album)[0] == target.id
        assert not fake.calls_of("sendPhoto", since=since)
    assert "the garment parser failed on a photo: searching it whole" in caplog.text
    assert "out of memory (planted)" in caplog.text


async def test_the_bot_loads_the_parser_at_start_up_not_on_the_first_photo(
    make_settings: Callable[..., Settings], tiny_segformer_dir: Path
) -> None:
    settings = make_settings(garments=GarmentSettings(model=str(tiny_segformer_dir)))
    async with running(build_application(settings)) as app:
        parser = services(app).garments.parser
        for _ in range(300):  # no photo is sent: only the start-up load can make it ready
            if parser.state != "not_loaded":
                break
            await asyncio.sleep(0.1)
        assert parser.state == "ready", parser.error


async def test_a_photo_never_waits_for_the_parser_loading_in_the_background(world: World) -> None:
    settings = GarmentSettings(padding=0.0)
    release = threading.Event()

    def slow_load() -> GarmentParser:
        release.wait(60)  # a download, or a Hub that does not answer
        return GarmentParser(PlantedSegmenter(TOP_AND_PANTS), settings)

    finder = GarmentFinder(settings, ImageSettings(), LazyGarmentParser(settings, loader=slow_load))
    loading = asyncio.create_task(finder.preload())
    await asyncio.sleep(0.05)
    try:
        # Searched whole at once: find() does not block on the load (wait_for would time out).
        assert await asyncio.wait_for(finder.find(an_outfit(world)), 10) is None
    finally:
        release.set()
    await loading
    found = await finder.find(an_outfit(world))
    assert found is not None and [g.label for g in found.garments] == ["upper-clothes", "pants"]
