"""What ``/healthz`` reports: can the process reach its index, and how fresh is the last sync.

The store check is one catalog round trip bounded by ``[metrics] health_timeout_seconds``; an
unreachable store is unhealthy (HTTP 503), and so is an empty index that no sync is building (the
reason names the last sync's error and the next step). The last sync is the newest of what this process ran
and what any process saved under ``{data.dir}/state``; it is stale only when
``[metrics] max_sync_age_hours`` is above 0.

Components a process registers (``watch_component``: the bot's user store) are reported under
"components" and listed in "degraded"; a degraded component never makes the answer 503 (the
process still does its main job: searches, syncs), like the Musinsa circuit breakers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from indexer.config import MetricsSettings
from indexer.store.errors import CatalogError
from indexer.sync.readiness import explain_empty_index, sync_running
from indexer.sync.summary import (
    SyncSummary,
    ended_at,
    latest_summary,
    load_last_ok_summary,
    newest_summary,
)

if TYPE_CHECKING:
    from indexer.musinsa.pacing import BreakerStatus
    from indexer.schedule import NightlySync
    from indexer.store import Catalog

log = logging.getLogger(__name__)

Process = Literal["bot", "indexer"]
Status = Literal["ok", "unhealthy", "starting"]
ComponentState = Literal["ok", "degraded"]


@dataclass(frozen=True)
class ComponentStatus:
    """A part of the process that may fail on its own without stopping it (informational)."""

    state: ComponentState
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason}


@dataclass(frozen=True)
class StoreStatus:
    """The index as this process sees it now."""

    reachable: bool
    backend: str | None = None
    version: str | None = None
    model_id: str | None = None
    products: int | None = None
    by_category: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "reachable": self.reachable,
            "backend": self.backend,
            "version": self.version,
            "model_id": self.model_id,
            "products": self.products,
            "error": self.error,
        }


@dataclass(frozen=True)
class SyncStatus:
    """The last sync, the last successful (complete) one, and whether that is too long ago."""

    running_since: datetime | None
    last: SyncSummary | None
    last_ok: SyncSummary | None
    age_hours: float | None  # since the last successful sync finished
    max_age_hours: float
    stale: bool

    def to_json(self) -> dict[str, Any]:
        last = self.last
        return {
            "running": self.running_since is not None,
            "running_since": _iso(self.running_since),
            "last_finished_at": _iso(ended_at(last)) if last else None,
            "last_ok": last.ok if last else None,
            "last_complete": last.complete if last else None,
            "last_incomplete_categories": last.incomplete_categories if last else [],
            "last_error": last.error if last else None,
            "last_success_at": _iso(ended_at(self.last_ok)) if self.last_ok else None,
            "age_hours": round(self.age_hours, 3) if self.age_hours is not None else None,
            "max_age_hours": self.max_age_hours,
            "stale": self.stale,
        }


@dataclass(frozen=True)
class Health:
    """One answer of ``/healthz``."""

    process: Process
    status: Status
    reasons: list[str]
    checked_at: datetime
    store: StoreStatus | None = None
    sync: SyncStatus | None = None
    # The Musinsa clients' circuit breakers by client; informational, never a reason for 503.
    breakers: dict[str, BreakerStatus] = field(default_factory=dict)
    # Registered components by name (the bot's user store); degraded ones never make it 503.
    components: dict[str, ComponentStatus] = field(default_factory=dict)

    @property
    def degraded(self) -> list[str]:
        """``<component>: <reason>`` for each degraded component."""
        return [f"{name}: {part.reason}" for name, part in self.components.items() if part.state != "ok"]

    @property
    def http_status(self) -> int:
        return 200 if self.status == "ok" else 503

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "process": self.process,
            "checked_at": _iso(self.checked_at),
            "reasons": self.reasons,
            "store": self.store.to_json() if self.store else None,
            "sync": self.sync.to_json() if self.sync else None,
            "musinsa_breakers": {client: status.to_json() for client, status in self.breakers.items()},
            "components": {name: part.to_json() for name, part in self.components.items()},
            "degraded": self.degraded,
        }


class HealthCheck:
    """Answers ``/healthz`` once ``attach`` has handed it the process's catalog (before: "starting")."""

    def __init__(
        self,
        settings: MetricsSettings,
        *,
        process: Process,
        data_dir: str | Path | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.process = process
        self.data_dir = data_dir
        self._clock = clock
        self.started_at = clock()
        self.catalog: Catalog | None = None
        self.nightly: NightlySync | None = None
        self._breakers: dict[str, Callable[[], BreakerStatus]] = {}
        self._components: dict[str, Callable[[], ComponentStatus]] = {}

    def attach(self, catalog: Catalog, nightly: NightlySync | None = None) -> None:
        self.catalog = catalog
        self.nightly = nightly

    def watch_breaker(self, client: str, status: Callable[[], BreakerStatus]) -> None:
        """Report a Musinsa client's circuit breaker (read at each check)."""
        self._breakers[client] = status

    def watch_component(self, name: str, status: Callable[[], ComponentStatus]) -> None:
        """Report a component's state (read at each check; degraded is informational, never 503)."""
        self._components[name] = status

    async def check(self) -> Health:
        now = self._clock()
        if self.catalog is None:
            return Health(self.process, "starting", ["loading the model and opening the index"], now)
        store = await self.store_status()
        sync = self.sync_status(now)
        reasons = []
        if not store.reachable:
            reasons.append(f"store unreachable: {store.error}")
        elif store.products == 0:
            running = sync.running_since is not None or sync_running(self.data_dir)
            empty = explain_empty_index(
                running=running, last=sync.last, sync_command="snapfit sync (or /sync)"
            )
            if not empty.building:
                reasons.append(empty.line())
        if sync.stale:
            if sync.last_ok is None:
                reasons.append(
                    f"no successful sync in the {self.settings.max_sync_age_hours:g} h since this process "
                    "started ([metrics] max_sync_age_hours)"
                )
            else:
                reasons.append(
                    f"the last successful sync finished {sync.age_hours:.1f} h ago, more than "
                    f"[metrics] max_sync_age_hours = {self.settings.max_sync_age_hours:g}"
                )
        breakers = {client: status() for client, status in self._breakers.items()}
        components = {name: status() for name, status in self._components.items()}
        status: Status = "unhealthy" if reasons else "ok"
        return Health(self.process, status, reasons, now, store, sync, breakers, components)

    async def store_status(self) -> StoreStatus:
        """One bounded round trip to the index; any failure is an unreachable store with its reason."""
        catalog = self.catalog
        if catalog is None:
            return StoreStatus(reachable=False, error="not opened yet")
        timeout = self.settings.health_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                await catalog.versions()  # always asks the backend (a server, or the index folder)
                stats = await catalog.stats()
        except TimeoutError:
            return StoreStatus(reachable=False, error=f"no answer within {timeout:g} s")
        except CatalogError as exc:
            return StoreStatus(reachable=False, error=str(exc))
        except Exception as exc:  # a bug must not take the health endpoint down with it
            log.exception("health check of the index failed")
            return StoreStatus(reachable=False, error=f"unexpected {type(exc).__name__}: {exc}")
        return StoreStatus(
            reachable=True,
            backend=stats.backend,
            version=stats.version,
            model_id=stats.model_id,
            products=stats.total,
            by_category=dict(stats.by_category),
        )

    def sync_status(self, now: datetime | None = None) -> SyncStatus:
        now = now or self._clock()
        ran = self.nightly.last_summary if self.nightly is not None else None
        saved_ok = load_last_ok_summary(self.data_dir) if self.data_dir is not None else None
        last = latest_summary(self.data_dir, ran)
        # A last_sync.json written before last_ok_sync.json existed still counts when it was a success.
        # Successful = complete: a sync that a fault cut short in some category leaves those stale.
        last_ok = newest_summary(
            ran if ran is not None and ran.complete else None,
            saved_ok if saved_ok is not None and saved_ok.complete else None,
            last if last and last.complete else None,
        )
        limit = self.settings.max_sync_age_hours
        age = (now - ended_at(last_ok)).total_seconds() / 3600 if last_ok is not None else None
        if limit <= 0:
            stale = False
        elif age is not None:
            stale = age > limit
        else:  # never synced successfully: give a fresh deployment `limit` hours for its first sync
            stale = (now - self.started_at).total_seconds() / 3600 > limit
        return SyncStatus(
            running_since=self.nightly.running_since if self.nightly is not None else None,
            last=last,
            last_ok=last_ok,
            age_hours=age,
            max_age_hours=limit,
            stale=stale,
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None
