"""The command line's shared behaviour: help, version, and configuration errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from indexer import __version__

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"snapfit {__version__}"


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "config" in result.output


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[musinsa]\nrequests_per_second = -1\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "--config", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"snapfit: {path}: musinsa.requests_per_second: Input should be greater than 0 (got -1)"]


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "config file not found" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_config_masks_secrets(monkeypatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:very-secret-token")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 0
    assert "very-secret-token" not in result.output
    assert '"token": "<set>"' in result.output


def test_config_masks_the_webhook_secret(monkeypatch) -> None:
    monkeypatch.setenv("SNAPFIT_TELEGRAM__WEBHOOK_URL", "https://bot.example.com/telegram")
    monkeypatch.setenv("SNAPFIT_TELEGRAM__SECRET_TOKEN", "webhook-secret-0123456789")
    result = runner.invoke(app, ["config"])
    assert result.exit_code == 0, result.output
    assert "webhook-secret-0123456789" not in result.output
    shown = json.loads(result.output)["telegram"]
    assert shown["secret_token"] == "<set>"
    assert (shown["webhook_url"], shown["webhook_listen"], shown["webhook_port"]) == (
        "https://bot.example.com/telegram",
        "127.0.0.1",
        8080,
    )


def test_console_script_runs_as_module() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert __version__ in result.stdout
