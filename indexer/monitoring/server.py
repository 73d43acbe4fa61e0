"""The HTTP side: ``/metrics`` (Prometheus text, or OpenMetrics when asked) and ``/healthz`` (JSON).

aiohttp on the process's own event loop, so a scrape needs no thread. Every request runs one
bounded health check first, so the index and sync gauges are as fresh as the scrape. No access
log: a scrape every few seconds would drown it.
"""

from __future__ import annotations

import json
import logging
import os

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from indexer.config import MetricsSettings
from indexer.monitoring.health import HealthCheck
from indexer.monitoring.metrics import Metrics

log = logging.getLogger(__name__)


class MonitoringError(Exception):
    """The endpoints cannot be served (the port is taken, the address does not exist); one line."""


class MonitoringServer:
    def __init__(self, settings: MetricsSettings, metrics: Metrics, health: HealthCheck) -> None:
        self.settings = settings
        self.metrics = metrics
        self.health = health
        # prometheus_client's own handler: the format the scraper asks for (Accept: text 0.0.4 or
        # OpenMetrics) and compression when its Accept-Encoding allows it.
        self._exposition = make_aiohttp_handler(metrics.registry)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self._last_status = "ok"

    @property
    def url(self) -> str:
        host = self.settings.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    async def start(self) -> None:
        """Listen on ``[metrics] host:port``, or raise ``MonitoringError`` saying what to change."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            # asyncio wraps the errno's text in "error while attempting to bind on address ...".
            reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
            raise MonitoringError(
                f"cannot serve metrics on {self.settings.host}:{self.settings.port}: {reason}; set "
                "[metrics] port (SNAPFIT_METRICS__PORT) to a free port, or [metrics] enabled = false"
            ) from None
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        """Refresh the index and sync gauges with one health check, then let prometheus_client answer."""
        self.metrics.update(await self.health.check())
        return await self._exposition(request)

    async def _healthz(self, request: web.Request) -> web.Response:
        health = await self.health.check()
        self.metrics.update(health)
        if health.status != self._last_status:  # log changes, not every probe
            self._last_status = health.status
            level = logging.INFO if health.status == "ok" else logging.WARNING
            log.log(level, "health: %s %s", health.status, "; ".join(health.reasons))
        return web.Response(
            text=json.dumps(health.to_json(), ensure_ascii=False),
            status=health.http_status,
            content_type="application/json",
        )
