"""Index versions: their metadata, names and stored form, the same for both engines.

A version is named ``<collection>_<model-hash>_<UTC timestamp>``; its metadata is the authority.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

MAX_DIMENSION = 65_536
VersionState = Literal["building", "ready"]


@dataclass(frozen=True)
class CatalogVersion:
    """One index version: the embedding model that made its vectors, and their dimension.

    ``model_id`` decides whether vectors may be mixed; ``model_name`` (open_clip) lets a process
    load the matching encoder to query an older version during a transition. ``text_index``: the
    version holds the sparse "text" vector and ``text_terms`` of every product (versions made before
    text search have neither until a sync adds them in place; their metadata lacks the key).
    """

    name: str
    model_id: str
    model_name: str
    dimension: int
    created_at: datetime
    state: VersionState = "building"
    text_index: bool = False


# Precisions that older model ids carried: they round the same weights' vectors alike (cosine
# >= 0.99), so one index serves them all. int8 stays in the id: quantization changes the vectors.
FLOAT_PRECISIONS = ("fp32", "bf16", "fp16")


def canonical_model_id(model_id: str) -> str:
    """``model_id`` without the float precision that ids written before it was dropped ended in."""
    head, _, last = model_id.rpartition("/")
    return head if head and last in FLOAT_PRECISIONS else model_id


def same_model(a: str | None, b: str | None) -> bool:
    """Whether vectors of model ids ``a`` and ``b`` may share an index (None matches nothing)."""
    return a is not None and b is not None and canonical_model_id(a) == canonical_model_id(b)


def model_hash(model_id: str) -> str:
    return hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:8]


def version_pattern(collection: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(collection)}_[0-9a-f]{{8}}_\d{{20}}$")


def new_version_name(
    collection: str, model_id: str, taken: Iterable[str], now: datetime | None = None
) -> str:
    """A fresh, sortable name; microseconds plus a bump keep two quick rebuilds apart."""
    taken = set(taken)
    moment = now or datetime.now(UTC)
    stamp = int(moment.strftime("%Y%m%d%H%M%S%f"))
    while True:
        name = f"{collection}_{model_hash(model_id)}_{stamp:020d}"
        if name not in taken:
            return name
        stamp += 1


def check_model(model_id: str, model_name: str, dimension: int) -> None:
    if not isinstance(model_id, str) or not model_id.strip():
        raise ValueError("model_id must be a non-empty string naming the embedding model")
    if not isinstance(model_name, str) or not model_name.strip():
        raise ValueError("model_name must be the open_clip model name")
    if isinstance(dimension, bool) or not isinstance(dimension, int) or not 1 <= dimension <= MAX_DIMENSION:
        raise ValueError(f"dimension must be an integer from 1 to {MAX_DIMENSION}, got {dimension!r}")


def version_to_json(version: CatalogVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "model_id": version.model_id,
        "model_name": version.model_name,
        "dimension": version.dimension,
        "created_at": version.created_at.isoformat(),
        "state": version.state,
        "text_index": version.text_index,
    }


def version_from_json(data: Any) -> CatalogVersion:
    """Parse stored metadata; raises ValueError (with the reason) when it is not ours or damaged."""
    if not isinstance(data, dict):
        raise ValueError("version metadata is not an object")
    try:
        state = data["state"]
        if state not in ("building", "ready"):
            raise ValueError(f"unknown state {state!r}")
        version = CatalogVersion(
            name=str(data["name"]),
            model_id=str(data["model_id"]),
            model_name=str(data["model_name"]),
            dimension=int(data["dimension"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            state=state,
            text_index=data.get("text_index", False) is True,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"version metadata lacks or mistypes {exc}") from None
    check_model(version.model_id, version.model_name, version.dimension)
    return version
