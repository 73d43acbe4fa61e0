"""Shared test setup: an isolated environment for every test, offline by construction."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from indexer.embedding import Encoder

pytest_plugins = ["tests.fakes.telegram_fixtures"]


@pytest.fixture(autouse=True, scope="session")
def cpu_without_native_bf16() -> Iterator[None]:
    """`precision = auto` is bf16 on CPUs with native bf16 and fp32 on the others: the suite runs as on
    one without it, so vectors and model ids are the same on every machine. Tests of the bf16 path
    set the precision, or patch the flags, themselves; subprocesses see the real CPU."""
    import indexer.embedding.policy as policy

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(policy, "cpu_flags", lambda: policy.parse_cpu_flags("flags\t: fpu sse2 avx2"))
        yield


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's snapfit variables, proxies or ./config.toml."""
    for name in list(os.environ):
        if name.startswith("SNAPFIT_") or name == "TELEGRAM_BOT_TOKEN":
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random open_clip model folder (see tests/tiny_model.py); load it as ``local-dir:<path>``."""
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-clip")


@pytest.fixture(scope="session")
def tiny_encoder(tiny_model_dir: Path) -> Encoder:
    """The tiny model loaded by ``Encoder.from_settings`` with default settings, shared by the session."""
    from indexer.config import ModelSettings
    from indexer.embedding import Encoder

    return Encoder.from_settings(ModelSettings(name=f"local-dir:{tiny_model_dir}"))


@pytest.fixture(scope="session")
def tiny_segformer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random SegFormer folder with the real clothes labels (tests/tiny_segformer.py);
    load it as ``[garments] model = "<path>"``. Its map favours background, tops, pants and shoes."""
    from tests.tiny_segformer import build_tiny_segformer

    return build_tiny_segformer(
        tmp_path_factory.mktemp("tiny-segformer") / "segformer",
        favour=("Background", "Upper-clothes", "Pants", "Left-shoe", "Right-shoe"),
    )


def _open_sqlite_workers() -> set[int]:
    return {
        thread.ident or 0
        for thread in threading.enumerate()
        if "_connection_worker_thread" in thread.name and thread.is_alive()
    }


@pytest.fixture(autouse=True)
def no_user_store_left_open() -> Iterator[None]:
    """An aiosqlite connection left open keeps a non-daemon thread alive, and the test run then never
    exits: name the test that left one instead."""
    before = _open_sqlite_workers()
    yield
    deadline = time.monotonic() + 2.0
    while (left := _open_sqlite_workers() - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"{len(left)} SQLite connection(s) left open: close the user store the test opened"
