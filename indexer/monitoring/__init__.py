"""``/metrics`` and ``/healthz`` of the long-lived processes (``snapfit run``, ``snapfit schedule``).

``Monitoring.start(settings, process)`` binds ``[metrics] host:port`` first (a taken port fails
before the slow model load) and answers "starting" (503) until ``attach_sync`` hands it the
process's catalog and sync engine. The bot's own series are added by ``bot.search_metrics``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Self

from indexer.monitoring.health import Health, HealthCheck, Process, StoreStatus, SyncStatus
from indexer.monitoring.metrics import METRIC_NAMES, Metrics
from indexer.monitoring.server import MonitoringError, MonitoringServer

if TYPE_CHECKING:
    from collections.abc import Callable

    from indexer.config import Settings
    from indexer.musinsa.client import MusinsaClient
    from indexer.schedule import NightlySync
    from indexer.store import Catalog

__all__ = [
    "METRIC_NAMES",
    "Health",
    "HealthCheck",
    "Metrics",
    "Monitoring",
    "MonitoringError",
    "MonitoringServer",
    "StoreStatus",
    "SyncStatus",
]

log = logging.getLogger(__name__)


class Monitoring:
    """One process's metrics registry, health check and HTTP server."""

    def __init__(self, settings: Settings, process: Process) -> None:
        self.metrics = Metrics(process)
        self.health = HealthCheck(settings.metrics, process=process, data_dir=settings.data.dir)
        self.server = MonitoringServer(settings.metrics, self.metrics, self.health)

    @classmethod
    async def start(cls, settings: Settings, process: Process) -> Self | None:
        """Serve the endpoints, or return None when ``[metrics] enabled = false``; ``MonitoringError``
        when the address cannot be used."""
        if not settings.metrics.enabled:
            log.info("metrics and health endpoints disabled ([metrics] enabled = false)")
            return None
        monitoring = cls(settings, process)
        await monitoring.server.start()
        url = monitoring.server.url
        log.info("metrics on %s/metrics, health on %s/healthz", url, url, extra={"metrics_url": url})
        return monitoring

    @property
    def port(self) -> int | None:
        return self.server.port

    def watch_musinsa(self, client: str, source: Callable[[], MusinsaClient]) -> None:
        """Count a long-lived Musinsa client's requests and report its circuit breaker (metrics and
        /healthz, informational)."""
        self.metrics.watch_http(client, lambda: source().stats)
        self.metrics.watch_breaker(client, lambda: source().breaker.status())
        self.health.watch_breaker(client, lambda: source().breaker.status())

    def attach_sync(self, catalog: Catalog, nightly: NightlySync | None) -> None:
        """Health-check ``catalog``; count the syncs ``nightly`` runs."""
        if nightly is not None:
            nightly.observers.append(self.metrics.observe_sync)
        self.health.attach(catalog, nightly)

    async def stop(self) -> None:
        await self.server.stop()
