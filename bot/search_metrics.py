"""The bot's own Prometheus series: searches by kind and outcome, and the time of each stage.

``BotMonitoring`` is the ``Monitoring`` of ``snapfit run``: the process-neutral series and
endpoints of ``indexer.monitoring`` with these series in the same registry, fed by the bot's
``TimingsLog``, Musinsa clients and micro-batcher once ``attach_bot`` is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram

from bot.timing import STAGES, Outcome, SearchKind, StageTimings
from indexer.monitoring import Monitoring
from indexer.monitoring.health import Process

if TYPE_CHECKING:
    from bot.services import BotServices
    from indexer.config import Settings

MONITORING_KEY = "snapfit.monitoring"  # where the bot keeps its BotMonitoring in application.bot_data
SEARCH_KINDS: tuple[SearchKind, ...] = ("photo", "similar", "more", "garment", "text")
# Seconds: a search stage takes from a millisecond (the index) to tens of seconds (a slow download).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# The series defined here, as exposed (counters with their _total suffix).
SEARCH_METRIC_NAMES = (
    "snapfit_requests_total",
    "snapfit_request_duration_seconds",
    "snapfit_stage_duration_seconds",
    "snapfit_feedback_votes_total",
)
FEEDBACK_FLOWS = ("photo", "garment", "text", "similar")
FEEDBACK_VOTES = ("up", "down")


class SearchMetrics:
    """Searches answered and their stage times, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "snapfit_requests",
            f"Searches answered, by kind ({', '.join(SEARCH_KINDS)}) and outcome "
            "(ok, no_results, an error code)",
            ["kind", "outcome"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "snapfit_request_duration_seconds",
            "Wall time of a search, all stages together",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.stage_seconds = Histogram(
            "snapfit_stage_duration_seconds",
            "Wall time of one stage of a search (download, parse, analyse, decode, embed, search, reply)",
            ["kind", "stage"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.feedback_votes = Counter(
            "snapfit_feedback_votes",
            f"👍 / 👎 votes on result pages, by flow ({', '.join(FEEDBACK_FLOWS)}) and vote (up, down)",
            ["flow", "vote"],
            registry=registry,
        )
        # Every series from the start, so that rates and dashboards need no data yet.
        for flow in FEEDBACK_FLOWS:
            for vote in FEEDBACK_VOTES:
                self.feedback_votes.labels(flow, vote)
        for kind in SEARCH_KINDS:
            self.requests.labels(kind, "ok")
            self.request_seconds.labels(kind)
            for stage in STAGES:
                self.stage_seconds.labels(kind, stage)

    def observe_search(self, kind: SearchKind, outcome: Outcome, timings: StageTimings) -> None:
        """A ``TimingsLog`` observer: one finished search."""
        self.requests.labels(kind, outcome).inc()
        self.request_seconds.labels(kind).observe(timings.total)
        for stage, seconds in timings.seconds.items():
            self.stage_seconds.labels(kind, stage).observe(seconds)

    def observe_vote(self, flow: str, vote: int) -> None:
        """One 👍 (``vote`` > 0) or 👎 stored."""
        self.feedback_votes.labels(flow, "up" if vote > 0 else "down").inc()


class BotMonitoring(Monitoring):
    """``Monitoring`` with the bot's search series."""

    def __init__(self, settings: Settings, process: Process = "bot") -> None:
        super().__init__(settings, process)
        self.searches = SearchMetrics(self.metrics.registry)

    def attach_bot(self, services: BotServices) -> None:
        """Observe the bot's searches, Musinsa clients, micro-batcher, index and nightly sync."""
        services.timings.observers.append(self.searches.observe_search)
        self.watch_musinsa("product_pages", lambda: services.product_pages)
        self.watch_musinsa("images", lambda: services.image_downloads)
        self.metrics.watch_batcher(lambda: services.batcher.stats)
        self.attach_sync(services.catalog, services.nightly)
