"""Metrics and health endpoints of the long-lived processes (``snapfit run``, ``snapfit schedule``).

``Monitoring.start(settings, process)`` binds ``[metrics] host:port`` first (a taken port fails in
a second, before the slow model load), answering ``/healthz`` with "starting" (503) until
``attach_bot`` / ``attach_sync`` hands it the process's catalog and sync engine. The bot wires it
in ``bot.app`` (post_init / post_shutdown), ``snapfit schedule`` in ``bot.cli.schedule_cmd``.
Nothing here imports ``telegram``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.monitoring.health import Health, HealthCheck, Process, StoreStatus, SyncStatus
from bot.monitoring.metrics import METRIC_NAMES, Metrics
from bot.monitoring.server import MonitoringError, MonitoringServer

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.services import BotServices
    from indexer.schedule import NightlySync
    from indexer.store import Catalog

__all__ = [
    "METRIC_NAMES",
    "MONITORING_KEY",
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

MONITORING_KEY = "snapfit.monitoring"  # where the bot keeps it in application.bot_data


class Monitoring:
    """One process's metrics registry, health check and HTTP server."""

    def __init__(self, settings: Settings, process: Process) -> None:
        self.metrics = Metrics(process)
        self.health = HealthCheck(settings.metrics, process=process, data_dir=settings.data.dir)
        self.server = MonitoringServer(settings.metrics, self.metrics, self.health)

    @classmethod
    async def start(cls, settings: Settings, process: Process) -> Monitoring | None:
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

    def attach_bot(self, services: BotServices) -> None:
        """Observe the bot's searches, Musinsa clients, micro-batcher, index and nightly sync."""
        services.timings.observers.append(self.metrics.observe_search)
        self.metrics.watch_http("product_pages", lambda: services.product_pages.stats)
        self.metrics.watch_http("images", lambda: services.image_downloads.stats)
        self.metrics.watch_batcher(lambda: services.batcher.stats)
        self.attach_sync(services.catalog, services.nightly)

    def attach_sync(self, catalog: Catalog, nightly: NightlySync | None) -> None:
        """Health-check ``catalog``; count the syncs ``nightly`` runs."""
        if nightly is not None:
            nightly.observers.append(self.metrics.observe_sync)
        self.health.attach(catalog, nightly)

    async def stop(self) -> None:
        await self.server.stop()
