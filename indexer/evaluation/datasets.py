"""Reading an evaluation set: a gallery, a query set and which gallery items each query should find.

An image set is a manifest (``manifest``/``metadata`` as ``.jsonl`` or ``.csv``), LookBench
``*.parquet`` shards, or a folder of images (id: the file stem; category: the first
sub-folder). Ids compare as strings. Input problems raise ``DatasetError`` naming the file and
row; unreadable images are counted later, when they are decoded.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".heif"}
)
MANIFEST_NAMES = ("manifest.jsonl", "manifest.csv", "metadata.jsonl", "metadata.csv")
IMAGE_FIELDS = ("image", "file_name", "path", "image_path")
GALLERY_ID_FIELDS = ("item_id", "item_ID", "label", "gallery_id", "id")  # the item, before a row id
QUERY_ID_FIELDS = ("id", "query_id")
MATCH_FIELDS = ("item_ID", "item_id", "label", "matches", "gallery_ids", "gallery_id", "gallery")
PAIR_QUERY_FIELDS = ("query", "query_id", "id")
PAIR_GALLERY_FIELDS = (
    "gallery",
    "gallery_ids",
    "gallery_id",
    "matches",
    "positives",
    "item_ID",
    "item_id",
    "label",
)
ROLE_PREFIXES = {"gallery": ("gallery",), "queries": ("query", "queries")}
_SEPARATORS = re.compile(r"[\s;|]+")


class DatasetError(ValueError):
    """The evaluation input cannot be used; the message is one line naming the file and what to fix."""


@dataclass(frozen=True)
class ImageEntry:
    """One image of a set: its id, where its bytes come from, its category and (queries) its matches."""

    id: str
    source: str  # a path, or "<file>#row N" for bytes stored inside a manifest
    category: str | None = None
    matches: tuple[str, ...] = ()
    data: bytes | None = field(default=None, repr=False)

    def read(self) -> bytes:
        """The encoded image; raises OSError when the file is missing or unreadable."""
        if self.data is not None:
            return self.data
        return Path(self.source).read_bytes()


@dataclass(frozen=True)
class ImageSet:
    """The entries of a gallery or query set, in a stable order (ties in search follow it)."""

    entries: tuple[ImageEntry, ...]
    origin: str  # the manifest file(s) or the folder scanned, for messages
    layout: str  # "manifest", "parquet" or "folder"

    def __len__(self) -> int:
        return len(self.entries)


def read_image_set(location: Path, *, role: str) -> ImageSet:
    """Read the gallery (``role="gallery"``) or query set (``role="queries"``) at ``location``."""
    if role not in ROLE_PREFIXES:
        raise ValueError(f"role must be 'gallery' or 'queries', got {role!r}")
    label = "gallery" if role == "gallery" else "query set"
    if not location.exists():
        raise DatasetError(f"the {label} {location} does not exist")
    if location.is_file():
        entries = _read_manifest_files([location], role)
        return _checked(ImageSet(entries, str(location), _layout_of(location)), role)
    for name in MANIFEST_NAMES:
        manifest = location / name
        if manifest.is_file():
            return _checked(ImageSet(_read_manifest_files([manifest], role), str(manifest), "manifest"), role)
    parquet = sorted(location.glob("*.parquet"))
    if parquet:
        prefixed = [path for path in parquet if path.name.lower().startswith(ROLE_PREFIXES[role])]
        files = prefixed or parquet
        origin = ", ".join(str(path) for path in files)
        return _checked(ImageSet(_read_manifest_files(files, role), origin, "parquet"), role)
    return _checked(ImageSet(_scan_folder(location, label), str(location), "folder"), role)


def read_pairs(path: Path) -> dict[str, tuple[str, ...]]:
    """Query id → matching gallery item ids, from a ``.jsonl``, ``.json``, ``.csv`` or ``.tsv`` file.

    - JSONL: one object per line, ``{"query": "q1", "gallery": ["123", "456"]}`` (``gallery`` may
      be one id; other accepted keys: ``query_id``; ``gallery_ids``, ``matches``, ``positives``,
      ``item_ID``).
    - JSON: ``{"q1": ["123", "456"], "q2": "789"}`` or a list of the JSONL objects.
    - CSV/TSV with a header: a query column and a gallery column; one pair per row, or several
      ids in one cell separated by spaces, ``;`` or ``|``. Rows for the same query add up.
    """
    if not path.is_file():
        raise DatasetError(
            f"the pairs file {path} does not exist" if not path.exists() else f"{path} is not a file"
        )
    suffix = path.suffix.lower()
    pairs: dict[str, list[str]] = {}
    if suffix == ".jsonl":
        for number, row in _jsonl_rows(path):
            _add_pair(pairs, path, f"line {number}", row)
    elif suffix == ".json":
        document = _load_json(path)
        if isinstance(document, dict):
            for query, value in document.items():
                _extend(pairs, str(query), _ids(value, path, f"key {query!r}"))
        elif isinstance(document, list):
            for index, row in enumerate(document):
                _add_pair(pairs, path, f"item {index}", row)
        else:
            raise DatasetError(
                f"{path}: expected an object {{query: [gallery ids]}} or a list of pair objects"
            )
    elif suffix in {".csv", ".tsv"}:
        for number, row in _csv_rows(path):
            query = _first(row, PAIR_QUERY_FIELDS)
            gallery = _first(row, PAIR_GALLERY_FIELDS)
            if query is None or gallery is None:
                raise DatasetError(
                    f"{path} line {number}: needs a query column ({', '.join(PAIR_QUERY_FIELDS)}) "
                    f"and a gallery column ({', '.join(PAIR_GALLERY_FIELDS)}) with values"
                )
            _extend(pairs, query, _split_ids(gallery))
    else:
        raise DatasetError(
            f"{path}: unknown pairs format {suffix or '(no suffix)'}; use .jsonl, .json, .csv or .tsv"
        )
    if not pairs:
        raise DatasetError(f"{path} holds no pairs")
    return {query: tuple(dict.fromkeys(ids)) for query, ids in pairs.items()}


# --- manifests ---------------------------------------------------------------------------------


def _layout_of(path: Path) -> str:
    return "parquet" if path.suffix.lower() == ".parquet" else "manifest"


def _read_manifest_files(files: list[Path], role: str) -> tuple[ImageEntry, ...]:
    rows: list[tuple[Path, str, Mapping[str, Any]]] = []
    for path in files:
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            rows += [(path, f"line {number}", row) for number, row in _jsonl_rows(path)]
        elif suffix in {".csv", ".tsv"}:
            rows += [(path, f"line {number}", row) for number, row in _csv_rows(path)]
        elif suffix == ".parquet":
            rows += [(path, f"row {number}", row) for number, row in _parquet_rows(path)]
        else:
            raise DatasetError(
                f"{path}: unknown manifest format {suffix or '(no suffix)'}; use .jsonl, .csv or .parquet"
            )
    if not rows:
        raise DatasetError(f"{', '.join(map(str, files))} lists no images")
    build = _gallery_entry if role == "gallery" else _query_entry
    entries = [build(path, where, row, index) for index, (path, where, row) in enumerate(rows)]
    if role == "queries":
        entries = _name_queries(entries)
    return tuple(entries)


def _gallery_entry(path: Path, where: str, row: Mapping[str, Any], index: int) -> ImageEntry:
    item = _first(row, GALLERY_ID_FIELDS)
    if item is None:
        raise DatasetError(f"{path} {where}: no item id (one of {', '.join(GALLERY_ID_FIELDS)})")
    source, data = _image_of(path, where, row)
    return ImageEntry(id=item, source=source, category=_category(row), data=data)


def _query_entry(path: Path, where: str, row: Mapping[str, Any], index: int) -> ImageEntry:
    source, data = _image_of(path, where, row)
    own = _first(row, QUERY_ID_FIELDS)
    matches: tuple[str, ...] = ()
    for name in MATCH_FIELDS:
        if name in row and row[name] not in (None, ""):
            value = row[name]
            matches = tuple(_split_ids(value)) if isinstance(value, str) else _ids(value, path, where)
            break
    # Without an id of its own the query is named later, from its file stem or its row number.
    return ImageEntry(id=own or "", source=source, category=_category(row), matches=matches, data=data)


def _name_queries(entries: list[ImageEntry]) -> list[ImageEntry]:
    unnamed = [entry for entry in entries if not entry.id]
    if unnamed:
        stems = [Path(entry.source.split("#row ")[0]).stem if entry.data is None else "" for entry in entries]
        use_stems = all(stems) and len(set(stems)) == len(stems)
        entries = [
            entry
            if entry.id
            else ImageEntry(
                id=stems[index] if use_stems else f"row-{index}",
                source=entry.source,
                category=entry.category,
                matches=entry.matches,
                data=entry.data,
            )
            for index, entry in enumerate(entries)
        ]
    return entries


def _image_of(path: Path, where: str, row: Mapping[str, Any]) -> tuple[str, bytes | None]:
    for name in IMAGE_FIELDS:
        value = row.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, Mapping):  # a Hugging Face Image struct: {"bytes": ..., "path": ...}
            if value.get("bytes"):
                return f"{path}#{where}", bytes(value["bytes"])
            value = value.get("path")
            if not value:
                continue
        if isinstance(value, bytes | bytearray):
            return f"{path}#{where}", bytes(value)
        if isinstance(value, str):
            return str(_resolve(path.parent, value)), None
        raise DatasetError(
            f"{path} {where}: column {name!r} holds {type(value).__name__}, not a path or image bytes"
        )
    raise DatasetError(f"{path} {where}: no image (one of {', '.join(IMAGE_FIELDS)})")


def _resolve(folder: Path, value: str) -> Path:
    """A manifest path is relative to the manifest's folder; LookBench's are relative to its parent."""
    candidate = Path(value).expanduser()
    if candidate.is_absolute():
        return candidate
    here = folder / candidate
    if not here.exists() and (folder.parent / candidate).exists():
        return folder.parent / candidate
    return here


def _category(row: Mapping[str, Any]) -> str | None:
    value = row.get("category")
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _first(row: Mapping[str, Any], names: Iterable[str]) -> str | None:
    for name in names:
        value = row.get(name)
        if value is None or isinstance(value, list | tuple | Mapping):
            continue
        text = _id_text(value)
        if text:
            return text
    return None


def _id_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # CSV/parquet readers can turn 123 into 123.0
    return str(value).strip()


def _ids(value: Any, path: Path, where: str) -> tuple[str, ...]:
    values = value if isinstance(value, list | tuple) else [value]
    ids = []
    for item in values:
        if item is None or isinstance(item, list | tuple | Mapping | bool):
            raise DatasetError(f"{path} {where}: gallery ids must be strings or numbers, got {item!r}")
        text = _id_text(item)
        if text:
            ids.append(text)
    return tuple(ids)


def _split_ids(value: str) -> list[str]:
    return [part for part in _SEPARATORS.split(value.strip()) if part]


def _add_pair(pairs: dict[str, list[str]], path: Path, where: str, row: Any) -> None:
    if not isinstance(row, Mapping):
        raise DatasetError(f'{path} {where}: expected an object like {{"query": ..., "gallery": [...]}}')
    query = _first(row, PAIR_QUERY_FIELDS)
    gallery_key = next((name for name in PAIR_GALLERY_FIELDS if row.get(name) not in (None, "", [])), None)
    if query is None or gallery_key is None:
        raise DatasetError(
            f"{path} {where}: needs a query id ({', '.join(PAIR_QUERY_FIELDS)}) and gallery ids "
            f"({', '.join(PAIR_GALLERY_FIELDS)})"
        )
    _extend(pairs, query, _ids(row[gallery_key], path, where))


def _extend(pairs: dict[str, list[str]], query: str, ids: Iterable[str]) -> None:
    pairs.setdefault(query, []).extend(ids)


# --- file formats ----------------------------------------------------------------------------


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path} line {number}: not JSON ({exc.msg})") from None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(_text(path))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    text = _text(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    if not reader.fieldnames:
        raise DatasetError(f"{path} is empty; expected a header row")
    for number, row in enumerate(reader, start=2):
        yield number, {key.strip(): (value or "").strip() for key, value in row.items() if key is not None}


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DatasetError(
            f"reading {path} needs pyarrow: pip install 'snapfit[lookbench]' (or export the set as JSONL/CSV)"
        ) from None
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise DatasetError(
            f"{path} is not a readable parquet file ({' '.join(str(exc).split())[:200]})"
        ) from None
    yield from enumerate(table.to_pylist())


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None


# --- folders -------------------------------------------------------------------------------


def _scan_folder(folder: Path, label: str) -> tuple[ImageEntry, ...]:
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    if not files:
        raise DatasetError(
            f"the {label} {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}) and no "
            f"{' / '.join(MANIFEST_NAMES)}"
        )
    seen: dict[str, Path] = {}
    entries = []
    for path in files:
        relative = path.relative_to(folder)
        item = path.stem
        if item in seen:
            raise DatasetError(
                f"the {label} {folder} has two images named {item!r} ({seen[item].relative_to(folder)} and "
                f"{relative}); ids come from file names, so use a manifest to give several images one id"
            )
        seen[item] = path
        category = relative.parts[0] if len(relative.parts) > 1 else None
        entries.append(ImageEntry(id=item, source=str(path), category=category))
    return tuple(entries)


def _checked(images: ImageSet, role: str) -> ImageSet:
    if role == "queries":
        counts: dict[str, int] = {}
        for entry in images.entries:
            counts[entry.id] = counts.get(entry.id, 0) + 1
        duplicates = sorted(query for query, count in counts.items() if count > 1)
        if duplicates:
            raise DatasetError(f"{images.origin}: query ids must be unique; repeated: {preview(duplicates)}")
    return images


def preview(values: list[str], limit: int = 5) -> str:
    """The first ``limit`` values joined, with a count of the rest: ids in one-line messages."""
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")
