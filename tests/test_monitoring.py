"""Metrics and health of one process: the series, the health verdicts, the HTTP endpoints."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.search_metrics import SEARCH_KINDS, SEARCH_METRIC_NAMES, SearchMetrics
from bot.timing import STAGES, StageTimings
from indexer.config import (
    DataSettings,
    MetricsSettings,
    MusinsaSettings,
    ScheduleSettings,
    Settings,
    StoreSettings,
)
from indexer.embedding.batcher import BatcherStats
from indexer.monitoring import Monitoring, MonitoringError
from indexer.monitoring.health import Health, HealthCheck
from indexer.monitoring.metrics import METRIC_NAMES, Metrics
from indexer.musinsa import MusinsaClient
from indexer.musinsa.models import RequestStats
from indexer.schedule import NightlySync
from indexer.store import Catalog, open_catalog
from indexer.sync import CategoryReport, SyncSummary, save_last_summary
from indexer.sync.readiness import sync_in_progress, sync_running
from tests.stocked_catalog import open_stocked_catalog

T0 = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(metrics: Metrics) -> str:
    """The text exposition of a process's registry, as prometheus_client renders it for /metrics."""
    return generate_latest(metrics.registry).decode()


def value(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def summary(*, at: datetime, ok: bool = True, **counts: Any) -> SyncSummary:
    done = SyncSummary(started_at=at - timedelta(minutes=30), model_id="m", **counts)
    done.finish(at)
    if not ok:
        done.error = "Musinsa blocked the crawl"
    return done


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# --------------------------------------------------------------------------------------- metrics


def test_a_search_counts_once_and_lands_in_every_stage_histogram() -> None:
    metrics = Metrics("bot")
    searches = SearchMetrics(metrics.registry)
    timings = StageTimings(
        seconds={"download": 0.2, "parse": 0.5, "decode": 0.01, "embed": 0.3, "search": 0.004, "reply": 0.7}
    )
    searches.observe_search("photo", "ok", timings)
    searches.observe_search(
        "photo", "bad_image:corrupt", StageTimings(seconds={"download": 0.1, "decode": 0.002})
    )
    text = scrape(metrics)
    assert value(text, "snapfit_requests_total", kind="photo", outcome="ok") == 1
    assert value(text, "snapfit_requests_total", kind="photo", outcome="bad_image:corrupt") == 1
    assert value(text, "snapfit_requests_total", kind="similar", outcome="ok") == 0  # present from the start
    assert value(text, "snapfit_request_duration_seconds_count", kind="photo") == 2
    assert value(text, "snapfit_request_duration_seconds_sum", kind="photo") == pytest.approx(1.714 + 0.102)
    for stage in timings.seconds:
        assert value(text, "snapfit_stage_duration_seconds_bucket", kind="photo", stage=stage, le="+Inf") >= 1
    for stage in STAGES:  # every kind's stages are there from the start, at 0 until one is timed
        assert value(text, "snapfit_stage_duration_seconds_count", kind="text", stage=stage) == 0
    # 0.3 s of embedding is above the 0.25 bucket and within the 0.5 one.
    assert value(text, "snapfit_stage_duration_seconds_bucket", kind="photo", stage="embed", le="0.25") == 0
    assert value(text, "snapfit_stage_duration_seconds_bucket", kind="photo", stage="embed", le="0.5") == 1
    assert value(text, "snapfit_stage_duration_seconds_count", kind="photo", stage="download") == 2
    assert value(text, "snapfit_stage_duration_seconds_count", kind="photo", stage="reply") == 1
    assert "_created" not in text


def test_client_and_batcher_counters_are_read_when_scraped() -> None:
    metrics = Metrics("bot")
    pages, batcher = RequestStats(), BatcherStats()
    metrics.watch_http("product_pages", lambda: pages)
    metrics.watch_batcher(lambda: batcher)
    pages.requests, pages.retries, pages.throttled = 7, 2, 1
    batcher.busy, batcher.batches, batcher.images = 3, 4, 9
    text = scrape(metrics)
    assert value(text, "snapfit_musinsa_requests_total", client="product_pages") == 7
    assert value(text, "snapfit_musinsa_retries_total", client="product_pages") == 2
    assert value(text, "snapfit_musinsa_throttled_total", client="product_pages") == 1
    assert value(text, "snapfit_encoder_busy_rejections_total") == 3
    assert value(text, "snapfit_encoder_images_total") == 9
    pages.retries = 5
    assert value(scrape(metrics), "snapfit_musinsa_retries_total", client="product_pages") == 5


async def test_each_sync_of_the_process_is_counted_with_its_requests() -> None:
    results = [
        summary(
            at=T0, crawled=10, http={"listing": {"requests": 4, "retries": 1}, "images": {"requests": 6}}
        ),
        summary(at=T0, ok=False, http={"listing": {"requests": 3, "retries": 3, "throttled": 3}}),
    ]

    async def run_once() -> SyncSummary:
        return results.pop(0)

    metrics = Metrics("indexer")
    nightly = NightlySync(run_once, ScheduleSettings())
    nightly.observers.append(metrics.observe_sync)
    await nightly.run("nightly")
    await nightly.run("admin /sync")
    text = scrape(metrics)
    assert value(text, "snapfit_sync_runs_total", result="ok") == 1
    assert value(text, "snapfit_sync_runs_total", result="failed") == 1
    assert value(text, "snapfit_musinsa_requests_total", client="sync_listing") == 7
    assert value(text, "snapfit_musinsa_retries_total", client="sync_listing") == 4
    assert value(text, "snapfit_musinsa_throttled_total", client="sync_listing") == 3
    assert value(text, "snapfit_musinsa_requests_total", client="sync_images") == 6
    assert (
        value(text, "snapfit_build_info", version=value_label(text, "snapfit_build_info"), process="indexer")
        == 1
    )
    # An indexer has no searches to pre-register.
    assert value(text, "snapfit_requests_total", kind="photo", outcome="ok") is None


def value_label(text: str, name: str) -> str:
    for (sample, labels), _ in samples(text).items():
        if sample == name:
            return dict(labels)["version"]
    raise AssertionError(f"no {name}")


def test_a_broken_observer_never_breaks_the_sync_engine(caplog: pytest.LogCaptureFixture) -> None:
    async def run_once() -> SyncSummary:
        return summary(at=T0)

    def broken(_: SyncSummary) -> None:
        raise RuntimeError("observer bug")

    nightly = NightlySync(run_once, ScheduleSettings())
    nightly.observers.append(broken)
    assert asyncio.run(nightly.run("nightly")) is not None
    assert "sync observer" in caplog.text


def test_the_help_of_requests_total_names_every_kind_of_search() -> None:
    metrics = Metrics("bot")
    SearchMetrics(metrics.registry)
    family = next(f for f in metrics.registry.collect() if f.name == "snapfit_requests")
    assert all(kind in family.documentation for kind in SEARCH_KINDS)
    assert "garment" in family.documentation


def test_the_last_sync_breakdown_sums_to_what_it_crawled_without_counting_twice(tmp_path: Path) -> None:
    last = summary(at=T0, crawled=10, added=3, updated=2, unchanged=4, failed=1, removed=0)
    check = health_check(tmp_path, Clock(T0))
    metrics = Metrics("indexer")
    metrics.update(Health("indexer", "ok", [], T0, sync=replace(check.sync_status(), last=last)))
    text = scrape(metrics)
    breakdown = {
        dict(labels)["change"]: number
        for (name, labels), number in samples(text).items()
        if name == "snapfit_sync_last_products"
    }
    assert "crawled" not in breakdown and sum(breakdown.values()) == 10
    assert value(text, "snapfit_sync_last_crawled") == 10


def exposed_series(registry: CollectorRegistry) -> set[str]:
    return {
        family.name + ("_total" if family.type == "counter" else "")
        for family in registry.collect()
        if family.name.startswith("snapfit_")
    }


def test_every_series_is_in_the_list_the_readme_is_checked_against() -> None:
    assert exposed_series(Metrics("indexer").registry) == set(METRIC_NAMES)
    bot = Metrics("bot")
    SearchMetrics(bot.registry)
    assert exposed_series(bot.registry) == set(METRIC_NAMES) | set(SEARCH_METRIC_NAMES)


# ---------------------------------------------------------------------------------------- health


def health_check(data_dir: Path, clock: Clock, **settings: Any) -> HealthCheck:
    return HealthCheck(MetricsSettings(**settings), process="bot", data_dir=data_dir, clock=clock)


async def test_sync_age_is_reported_and_judged_only_when_configured(tmp_path: Path) -> None:
    clock = Clock(T0)
    save_last_summary(tmp_path, summary(at=T0 - timedelta(hours=30), crawled=100, added=3))
    save_last_summary(tmp_path, summary(at=T0 - timedelta(hours=6), ok=False))
    catalog = await open_stocked_catalog()
    try:
        relaxed = health_check(tmp_path, clock)
        relaxed.attach(catalog)
        health = await relaxed.check()
        assert (health.status, health.http_status) == ("ok", 200)
        sync = health.to_json()["sync"]
        assert sync["last_ok"] is False and sync["last_error"] == "Musinsa blocked the crawl"
        assert sync["last_success_at"] == (T0 - timedelta(hours=30)).isoformat()
        assert sync["age_hours"] == 30 and sync["stale"] is False

        strict = health_check(tmp_path, clock, max_sync_age_hours=24)
        strict.attach(catalog)
        health = await strict.check()
        assert (health.status, health.http_status) == ("unhealthy", 503)
        assert "30.0 h ago" in health.reasons[0] and "max_sync_age_hours = 24" in health.reasons[0]

        # The metrics show the same: the last run failed, the last success 30 h ago.
        metrics = Metrics("bot")
        metrics.update(health)
        text = scrape(metrics)
        assert value(text, "snapfit_sync_last_success") == 0
        assert (
            value(text, "snapfit_sync_last_success_timestamp_seconds")
            == (T0 - timedelta(hours=30)).timestamp()
        )
        assert (
            value(text, "snapfit_sync_last_finished_timestamp_seconds")
            == (T0 - timedelta(hours=6)).timestamp()
        )
        assert value(text, "snapfit_sync_last_duration_seconds") == 1800
        assert value(text, "snapfit_store_up") == 1
        assert value(text, "snapfit_index_products") == 1
    finally:
        await catalog.close()


def incomplete(at: datetime) -> SyncSummary:
    """A sync that ended without an error, but whose crawl of 002 a fault cut short."""
    done = summary(at=at, crawled=5, added=5)
    done.categories = [
        CategoryReport("001", crawled=5, complete=True),
        CategoryReport("002", complete=False, reason="page 1 failed: HTTP 500", failed=True),
    ]
    return done


async def test_an_incomplete_sync_is_not_a_successful_one(tmp_path: Path) -> None:
    clock = Clock(T0)
    save_last_summary(tmp_path, summary(at=T0 - timedelta(hours=30), crawled=100))
    save_last_summary(tmp_path, incomplete(T0 - timedelta(hours=1)))
    catalog = await open_stocked_catalog()
    try:
        check = health_check(tmp_path, clock, max_sync_age_hours=24)
        check.attach(catalog)
        health = await check.check()
        assert health.status == "unhealthy" and "30.0 h ago" in health.reasons[0]
        sync = health.to_json()["sync"]
        assert (sync["last_ok"], sync["last_complete"]) == (True, False)
        assert sync["last_incomplete_categories"] == ["002"]
        assert sync["last_success_at"] == (T0 - timedelta(hours=30)).isoformat()
        metrics = Metrics("bot")
        metrics.update(health)
        text = scrape(metrics)
        assert value(text, "snapfit_sync_last_success") == 1
        assert value(text, "snapfit_sync_last_complete") == 0
        assert (
            value(text, "snapfit_sync_last_success_timestamp_seconds")
            == (T0 - timedelta(hours=30)).timestamp()
        )
    finally:
        await catalog.close()


async def test_a_deployment_that_never_synced_gets_max_sync_age_hours_for_its_first_sync(
    tmp_path: Path,
) -> None:
    clock = Clock(T0)
    catalog = await open_stocked_catalog()
    try:
        check = health_check(tmp_path, clock, max_sync_age_hours=12)
        check.attach(catalog)
        assert (await check.check()).status == "ok"
        clock.now = T0 + timedelta(hours=13)
        health = await check.check()
        assert health.status == "unhealthy"
        assert "no successful sync in the 12 h since this process started" in health.reasons[0]
        save_last_summary(tmp_path, summary(at=clock.now - timedelta(minutes=5)))
        assert (await check.check()).status == "ok"
    finally:
        await catalog.close()


ROBOTS_REFUSAL = (
    "robots.txt (https://api.musinsa.com/robots.txt) disallows https://api.musinsa.com/x for user agent "
    "'snapfit' by rule 'Disallow: /'; the index was not changed"
)


async def test_an_empty_index_is_unhealthy_with_the_reason_unless_a_sync_is_building_it(
    tmp_path: Path,
) -> None:
    catalog = await open_catalog(StoreSettings(url=":memory:"))
    gate = asyncio.Event()

    async def run_once() -> SyncSummary:
        await gate.wait()
        failed = summary(at=T0)
        failed.error = ROBOTS_REFUSAL
        return failed

    nightly = NightlySync(run_once, ScheduleSettings())
    check = health_check(tmp_path, Clock(T0))
    check.attach(catalog, nightly)
    try:
        health = await check.check()
        assert (health.status, health.http_status) == ("unhealthy", 503)
        assert health.reasons == [
            "the index is empty and no sync has run yet; next: run snapfit sync (or /sync)"
        ]

        task = nightly.start("empty index")
        assert task is not None
        await asyncio.sleep(0)
        assert nightly.running and (await check.check()).status == "ok"  # being built: not a fault

        gate.set()
        await task
        health = await check.check()
        assert health.http_status == 503
        [reason] = health.reasons
        assert reason.startswith("the index is empty: the last sync failed: robots.txt (")
        assert "next: check robots.txt permission (docs/crawling.md)" in reason
    finally:
        await catalog.close()


async def test_an_empty_index_that_another_process_is_syncing_is_being_built(tmp_path: Path) -> None:
    catalog = await open_catalog(StoreSettings(url=":memory:"))
    check = health_check(tmp_path, Clock(T0))
    check.attach(catalog)  # no sync engine of its own: the bot beside `snapfit schedule`
    try:
        with sync_in_progress(tmp_path):  # what run_sync holds in the other process
            assert sync_running(tmp_path)
            assert (await check.check()).status == "ok"
        assert not sync_running(tmp_path)
        assert (await check.check()).status == "unhealthy"
    finally:
        await catalog.close()


async def test_before_the_index_is_open_the_process_is_starting(tmp_path: Path) -> None:
    health = await health_check(tmp_path, Clock(T0)).check()
    assert (health.status, health.http_status) == ("starting", 503)


async def test_a_closed_catalog_is_an_unreachable_store(tmp_path: Path) -> None:
    catalog = await open_catalog(StoreSettings(path=str(tmp_path / "qdrant")))
    check = health_check(tmp_path, Clock(T0))
    check.attach(catalog)
    assert (await check.check()).store.reachable  # type: ignore[union-attr]
    await catalog.close()
    health = await check.check()
    assert health.status == "unhealthy"
    assert health.reasons == ["store unreachable: the catalog is closed"]


class QdrantStandIn:
    """Just enough of a Qdrant server's REST API for a catalog to open (no index yet); then it can
    stop answering (``hang``) or go away (``stop``), which is what the health check must notice."""

    def __init__(self) -> None:
        self.hang = False
        self._released = asyncio.Event()  # lets hanging requests go when the stand-in stops
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _answer(self, request: web.Request) -> web.Response:
        if self.hang:
            await asyncio.wait_for(self._released.wait(), 30)
        results: dict[str, Any] = {
            "/": {"title": "qdrant", "version": "1.19.0"},
            "/aliases": {"result": {"aliases": []}, "status": "ok", "time": 0.0},
            "/collections": {"result": {"collections": []}, "status": "ok", "time": 0.0},
        }
        if request.path not in results:
            return web.json_response({"status": {"error": "Not found"}}, status=404)
        return web.json_response(results[request.path])

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
async def qdrant() -> AsyncIterator[QdrantStandIn]:
    server = QdrantStandIn()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def server_catalog(qdrant: QdrantStandIn) -> AsyncIterator[Catalog]:
    catalog = await open_catalog(StoreSettings(url=qdrant.url, timeout_seconds=5))
    try:
        yield catalog
    finally:
        await catalog.close()


async def test_a_qdrant_server_that_went_away_is_unhealthy(
    qdrant: QdrantStandIn, server_catalog: Catalog, tmp_path: Path
) -> None:
    check = health_check(tmp_path, Clock(T0))
    check.attach(server_catalog)
    assert (await check.check()).store.reachable  # type: ignore[union-attr]
    await qdrant.stop()  # the port is closed now
    health = await check.check()
    assert health.status == "unhealthy"
    assert health.reasons[0].startswith(f"store unreachable: cannot reach the Qdrant server at {qdrant.url}")


async def test_a_qdrant_server_that_does_not_answer_is_unhealthy_after_the_timeout(
    qdrant: QdrantStandIn, server_catalog: Catalog, tmp_path: Path
) -> None:
    check = health_check(tmp_path, Clock(T0), health_timeout_seconds=0.2)
    check.attach(server_catalog)
    qdrant.hang = True
    health = await check.check()
    assert health.reasons == ["store unreachable: no answer within 0.2 s"]


# ------------------------------------------------------------------------------------------ HTTP


def settings(tmp_path: Path, **metrics: Any) -> Settings:
    return Settings(
        metrics=MetricsSettings(**{"port": 0, **metrics}),
        store=StoreSettings(url=":memory:"),
        data=DataSettings(dir=str(tmp_path / "data")),
    )


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def test_the_endpoints_answer_over_http(tmp_path: Path) -> None:
    monitoring = await Monitoring.start(settings(tmp_path), "indexer")
    assert monitoring is not None and monitoring.port
    base = f"http://127.0.0.1:{monitoring.port}"
    try:
        status, kind, body = await get(f"{base}/healthz")
        assert (status, kind) == (503, "application/json; charset=utf-8")
        assert '"status": "starting"' in body
        catalog = await open_stocked_catalog()
        monitoring.attach_sync(catalog, None)
        status, _, body = await get(f"{base}/healthz")
        assert status == 200 and '"process": "indexer"' in body
        status, kind, body = await get(f"{base}/metrics")
        assert status == 200 and kind.startswith("text/plain; version=0.0.4")
        assert value(body, "snapfit_store_up") == 1
        await catalog.close()
        status, _, body = await get(f"{base}/healthz")
        assert status == 503 and "the catalog is closed" in body
        assert value((await get(f"{base}/metrics"))[2], "snapfit_store_up") == 0
    finally:
        await monitoring.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"{base}/healthz")


class MonotonicClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


async def test_musinsa_breakers_are_a_gauge_and_an_informational_part_of_healthz(tmp_path: Path) -> None:
    clock = MonotonicClock()
    images = MusinsaClient(MusinsaSettings(max_consecutive_blocks=2, max_backoff_seconds=30.0), clock=clock)
    pages = MusinsaClient(MusinsaSettings())
    monitoring = Monitoring(settings(tmp_path), "bot")
    monitoring.watch_musinsa("images", lambda: images)
    monitoring.watch_musinsa("product_pages", lambda: pages)
    catalog = await open_catalog(StoreSettings(url=":memory:"))
    try:
        monitoring.health.attach(catalog)
        before = await monitoring.health.check()

        def gauge(client: str) -> float | None:
            return value(scrape(monitoring.metrics), "snapfit_musinsa_breaker_open", client=client)

        async def image_breaker() -> str:
            return (await monitoring.health.check()).to_json()["musinsa_breakers"]["images"]["state"]

        assert gauge("images") == 0 and gauge("product_pages") == 0
        assert before.to_json()["musinsa_breakers"]["images"]["state"] == "closed"
        host = "https://image.msscdn.net"
        images.breaker.record(host, blocked=True)
        images.breaker.record(host, blocked=True)
        assert gauge("images") == 1 and gauge("product_pages") == 0

        health = await monitoring.health.check()
        assert (health.status, health.reasons) == (before.status, before.reasons)  # never a 503 reason
        assert health.to_json()["musinsa_breakers"] == {
            "images": {"state": "open", "open_hosts": [host], "next_probe_in_seconds": 30.0},
            "product_pages": {"state": "closed", "open_hosts": [], "next_probe_in_seconds": None},
        }
        clock.now += 30
        assert (await monitoring.health.check()).to_json()["musinsa_breakers"]["images"][
            "state"
        ] == "half_open"
        assert gauge("images") == 1  # still held back until the probe answers
        images.breaker.admit(host)
        images.breaker.record(host, blocked=False, probe=True)
        assert gauge("images") == 0
        assert await image_breaker() == "closed"
    finally:
        await catalog.close()


async def test_metrics_are_served_by_prometheus_clients_own_content_negotiation(tmp_path: Path) -> None:
    monitoring = await Monitoring.start(settings(tmp_path), "indexer")
    assert monitoring is not None
    catalog = await open_catalog(StoreSettings(url=":memory:"))
    monitoring.attach_sync(catalog, None)
    url = f"http://127.0.0.1:{monitoring.port}/metrics"
    try:
        async with aiohttp.ClientSession() as http:
            headers = {"Accept": "application/openmetrics-text; version=1.0.0", "Accept-Encoding": "gzip"}
            async with http.get(url, headers=headers) as response:
                assert response.headers["Content-Type"].startswith("application/openmetrics-text")
                assert response.headers["Content-Encoding"] == "gzip"
                body = await response.text()  # aiohttp inflates it
            assert body.rstrip().endswith("# EOF") and "snapfit_store_up 1.0" in body
            # Asked for nothing: the Prometheus text format, uncompressed.
            async with http.get(url, skip_auto_headers=["Accept-Encoding"]) as response:
                assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                assert "Content-Encoding" not in response.headers
                assert "snapfit_store_up 1.0" in await response.text()
    finally:
        await monitoring.stop()
        await catalog.close()


async def test_a_taken_port_is_one_line_that_says_what_to_change(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MonitoringError) as caught:
            await Monitoring.start(settings(tmp_path, port=port), "bot")
    message = str(caught.value)
    assert f"cannot serve metrics on 127.0.0.1:{port}" in message
    assert "SNAPFIT_METRICS__PORT" in message and "\n" not in message


async def test_disabled_metrics_listen_nowhere(tmp_path: Path, free_port: Callable[[], int]) -> None:
    port = free_port()
    assert await Monitoring.start(settings(tmp_path, enabled=False, port=port), "bot") is None
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"http://127.0.0.1:{port}/metrics")


@pytest.fixture
def free_port() -> Callable[[], int]:
    def pick() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    return pick
