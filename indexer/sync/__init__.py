"""The sync pipeline: crawl → diff → embed → index, incremental and crash-safe.

``await run_sync(settings, catalog=..., encoder=...) -> SyncSummary`` runs one sync; see
``indexer.sync.pipeline`` for the order of steps and why it is safe to interrupt, and
``indexer.sync.diff`` for the change and removal rules. ``load_last_summary(data_dir)`` reads
the last run's summary back. Importing this package does not import torch.
"""

from indexer.sync.diff import SyncPlan, plan_changes
from indexer.sync.embedder import ImageEncoder
from indexer.sync.pipeline import needs_rebuild, rebuild_verdict, run_sync
from indexer.sync.progress import PlanCounts, SyncProgress
from indexer.sync.state import MissCounters, state_dir
from indexer.sync.summary import (
    CategoryReport,
    ImageFailure,
    SyncSummary,
    last_sync_path,
    load_last_ok_summary,
    load_last_summary,
    save_last_summary,
)

__all__ = [
    "CategoryReport",
    "ImageEncoder",
    "ImageFailure",
    "MissCounters",
    "PlanCounts",
    "SyncPlan",
    "SyncProgress",
    "SyncSummary",
    "last_sync_path",
    "load_last_ok_summary",
    "load_last_summary",
    "needs_rebuild",
    "plan_changes",
    "rebuild_verdict",
    "run_sync",
    "save_last_summary",
    "state_dir",
]
