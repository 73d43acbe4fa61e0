"""``/metrics`` and ``/healthz`` of the running bot, after real searches through the fake Telegram."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from telegram.ext import Application

from bot.app import build_application
from bot.search_metrics import MONITORING_KEY
from bot.timing import STAGES
from indexer.config import MetricsSettings, Settings
from indexer.monitoring import Monitoring
from tests.bot.conftest import World
from tests.bot.world import WAIT, next_album, next_text, running, services
from tests.fakes.telegram import FakeTelegram

ANN = 5151

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(port: int, path: str = "/metrics") -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


def parse(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def get(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def metrics_when(port: int, condition: Callable[[Samples], bool], what: str) -> Samples:
    """Scrape until ``condition`` holds (a search is recorded just after its last reply is sent)."""
    deadline = time.monotonic() + WAIT
    while True:
        status, text = await scrape(port)
        assert status == 200
        samples = parse(text)
        if condition(samples):
            return samples
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def port_of(app: Application) -> int:  # type: ignore[type-arg]
    monitoring: Monitoring = app.bot_data[MONITORING_KEY]
    assert monitoring.port
    return monitoring.port


async def test_metrics_after_a_photo_search_and_a_similar_button(
    bot: Application,  # type: ignore[type-arg]
    fake_telegram: FakeTelegram,
    world: World,
) -> None:
    fake = fake_telegram
    port = port_of(bot)
    before = parse((await scrape(port))[1])
    assert get(before, "snapfit_requests_total", kind="photo", outcome="ok") == 0
    assert get(before, "snapfit_build_info", version=_version(before), process="bot") == 1

    fake.user(ANN, "Ann", language_code="en")
    since = fake.mark()
    fake.push_photo(ANN, world.musinsa.image_bytes(world.products[2].id))
    album = await next_album(fake, ANN, since)
    keyboard = await next_text(fake, ANN, album.index, with_buttons=True)
    samples = await metrics_when(
        port,
        lambda s: get(s, "snapfit_requests_total", kind="photo", outcome="ok") == 1,
        "the photo search to be counted",
    )
    # The garment parser is off in these tests, so a photo has every stage but "parse" and "analyse"
    # (a text search's), which stay at 0.
    for stage in ("parse", "analyse"):
        assert get(samples, "snapfit_stage_duration_seconds_count", kind="photo", stage=stage) == 0
    for stage in (stage for stage in STAGES if stage not in ("parse", "analyse")):
        assert get(samples, "snapfit_stage_duration_seconds_count", kind="photo", stage=stage) == 1, stage
        assert (
            get(samples, "snapfit_stage_duration_seconds_bucket", kind="photo", stage=stage, le="+Inf") == 1
        )
    assert get(samples, "snapfit_request_duration_seconds_count", kind="photo") == 1
    total = get(samples, "snapfit_request_duration_seconds_sum", kind="photo")
    assert total is not None and total > 0
    # The album's product photos came through the paced image client; the photo was embedded.
    downloads = get(samples, "snapfit_musinsa_requests_total", client="images")
    assert downloads is not None and downloads >= 6
    assert get(samples, "snapfit_musinsa_retries_total", client="images") == 0
    assert get(samples, "snapfit_encoder_images_total") == 1
    assert get(samples, "snapfit_encoder_busy_rejections_total") == 0
    # The index as the bot serves it.
    assert get(samples, "snapfit_store_up") == 1
    assert get(samples, "snapfit_index_products") == len(world.products)
    per_category = {
        labels: count
        for (name, labels), count in samples.items()
        if name == "snapfit_index_category_products"
    }
    assert sum(per_category.values()) == len(world.products)
    assert (("category", "001"), ("name", "tops")) in per_category

    since = fake.mark()
    fake.press(keyboard.result, text="Similar #2")
    await next_album(fake, ANN, since)
    samples = await metrics_when(
        port,
        lambda s: get(s, "snapfit_requests_total", kind="similar", outcome="ok") == 1,
        "the similar search to be counted",
    )
    assert get(samples, "snapfit_stage_duration_seconds_count", kind="similar", stage="search") == 1
    assert get(samples, "snapfit_requests_total", kind="photo", outcome="ok") == 1


async def test_healthz_follows_the_store(
    bot: Application,  # type: ignore[type-arg]
    world: World,
) -> None:
    port = port_of(bot)
    status, body = await scrape(port, "/healthz")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok" and health["process"] == "bot"
    assert health["store"]["reachable"] and health["store"]["products"] == len(world.products)
    assert health["store"]["backend"] == "edge"
    assert health["sync"]["running"] is False and health["sync"]["stale"] is False

    await services(bot).catalog.close()  # the index is gone from under the bot
    status, body = await scrape(port, "/healthz")
    health = json.loads(body)
    assert status == 503 and health["status"] == "unhealthy"
    assert health["reasons"] == ["store unreachable: the catalog is closed"]
    assert get(parse((await scrape(port))[1]), "snapfit_store_up") == 0


async def test_the_bots_musinsa_breakers_are_reported_and_do_not_fail_healthz(
    bot: Application,  # type: ignore[type-arg]
) -> None:
    port = port_of(bot)
    downloads = services(bot).image_downloads
    assert get(parse((await scrape(port))[1]), "snapfit_musinsa_breaker_open", client="images") == 0
    host = "https://image.msscdn.net"
    for _ in range(downloads.breaker.threshold):
        downloads.breaker.record(host, blocked=True)
    status, body = await scrape(port, "/healthz")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok"
    assert health["musinsa_breakers"]["images"]["state"] == "open"
    assert health["musinsa_breakers"]["images"]["open_hosts"] == [host]
    assert health["musinsa_breakers"]["product_pages"]["state"] == "closed"
    samples = parse((await scrape(port))[1])
    assert get(samples, "snapfit_musinsa_breaker_open", client="images") == 1
    assert get(samples, "snapfit_musinsa_breaker_open", client="product_pages") == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_disabled_metrics_open_no_port(make_settings: Callable[..., Settings]) -> None:
    port = free_port()
    settings = make_settings().model_copy(update={"metrics": MetricsSettings(enabled=False, port=port)})
    async with running(build_application(settings)) as app:
        assert MONITORING_KEY not in app.bot_data
        with pytest.raises(aiohttp.ClientConnectionError):
            await scrape(port, "/healthz")


def _version(samples: Samples) -> str:
    for name, labels in samples:
        if name == "snapfit_build_info":
            return dict(labels)["version"]
    raise AssertionError("no snapfit_build_info")
