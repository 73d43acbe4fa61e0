"""``snapfit eval`` end to end with the tiny model: known ranks, categories, bad input, LookBench export.

The image set is built so that every rank is known without looking at the model's output:
a query that is a copy of a gallery image ranks that image first (cosine 1 against < 0.999
for the other images, a margin far above float noise); a query whose exact copies sit in the
gallery as *non-matching* items, with its match a lightly edited copy, ranks that match just
behind the copies. ``test_construction_holds_for_the_tiny_model`` checks those margins.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from bot.cli import app
from indexer.embedding import Encoder


def pattern(seed: int) -> Image.Image:
    """A 64 px image with a random background and three random blocks: distinct per seed."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (64, 64), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y = (int(v) for v in rng.integers(0, 48, 2))
        draw.rectangle((x, y, x + 16, y + 16), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return image


def edited(image: Image.Image) -> Image.Image:
    """The same picture with a small white corner: very close to it, closer than any other image."""
    copy = image.copy()
    ImageDraw.Draw(copy).rectangle((0, 0, 8, 8), fill=(255, 255, 255))
    return copy


def save(image: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG")


def encoded(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def evaluation_set(tmp_path: Path) -> Path:
    """gallery/<category>/<id>.png, queries/<id>.png, pairs.jsonl; expected ranks in the comments."""
    gallery, queries = tmp_path / "gallery", tmp_path / "queries"
    base = pattern(0)
    save(pattern(1), gallery / "tops" / "101.png")
    save(base, gallery / "tops" / "decoy-1.png")  # exact copies of q-edit's photo, not its match
    save(base, gallery / "tops" / "decoy-2.png")
    save(edited(base), gallery / "tops" / "102.png")
    save(pattern(3), gallery / "bags" / "201.png")
    save(pattern(4), gallery / "bags" / "202.png")
    save(pattern(5), gallery / "shoes" / "301.png")
    (gallery / "shoes" / "302.png").write_bytes(b"this is not an image")  # unreadable gallery image

    save(pattern(1), queries / "q-copy.png")  # → 101 at rank 1 (tops)
    save(base, queries / "q-edit.png")  # → 102 at rank 3, behind the two decoys (tops)
    save(pattern(4), queries / "q-bag.png")  # → 202 at rank 1 (bags)
    save(pattern(5), queries / "q-two.png")  # → 301 or 302; 302 unreadable, 301 at rank 1 (shoes)
    save(pattern(6), queries / "q-alone.png")  # no pair
    save(pattern(7), queries / "q-ghost.png")  # its match is not in the gallery
    save(pattern(3), queries / "q-unread.png")  # → 302 only, which is unreadable
    (queries / "q-broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")  # unreadable query

    pairs = [
        {"query": "q-copy", "gallery": "101"},
        {"query": "q-edit", "gallery": ["102"]},
        {"query": "q-bag", "gallery": [202]},
        {"query": "q-two", "gallery": ["301", "302"]},
        {"query": "q-ghost", "gallery": ["999"]},
        {"query": "q-unread", "gallery": ["302"]},
        {"query": "q-broken", "gallery": ["201"]},
        {"query": "q-not-in-set", "gallery": ["201"]},
    ]
    (tmp_path / "pairs.jsonl").write_text("\n".join(json.dumps(pair) for pair in pairs) + "\n")
    return tmp_path


@pytest.fixture
def config(tmp_path: Path, tiny_model_dir: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[model]\nname = "local-dir:{tiny_model_dir}"\nbatch_size = 3\n', encoding="utf-8")
    return path


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["eval", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_construction_holds_for_the_tiny_model(tiny_encoder: Encoder) -> None:
    vectors = tiny_encoder.embed_images(
        [pattern(0), edited(pattern(0)), *(pattern(seed) for seed in range(1, 8))]
    )
    scores = vectors[0] @ vectors.T
    assert scores[1] > 0.999 and scores[1] < 0.9999, "the edited copy is nearly, not exactly, the photo"
    assert scores[2:].max() < scores[1] - 1e-3, "every other pattern is further from the photo"
    others = vectors[2:] @ vectors[2:].T
    assert others[~np.eye(len(others), dtype=bool)].max() < 0.999, "distinct patterns stay apart"


def test_known_ranks_per_category_and_every_problem_reported(evaluation_set: Path, config: Path) -> None:
    code, stdout, stderr = run(
        "--gallery", evaluation_set / "gallery", "--queries", evaluation_set / "queries",
        "--pairs", evaluation_set / "pairs.jsonl", "--json", "--config", config,
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout)
    ranks = {result["id"]: (result["rank"], result["category"]) for result in report["results"]}
    assert ranks == {
        "q-copy": (1, "tops"),
        "q-edit": (3, "tops"),
        "q-bag": (1, "bags"),
        "q-two": (1, "shoes"),
    }
    assert report["overall"] == {
        "queries": 4,
        "recall": {"1": 0.75, "5": 1.0, "10": 1.0, "20": 1.0},
        "mrr": pytest.approx((1 + 1 / 3 + 1 + 1) / 4),
    }
    assert report["by_category"]["tops"] == {
        "queries": 2,
        "recall": {"1": 0.5, "5": 1.0, "10": 1.0, "20": 1.0},
        "mrr": pytest.approx((1 + 1 / 3) / 2),
    }
    assert (
        report["by_category"]["bags"]["recall"]["1"] == report["by_category"]["shoes"]["recall"]["1"] == 1.0
    )
    assert report["gallery"] == {"images": 8, "readable": 7, "items": 8}
    assert report["queries"] == {"images": 8, "evaluated": 4}
    problems = report["problems"]
    assert {(item["role"], item["id"], item["reason"]) for item in problems["unreadable"]} == {
        ("gallery", "302", "not_an_image"),
        ("query", "q-broken", "corrupt"),
    }
    assert problems["queries_without_pairs"] == ["q-alone"]
    assert problems["pairs_for_unknown_queries"] == ["q-not-in-set"]
    assert problems["missing_gallery_ids"] == {"q-ghost": ["999"]}
    assert problems["queries_without_match_in_gallery"] == ["q-ghost"]
    assert problems["queries_with_unreadable_matches"] == ["q-unread"]
    for expected in (
        "1 gallery image(s) unreadable and left out (1 not_an_image): 302",
        "1 query image(s) unreadable and left out (1 corrupt): q-broken",
        "1 query(ies) have no pair and were skipped: q-alone",
        "1 pair(s) name queries that are not in the query set: q-not-in-set",
        "1 gallery id(s) named in pairs are not in the gallery (for 1 query(ies)): 999",
        "all their matching gallery images are unreadable: q-unread",
        "embedding gallery: 8/8 images",
    ):
        assert expected in stderr


def test_table_output_and_custom_cut_offs(evaluation_set: Path, config: Path) -> None:
    code, stdout, _ = run(
        "--gallery", evaluation_set / "gallery", "--queries", evaluation_set / "queries",
        "--pairs", evaluation_set / "pairs.jsonl", "--k", "2", "--k", "3", "--config", config,
    )  # fmt: skip
    assert code == 0
    assert "R@2" in stdout and "R@3" in stdout and "R@1 " not in stdout
    rows = [line.split("│") for line in stdout.splitlines() if line.count("│") > 2]
    all_row = next(cells for cells in rows if cells[1].strip() == "all")
    # 4 queries: R@2 = 3/4 (q-edit is third), R@3 = 4/4, MRR = (3 + 1/3) / 4.
    assert [cell.strip() for cell in all_row[2:6]] == ["4", "75.00", "100.00", "83.33"]
    assert "tops" in stdout and "bags" in stdout and "shoes" in stdout


def test_limit_scores_only_the_first_queries(evaluation_set: Path, config: Path) -> None:
    code, stdout, _ = run(
        "--gallery", evaluation_set / "gallery", "--queries", evaluation_set / "queries",
        "--pairs", evaluation_set / "pairs.jsonl", "--limit", "2", "--json", "--config", config,
    )  # fmt: skip
    assert code == 0
    # Queries in file-name order: q-bag, q-broken (unreadable), q-copy, ... : the first two with a match.
    assert [result["id"] for result in json.loads(stdout)["results"]] == ["q-bag"]


def test_lookbench_export_without_a_pairs_file(tmp_path: Path, config: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    data = tmp_path / "real_streetlook"
    data.mkdir()
    queries = [(pattern(1), 11, "tops"), (pattern(0), 12, "bottoms")]
    gallery = [(pattern(1), 11, "tops"), (pattern(0), 13, "bottoms"), (edited(pattern(0)), 12, "bottoms")]
    for name, rows in (("query-00000-of-00001", queries), ("gallery-00000-of-00001", gallery)):
        table = pa.Table.from_pylist(
            [
                {"image": {"bytes": encoded(image), "path": None}, "item_ID": item, "category": category}
                for image, item, category in rows
            ]
        )
        pq.write_table(table, data / f"{name}.parquet")
    code, stdout, stderr = run("--gallery", data, "--queries", data, "--json", "--config", config)
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["pairs_source"] == "query labels"
    assert [(r["id"], r["rank"], r["category"]) for r in report["results"]] == [
        ("row-0", 1, "tops"),
        ("row-1", 2, "bottoms"),
    ]
    assert report["overall"]["recall"]["1"] == 0.5 and report["overall"]["mrr"] == pytest.approx(0.75)


def test_bad_input_exits_2_with_one_line(evaluation_set: Path, config: Path) -> None:
    code, _, stderr = run(
        "--gallery", evaluation_set / "nope", "--queries", evaluation_set / "queries", "--config", config
    )
    assert code == 2 and stderr.strip().count("\n") == 0
    assert "the gallery" in stderr and "does not exist" in stderr
    code, _, stderr = run(
        "--gallery", evaluation_set / "gallery", "--queries", evaluation_set / "queries", "--config", config
    )
    assert code == 2 and "no pairs: pass --pairs FILE" in stderr


def test_nothing_scorable_exits_1(evaluation_set: Path, config: Path, tmp_path: Path) -> None:
    pairs = tmp_path / "ghosts.csv"
    pairs.write_text("query,gallery\nq-copy,nope\n", encoding="utf-8")
    code, _, stderr = run(
        "--gallery", evaluation_set / "gallery", "--queries", evaluation_set / "queries",
        "--pairs", pairs, "--config", config,
    )  # fmt: skip
    assert code == 1 and "no query could be scored" in stderr
