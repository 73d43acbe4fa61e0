"""Embed a gallery and a query set, search exactly, rank every query, and explain what was left out.

Search is an exact float32 matrix product: an ANN index would add its own misses to the
model's figure. Bad input (a query without a pair, a missing gallery item, an unreadable
image) is counted and listed in the report, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

from indexer.evaluation.datasets import DatasetError, ImageEntry, ImageSet, preview
from indexer.evaluation.metrics import DEFAULT_KS, MetricSummary, first_positive_ranks, summarize
from indexer.images import ImageError

SCORE_CHUNK = 256  # queries scored per matrix product: bounds memory at 256 × gallery floats
NO_CATEGORY = "(none)"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class ImageEmbedder(Protocol):
    """What the harness needs from ``indexer.embedding.Encoder``."""

    @property
    def model_id(self) -> str: ...

    @property
    def batch_size(self) -> int: ...

    def embed_images(self, images: Sequence[Image.Image]) -> np.ndarray: ...


@dataclass(frozen=True)
class Unreadable:
    role: str  # "gallery" or "query"
    id: str
    source: str
    reason: str  # an ImageError code, "missing" or "unreadable"


@dataclass(frozen=True)
class QueryResult:
    id: str
    category: str | None
    rank: int
    matches: int  # readable gallery images that count as a hit


@dataclass
class EvaluationReport:
    model_id: str
    ks: tuple[int, ...]
    pairs_source: str  # "pairs file" or "query labels"
    gallery_images: int
    gallery_items: int
    gallery_readable: int
    query_images: int
    overall: MetricSummary
    by_category: dict[str, MetricSummary]
    results: list[QueryResult]
    unreadable: list[Unreadable] = field(default_factory=list)
    queries_without_pairs: list[str] = field(default_factory=list)
    pairs_for_unknown_queries: list[str] = field(default_factory=list)
    missing_gallery_ids: dict[str, list[str]] = field(default_factory=dict)  # query → ids not in the gallery
    queries_without_match_in_gallery: list[str] = field(default_factory=list)
    queries_with_unreadable_matches: list[str] = field(default_factory=list)

    @property
    def evaluated(self) -> int:
        return len(self.results)

    def problems(self) -> list[str]:
        """One line per kind of input problem, for the console (the JSON has the full lists)."""
        lines = []
        for role in ("gallery", "query"):
            bad = [item for item in self.unreadable if item.role == role]
            if bad:
                reasons: dict[str, int] = {}
                for item in bad:
                    reasons[item.reason] = reasons.get(item.reason, 0) + 1
                detail = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
                lines.append(
                    f"{len(bad)} {role} image(s) unreadable and left out ({detail}): "
                    f"{preview([item.id for item in bad])}"
                )
        if self.queries_without_pairs:
            lines.append(
                f"{len(self.queries_without_pairs)} query(ies) have no pair and were skipped: "
                f"{preview(self.queries_without_pairs)}"
            )
        if self.pairs_for_unknown_queries:
            lines.append(
                f"{len(self.pairs_for_unknown_queries)} pair(s) name queries that are not in the query set: "
                f"{preview(self.pairs_for_unknown_queries)}"
            )
        if self.missing_gallery_ids:
            missing = sorted({item for ids in self.missing_gallery_ids.values() for item in ids})
            lines.append(
                f"{len(missing)} gallery id(s) named in pairs are not in the gallery "
                f"(for {len(self.missing_gallery_ids)} query(ies)): {preview(missing)}"
            )
        if self.queries_without_match_in_gallery:
            lines.append(
                f"{len(self.queries_without_match_in_gallery)} query(ies) skipped because none of their "
                f"matches is in the gallery: {preview(self.queries_without_match_in_gallery)}"
            )
        if self.queries_with_unreadable_matches:
            lines.append(
                f"{len(self.queries_with_unreadable_matches)} query(ies) skipped because all their matching "
                f"gallery images are unreadable: {preview(self.queries_with_unreadable_matches)}"
            )
        return lines

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model_id,
            "ks": list(self.ks),
            "pairs_source": self.pairs_source,
            "gallery": {
                "images": self.gallery_images,
                "readable": self.gallery_readable,
                "items": self.gallery_items,
            },
            "queries": {"images": self.query_images, "evaluated": self.evaluated},
            "overall": self.overall.to_json(),
            "by_category": {name: summary.to_json() for name, summary in self.by_category.items()},
            "problems": {
                "unreadable": [
                    {"role": item.role, "id": item.id, "source": item.source, "reason": item.reason}
                    for item in self.unreadable
                ],
                "queries_without_pairs": self.queries_without_pairs,
                "pairs_for_unknown_queries": self.pairs_for_unknown_queries,
                "missing_gallery_ids": self.missing_gallery_ids,
                "queries_without_match_in_gallery": self.queries_without_match_in_gallery,
                "queries_with_unreadable_matches": self.queries_with_unreadable_matches,
            },
            "results": [
                {"id": result.id, "category": result.category, "rank": result.rank, "matches": result.matches}
                for result in self.results
            ],
        }


def run_evaluation(
    encoder: ImageEmbedder,
    gallery: ImageSet,
    queries: ImageSet,
    pairs: Mapping[str, Sequence[str]] | None,
    *,
    decode: Callable[[bytes], Image.Image],
    ks: Sequence[int] = DEFAULT_KS,
    limit: int | None = None,
    progress: Progress | None = None,
) -> EvaluationReport:
    """Score every query that has a readable match in the gallery; see the module docstring.

    ``pairs`` maps query ids to gallery item ids; ``None`` takes each query's own match labels
    (a LookBench-style export). ``decode`` turns bytes into an RGB image (``ImageDecoder.decode``
    with the encoder's input size). ``limit`` scores only the first N scorable queries.
    """
    ks = tuple(sorted(set(ks)))
    if not ks or ks[0] < 1:
        raise ValueError("every k must be at least 1")
    wanted, report_lists = _resolve_pairs(queries, pairs)
    gallery_ids: dict[str, list[int]] = {}
    for index, entry in enumerate(gallery.entries):
        gallery_ids.setdefault(entry.id, []).append(index)

    candidates: list[tuple[ImageEntry, tuple[str, ...]]] = []
    for entry, matches in wanted:
        present = tuple(item for item in matches if item in gallery_ids)
        missing = [item for item in matches if item not in gallery_ids]
        if missing:
            report_lists["missing_gallery_ids"][entry.id] = missing
        if present:
            candidates.append((entry, present))
        else:
            report_lists["queries_without_match_in_gallery"].append(entry.id)
    if limit is not None:
        candidates = candidates[:limit]

    unreadable: list[Unreadable] = []
    gallery_vectors, gallery_ok = _embed(encoder, gallery.entries, "gallery", decode, unreadable, progress)
    query_vectors, query_ok = _embed(
        encoder, [entry for entry, _ in candidates], "query", decode, unreadable, progress
    )

    readable_rows = np.flatnonzero(gallery_ok)
    column_of = {int(row): column for column, row in enumerate(readable_rows)}
    matrix = gallery_vectors[readable_rows]
    scored: list[tuple[int, ImageEntry, np.ndarray, str | None]] = []  # (candidate index, ...)
    for index, (entry, present) in enumerate(candidates):
        if not query_ok[index]:
            continue
        columns = np.array(
            [column_of[row] for item in present for row in gallery_ids[item] if row in column_of],
            dtype=np.int64,
        )
        if columns.size == 0:
            report_lists["queries_with_unreadable_matches"].append(entry.id)
            continue
        category = entry.category or _shared_category(gallery, readable_rows[columns])
        scored.append((index, entry, columns, category))

    results: list[QueryResult] = []
    for start in range(0, len(scored), SCORE_CHUNK):
        chunk = scored[start : start + SCORE_CHUNK]
        scores = query_vectors[[index for index, _, _, _ in chunk]] @ matrix.T
        ranks = first_positive_ranks(scores, [columns for _, _, columns, _ in chunk])
        results += [
            QueryResult(entry.id, category, int(rank), int(columns.size))
            for (_, entry, columns, category), rank in zip(chunk, ranks, strict=True)
        ]

    by_category: dict[str, MetricSummary] = {}
    if any(result.category for result in results):
        names = sorted({result.category or NO_CATEGORY for result in results})
        for name in names:
            by_category[name] = summarize(
                [result.rank for result in results if (result.category or NO_CATEGORY) == name], ks
            )
    return EvaluationReport(
        model_id=encoder.model_id,
        ks=ks,
        pairs_source="pairs file" if pairs is not None else "query labels",
        gallery_images=len(gallery),
        gallery_items=len(gallery_ids),
        gallery_readable=int(readable_rows.size),
        query_images=len(queries),
        overall=summarize([result.rank for result in results], ks),
        by_category=by_category,
        results=results,
        unreadable=unreadable,
        **report_lists,
    )


def _resolve_pairs(
    queries: ImageSet, pairs: Mapping[str, Sequence[str]] | None
) -> tuple[list[tuple[ImageEntry, tuple[str, ...]]], dict]:
    lists: dict = {
        "queries_without_pairs": [],
        "pairs_for_unknown_queries": [],
        "missing_gallery_ids": {},
        "queries_without_match_in_gallery": [],
        "queries_with_unreadable_matches": [],
    }
    if pairs is None and not any(entry.matches for entry in queries.entries):
        raise DatasetError(
            f"no pairs: pass --pairs FILE, or give each query row its matching gallery id(s) "
            f"(item_ID, item_id, label or matches) in {queries.origin}"
        )
    wanted = []
    for entry in queries.entries:
        matches = tuple(pairs.get(entry.id, ())) if pairs is not None else entry.matches
        if matches:
            wanted.append((entry, matches))
        else:
            lists["queries_without_pairs"].append(entry.id)
    if pairs is not None:
        known = {entry.id for entry in queries.entries}
        lists["pairs_for_unknown_queries"] = sorted(query for query in pairs if query not in known)
    return wanted, lists


def _embed(
    encoder: ImageEmbedder,
    entries: Sequence[ImageEntry],
    role: str,
    decode: Callable[[bytes], Image.Image],
    unreadable: list[Unreadable],
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for ``entries`` (zero rows where unreadable) and a mask of the readable ones."""
    ok = np.zeros(len(entries), dtype=bool)
    parts: list[tuple[list[int], np.ndarray]] = []
    step = max(1, encoder.batch_size)
    for start in range(0, len(entries), step):
        indices, images = [], []
        for index in range(start, min(start + step, len(entries))):
            entry = entries[index]
            try:
                images.append(decode(entry.read()))
            except FileNotFoundError:
                unreadable.append(Unreadable(role, entry.id, entry.source, "missing"))
                continue
            except OSError:
                unreadable.append(Unreadable(role, entry.id, entry.source, "unreadable"))
                continue
            except ImageError as exc:
                unreadable.append(Unreadable(role, entry.id, entry.source, exc.code))
                continue
            indices.append(index)
        if images:
            parts.append((indices, encoder.embed_images(images)))
            ok[indices] = True
        if progress is not None:
            progress(role, min(start + step, len(entries)), len(entries))
    dimension = parts[0][1].shape[1] if parts else 0
    vectors = np.zeros((len(entries), dimension), dtype=np.float32)
    for indices, block in parts:
        vectors[indices] = block
    return vectors, ok


def _shared_category(gallery: ImageSet, rows: np.ndarray) -> str | None:
    """A query without a category takes its matches' category when they all agree."""
    categories = {gallery.entries[int(row)].category for row in rows}
    return next(iter(categories)) if len(categories) == 1 else None
