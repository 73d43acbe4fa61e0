"""The prices and stock a sync changed: ``PriceChanges``, saved beside the summary for the bot's alerts.

The sync's diff already compares every crawled product with what the index held (``diff.py``);
the products whose effective price or sold-out state differ, and whose new values were stored,
are written to ``{data.dir}/state/price_changes/<sync id>.json`` (the sync id is the summary's
``started_at``). A file per run, so a bot that was down while ``snapfit schedule`` synced twice
still finds both; the newest ``KEEP_FILES`` are kept. Alerts start from these ids only, never
from a scan of the catalog. The indexer never imports the bot: the file is the interface.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from indexer.sync.state import atomic_write_json, read_json, state_dir

log = logging.getLogger(__name__)

CHANGES_DIR = "price_changes"
CHANGES_FORMAT = 1
KEEP_FILES = 30


@dataclass(frozen=True)
class PriceChange:
    """One product whose effective price or sold-out state changed (old: what the index held)."""

    product_id: int
    old_price: int | None
    new_price: int
    old_sold_out: bool | None
    new_sold_out: bool

    @property
    def price_changed(self) -> bool:
        return self.old_price is not None and self.old_price != self.new_price

    @property
    def stock_changed(self) -> bool:
        return self.old_sold_out is not None and self.old_sold_out != self.new_sold_out


@dataclass
class PriceChanges:
    """What one sync run changed, keyed by its ``sync_id``; ``ok``: the run ended without an error
    (changes stored before an error are kept too: the index already shows them, and the next run
    would not see them again)."""

    sync_id: str
    finished_at: datetime | None = None
    ok: bool = True
    changes: list[PriceChange] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CHANGES_FORMAT,
            "sync_id": self.sync_id,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "ok": self.ok,
            "changes": [
                [c.product_id, c.old_price, c.new_price, c.old_sold_out, c.new_sold_out] for c in self.changes
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PriceChanges:
        finished = data.get("finished_at")
        return cls(
            sync_id=str(data["sync_id"]),
            finished_at=datetime.fromisoformat(finished) if finished else None,
            ok=bool(data.get("ok", True)),
            changes=[
                PriceChange(int(pid), old, int(new), old_out, bool(new_out))
                for pid, old, new, old_out, new_out in data.get("changes", [])
            ],
        )


def sync_id_of(started_at: datetime) -> str:
    """The id of a sync run: its start time, ISO 8601 (sorts in time order)."""
    return started_at.isoformat()


def changes_dir(data_dir: str | Path) -> Path:
    return state_dir(data_dir) / CHANGES_DIR


def _file_name(sync_id: str) -> str:
    return sync_id.replace(":", "-").replace("+", "p") + ".json"


def save_changes(data_dir: str | Path, changes: PriceChanges) -> Path | None:
    """Write the file atomically and drop the oldest beyond ``KEEP_FILES``; a failure is logged
    (alerts of this run are lost, the sync is not)."""
    folder = changes_dir(data_dir)
    path = folder / _file_name(changes.sync_id)
    try:
        atomic_write_json(path, changes.to_json())
        for old in sorted(folder.glob("*.json"))[:-KEEP_FILES]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not save the price changes in %s: %s", path, exc)
        return None
    return path


def changes_files(data_dir: str | Path) -> list[Path]:
    """The saved runs' files, oldest first (a reader can skip the names it has handled)."""
    folder = changes_dir(data_dir)
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def read_changes(path: Path) -> PriceChanges | None:
    """One file's changes; None when it cannot be read (logged)."""
    data = read_json(path)
    if not isinstance(data, dict):
        return None
    try:
        return PriceChanges.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("ignoring %s: not a price-changes file (%s)", path, exc)
        return None


def load_changes(data_dir: str | Path) -> list[PriceChanges]:
    """Every saved run's changes, oldest first (unreadable files are skipped, logged)."""
    loaded = [changes for path in changes_files(data_dir) if (changes := read_changes(path)) is not None]
    loaded.sort(key=lambda item: item.sync_id)
    return loaded
