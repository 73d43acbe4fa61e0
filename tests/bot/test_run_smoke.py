"""The real processes: ``snapfit sync`` builds the index from the fake Musinsa, then ``snapfit run``
against the fake Bot API answers a photo with an album from it and stops cleanly on SIGTERM; the same
for ``snapfit run`` in webhook mode."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from tests.bot.conftest import World
from tests.bot.test_cli_bot import telegram_section, write_config
from tests.bot.world import next_album, next_text, product_ids
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram_ptb import TEST_TOKEN

REPO = Path(__file__).resolve().parents[2]
ANN = 7171
STARTUP = 180.0  # importing torch and open_clip in a fresh process on a busy machine


@contextlib.asynccontextmanager
async def snapfit_run(
    config: Path, env: dict[str, str], cwd: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``snapfit run`` as its own process, its output in ``cwd/snapfit.log``; killed if a check fails."""
    with (cwd / "snapfit.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(config),
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def answers_a_photo_then_stops(
    fake: FakeTelegram, world: World, process: asyncio.subprocess.Process, product: int
) -> int:
    """A photo of the ``product``-th product on sale (sold-out ones are hidden from searches) gets its
    album and buttons; SIGTERM then stops the process."""
    fake.user(ANN, "Ann", language_code="en")
    target = [candidate for candidate in world.products if not candidate.sold_out][product]
    since = fake.mark()
    fake.push_photo(ANN, world.musinsa.image_bytes(target.id))
    album = await next_album(fake, ANN, since)
    assert product_ids(album)[0] == target.id
    await next_text(fake, ANN, album.index, with_buttons=True)
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 60)


async def test_snapfit_sync_then_run_answers_a_photo_and_stops_cleanly(
    fake_telegram: FakeTelegram, world: World, tmp_path: Path
) -> None:
    fake = fake_telegram
    store_dir = tmp_path / "qdrant"  # empty: `snapfit sync` builds it
    config = write_config(tmp_path / "config.toml", world, store_dir, telegram=telegram_section(fake))
    env = {**os.environ, "PYTHONPATH": str(REPO), "PTB_TIMEDELTA": "1"}
    sync = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sync",
        "--config",
        str(config),
        "--json",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(sync.communicate(), STARTUP)
    assert sync.returncode == 0, err.decode(errors="replace")
    summary = json.loads(out)
    on_musinsa = len(world.products) + len(world.not_indexed)
    assert (summary["crawled"], summary["added"], summary["failed"]) == (on_musinsa, on_musinsa, 0)
    async with snapfit_run(config, env, tmp_path) as process:
        await fake.wait_for("deleteWebhook", timeout=STARTUP)
        await fake.wait_for("getUpdates", timeout=30)
        assert [c["command"] for c in fake.commands({"type": "all_private_chats"})][:2] == ["start", "help"]
        returncode = await answers_a_photo_then_stops(fake, world, process, 3)
    output = (tmp_path / "snapfit.log").read_text(encoding="utf-8", errors="replace")
    assert returncode == 0, output
    assert "Traceback" not in output
    assert TEST_TOKEN not in output and TEST_TOKEN.split(":", 1)[1] not in output
    # The updates it fetched were confirmed before it stopped: nothing is delivered twice.
    assert not fake.pending_updates


async def test_snapfit_run_in_webhook_mode_answers_a_photo_and_stops_cleanly(
    fake_telegram: FakeTelegram, world: World, store_dir: Path, tmp_path: Path
) -> None:
    fake = fake_telegram
    port = free_port()
    fake.webhook_origin = f"http://127.0.0.1:{port}"
    fake.webhook_delivery.retry_seconds = 0.2
    webhook = {"webhook_url": "https://bot.example.test/hook", "webhook_port": port}
    config = write_config(
        tmp_path / "config.toml", world, store_dir, telegram={**telegram_section(fake), **webhook}
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PTB_TIMEDELTA": "1",
        # DEBUG: python-telegram-bot logs every request's parameters, setWebhook's secret among them.
        "SNAPFIT_LOGGING__LEVEL": "DEBUG",
        # The session's index was built in this process at fp32 (see tests/conftest.py).
        "SNAPFIT_MODEL__PRECISION": "fp32",
    }
    async with snapfit_run(config, env, tmp_path) as process:
        registered = await fake.wait_for("setWebhook", ok=True, timeout=STARTUP)
        secret = registered.params["secret_token"]
        assert registered.params["url"] == "https://bot.example.test/hook" and len(secret) >= 32
        returncode = await answers_a_photo_then_stops(fake, world, process, 7)
    output = (tmp_path / "snapfit.log").read_text(encoding="utf-8", errors="replace")
    assert returncode == 0, output
    assert "Traceback" not in output
    assert secret not in output and TEST_TOKEN.split(":", 1)[1] not in output
    assert not fake.calls_of("getUpdates") and not fake.pending_updates
    assert fake.webhook_posts[-1].delivered


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
