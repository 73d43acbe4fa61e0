"""``snapfit health``: the container's HEALTHCHECK asks a running process for its /healthz."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.health_cmd import health_url
from indexer.config import DataSettings, MetricsSettings, Settings, StoreSettings
from indexer.monitoring import Monitoring
from indexer.store import Catalog
from tests.stocked_catalog import open_stocked_catalog

runner = CliRunner()


class Served:
    """A process's monitoring endpoints on an event loop of their own (the CLI runs in this thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, monitoring: Monitoring, catalog: Catalog) -> None:
        self.loop = loop
        self.monitoring = monitoring
        self.catalog = catalog

    @property
    def port(self) -> int:
        assert self.monitoring.port
        return self.monitoring.port

    def close_catalog(self) -> None:
        asyncio.run_coroutine_threadsafe(self.catalog.close(), self.loop).result(30)


@contextmanager
def served(tmp_path: Path) -> Iterator[Served]:
    settings = Settings(
        metrics=MetricsSettings(port=0),
        store=StoreSettings(url=":memory:"),
        data=DataSettings(dir=str(tmp_path / "data")),
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> Served:
        monitoring = await Monitoring.start(settings, "indexer")
        assert monitoring is not None
        catalog = await open_stocked_catalog(settings.store)
        monitoring.attach_sync(catalog, None)
        return Served(loop, monitoring, catalog)

    handle = asyncio.run_coroutine_threadsafe(start(), loop).result(60)
    try:
        yield handle
    finally:

        async def stop() -> None:
            await handle.monitoring.stop()
            await handle.catalog.close()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def config(tmp_path: Path, **metrics: object) -> Path:
    """A config.toml with these [metrics] keys (JSON scalars are TOML scalars)."""
    lines = ["[metrics]", *(f"{key} = {json.dumps(value)}" for key, value in metrics.items())]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_healthy_then_unhealthy_with_the_reason(tmp_path: Path) -> None:
    with served(tmp_path) as process:
        # The process listens on every interface; the check goes through loopback.
        path = config(tmp_path, host="0.0.0.0", port=process.port)
        result = runner.invoke(app, ["health", "--config", str(path)])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"ok: http://127.0.0.1:{process.port}/healthz"

        process.close_catalog()
        result = runner.invoke(app, ["health", "--config", str(path)])
        assert result.exit_code == 1
        # (the served process logs the change to the same stderr first)
        assert result.stderr.strip().splitlines()[-1] == (
            f"snapfit: unhealthy (HTTP 503) at http://127.0.0.1:{process.port}/healthz: "
            "store unreachable: the catalog is closed"
        )


def test_nothing_listening_is_unhealthy(tmp_path: Path) -> None:
    result = runner.invoke(app, ["health", "--url", "http://127.0.0.1:9/healthz", "--timeout", "2"])
    assert result.exit_code == 1
    assert result.stderr.startswith("snapfit: no answer from http://127.0.0.1:9/healthz: ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ({"enabled": False}, "[metrics] enabled = false: the process serves no /healthz to ask"),
        ({"port": 0}, "[metrics] port = 0 (any free port): pass the process's address with --url"),
    ],
)
def test_a_configuration_without_an_endpoint_is_exit_2(
    tmp_path: Path, metrics: dict[str, object], message: str
) -> None:
    result = runner.invoke(app, ["health", "--config", str(config(tmp_path, **metrics))])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"snapfit: {message}"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:9108/healthz"),
        ("::", "http://[::1]:9108/healthz"),
        ("127.0.0.1", "http://127.0.0.1:9108/healthz"),
        ("10.1.2.3", "http://10.1.2.3:9108/healthz"),
    ],
)
def test_wildcard_listen_addresses_are_asked_on_loopback(host: str, url: str) -> None:
    assert health_url(host, 9108) == url


def test_help_shows_the_metrics_section_name() -> None:
    result = CliRunner().invoke(app, ["health", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "[metrics] host and port" in result.stdout
