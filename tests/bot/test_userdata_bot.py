"""The running bot with a user store it cannot use: it starts, searches work, settings live in memory,
and ``/healthz`` (still 200) names the user store as degraded with the reason."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bot.app import build_application
from bot.userdata import USERS_FILE
from indexer.config import Settings
from tests.bot.conftest import World
from tests.bot.test_bot_monitoring import port_of, scrape
from tests.bot.test_commands import MINJI, command
from tests.bot.userdata_support import read, write
from tests.bot.world import next_album, next_text, product_ids, running
from tests.fakes.telegram import FakeTelegram

GARBAGE = b"\x00this is not an SQLite database\xff" * 200


async def test_a_corrupt_user_store_degrades_the_bot_but_searches_work(
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = fake_telegram
    fake.user(MINJI, language_code="ko")
    settings = make_settings()
    settings.data.path.mkdir(parents=True, exist_ok=True)
    users = settings.data.path / USERS_FILE
    write(users, GARBAGE)
    async with running(build_application(settings)) as app:
        port = port_of(app)
        status, body = await scrape(port, "/healthz")
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok"
        store = health["components"]["user_store"]
        assert store["state"] == "degraded"
        assert f"{users} is corrupt (not an SQLite database)" in store["reason"]
        assert "kept in memory only" in store["reason"]
        assert health["degraded"] == [f"user_store: {store['reason']}"]
        # Searches work; a chosen category holds while the bot runs.
        since = fake.mark()
        fake.push_photo(MINJI, world.musinsa.image_bytes(world.products[0].id))
        album = await next_album(fake, MINJI, since)
        assert product_ids(album)
        await next_text(fake, MINJI, album.index, with_buttons=True)  # the results header
        assert (await command(fake, MINJI, "/category 신발")).startswith("카테고리를 신발(으)로")
        assert "현재 카테고리: 신발" in await command(fake, MINJI, "/help")
    assert caplog.text.count("user store unavailable") == 1  # the log says why, once
    assert read(users) == GARBAGE  # left for the operator to restore or move aside
    async with running(build_application(settings)):  # the in-memory choice did not survive
        assert "현재 카테고리: 전체" in await command(fake, MINJI, "/help")


async def test_a_working_user_store_is_ok_in_healthz(
    make_settings: Callable[..., Settings], fake_telegram: FakeTelegram
) -> None:
    async with running(build_application(make_settings())) as app:
        status, body = await scrape(port_of(app), "/healthz")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok"
    assert health["components"] == {"user_store": {"state": "ok", "reason": None}}
    assert health["degraded"] == []
