"""Prometheus series of one snapfit process, in a registry of its own (never the global default).

Pushed by this process's syncs (``observe_sync``), read at scrape time from the Musinsa clients'
counters and breakers and the micro-batcher's counters (``watch_http``, ``watch_breaker``,
``watch_batcher``), and snapshots of the index and last sync from the latest health check
(``update``). The bot adds its search series to the same ``registry`` (``bot.search_metrics``).
``METRIC_NAMES`` lists the series defined here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from indexer import __version__
from indexer.monitoring.health import Health, Process, SyncStatus
from indexer.sync.summary import ended_at

if TYPE_CHECKING:
    from indexer.embedding.batcher import BatcherStats
    from indexer.musinsa.models import RequestStats
    from indexer.musinsa.pacing import BreakerStatus
    from indexer.sync.summary import SyncSummary

log = logging.getLogger(__name__)

# The labels of snapfit_sync_last_products: a breakdown, so the crawled total has a gauge of its own
# (snapfit_sync_last_crawled) and a sum() over the labels counts no product twice.
SYNC_CHANGES = ("added", "updated", "unchanged", "removed", "failed")
HTTP_FIELDS = ("requests", "retries", "failures", "throttled")

# Every series, as exposed (counters with their _total suffix).
METRIC_NAMES = (
    "snapfit_build_info",
    "snapfit_encoder_busy_rejections_total",
    "snapfit_encoder_batches_total",
    "snapfit_encoder_images_total",
    "snapfit_musinsa_requests_total",
    "snapfit_musinsa_retries_total",
    "snapfit_musinsa_failures_total",
    "snapfit_musinsa_throttled_total",
    "snapfit_musinsa_breaker_open",
    "snapfit_store_up",
    "snapfit_index_products",
    "snapfit_index_category_products",
    "snapfit_index_info",
    "snapfit_sync_runs_total",
    "snapfit_sync_running",
    "snapfit_sync_last_success",
    "snapfit_sync_last_complete",
    "snapfit_sync_last_finished_timestamp_seconds",
    "snapfit_sync_last_duration_seconds",
    "snapfit_sync_last_crawled",
    "snapfit_sync_last_products",
    "snapfit_sync_last_requests",
    "snapfit_sync_last_retries",
    "snapfit_sync_last_success_timestamp_seconds",
)


class Metrics:
    """The metrics of one process (``process`` = "bot" for ``snapfit run``, "indexer" for ``schedule``)."""

    def __init__(self, process: Process) -> None:
        self.process = process
        # No *_created series: they double the series count for nothing a dashboard uses (this
        # switch is global to prometheus_client, and snapfit is its only user in the process).
        disable_created_metrics()
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        Gauge(
            "snapfit_build_info",
            "snapfit's version and the kind of process",
            ["version", "process"],
            registry=self.registry,
        ).labels(__version__, process).set(1)
        self.sync_runs = Counter(
            "snapfit_sync_runs",
            "Syncs this process ran to the end, by result (ok, failed)",
            ["result"],
            registry=self.registry,
        )
        for result in ("ok", "failed"):
            self.sync_runs.labels(result)
        self._live = _LiveCollector()
        self._snapshot = _SnapshotCollector()
        self.registry.register(self._live)
        self.registry.register(self._snapshot)

    # ------------------------------------------------------------------------------ pushed

    def observe_sync(self, summary: SyncSummary) -> None:
        """A ``NightlySync`` observer: one finished sync of this process."""
        self.sync_runs.labels("ok" if summary.ok else "failed").inc()
        for client, counts in summary.http.items():
            totals = self._live.sync_http.setdefault(f"sync_{client}", dict.fromkeys(HTTP_FIELDS, 0))
            for key in HTTP_FIELDS:
                totals[key] += int(counts.get(key, 0))

    # ------------------------------------------------------------------------------ read at scrape

    def watch_http(self, client: str, stats: Callable[[], RequestStats]) -> None:
        """Expose a Musinsa client's request counters as ``snapfit_musinsa_*_total{client=...}``."""
        self._live.http[client] = stats

    def watch_breaker(self, client: str, status: Callable[[], BreakerStatus]) -> None:
        """Expose a Musinsa client's circuit breaker as ``snapfit_musinsa_breaker_open{client=...}``."""
        self._live.breakers[client] = status

    def watch_batcher(self, stats: Callable[[], BatcherStats]) -> None:
        self._live.batcher = stats

    # ------------------------------------------------------------------------------ snapshots

    def update(self, health: Health) -> None:
        """The index and sync gauges as ``health`` saw them."""
        self._snapshot.health = health


class _LiveCollector(Collector):
    """Counters owned by other objects, read when Prometheus scrapes."""

    def __init__(self) -> None:
        self.http: dict[str, Callable[[], RequestStats]] = {}
        self.sync_http: dict[str, dict[str, int]] = {}  # accumulated from this process's syncs
        self.breakers: dict[str, Callable[[], BreakerStatus]] = {}
        self.batcher: Callable[[], BatcherStats] | None = None

    def collect(self) -> Iterator[Metric]:
        families = {
            key: CounterMetricFamily(
                f"snapfit_musinsa_{key}", f"Musinsa HTTP {key}, by client", labels=["client"]
            )
            for key in HTTP_FIELDS
        }
        rows: list[tuple[str, dict[str, int]]] = [
            (client, {key: getattr(source(), key) for key in HTTP_FIELDS})
            for client, source in self.http.items()
        ]
        rows += list(self.sync_http.items())
        for client, counts in rows:
            for key in HTTP_FIELDS:
                families[key].add_metric([client], counts[key])
        yield from families.values()
        breakers = GaugeMetricFamily(
            "snapfit_musinsa_breaker_open",
            "1 while a Musinsa client's circuit breaker holds requests back (open or half-open), else 0",
            labels=["client"],
        )
        for client, status in self.breakers.items():
            breakers.add_metric([client], 1 if status().open else 0)
        yield breakers
        batcher = self.batcher() if self.batcher is not None else None
        for name, attribute, text in (
            ("snapfit_encoder_busy_rejections", "busy", "Photo embeddings refused: the queue was full"),
            ("snapfit_encoder_batches", "batches", "Forward passes of the bot's micro-batcher"),
            ("snapfit_encoder_images", "images", "Images embedded by the bot's micro-batcher"),
        ):
            family = CounterMetricFamily(name, text)
            if batcher is not None:
                family.add_metric([], getattr(batcher, attribute))
            yield family


class _SnapshotCollector(Collector):
    """Index and last-sync gauges from the latest health check; absent until one ran."""

    def __init__(self) -> None:
        self.health: Health | None = None

    def collect(self) -> Iterator[Metric]:
        health = self.health
        store = health.store if health else None
        sync = health.sync if health else None
        up = GaugeMetricFamily("snapfit_store_up", "1 when the last check reached the index, else 0")
        products = GaugeMetricFamily("snapfit_index_products", "Products in the live index")
        by_category = GaugeMetricFamily(
            "snapfit_index_category_products",
            "Products in the live index per top-level category",
            labels=["category", "name"],
        )
        info = GaugeMetricFamily(
            "snapfit_index_info", "The live index version (1)", labels=["version", "model_id", "backend"]
        )
        if store is not None:
            up.add_metric([], 1 if store.reachable else 0)
            if store.reachable and store.products is not None:
                products.add_metric([], store.products)
                for code, count in sorted(store.by_category.items()):
                    by_category.add_metric([code, _category_name(code)], count)
                if store.version is not None:
                    info.add_metric([store.version, store.model_id or "", store.backend or ""], 1)
        yield from (up, products, by_category, info)
        yield from _sync_families(sync)


def _sync_families(sync: SyncStatus | None) -> Iterable[Metric]:
    running = GaugeMetricFamily("snapfit_sync_running", "1 while this process runs a sync")
    success = GaugeMetricFamily(
        "snapfit_sync_last_success", "1 when the last sync ended without an error, else 0"
    )
    complete = GaugeMetricFamily(
        "snapfit_sync_last_complete",
        "1 when the last sync ended without an error and crawled every category to its end, else 0",
    )
    crawled = GaugeMetricFamily("snapfit_sync_last_crawled", "Products the last sync crawled")
    finished = GaugeMetricFamily(
        "snapfit_sync_last_finished_timestamp_seconds", "When the last sync finished (Unix time)"
    )
    duration = GaugeMetricFamily("snapfit_sync_last_duration_seconds", "How long the last sync took")
    products = GaugeMetricFamily(
        "snapfit_sync_last_products",
        "What the last sync did with products, by change (added, updated, unchanged, removed, failed)",
        labels=["change"],
    )
    requests = GaugeMetricFamily(
        "snapfit_sync_last_requests", "Requests the last sync sent to Musinsa, per client", labels=["client"]
    )
    retries = GaugeMetricFamily(
        "snapfit_sync_last_retries", "Requests the last sync retried, per client", labels=["client"]
    )
    last_ok = GaugeMetricFamily(
        "snapfit_sync_last_success_timestamp_seconds",
        "When the last successful, complete sync finished (Unix time)",
    )
    if sync is not None:
        running.add_metric([], 1 if sync.running_since is not None else 0)
        last = sync.last
        if last is not None:
            success.add_metric([], 1 if last.ok else 0)
            complete.add_metric([], 1 if last.complete else 0)
            crawled.add_metric([], last.crawled)
            finished.add_metric([], ended_at(last).timestamp())
            duration.add_metric([], last.seconds)
            for change in SYNC_CHANGES:
                products.add_metric([change], getattr(last, change))
            for client, counts in sorted(last.http.items()):
                requests.add_metric([client], counts.get("requests", 0))
                retries.add_metric([client], counts.get("retries", 0))
        if sync.last_ok is not None:
            last_ok.add_metric([], ended_at(sync.last_ok).timestamp())
    return (running, success, complete, finished, duration, crawled, products, requests, retries, last_ok)


def _category_name(code: str) -> str:
    from indexer.categories import get_category

    category = get_category(code)
    return category.name if category is not None else ""
