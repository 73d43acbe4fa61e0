"""``snapfit run`` with a metrics port another process holds: one line, exit 1, nothing polled."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.bot.conftest import World
from tests.bot.test_cli_bot import one_line, telegram_in_thread, telegram_section, write_config

runner = CliRunner()


def test_a_taken_metrics_port_stops_the_bot_with_one_line(
    world: World, store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    with telegram_in_thread() as fake, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("SNAPFIT_METRICS__PORT", str(port))  # the environment beats the file
        config = write_config(tmp_path / "config.toml", world, store_dir, telegram=telegram_section(fake))
        result = runner.invoke(app, ["run", "--config", str(config)])
        assert result.exit_code == 1
        assert one_line(result) == (
            f"snapfit: cannot serve metrics on 127.0.0.1:{port}: address already in use; set [metrics] port "
            "(SNAPFIT_METRICS__PORT) to a free port, or [metrics] enabled = false"
        )
        assert fake.calls_of("getUpdates") == []  # it gave up before polling Telegram
