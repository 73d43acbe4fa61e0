"""``snapfit schedule`` as the indexer service runs it: JSON logs, /healthz and /metrics, a clean SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[2]
STARTUP = 180.0  # importing torch and open_clip in a fresh process on a busy machine


def log_records(path: Path) -> list[dict[str, object]]:
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # every line is one JSON object


async def test_the_indexer_logs_json_and_serves_its_health(tmp_path: Path, tiny_model_dir: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "\n".join(
            [
                "[model]",
                f'name = "local-dir:{tiny_model_dir}"',
                "[store]",
                f'path = "{tmp_path / "qdrant"}"',
                "[data]",
                f'dir = "{tmp_path / "data"}"',
                "[schedule]",
                "sync_when_empty = false",
                "[metrics]",
                "port = 0",
                "[logging]",
                "json_format = true",
                "",
            ]
        ),
        encoding="utf-8",
    )
    log_path = tmp_path / "schedule.log"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "schedule", "--config", str(config),
            cwd=tmp_path, env=env, stdout=log, stderr=log,
        )  # fmt: skip
        try:
            url = await metrics_url(log_path, process)
            async with aiohttp.ClientSession() as http:
                health = await wait_started(http, f"{url}/healthz")
                assert health["process"] == "indexer" and health["store"]["backend"] == "edge"
                # An empty index that no sync builds (sync_when_empty = false) is unhealthy, and says why.
                assert health["status"] == "unhealthy"
                assert health["reasons"] == [
                    "the index is empty and no sync has run yet; next: run snapfit sync (or /sync)"
                ]
                async with http.get(f"{url}/metrics") as response:
                    text = await response.text()
            assert 'snapfit_build_info{process="indexer"' in text
            assert "snapfit_sync_runs_total" in text and "snapfit_store_up 1.0" in text
            process.send_signal(signal.SIGTERM)
            returncode = await asyncio.wait_for(process.wait(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    records = log_records(log_path)
    assert returncode == 0, records
    assert {"time", "level", "logger", "message"} <= set(records[0])
    messages = [str(record["message"]) for record in records]
    assert any(message.startswith("nightly sync scheduled at 04:00 Asia/Seoul") for message in messages)
    assert any(message.startswith("stopping: a running sync is cancelled") for message in messages)


async def metrics_url(log_path: Path, process: asyncio.subprocess.Process) -> str:
    """The address the process logged (port 0: it picked a free one)."""
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        assert process.returncode is None, "snapfit schedule exited early: see its log"
        url = logged_metrics_url(log_path)
        if url is not None:
            return url.replace("0.0.0.0", "127.0.0.1")
        await asyncio.sleep(0.2)
    raise AssertionError("the process never logged its metrics address")


def logged_metrics_url(log_path: Path) -> str | None:
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:  # the line being written right now
            continue
        if "metrics_url" in record:
            return str(record["metrics_url"])
    return None


async def wait_started(http: aiohttp.ClientSession, url: str) -> dict[str, object]:
    """/healthz answers "starting" until the model is loaded and the index open."""
    deadline = time.monotonic() + STARTUP
    while True:
        async with http.get(url) as response:
            body = await response.json()
        if body["status"] != "starting":
            return body  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.2)
