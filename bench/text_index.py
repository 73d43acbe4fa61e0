"""Text search index choice: Qdrant sparse vectors (IDF modifier) against Qdrant's full-text payload index.

Both on Qdrant Edge, over the same synthetic Musinsa-like product names (Korean and English words,
brands in both scripts), analysed the same way: ``indexer.text.tokens`` (kiwipiepy). Variants:

- sparse + IDF: each name's terms as a sparse vector (``indexer.text.sparse_terms``), the
  ``Modifier.Idf`` vector; a query is a nearest search with the query's terms: ranked by IDF.
- full-text filter: the same terms joined by spaces in a payload field with a whitespace text
  index; a query is a ``MatchText`` filter (every word present), read with scroll: no score.
- full-text BM25: the same field indexed with ``scoring=True``, queried with ``TextQuery`` (BM25).

Ground truth of a query: the names holding every query word. precision@10 = the share of the
first min(10, truth) answers that hold every word; "answered" = the share of queries with any
answer (a filter answers nothing when no name holds every word).

    python -m bench.text_index              # 50,000 names
    python -m bench.text_index --names 20000 --no-write
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qdrant_edge import (
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    FieldCondition,
    Filter,
    MatchText,
    Modifier,
    Point,
    Query,
    QueryRequest,
    ScrollRequest,
    SparseVector,
    TextIndexParams,
    TextQuery,
    TokenizerType,
    UpdateOperation,
)

from bench.report import markdown_table, write_section
from indexer.text import sparse_terms, tokens

TEXT_VECTOR = "text"
TEXT_FIELD = "terms"
BATCH = 512

COLORS = [
    "블랙",
    "화이트",
    "네이비",
    "그레이",
    "베이지",
    "차콜",
    "카키",
    "브라운",
    "아이보리",
    "멜란지",
    "검정",
    "연청",
]
FITS = ["오버핏", "와이드", "슬림", "세미와이드", "루즈핏", "크롭", "레귤러", "스트레이트", "테이퍼드"]
ITEMS = [
    "후드",
    "티셔츠",
    "슬랙스",
    "데님",
    "팬츠",
    "자켓",
    "코트",
    "니트",
    "가디건",
    "셔츠",
    "스커트",
    "원피스",
    "스니커즈",
    "백팩",
    "맨투맨",
    "조거",
    "카고",
    "패딩",
    "바람막이",
    "반팔",
]
DETAILS = [
    "로고",
    "스트라이프",
    "체크",
    "케이블",
    "투턱",
    "워싱",
    "기모",
    "코튼",
    "울",
    "린넨",
    "나일론",
    "헤비",
]
ENGLISH = [
    "hoodie",
    "denim",
    "cargo",
    "logo",
    "basic",
    "vintage",
    "oversized",
    "wide",
    "black",
    "navy",
    "zip",
    "crew",
]
BRANDS = [
    ("나이키", "Nike"),
    ("아디다스", "adidas"),
    ("무신사 스탠다드", "musinsa standard"),
    ("커버낫", "covernat"),
    ("디스이즈네버댓", "thisisneverthat"),
    ("마르디 메크르디", "mardi mercredi"),
    ("뉴발란스", "New Balance"),
    ("세인트페인", "saintpain"),
    ("리", "LEE"),
    ("앤더슨벨", "andersson bell"),
]


@dataclass
class Corpus:
    names: list[str]
    terms: list[list[str]]  # analysed, repeats kept
    queries: list[str]
    query_terms: list[list[str]]


def make_corpus(count: int, queries: int, seed: int = 0) -> Corpus:
    """Names like "커버낫 블랙 오버핏 로고 후드 hoodie"; queries of 2-3 words, most taken from one name."""
    rng = np.random.default_rng(seed)
    names = []
    for _ in range(count):
        korean, latin = BRANDS[int(rng.integers(len(BRANDS)))]
        words = [str(rng.choice(COLORS)), str(rng.choice(ITEMS))]
        if rng.random() < 0.6:
            words.insert(1, str(rng.choice(FITS)))
        if rng.random() < 0.5:
            words.insert(-1, str(rng.choice(DETAILS)))
        if rng.random() < 0.3:
            words.append(str(rng.choice(ENGLISH)))
        names.append(" ".join([korean if rng.random() < 0.7 else latin, *words]))
    terms = [tokens(name) for name in names]
    asked = []
    for i in range(queries):
        words = names[int(rng.integers(count))].split()
        if i % 5 == 4:  # a combination that may not exist as a whole
            words = [str(rng.choice(COLORS)), str(rng.choice(FITS)), str(rng.choice(ITEMS))]
        pick = sorted(rng.choice(len(words), size=min(len(words), int(rng.integers(2, 4))), replace=False))
        asked.append(" ".join(words[j] for j in pick))
    return Corpus(names, terms, asked, [tokens(query) for query in asked])


def truth_sets(corpus: Corpus) -> list[set[int]]:
    """Ids (1-based) of the names that hold every query term."""
    holders: dict[str, set[int]] = {}
    for i, terms in enumerate(corpus.terms):
        for term in set(terms):
            holders.setdefault(term, set()).add(i + 1)
    found = []
    for query in corpus.query_terms:
        sets = [holders.get(term, set()) for term in set(query)]
        found.append(set.intersection(*sets) if sets else set())
    return found


def folder_mb(path: Path) -> float:
    """Space the files take (allocated blocks: the engine preallocates sparse files, e.g. the WAL)."""
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 1e6


def build(path: Path, corpus: Corpus, variant: str) -> tuple[EdgeShard, float]:
    """A shard of the names as ``variant`` indexes them, optimized (index built); seconds taken."""
    started = time.perf_counter()
    if variant == "sparse":
        config = EdgeConfig(sparse_vectors={TEXT_VECTOR: EdgeSparseVectorParams(modifier=Modifier.Idf)})
    else:
        config = EdgeConfig(
            sparse_vectors={TEXT_VECTOR: EdgeSparseVectorParams()}
        )  # unused; a shard needs one
    shard = EdgeShard.create(str(path), config)
    if variant != "sparse":
        params = TextIndexParams(
            tokenizer=TokenizerType.Whitespace, lowercase=False, scoring=True if variant == "bm25" else None
        )
        shard.update(UpdateOperation.create_field_index(TEXT_FIELD, params))
    for start in range(0, len(corpus.names), BATCH):
        points = []
        for i in range(start, min(len(corpus.names), start + BATCH)):
            terms = corpus.terms[i]
            if variant == "sparse":
                sparse = sparse_terms(terms)
                vectors = {TEXT_VECTOR: SparseVector(list(sparse.indices), list(sparse.values))}
                payload = {"name": corpus.names[i]}
            else:
                vectors = {}
                payload = {"name": corpus.names[i], TEXT_FIELD: " ".join(terms)}
            points.append(Point(i + 1, vectors, payload))
        shard.update(UpdateOperation.upsert_points(points))
    shard.optimize()
    shard.flush()
    return shard, time.perf_counter() - started


def searcher(shard: EdgeShard, variant: str) -> Callable[[list[str]], list[int]]:
    def sparse(terms: list[str]) -> list[int]:
        query = sparse_terms(terms)
        vector = SparseVector(list(query.indices), [1.0] * len(query.indices))
        request = QueryRequest(limit=10, query=Query.Nearest(vector, using=TEXT_VECTOR), with_payload=False)
        return [int(point.id) for point in shard.query(request)]

    def text_filter(terms: list[str]) -> list[int]:
        condition = FieldCondition(key=TEXT_FIELD, match=MatchText(" ".join(terms)))
        records, _ = shard.scroll(
            ScrollRequest(limit=10, filter=Filter(must=[condition]), with_payload=False)
        )
        return [int(record.id) for record in records]

    def bm25(terms: list[str]) -> list[int]:
        request = QueryRequest(limit=10, query=TextQuery(TEXT_FIELD, " ".join(terms)), with_payload=False)
        return [int(point.id) for point in shard.query(request)]

    return {"sparse": sparse, "filter": text_filter, "bm25": bm25}[variant]


LABELS = {
    "sparse": "sparse vector, IDF modifier (nearest)",
    "filter": "full-text index, MatchText filter (scroll)",
    "bm25": "full-text index with scoring, TextQuery (BM25)",
}


def run(corpus: Corpus, workdir: Path) -> list[list[object]]:
    truth = truth_sets(corpus)
    rows: list[list[object]] = []
    for variant in ("sparse", "filter", "bm25"):
        path = workdir / variant
        shard, seconds = build(path, corpus, variant)
        search = searcher(shard, variant)
        for terms in corpus.query_terms[:20]:  # warm-up
            search(terms)
        times, precision, answered = [], [], 0
        for terms, expected in zip(corpus.query_terms, truth, strict=True):
            started = time.perf_counter()
            found = search(terms)
            times.append(time.perf_counter() - started)
            answered += bool(found)
            if expected:
                top = found[: min(10, len(expected))]
                precision.append(sum(pid in expected for pid in top) / min(10, len(expected)))
        shard.close()
        rows.append(
            [
                LABELS[variant],
                f"{len(corpus.names):,}",
                f"{seconds:.1f}",
                f"{folder_mb(path):.1f}",
                f"{np.percentile(times, 50) * 1000:.2f}",
                f"{np.percentile(times, 99) * 1000:.2f}",
                f"{np.mean(precision):.3f}",
                f"{answered / len(times):.2f}",
            ]
        )
        shutil.rmtree(path, ignore_errors=True)
        print(rows[-1], flush=True)
    return rows


def conclusion(rows: list[list[object]]) -> str:
    """The choice, with this run's figures (columns as in the table)."""
    sparse, text_filter, bm25 = (
        {"p50": row[4], "precision": row[6], "answered": row[7], "mb": row[3]} for row in rows
    )
    return (
        f"Choice: sparse vectors with the IDF modifier (what the store uses). They rank: names holding "
        f"every query word come first (precision@10 {sparse['precision']}), and a query that no name "
        f"matches in full still gets the closest names (answered {sparse['answered']}), at p50 "
        f"{sparse['p50']} ms and {sparse['mb']} MB. The full-text filter is fast too (p50 "
        f"{text_filter['p50']} ms; precision 1 by construction) but gives no order and nothing when no "
        f"name holds every word (answered {text_filter['answered']}); its BM25 scoring ranks as well "
        f"(precision@10 {bm25['precision']}, p50 {bm25['p50']} ms) but is a text-index query of Edge's, "
        "while a sparse vector is a named vector beside the image vector that the server backend "
        "and qdrant-client's local mode query the same way, and that Qdrant's fusion query (RRF) "
        "combines with the text tower's vector."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--names", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-write", action="store_true", help="print, do not update BENCHMARKS.md")
    args = parser.parse_args()
    started = time.perf_counter()
    corpus = make_corpus(args.names, args.queries)
    print(f"corpus: {time.perf_counter() - started:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="snapfit-text-") as tmp:
        rows = run(corpus, Path(tmp))
    truth = truth_sets(corpus)
    with_truth = sum(bool(t) for t in truth)
    body = "\n\n".join(
        [
            f"{args.names:,} synthetic Musinsa-like names (Korean colour, fit, detail and item words, some "
            f"English words, brands in Hangul or Latin letters), {args.queries} queries of 2-3 words "
            f"({with_truth} with at least one name holding every word). Every variant indexes the same "
            "kiwipiepy terms (`indexer.text.tokens`) on Qdrant Edge; build = upserts + `optimize()`. "
            "precision@10: share of the first min(10, matching names) answers that hold every query word; "
            "answered: share of queries with any answer.",
            markdown_table(
                [
                    "index",
                    "names",
                    "build (s)",
                    "disk (MB)",
                    "query p50 (ms)",
                    "query p99 (ms)",
                    "precision@10",
                    "answered",
                ],
                rows,
            ),
            conclusion(rows),
        ]
    )
    print(body)
    if not args.no_write:
        write_section("text_index", "Text search index: sparse vectors vs full-text index", body)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
