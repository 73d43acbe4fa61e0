"""The nightly sync inside the bot: the daily job, the start-up sync of an empty index, /sync and /stats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import build_application
from indexer.config import ScheduleSettings, Settings
from indexer.schedule import JOB_NAME
from indexer.store import open_catalog
from tests.bot.conftest import World
from tests.bot.world import ADMIN, WAIT, message_text, next_album, next_text, product_ids, running
from tests.fakes.musinsa import LISTING_PATH, Fault
from tests.fakes.musinsa_catalog import DEFAULT_CATEGORIES
from tests.fakes.telegram import FakeTelegram

ANN = 6161


def sync_settings(make_settings: Callable[..., Settings], **kwargs: object) -> Settings:
    """Settings whose sync crawls the same leaf categories the session's index was built from."""
    settings = make_settings(**kwargs)
    musinsa = settings.musinsa.model_copy(update={"categories": list(DEFAULT_CATEGORIES)})
    return settings.model_copy(update={"musinsa": musinsa})


async def command(fake: FakeTelegram, chat_id: int, text: str) -> str:
    since = fake.mark()
    fake.push_message(chat_id, text)
    return message_text(await next_text(fake, chat_id, since))


async def test_the_nightly_job_is_scheduled_at_nightly_at_in_the_configured_zone(
    make_settings: Callable[..., Settings],
) -> None:
    schedule = ScheduleSettings(nightly_at="03:30", timezone="Asia/Seoul", sync_when_empty=False)
    async with running(build_application(make_settings(schedule=schedule))) as app:
        assert app.job_queue is not None
        [job] = app.job_queue.get_jobs_by_name(JOB_NAME)
        due = job.next_t
        assert due is not None
        local = due.astimezone(ZoneInfo("Asia/Seoul"))
        assert (local.hour, local.minute) == (3, 30)
        assert timedelta(0) < due - datetime.now(UTC) <= timedelta(days=1)
        assert job.job.misfire_grace_time == schedule.misfire_grace_seconds
        assert job.job.max_instances == 1 and job.job.coalesce


async def test_no_job_when_the_schedule_is_disabled(make_settings: Callable[..., Settings]) -> None:
    async with running(build_application(make_settings(schedule=ScheduleSettings(enabled=False)))) as app:
        assert app.job_queue is not None
        assert app.job_queue.get_jobs_by_name(JOB_NAME) == ()


async def test_an_empty_index_is_synced_at_start_and_then_answers_photos(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World, tmp_path: Path
) -> None:
    fake = fake_telegram
    store = tmp_path / "empty-index"
    settings = sync_settings(make_settings, store=store, schedule=ScheduleSettings(sync_when_empty=True))
    async with running(build_application(settings)) as app:
        services = app.bot_data["snapfit.services"]
        nightly = services.nightly
        await fake.wait_until(lambda: nightly.last_summary is not None, WAIT, "the start-up sync")
        summary = nightly.last_summary
        assert summary.ok, summary.error
        on_musinsa = len(world.products) + len(world.not_indexed)
        assert (summary.crawled, summary.added) == (on_musinsa, on_musinsa)
        assert await services.catalog.count() == on_musinsa

        product = world.products[3]
        since = fake.mark()
        fake.push_photo(ANN, world.musinsa.image_bytes(product.id), language_code="en")
        album = await next_album(fake, ANN, since)
        assert product_ids(album)[0] == product.id


async def test_admin_sync_reports_its_summary_and_others_are_refused(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ADMIN, language_code="en")
    fake.user(ANN, language_code="en")
    async with running(build_application(sync_settings(make_settings))) as app:
        assert await command(fake, ANN, "/sync") == "Sorry, that command is only for the bot's admins."
        assert app.bot_data["snapfit.services"].nightly.last_summary is None

        since = fake.mark()
        fake.push_message(ADMIN, "/sync")
        started = await next_text(fake, ADMIN, since)
        assert message_text(started).startswith("🔄 Sync started.")
        report = message_text(await next_text(fake, ADMIN, started.index + 1))
        # The session's index lacks the products it left out on purpose: the sync adds exactly them.
        indexed, missing = len(world.products), len(world.not_indexed)
        assert report.startswith("Last sync (")
        counts = f"{indexed + missing} crawled, {missing} added, 0 updated, {indexed} unchanged, 0 removed"
        assert f"{counts}, 0 failed" in report
        catalog = app.bot_data["snapfit.services"].catalog
        assert {item.product.id for item in await catalog.get(world.not_indexed)} == set(world.not_indexed)

        stats = await command(fake, ADMIN, "/stats")
        assert f"{missing} added" in stats
        assert "Next nightly sync: " in stats and "(Asia/Seoul)" in stats


async def test_the_sync_report_says_when_a_category_could_not_be_crawled(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ADMIN, language_code="en")
    broken = DEFAULT_CATEGORIES[0]
    world.musinsa.faults.next(
        Fault.http(404),
        times=1000,
        match=lambda request: request.path == LISTING_PATH and request.query.get("category") == broken,
    )
    try:
        async with running(build_application(sync_settings(make_settings))) as app:
            since = fake.mark()
            fake.push_message(ADMIN, "/sync")
            started = await next_text(fake, ADMIN, since)
            report = message_text(await next_text(fake, ADMIN, started.index + 1))
            summary = app.bot_data["snapfit.services"].nightly.last_summary
    finally:
        world.musinsa.faults.clear()
    assert summary.ok and not summary.complete and summary.incomplete_categories == [broken]
    assert f"⚠️ Incomplete: the crawl of {broken} was cut short" in report


async def test_a_second_sync_while_one_runs_is_refused(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World
) -> None:
    fake = fake_telegram
    fake.user(ADMIN, language_code="ko")
    # The first listing answer is slow, so the first sync is certainly still running.
    world.musinsa.faults.next(Fault.slow(1.5), match=LISTING_PATH)
    async with running(build_application(sync_settings(make_settings))) as app:
        nightly = app.bot_data["snapfit.services"].nightly
        since = fake.mark()
        fake.push_message(ADMIN, "/sync")
        started = await next_text(fake, ADMIN, since)
        assert message_text(started).startswith("🔄 동기화를 시작했어요.")
        assert nightly.running
        assert await command(fake, ADMIN, "/sync") == (
            "이미 동기화가 진행 중이에요. 끝나면 /stats에서 요약을 볼 수 있어요."
        )
        stats = await command(fake, ADMIN, "/stats")
        assert "🔄 동기화 진행 중" in stats and "마지막 동기화: 아직 없어요." in stats
        report = await fake.wait_for(
            "sendMessage",
            lambda call: (
                call.params.get("chat_id") == ADMIN and call.result["text"].startswith("마지막 동기화 (")
            ),
            WAIT,
            ok=True,
            since=started.index + 1,
        )
        assert "추가 2" in message_text(report)
    assert nightly.skipped == 1


async def test_shutting_down_during_a_sync_cancels_it_and_keeps_the_index(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram, world: World, store_dir: Path
) -> None:
    fake = fake_telegram
    fake.user(ADMIN, language_code="en")
    world.musinsa.faults.next(Fault.slow(3.0), match=LISTING_PATH)
    async with running(build_application(sync_settings(make_settings))) as app:
        nightly = app.bot_data["snapfit.services"].nightly
        since = fake.mark()
        fake.push_message(ADMIN, "/sync")
        await next_text(fake, ADMIN, since)
        assert nightly.running
    # post_shutdown cancelled the sync and closed the index; the index is intact and reopenable.
    assert not nightly.running
    catalog = await open_catalog(make_settings().store)
    try:
        assert await catalog.count() == len(world.products)
    finally:
        await catalog.close()
