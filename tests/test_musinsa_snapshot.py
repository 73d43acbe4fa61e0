"""Snapshots: JSONL round trip, dated names that never overwrite, and nothing left behind on interruption."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from indexer.musinsa.snapshot import (
    SnapshotError,
    latest_snapshot,
    list_snapshots,
    load_snapshot,
    snapshot_dir,
    write_snapshot,
)
from indexer.product import Product

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def product(goods_no: int, **changes: object) -> Product:
    values: dict[str, object] = {
        "id": goods_no,
        "name": f'후드 티셔츠 {goods_no} "따옴표"\n줄바꿈',
        "brand": "toffee",
        "brand_name": "토피",
        "category": "001004",
        "price": 29400,
        "normal_price": 49000,
        "sale_rate": 40,
        "final_price": None,
        "image_url": f"https://image.msscdn.net/images/goods_img/20240517/{goods_no}/{goods_no}_1_500.jpg",
        "url": f"https://www.musinsa.com/products/{goods_no}",
        "gender": "공용",
        "rating": 4.8,
        "crawled_at": WHEN,
        **changes,
    }
    return Product(**values)


def test_round_trip_one_product_per_line(tmp_path: Path) -> None:
    products = [product(n) for n in (3783092, 4149670, 3771089)]
    path = write_snapshot(products, tmp_path / "snapshots", now=WHEN)
    assert path == tmp_path / "snapshots" / "products-20260304T050607Z.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])["id"] == 3783092
    assert lines[0] == products[0].model_dump_json()
    assert load_snapshot(path) == products
    assert [p for p in path.parent.iterdir()] == [path]  # no temporary file left


def test_an_empty_catalog_is_an_empty_file(tmp_path: Path) -> None:
    path = write_snapshot([], tmp_path, now=WHEN)
    assert path.read_text() == ""
    assert load_snapshot(path) == []


def test_two_snapshots_in_the_same_second_never_overwrite(tmp_path: Path) -> None:
    first = write_snapshot([product(1)], tmp_path, now=WHEN)
    second = write_snapshot([product(2)], tmp_path, now=WHEN)
    third = write_snapshot([product(3)], tmp_path, now=WHEN)
    assert first.name == "products-20260304T050607Z.jsonl"
    assert second.name == "products-20260304T050607Z-2.jsonl"
    assert [p.id for p in load_snapshot(first)] == [1]
    assert [p.id for p in load_snapshot(second)] == [2]
    assert list_snapshots(tmp_path) == [first, second, third]
    assert latest_snapshot(tmp_path) == third


def interrupted(after: int, error: BaseException) -> Iterator[Product]:
    for number in range(after):
        yield product(number + 1)
    raise error


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RuntimeError("disk on fire")])
def test_interruption_leaves_no_snapshot_and_no_temporary_file(tmp_path: Path, error: BaseException) -> None:
    write_snapshot([product(9)], tmp_path, now=datetime(2025, 1, 1, tzinfo=UTC))
    before = sorted(tmp_path.iterdir())
    with pytest.raises(type(error)):
        write_snapshot(interrupted(2, error), tmp_path, now=WHEN)
    assert sorted(tmp_path.iterdir()) == before


def test_latest_ignores_temporary_and_foreign_files(tmp_path: Path) -> None:
    (tmp_path / ".products-20990101T000000Z.abcd.tmp").write_text("partial")
    (tmp_path / "notes.txt").write_text("x")
    assert latest_snapshot(tmp_path) is None
    path = write_snapshot([product(1)], tmp_path, now=WHEN)
    assert latest_snapshot(tmp_path) == path
    assert latest_snapshot(tmp_path / "missing") is None


def test_bad_lines_name_the_file_and_line(tmp_path: Path) -> None:
    path = write_snapshot([product(1), product(2)], tmp_path, now=WHEN)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], '{"id": "nope"}', lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match=rf"{path.name}:2: not a product"):
        load_snapshot(path)
    with pytest.raises(SnapshotError, match="cannot read snapshot"):
        load_snapshot(tmp_path / "missing.jsonl")
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(SnapshotError, match="not UTF-8"):
        load_snapshot(path)


def test_snapshot_dir_is_under_the_data_dir() -> None:
    assert snapshot_dir("data/") == Path("data/snapshots")
