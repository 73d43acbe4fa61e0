"""JSONL snapshots of a crawl: one ``Product.model_dump_json()`` per line, written atomically.

A snapshot appears complete or not at all: lines go to a hidden temporary file in the same
folder, which is flushed, fsynced and then linked to its final name (never overwriting an
existing snapshot). Any interruption, Ctrl-C included, removes the temporary file.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from indexer.product import Product

SNAPSHOT_SUBDIR = "snapshots"
_NAME = re.compile(r"^products-(\d{8}T\d{6}Z)(?:-(\d+))?\.jsonl$")


class SnapshotError(Exception):
    """A snapshot file that cannot be read back; the message names the file and line."""


def snapshot_dir(data_dir: str | Path) -> Path:
    """Where snapshots live: ``{data.dir}/snapshots``."""
    return Path(data_dir) / SNAPSHOT_SUBDIR


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some platforms cannot open directories; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _publish(temporary: Path, directory: Path, stem: str) -> Path:
    """Give the finished file its final name without ever replacing another snapshot."""
    for number in range(1, 1000):
        target = directory / (f"{stem}.jsonl" if number == 1 else f"{stem}-{number}.jsonl")
        try:
            os.link(temporary, target)
        except FileExistsError:
            continue
        temporary.unlink()
        return target
    raise SnapshotError(f"too many snapshots named {stem}* in {directory}")


def write_snapshot(
    products: Iterable[Product], directory: str | Path, *, now: datetime | None = None
) -> Path:
    """Write ``products`` to ``{directory}/products-YYYYMMDDTHHMMSSZ.jsonl`` atomically; return the path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = "products-" + (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    temporary = directory / f".{stem}.{secrets.token_hex(4)}.tmp"
    try:
        with temporary.open("x", encoding="utf-8", newline="\n") as handle:
            for product in products:
                handle.write(product.model_dump_json())
                handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        path = _publish(temporary, directory, stem)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)
    return path


def iter_snapshot(path: str | Path) -> Iterator[Product]:
    """Products of a snapshot, one by one; SnapshotError names the first bad line."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield Product.model_validate_json(line)
                except ValidationError as exc:
                    problem = exc.errors(include_url=False)[0]["msg"]
                    raise SnapshotError(f"{path}:{number}: not a product ({problem})") from None
        except UnicodeDecodeError:
            raise SnapshotError(f"{path}: not UTF-8 text") from None


def load_snapshot(path: str | Path) -> list[Product]:
    """Every product of a snapshot file."""
    return list(iter_snapshot(path))


def list_snapshots(directory: str | Path) -> list[Path]:
    """Finished snapshots in ``directory``, oldest first (temporary files are never listed)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [(match, p) for p in directory.iterdir() if (match := _NAME.match(p.name))]
    found.sort(key=lambda item: (item[0].group(1), int(item[0].group(2) or 1)))
    return [path for _, path in found]


def latest_snapshot(directory: str | Path) -> Path | None:
    snapshots = list_snapshots(directory)
    return snapshots[-1] if snapshots else None
