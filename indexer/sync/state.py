"""Sync's small state files under ``{data.dir}/state/`` (``missing.json``, ``last_sync.json``).

Writes go to a flushed temporary file renamed over the old one, so a crash never leaves a torn
file; an unreadable file counts as absent, which can delay a removal but never cause one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STATE_DIR = "state"
MISSING_FILE = "missing.json"
MISSING_FORMAT = 1


def state_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / STATE_DIR


def atomic_write_json(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON in one atomic step (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(data, file, ensure_ascii=False, indent=1, sort_keys=False)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be fsynced
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def read_json(path: Path) -> Any | None:
    """The file's JSON, or None when it is missing or unreadable (logged)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        log.warning("ignoring %s: not valid JSON (%s)", path, exc)
        return None


@dataclass
class MissCounters:
    """Consecutive complete crawls each product was absent from, persisted in ``missing.json``."""

    path: Path
    counts: dict[int, int] = field(default_factory=dict)

    @classmethod
    def load(cls, data_dir: str | Path) -> MissCounters:
        path = state_dir(data_dir) / MISSING_FILE
        data = read_json(path)
        counts: dict[int, int] = {}
        if isinstance(data, dict) and isinstance(data.get("missing"), dict):
            for key, value in data["missing"].items():
                if str(key).isdigit() and isinstance(value, int) and value > 0:
                    counts[int(key)] = value
        elif data is not None:
            log.warning("ignoring %s: unexpected content; absence counters start again from zero", path)
        return cls(path, counts)

    def save(self, counts: Mapping[int, int]) -> None:
        self.counts = {pid: n for pid, n in counts.items() if n > 0}
        atomic_write_json(
            self.path,
            {
                "format": MISSING_FORMAT,
                "missing": {str(pid): n for pid, n in sorted(self.counts.items())},
            },
        )
