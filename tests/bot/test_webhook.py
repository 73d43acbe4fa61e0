"""Webhook mode: updates reach the bot by POST from the fake Bot API with the secret header; a request
without the right secret is refused (403) and nothing of it is processed."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from telegram.ext import Application

from bot.app import build_application
from bot.cli import app
from bot.webhook import WebhookOptions, webhook_options
from indexer.config import Settings
from tests.bot.conftest import World
from tests.bot.test_cli_bot import one_line, runner, telegram_in_thread, telegram_section, write_config
from tests.bot.world import next_album, next_text, product_ids, running
from tests.fakes.telegram import FakeTelegram

ANN = 5151
EVE = 6161
WEBHOOK_URL = "https://bot.example.test/telegram/hook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def webhook_bot(
    fake_telegram: FakeTelegram, make_settings: Callable[..., Settings]
) -> AsyncIterator[tuple[Application, WebhookOptions]]:  # type: ignore[type-arg]
    """The bot in webhook mode on a free local port; the fake delivers there."""
    port = free_port()
    settings = make_settings(webhook_url=WEBHOOK_URL, webhook_port=port)
    options = webhook_options(settings.telegram)
    assert options is not None
    fake_telegram.webhook_origin = f"http://127.0.0.1:{port}"
    fake_telegram.webhook_delivery.retry_seconds = 0.1
    async with running(build_application(settings), options) as app:
        yield app, options


def test_webhook_options_follow_the_settings(make_settings: Callable[..., Settings]) -> None:
    assert webhook_options(make_settings().telegram) is None  # no webhook_url: long polling
    fixed = webhook_options(
        make_settings(webhook_url=WEBHOOK_URL, webhook_listen="0.0.0.0", secret_token="fixed-secret").telegram
    )
    assert fixed is not None
    assert (fixed.url, fixed.listen, fixed.port, fixed.url_path, fixed.secret_token) == (
        WEBHOOK_URL,
        "0.0.0.0",
        8080,
        "telegram/hook",
        "fixed-secret",
    )
    assert "fixed-secret" not in repr(fixed)
    made = [webhook_options(make_settings(webhook_url=WEBHOOK_URL).telegram) for _ in range(2)]
    secrets = [options.secret_token for options in made if options is not None]
    assert len(set(secrets)) == 2 and all(len(secret) >= 32 for secret in secrets)


async def test_a_photo_through_the_webhook_gets_the_album(
    fake_telegram: FakeTelegram, world: World, webhook_bot: tuple[Application, WebhookOptions]
) -> None:
    fake = fake_telegram
    _, options = webhook_bot
    registered = fake.calls_of("setWebhook", ok=True)[-1]
    assert registered.params["url"] == WEBHOOK_URL
    assert registered.params["secret_token"] == options.secret_token
    assert registered.params["allowed_updates"] == ["message", "callback_query"]
    fake.user(ANN, "Ann", language_code="en")
    target = world.products[5]
    since = fake.mark()
    fake.push_photo(ANN, world.musinsa.image_bytes(target.id))
    album = await next_album(fake, ANN, since)
    assert product_ids(album)[0] == target.id
    await next_text(fake, ANN, album.index, with_buttons=True)
    await fake.wait_until(lambda: not fake.pending_updates, 10, "the photo's update confirmed")
    assert fake.webhook_posts and fake.webhook_posts[-1].delivered
    assert all(post.url == f"{fake.webhook_origin}/telegram/hook" for post in fake.webhook_posts)
    assert not fake.calls_of("getUpdates")  # no polling in webhook mode


async def test_posts_without_the_right_secret_are_refused_and_not_processed(
    fake_telegram: FakeTelegram, webhook_bot: tuple[Application, WebhookOptions]
) -> None:
    fake = fake_telegram
    _, options = webhook_bot
    eve = fake.user(EVE, "Eve", language_code="en")
    forged = {
        "update_id": 900_000,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": EVE, "type": "private", "first_name": "Eve"},
            "from": eve.to_json(),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    url = f"http://127.0.0.1:{options.port}/{options.url_path}"
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {SECRET_HEADER: "wrong-secret"}, {SECRET_HEADER: options.secret_token[:-1]}):
            async with session.post(url, json=forged, headers=headers) as response:
                assert response.status == 403, headers
    # A genuine update sent after the forged ones is answered; the forged ones never were.
    fake.user(ANN, "Ann", language_code="en")
    since = fake.mark()
    fake.push_message(ANN, "/start")
    await next_text(fake, ANN, since)
    assert not [call for call in fake.calls if call.params.get("chat_id") == EVE]


def test_run_webhook_startup_errors_are_one_line(
    world: World, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    with telegram_in_thread() as fake, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = write_config(
            tmp_path / "busy.toml",
            world,
            store_dir,
            telegram={**telegram_section(fake), "webhook_url": WEBHOOK_URL, "webhook_port": port},
        )
        result = runner.invoke(app, ["run", "--config", str(busy)])
        assert result.exit_code == 1
        assert one_line(result).startswith(
            f"snapfit: cannot listen for webhook updates on 127.0.0.1:{port}: "
        )
        assert not fake.calls_of("setWebhook")  # refused before Telegram is told anything

        fake.fail_next(
            "setWebhook", 400, "Bad Request: bad webhook: Failed to resolve host: Name or service not known"
        )
        refused = write_config(
            tmp_path / "refused.toml",
            world,
            store_dir,
            telegram={**telegram_section(fake), "webhook_url": WEBHOOK_URL, "webhook_port": free_port()},
        )
        result = runner.invoke(app, ["run", "--config", str(refused)])
        assert result.exit_code == 1
        # python-telegram-bot logs the refused setWebhook itself (an ERROR record) before snapfit's line.
        assert result.stderr.strip().splitlines()[-1] == (
            f"snapfit: Telegram refused the webhook {WEBHOOK_URL}: "
            "Bad webhook: failed to resolve host: name or service not known"
        )
