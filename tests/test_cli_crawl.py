"""``snapfit crawl`` end to end against the fake Musinsa, through the real command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from indexer.categories import subcategories
from tests.fakes.musinsa import LISTING_PATH, MUSINSA_ROBOTS, FakeMusinsa, Fault
from tests.fakes.musinsa_catalog import FakeCatalog

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()
FAST = {"page_size": 10, "requests_per_second": 20.0, "backoff_seconds": 0.001, "max_retries": 6}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeMusinsa]:
    catalog = FakeCatalog.generate(
        seed=7, count=80, categories=("001004", "001001", "001005", "002022", "103004")
    )
    with FakeMusinsa.in_thread(catalog) as server:
        yield server


@pytest.fixture(autouse=True)
def reset(fake: FakeMusinsa) -> None:
    fake.faults.clear()
    fake.requests.clear()
    fake.robots_txt = "User-agent: *\nAllow: /\n"


def config(fake: FakeMusinsa, tmp_path: Path, **musinsa: object) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(fake.config_toml(str(tmp_path / "data"), **{**FAST, **musinsa}), encoding="utf-8")
    return path


def snapshots(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "data" / "snapshots"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("failure_rate", [0.0, 0.3])
def test_crawl_writes_every_product_of_the_pages_exactly_once(
    fake: FakeMusinsa, tmp_path: Path, failure_rate: float
) -> None:
    expected = {n for page in (1, 2, 3) for n in fake.page_ids("001", page, 10)}
    assert len(fake.listing_ids("001")) > 30  # so three pages are a real cut-off
    faults = [Fault.throttled("0"), Fault.http(500), Fault.http(502), Fault.http(503)]
    fake.faults.random(failure_rate, faults, match=LISTING_PATH, seed=3)
    result = runner.invoke(
        app, ["crawl", "--config", str(config(fake, tmp_path)), "--category", "001", "--max-pages", "3"]
    )
    assert result.exit_code == 0, result.output + result.stderr
    [snapshot] = snapshots(tmp_path)
    lines = snapshot.read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    injected = sum(1 for r in fake.requests if r.fault is not None)
    assert (injected > 0) == (failure_rate > 0)
    assert "001 tops" in result.stdout
    assert "001: incomplete: stopped at max_pages=3; more pages remain" in result.stdout
    assert f"snapshot: {snapshot} ({len(ids)} products)" in result.stdout
    assert f"{injected} retries" in result.stdout


def test_names_are_accepted_and_categories_merge(fake: FakeMusinsa, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["crawl", "-c", str(config(fake, tmp_path)), "--category", "hoodie", "--category", "상의"]
    )
    assert result.exit_code == 0, result.stderr
    [snapshot] = snapshots(tmp_path)
    products = [json.loads(line) for line in snapshot.read_text(encoding="utf-8").splitlines()]
    assert sorted(p["id"] for p in products) == sorted(fake.listing_ids("001"))
    hoodies = set(fake.listing_ids("001004"))
    assert all(p["category"] == ("001004" if p["id"] in hoodies else "001") for p in products)
    assert "complete" in result.stdout and "incomplete" not in result.stdout


def test_categories_from_the_config_file(fake: FakeMusinsa, tmp_path: Path) -> None:
    configured = config(fake, tmp_path, categories=["002", "103"], expand_subcategories=False)
    result = runner.invoke(app, ["crawl", "-c", str(configured)])
    assert result.exit_code == 0, result.stderr
    categories = {r.query["category"] for r in fake.requests_to(LISTING_PATH)}
    assert categories == {"002", "103"}


def test_configured_categories_are_expanded_to_their_sub_categories(
    fake: FakeMusinsa, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["crawl", "-c", str(config(fake, tmp_path, categories=["001"]))])
    assert result.exit_code == 0, result.stderr
    walked = {r.query["category"] for r in fake.requests_to(LISTING_PATH)}
    assert walked == {"001", *(c.code for c in subcategories("001"))}
    [snapshot] = snapshots(tmp_path)
    products = [json.loads(line) for line in snapshot.read_text(encoding="utf-8").splitlines()]
    assert sorted(p["id"] for p in products) == sorted(fake.listing_ids("001"))
    hoodies = set(fake.listing_ids("001004"))
    assert hoodies and all(p["category"] == "001004" for p in products if p["id"] in hoodies)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--category", "topz"], "snapfit: unknown category 'topz' (did you mean 001 tops"),
        (["--category", "999"], "snapfit: unknown category code '999'"),
    ],
)
def test_unknown_categories_exit_2(
    fake: FakeMusinsa, tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = runner.invoke(app, ["crawl", "-c", str(config(fake, tmp_path)), *arguments])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert fake.requests == []


def test_unknown_category_in_the_config_exits_2(fake: FakeMusinsa, tmp_path: Path) -> None:
    result = runner.invoke(app, ["crawl", "-c", str(config(fake, tmp_path, categories=["001", "555"]))])
    assert result.exit_code == 2
    assert "unknown category code '555'" in result.stderr


def test_robots_refusal_is_one_line_and_no_snapshot(fake: FakeMusinsa, tmp_path: Path) -> None:
    fake.robots_txt = MUSINSA_ROBOTS
    result = runner.invoke(app, ["crawl", "-c", str(config(fake, tmp_path)), "--category", "001"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("snapfit: robots.txt (")
    assert f"(group User-agent: *, path {LISTING_PATH}?gf=A&category=001" in lines[0]
    assert "Traceback" not in result.output + result.stderr
    assert snapshots(tmp_path) == []
    assert fake.requests_to(LISTING_PATH) == []


def test_an_unreachable_robots_is_one_line_naming_the_cause(fake: FakeMusinsa, tmp_path: Path) -> None:
    fake.faults.next(Fault.http(503), times=100, match="/robots.txt")
    path = config(fake, tmp_path, max_retries=1, backoff_seconds=0.01)
    result = runner.invoke(app, ["crawl", "-c", str(path), "--category", "001"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "retrying" in lines[0] and "/robots.txt" in lines[0]  # each retry is logged
    errors = [line for line in lines if line.startswith("snapfit: ")]
    assert len(errors) == 1 and errors == lines[-1:]
    assert errors[0].startswith(f"snapfit: cannot reach {fake.url}: HTTP 503 from {fake.url}/robots.txt")
    assert "disallows" not in errors[0] and "obey_robots_txt" not in errors[0]
    assert "Traceback" not in result.output + result.stderr
    assert snapshots(tmp_path) == []
    assert fake.requests_to(LISTING_PATH) == []


def test_robots_override_crawls(fake: FakeMusinsa, tmp_path: Path) -> None:
    fake.robots_txt = MUSINSA_ROBOTS
    path = config(fake, tmp_path, obey_robots_txt=False)
    result = runner.invoke(app, ["crawl", "-c", str(path), "--category", "002", "--max-pages", "1"])
    assert result.exit_code == 0, result.stderr
    assert len(snapshots(tmp_path)) == 1


def test_a_failed_category_still_writes_the_rest_and_exits_1(fake: FakeMusinsa, tmp_path: Path) -> None:
    fake.faults.next(
        Fault.http(503),
        times=1000,
        match=lambda r: r.path == LISTING_PATH and r.query.get("category") == "002",
    )
    path = config(fake, tmp_path, max_retries=1)
    result = runner.invoke(app, ["crawl", "-c", str(path), "--category", "001004", "--category", "002"])
    assert result.exit_code == 1
    assert "002: incomplete: page 1 failed: HTTP 503 from" in result.stdout
    [snapshot] = snapshots(tmp_path)
    ids = {json.loads(line)["id"] for line in snapshot.read_text(encoding="utf-8").splitlines()}
    assert ids == set(fake.listing_ids("001004"))


def test_nothing_crawled_writes_nothing(fake: FakeMusinsa, tmp_path: Path) -> None:
    fake.faults.next(Fault.forbidden(), times=1000, match=LISTING_PATH)
    path = config(fake, tmp_path, max_consecutive_blocks=3, max_concurrency=1)
    result = runner.invoke(app, ["crawl", "-c", str(path)])
    assert result.exit_code == 1
    assert "snapfit: nothing was crawled; no snapshot written" in result.stderr
    assert "circuit breaker" in result.stdout
    assert snapshots(tmp_path) == []
    assert len(fake.requests_to(LISTING_PATH)) == 3


def test_ctrl_c_leaves_no_snapshot_and_no_temporary_file(fake: FakeMusinsa, tmp_path: Path) -> None:
    fake.faults.next(Fault.slow(30.0), match=lambda r: r.path == LISTING_PATH and r.query.get("page") == "2")
    path = config(fake, tmp_path, timeout_seconds=60.0)
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_PROXY": "127.0.0.1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "crawl", "-c", str(path), "--category", "001", "--category", "002"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(r.query.get("page") == "2" for r in fake.requests_to(LISTING_PATH)):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the crawl never reached page 2"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, stderr
    assert "snapfit: interrupted; no snapshot written" in stderr
    assert "Traceback" not in stderr
    folder = tmp_path / "data" / "snapshots"
    assert not folder.exists() or list(folder.iterdir()) == []
