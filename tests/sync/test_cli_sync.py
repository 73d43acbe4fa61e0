"""``snapfit sync``, ``snapfit stats`` and ``snapfit schedule`` through the real command line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app
from indexer.categories import crawl_plan
from indexer.config import StoreSettings, load_settings
from indexer.store import open_catalog
from indexer.store.edge_layout import OwnerLock
from indexer.sync import load_last_ok_summary, load_last_summary, run_sync
from indexer.sync.readiness import sync_in_progress
from tests.fakes.musinsa import IMAGE_PATH, LISTING_PATH, MUSINSA_ROBOTS, FakeMusinsa, Fault
from tests.sync.conftest import (
    COUNT,
    CountingEncoder,
    assert_matches_fake,
    contents,
    expected_ids,
    make_config,
    make_fake_catalog,
)

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()
DESIGN_KEYS = {"crawled", "added", "updated", "unchanged", "removed", "failed", "seconds"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeMusinsa]:
    with FakeMusinsa.in_thread(make_fake_catalog()) as server:
        yield server


@pytest.fixture(autouse=True)
def reset(fake: FakeMusinsa) -> None:
    fake.faults.clear()
    fake.robots_txt = "User-agent: *\nAllow: /\n"


def write_config(
    fake: FakeMusinsa,
    tmp_path: Path,
    model_dir: Path,
    *,
    images_per_second: float = 50.0,
    model: str | None = None,
    extra: str = "",
    **musinsa: object,
) -> Path:
    text = fake.config_toml(
        str(tmp_path / "data"),
        categories=["001", "002"],
        page_size=10,
        requests_per_second=20.0,
        backoff_seconds=0.001,
        max_retries=6,
        **musinsa,
    )
    text += (
        # fp32 as in this process (tests/conftest.py): the subprocess sees the real CPU, where `auto`
        # may be bf16, and the tests finish its syncs here with the same model id.
        f'\n[model]\nname = "{model or f"local-dir:{model_dir}"}"\nprecision = "fp32"\n'
        f'\n[store]\npath = "{tmp_path / "qdrant"}"\n'
        f"\n[images]\nrequests_per_second = {images_per_second}\ndownload_concurrency = 4\n"
        f"\n[sync]\nembed_batch_size = 4\n{extra}"
    )
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def walked_categories(fake: FakeMusinsa, since: int) -> list[str]:
    """The category of each first-page listing request the fake has seen since request ``since``."""
    requests = [r for r in fake.requests[since:] if r.path == LISTING_PATH and r.query.get("page") == "1"]
    return list(dict.fromkeys(r.query["category"] for r in requests))


def one_line_error(result: Any) -> str:
    assert "Traceback" not in result.output + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("snapfit: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_sync_and_stats_json_shapes(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path, tiny_encoder: Any
) -> None:
    path = write_config(fake, tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["sync", "--config", str(path), "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    synced = json.loads(result.stdout)  # exactly one JSON object, nothing else on stdout
    assert set(synced) >= DESIGN_KEYS
    assert (synced["crawled"], synced["added"], synced["failed"], synced["ok"]) == (COUNT, COUNT, 0, True)
    assert synced["model_id"] == tiny_encoder.model_id and synced["committed"] is True

    result = runner.invoke(app, ["stats", "--config", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    stats = json.loads(result.stdout)
    assert {"products", "by_category", "model", "dimension", "last_sync"} <= set(stats)
    assert stats["products"] == COUNT
    assert stats["by_category"] == {code: len(fake.listing_ids(code)) for code in ("001", "002")}
    assert (stats["model"], stats["dimension"]) == (tiny_encoder.model_id, 32)
    assert stats["last_sync"] == synced
    assert stats["rebuild"] is None and stats["backend"] == "edge"

    result = runner.invoke(app, ["sync", "--config", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "Sync summary" in result.stdout
    assert f"{COUNT} crawled, 0 added, 0 updated, {COUNT} unchanged, 0 removed, 0 failed" in result.stdout

    result = runner.invoke(app, ["stats", "--config", str(path)])
    assert result.exit_code == 0, result.stderr
    assert f"{COUNT} products indexed" in result.stdout
    assert "001 tops" in result.stdout and f"model: {tiny_encoder.model_id} (32 dimensions)" in result.stdout
    assert "last sync (finished " in result.stdout and f"{COUNT} unchanged" in result.stdout


def test_sync_options_choose_categories_and_pages(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path
) -> None:
    path = write_config(fake, tmp_path, tiny_model_dir)
    result = runner.invoke(
        app, ["sync", "-c", str(path), "--category", "outer", "--max-pages", "1", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    synced = json.loads(result.stdout)
    assert synced["crawled"] == 10 and [c["code"] for c in synced["categories"]] == ["002"]
    assert synced["categories"][0]["complete"] is False


def test_a_sync_with_a_failed_category_says_incomplete_and_exits_3(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path
) -> None:
    path = write_config(fake, tmp_path, tiny_model_dir)
    # Every listing page of 002 is refused (a 404 is not retried): its crawl ends in a fault.
    fake.faults.next(
        Fault.http(404),
        times=1000,
        match=lambda request: request.path == LISTING_PATH and request.query.get("category") == "002",
    )
    result = runner.invoke(app, ["sync", "-c", str(path), "--json"])
    assert result.exit_code == 3, result.stderr
    assert "002 did not complete" in one_line_error(result)
    synced = json.loads(result.stdout)
    assert set(synced) >= DESIGN_KEYS | {"ok", "complete", "incomplete_categories"}
    assert (synced["ok"], synced["complete"], synced["incomplete_categories"]) == (True, False, ["002"])
    assert synced["added"] > 0  # what the other categories crawled is indexed
    # Not a successful sync for /healthz: nothing was saved as the last successful run.
    assert load_last_summary(tmp_path / "data") is not None
    assert load_last_ok_summary(tmp_path / "data") is None

    fake.faults.clear()
    result = runner.invoke(app, ["sync", "-c", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "sync finished:" in result.stdout
    assert load_last_ok_summary(tmp_path / "data") is not None


def test_stats_of_an_empty_index(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "qdrant"}"\n[data]\ndir = "{tmp_path / "data"}"\n')
    result = runner.invoke(app, ["stats", "-c", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "products": 0,
        "by_category": {},
        "model": None,
        "dimension": None,
        "model_name": None,
        "version": None,
        "backend": "edge",
        "rebuild": None,
        "last_sync": None,
        "users": {
            "users_with_settings": 0,
            "saved_products": 0,
            "alerts_sent_last_sync": 0,
            "feedback": {"up": 0, "down": 0},
        },
    }
    result = runner.invoke(app, ["stats", "-c", str(path)])
    assert "The index is empty and no sync has run yet; next: run snapfit sync" in result.stdout
    assert "last sync: none yet" in result.stdout


def test_stats_of_an_empty_index_while_a_sync_builds_it(tmp_path: Path) -> None:
    """Another process's sync (it holds the sync lock) is told as building, not as "none yet"."""
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\npath = "{tmp_path / "qdrant"}"\n[data]\ndir = "{tmp_path / "data"}"\n')
    with sync_in_progress(tmp_path / "data"):
        result = runner.invoke(app, ["stats", "-c", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "The index is empty and a sync is building it now; next: wait for it to finish" in result.stdout


def test_a_robots_refusal_is_one_line_and_exit_1(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path
) -> None:
    fake.robots_txt = MUSINSA_ROBOTS
    path = write_config(fake, tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["sync", "-c", str(path), "--json"])
    assert result.exit_code == 1
    assert one_line_error(result).startswith("snapfit: robots.txt (")
    synced = json.loads(result.stdout)
    assert synced["ok"] is False and "robots.txt" in synced["error"] and synced["crawled"] == 0
    saved = load_last_summary(tmp_path / "data")
    assert saved is not None and saved.error == synced["error"]
    # snapfit stats tells why the index is empty and what to do next.
    result = runner.invoke(app, ["stats", "-c", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "The index is empty: the last sync failed: robots.txt (" in result.stdout
    assert "next: check robots.txt permission (docs/crawling.md)" in result.stdout


@pytest.mark.parametrize("command", [["sync"], ["stats"]])
def test_a_locked_index_is_one_line_and_exit_1(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path, command: list[str]
) -> None:
    path = write_config(fake, tmp_path, tiny_model_dir)
    (tmp_path / "qdrant").mkdir()
    lock = OwnerLock.acquire(tmp_path / "qdrant")  # as if the bot held the folder
    try:
        result = runner.invoke(app, [*command, "-c", str(path)])
    finally:
        lock.release()
    assert result.exit_code == 1
    assert f"the index folder {tmp_path / 'qdrant'}" in one_line_error(result)


def test_a_model_that_cannot_load_is_one_line_and_exit_1(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path
) -> None:
    path = write_config(fake, tmp_path, tiny_model_dir, model=f"local-dir:{tmp_path / 'no-such-model'}")
    result = runner.invoke(app, ["sync", "-c", str(path)])
    assert result.exit_code == 1
    assert "no-such-model" in one_line_error(result)


def test_an_unknown_category_exits_2(fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path) -> None:
    path = write_config(fake, tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["sync", "-c", str(path), "--category", "topz"])
    assert result.exit_code == 2
    assert one_line_error(result).startswith("snapfit: unknown category 'topz'")


# ---- real processes -------------------------------------------------------------------------


def start(args: list[str], tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_PROXY": "127.0.0.1"}
    with (tmp_path / f"{name}.log").open("wb") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *args], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT
        )


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert process.poll() is None, f"exited early ({process.returncode}):\n{log.read_text()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()}"
        time.sleep(0.05)


def test_kill_9_mid_sync_then_the_next_run_finishes_without_reembedding(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path, tiny_encoder: Any
) -> None:
    store = StoreSettings(path=str(tmp_path / "qdrant"))
    data = tmp_path / "data"

    async def first_categories() -> None:  # a live index of 002 only
        catalog = await open_catalog(store)
        try:
            config = make_config(fake, data, tiny_model_dir, categories=["002"])
            assert (await run_sync(config, catalog=catalog, encoder=tiny_encoder)).ok
        finally:
            await catalog.close()

    asyncio.run(first_categories())
    images_before = len(fake.requests_to(IMAGE_PATH))
    path = write_config(fake, tmp_path, tiny_model_dir, images_per_second=6.0)
    process = start(["sync", "-c", str(path)], tmp_path, "sync")
    try:
        wait_for(
            lambda: len(fake.requests_to(IMAGE_PATH)) >= images_before + 14,
            process,
            tmp_path / "sync.log",
            "14 image downloads",
        )
        process.kill()  # SIGKILL: no cleanup of any kind
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    async def check_and_finish() -> tuple[int, int]:
        catalog = await open_catalog(store)
        try:
            stored = await contents(catalog)  # no duplicates, refs and points agree
            assert set(stored) <= expected_ids(fake)
            with_vectors = await catalog.get(list(stored), with_vectors=True)
            assert all(item.vector is not None for item in with_vectors)  # no point without its vector
            encoder = CountingEncoder(tiny_encoder)
            config = make_config(fake, data, tiny_model_dir)
            summary = await run_sync(config, catalog=catalog, encoder=encoder)
            assert summary.ok, summary.error
            assert_matches_fake(await contents(catalog), fake)
            return len(stored), encoder.images
        finally:
            await catalog.close()

    stored_after_kill, embedded = asyncio.run(check_and_finish())
    assert stored_after_kill > len(fake.listing_ids("002"))  # the killed run had stored some chunks
    assert embedded == COUNT - stored_after_kill


def test_schedule_syncs_an_empty_index_at_once_and_stops_cleanly_on_sigterm(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path, tiny_encoder: Any
) -> None:
    slow = write_config(fake, tmp_path, tiny_model_dir, images_per_second=6.0)
    images_before = len(fake.requests_to(IMAGE_PATH))
    process = start(["schedule", "-c", str(slow)], tmp_path, "schedule")
    log = tmp_path / "schedule.log"
    try:
        wait_for(
            lambda: len(fake.requests_to(IMAGE_PATH)) >= images_before + 10, process, log, "the start-up sync"
        )
        process.send_signal(signal.SIGTERM)  # mid-sync
        assert process.wait(timeout=60) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text()
    assert "nightly sync scheduled at 04:00 Asia/Seoul; next run" in text
    assert "the index is empty: syncing now" in text
    assert "Traceback" not in text
    interrupted = load_last_summary(tmp_path / "data")
    assert interrupted is not None and interrupted.error == "interrupted"
    assert interrupted.rebuild and not interrupted.committed and interrupted.added > 0

    async def resume() -> None:
        catalog = await open_catalog(StoreSettings(path=str(tmp_path / "qdrant")))
        try:
            assert catalog.version is None  # the interrupted first index was never served half-built
            encoder = CountingEncoder(tiny_encoder)
            config = make_config(fake, tmp_path / "data", tiny_model_dir)
            summary = await run_sync(config, catalog=catalog, encoder=encoder)
            assert summary.ok and summary.committed
            assert encoder.images == COUNT - interrupted.added  # went on from where SIGTERM stopped it
            assert_matches_fake(await contents(catalog), fake)
        finally:
            await catalog.close()

    asyncio.run(resume())


def test_schedule_refuses_to_run_when_disabled(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[schedule]\nenabled = false\n")
    result = runner.invoke(app, ["schedule", "-c", str(path)])
    assert result.exit_code == 2
    assert "disabled" in one_line_error(result)


def test_sync_without_category_walks_what_the_nightly_run_walks(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path, tiny_encoder: Any
) -> None:
    path = write_config(fake, tmp_path, tiny_model_dir, expand_subcategories=True)
    expanded = crawl_plan(["001", "002"], expand_subcategories=True)
    assert {"001004", "002022"} < set(expanded)

    since = len(fake.requests)
    result = runner.invoke(app, ["sync", "--config", str(path), "--json"])
    assert result.exit_code == 0, result.output + result.stderr
    assert [report["code"] for report in json.loads(result.stdout)["categories"]] == expanded
    assert sorted(walked_categories(fake, since)) == sorted(expanded)

    async def nightly_sync() -> list[str]:  # what bot/nightly.py and `snapfit schedule` run
        settings = load_settings(path)
        catalog = await open_catalog(settings.store)
        try:
            summary = await run_sync(settings, catalog=catalog, encoder=tiny_encoder)
        finally:
            await catalog.close()
        assert summary.ok, summary.error
        return [report.code for report in summary.categories]

    since = len(fake.requests)
    assert asyncio.run(nightly_sync()) == expanded
    assert sorted(walked_categories(fake, since)) == sorted(expanded)


def test_stats_before_any_sync_creates_no_folder(
    fake: FakeMusinsa, tmp_path: Path, tiny_model_dir: Path
) -> None:
    path = write_config(fake, tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["stats", "--config", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    stats = json.loads(result.stdout)
    assert (stats["products"], stats["version"], stats["last_sync"]) == (0, None, None)
    assert not (tmp_path / "qdrant").exists() and not (tmp_path / "data").exists()
