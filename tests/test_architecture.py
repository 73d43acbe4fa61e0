"""The layer contracts in pyproject.toml ([tool.importlinter]) hold: part of every test run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    script = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_import_contracts_are_kept() -> None:
    result = _lint_imports("--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("indexer/leak.py", "import telegram\n", "indexer (the catalog side) never imports bot or telegram"),
        ("indexer/leak.py", "import bot.app\n", "indexer (the catalog side) never imports bot or telegram"),
        ("bot/leak.py", "import bot.app\n", "no import cycles inside bot or indexer"),
    ],
)
def test_a_broken_layer_is_reported(tmp_path: Path, module: str, source: str, contract: str) -> None:
    """The contracts can fail: a copy of the packages with one bad import breaks the one it should."""
    for package in ("bot", "indexer"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(source)
    if module == "bot/leak.py":
        # bot.app -> … -> bot.leak would close a cycle only if something imports leak back: make it.
        app = tmp_path / "bot" / "app.py"
        app.write_text(app.read_text() + "\nfrom bot import leak  # noqa: E402,F401\n")
    result = _lint_imports("--no-cache", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract} BROKEN" in result.stdout
