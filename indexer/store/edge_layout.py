"""The Edge index folder on disk: owner lock, version folders and the atomic ``CURRENT`` pointer.

```
<store.path>/
  .lock                          held (flock) by the one process that owns the folder
  CURRENT                        name of the live version
  versions/<name>/version.json   model id, open_clip name, dimension, state (building | ready)
  versions/<name>/shard/         Qdrant Edge's own files
  versions/<name>/optimizer.pid  the child process building the version's search index, while it runs
```

A crash leaves the old pointer or the new one, never a half-written one; removed versions go
through ``versions/.trash-*`` so that a half-deleted folder never looks like a version.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
from pathlib import Path
from typing import IO

from indexer.store.errors import CatalogError, CatalogLockedError
from indexer.store.versions import CatalogVersion, version_from_json, version_pattern, version_to_json

log = logging.getLogger(__name__)

POINTER = "CURRENT"
LOCK = ".lock"
VERSIONS = "versions"
METADATA = "version.json"
SHARD = "shard"
OPTIMIZER_PID = "optimizer.pid"
TRASH_PREFIX = ".trash-"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, text: str) -> None:
    """Write a small file so that readers see the old or the new content, never a mix."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    _fsync_dir(path.parent)


class OwnerLock:
    """An exclusive flock on ``<root>/.lock``; the kernel drops it when the process dies."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle: IO[str] | None = handle

    @classmethod
    def acquire(cls, root: Path) -> OwnerLock:
        handle = (root / LOCK).open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise CatalogLockedError(locked_message(root, owner)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return cls(handle)

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def optimizer_pid_path(shard_dir: Path) -> Path:
    """Where the pid of the child building ``shard_dir``'s search index is kept while it runs."""
    return shard_dir.parent / OPTIMIZER_PID


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    try:  # a zombie is dead for our purpose; /proc tells it apart where there is one
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def shard_lock_owner(root: Path) -> str:
    """Who holds a version's shard open when the owner lock is free: the pid of an index build
    child (recorded in ``optimizer.pid``) that is still alive, else the pid in ``.lock`` if alive."""
    for pid_file in sorted((root / VERSIONS).glob(f"*/{OPTIMIZER_PID}")):
        try:
            pid = int(pid_file.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            continue
        if process_alive(pid):
            return f"{pid}, building the search index of version {pid_file.parent.name}"
    try:
        owner = int((root / LOCK).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return "unknown"
    return str(owner) if owner != os.getpid() and process_alive(owner) else "unknown"


def locked_message(root: Path, owner: str = "unknown") -> str:
    if owner == str(os.getpid()):
        return (
            f"the index folder {root} is already open in this process: share the one Catalog object "
            "instead of opening the folder twice"
        )
    return (
        f"the index folder {root} is in use by another snapfit process (pid {owner}). Only one process "
        "may open an embedded (Edge) index: stop that process first, or run a Qdrant server "
        "([store].url) so that several processes can share one index"
    )


class EdgeLayout:
    """Paths and atomic file operations for one Edge index folder."""

    def __init__(self, root: Path, collection: str) -> None:
        self.root = root
        self.collection = collection
        self.versions_dir = root / VERSIONS
        self._pattern = version_pattern(collection)

    def prepare(self) -> None:
        try:
            self.versions_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(f"cannot create the index folder {self.root}: {exc.strerror}") from None

    def version_dir(self, name: str) -> Path:
        return self.versions_dir / name

    def shard_dir(self, name: str) -> Path:
        return self.versions_dir / name / SHARD

    def read_current(self) -> str | None:
        pointer = self.root / POINTER
        try:
            name = pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not self._pattern.match(name):
            raise CatalogError(
                f"{pointer} names {name!r}, which is not a version of collection {self.collection!r}: "
                f"write the name of a folder in {self.versions_dir} into it, or remove it to start empty"
            )
        return name

    def write_current(self, name: str) -> None:
        write_atomically(self.root / POINTER, name + "\n")

    def read_version(self, name: str) -> CatalogVersion:
        path = self.version_dir(name) / METADATA
        try:
            version = version_from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise CatalogError(f"index version {name} is missing its {path}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise CatalogError(f"{path} is damaged: {exc}") from None
        if version.name != name:
            raise CatalogError(f"{path} describes version {version.name!r}, not {name!r}")
        return version

    def write_version(self, version: CatalogVersion) -> None:
        self.version_dir(version.name).mkdir(parents=True, exist_ok=True)
        write_atomically(
            self.version_dir(version.name) / METADATA, json.dumps(version_to_json(version), indent=2)
        )

    def version_names(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(entry.name for entry in self.versions_dir.iterdir() if self._pattern.match(entry.name))

    def list_versions(self) -> list[CatalogVersion]:
        versions = []
        for name in self.version_names():
            try:
                versions.append(self.read_version(name))
            except CatalogError as exc:
                log.warning("ignoring index version %s: %s", name, exc)
        return versions

    def remove_version(self, name: str) -> None:
        """Rename into the trash first (atomic), then delete: no half-deleted version remains visible."""
        source = self.version_dir(name)
        if not source.exists():
            return
        trash = self.versions_dir / f"{TRASH_PREFIX}{name}"
        if trash.exists():
            shutil.rmtree(trash)
        source.rename(trash)
        shutil.rmtree(trash)

    def empty_trash(self) -> None:
        if not self.versions_dir.is_dir():
            return
        for entry in self.versions_dir.iterdir():
            if entry.name.startswith(TRASH_PREFIX):
                shutil.rmtree(entry, ignore_errors=True)
        for stale in self.root.glob(f".{POINTER}.tmp-*"):
            stale.unlink(missing_ok=True)
