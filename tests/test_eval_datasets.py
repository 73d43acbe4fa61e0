"""Reading evaluation sets: folders, manifests, LookBench parquet exports, pairs files, bad input."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from indexer.evaluation import DatasetError, read_image_set, read_pairs


def png(colour: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, "PNG")
    return buffer.getvalue()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


# --- folders ---------------------------------------------------------------------------------


def test_folder_ids_from_file_names_and_categories_from_subfolders(tmp_path: Path) -> None:
    write(tmp_path / "g" / "tops" / "101.jpg", png())
    write(tmp_path / "g" / "bags" / "202.png", png())
    write(tmp_path / "g" / "303.webp", png())
    write(tmp_path / "g" / "notes.txt", "not an image")
    write(tmp_path / "g" / ".hidden" / "404.jpg", png())
    images = read_image_set(tmp_path / "g", role="gallery")
    assert images.layout == "folder"
    assert [(entry.id, entry.category) for entry in images.entries] == [
        ("303", None),
        ("202", "bags"),
        ("101", "tops"),
    ]
    assert images.entries[2].read() == png()


def test_folder_with_two_images_of_one_name_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "q" / "a" / "x.jpg", png())
    write(tmp_path / "q" / "b" / "x.png", png())
    with pytest.raises(DatasetError, match=r"two images named 'x'.*use a manifest"):
        read_image_set(tmp_path / "q", role="queries")


def test_missing_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"the gallery .* does not exist"):
        read_image_set(tmp_path / "nope", role="gallery")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no images"):
        read_image_set(tmp_path / "empty", role="queries")


# --- manifests -------------------------------------------------------------------------------


def test_jsonl_manifest_with_several_images_per_item(tmp_path: Path) -> None:
    rows = [
        {"id": 7, "image": "img/front.jpg", "category": "shoes"},
        {"item_id": "7", "file_name": "img/side.jpg", "category": "shoes"},
        {"label": 8, "path": "img/other.jpg"},
    ]
    write(tmp_path / "g" / "manifest.jsonl", "\n".join(json.dumps(row) for row in rows) + "\n\n")
    images = read_image_set(tmp_path / "g", role="gallery")
    assert images.layout == "manifest"
    assert [entry.id for entry in images.entries] == ["7", "7", "8"]
    assert images.entries[1].source == str(tmp_path / "g" / "img" / "side.jpg")
    assert [entry.category for entry in images.entries] == ["shoes", "shoes", None]


def test_csv_query_manifest_with_lookbench_style_matches(tmp_path: Path) -> None:
    write(
        tmp_path / "q" / "metadata.csv",
        "query_id,file_name,item_ID,category\nq1,a.jpg,123,tops\nq2,b.jpg,456 789,\n",
    )
    images = read_image_set(tmp_path / "q", role="queries")
    assert [(entry.id, entry.matches, entry.category) for entry in images.entries] == [
        ("q1", ("123",), "tops"),
        ("q2", ("456", "789"), None),
    ]


def test_queries_without_ids_are_named_by_file_stem_or_row(tmp_path: Path) -> None:
    write(
        tmp_path / "a" / "manifest.jsonl", '{"image": "x.jpg", "label": 1}\n{"image": "y.jpg", "label": 2}\n'
    )
    assert [entry.id for entry in read_image_set(tmp_path / "a", role="queries").entries] == ["x", "y"]
    write(
        tmp_path / "b" / "manifest.jsonl",
        '{"image": "1/x.jpg", "label": 1}\n{"image": "2/x.jpg", "label": 2}\n',
    )
    assert [entry.id for entry in read_image_set(tmp_path / "b", role="queries").entries] == [
        "row-0",
        "row-1",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"image": "a.jpg"}\n', r"line 1: no item id"),
        ('{"id": 1}\n', r"line 1: no image"),
        ('{"id": 1, "image": "a.jpg"}\n{oops\n', r"line 2: not JSON"),
        ('{"id": 1, "image": 5}\n', r"holds int, not a path or image bytes"),
        ("", "lists no images"),
    ],
)
def test_bad_gallery_manifests(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path / "manifest.jsonl", content)
    with pytest.raises(DatasetError, match=message):
        read_image_set(tmp_path, role="gallery")


def test_duplicate_query_ids_are_refused(tmp_path: Path) -> None:
    write(tmp_path / "manifest.csv", "id,image\nq1,a.jpg\nq1,b.jpg\n")
    with pytest.raises(DatasetError, match="query ids must be unique; repeated: q1"):
        read_image_set(tmp_path, role="queries")


def test_a_manifest_file_can_be_named_directly(tmp_path: Path) -> None:
    manifest = write(tmp_path / "list.csv", "id,image\n1,a.jpg\n")
    assert read_image_set(manifest, role="gallery").entries[0].source == str(tmp_path / "a.jpg")
    with pytest.raises(DatasetError, match=r"unknown manifest format \.yaml"):
        read_image_set(write(tmp_path / "list.yaml", "x"), role="gallery")


# --- LookBench parquet -----------------------------------------------------------------------


def test_lookbench_hub_parquet_with_embedded_images(tmp_path: Path) -> None:
    """Query and gallery shards in one folder, Hugging Face Image structs, item_ID as the label."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    def shard(name: str, rows: list[dict]) -> None:
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / name)

    shard(
        "query-00000-of-00001.parquet",
        [
            {"image": {"bytes": png((1, 2, 3)), "path": None}, "item_ID": 11, "category": "tops"},
            {"image": {"bytes": png((4, 5, 6)), "path": None}, "item_ID": 12, "category": "bags"},
        ],
    )
    for index in range(2):
        shard(
            f"gallery-0000{index}-of-00002.parquet",
            [
                {
                    "image": {"bytes": png((index, 9, 9)), "path": "g.jpg"},
                    "item_ID": 11 + index,
                    "category": "x",
                }
            ],
        )
    queries = read_image_set(tmp_path, role="queries")
    gallery = read_image_set(tmp_path, role="gallery")
    assert queries.layout == gallery.layout == "parquet"
    assert [(entry.id, entry.matches, entry.category) for entry in queries.entries] == [
        ("row-0", ("11",), "tops"),
        ("row-1", ("12",), "bags"),
    ]
    assert queries.entries[1].read() == png((4, 5, 6))
    assert [entry.id for entry in gallery.entries] == ["11", "12"]
    assert gallery.entries[1].read() == png((1, 9, 9))


def test_lookbench_local_layout_paths_relative_to_the_data_root(tmp_path: Path) -> None:
    """look-bench's BaseDataset: <root>/query/query.parquet, image paths relative to <root>."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    write(tmp_path / "query" / "img_001.jpg", png())
    pq.write_table(
        pa.Table.from_pylist([{"image": "query/img_001.jpg", "label": 0}]),
        tmp_path / "query" / "query.parquet",
    )
    entry = read_image_set(tmp_path / "query", role="queries").entries[0]
    assert entry.source == str(tmp_path / "query" / "img_001.jpg") and entry.matches == ("0",)
    assert entry.read() == png()


def test_parquet_without_pyarrow_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "gallery.parquet", b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(DatasetError, match=r"needs pyarrow: pip install 'snapfit\[lookbench\]'"):
        read_image_set(tmp_path, role="gallery")


def test_damaged_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    write(tmp_path / "gallery.parquet", b"not parquet at all")
    with pytest.raises(DatasetError, match="not a readable parquet file"):
        read_image_set(tmp_path, role="gallery")


# --- pairs -----------------------------------------------------------------------------------


def test_pairs_in_every_format(tmp_path: Path) -> None:
    expected = {"q1": ("10", "11"), "q2": ("20",)}
    jsonl = write(
        tmp_path / "p.jsonl", '{"query": "q1", "gallery": ["10", 11]}\n\n{"query_id": "q2", "matches": 20}\n'
    )
    as_dict = write(tmp_path / "p.json", json.dumps({"q1": ["10", "11"], "q2": "20"}))
    as_list = write(
        tmp_path / "l.json",
        json.dumps([{"query": "q1", "gallery_ids": [10, 11]}, {"query": "q2", "gallery": "20"}]),
    )
    csv = write(tmp_path / "p.csv", "query,gallery\nq1,10\nq2,20\nq1,11\nq1,10\n")
    tsv = write(tmp_path / "p.tsv", "query_id\tgallery_ids\nq1\t10;11\nq2\t20\n")
    for path in (jsonl, as_dict, as_list, csv, tsv):
        assert read_pairs(path) == expected, path.name


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("p.txt", "q1 10", r"unknown pairs format .txt"),
        ("p.jsonl", '{"query": "q1"}\n', r"line 1: needs a query id .* and gallery ids"),
        ("p.jsonl", '{"query": "q1", "gallery": [[1]]}\n', r"gallery ids must be strings or numbers"),
        ("p.json", "[1, 2]", r"item 0: expected an object"),
        ("p.json", '"q1"', r"expected an object \{query: \[gallery ids\]\}"),
        ("p.json", "{", r"not JSON"),
        ("p.csv", "query,other\nq1,1\n", r"line 2: needs a query column"),
        ("p.csv", "", r"is empty; expected a header row"),
        ("p.csv", "query,gallery\n", r"holds no pairs"),
    ],
)
def test_bad_pairs_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        read_pairs(write(tmp_path / name, content))


def test_missing_pairs_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"the pairs file .* does not exist"):
        read_pairs(tmp_path / "nope.jsonl")
