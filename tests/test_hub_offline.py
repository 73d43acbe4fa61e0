"""An unreachable Hugging Face Hub: a missing model is one line after one connection, not a retry
loop; a cached model loads without the network.

Each load runs in a subprocess with ``HF_ENDPOINT`` at a local TCP server that counts connections
and resets them (huggingface_hub reads the endpoint at import).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMIT = "0123456789abcdef0123456789abcdef01234567"

LOAD_SCRIPT = """
import json, sys
kind, name, cache = sys.argv[1:4]
try:
    if kind == "encoder":
        from indexer.config import ModelSettings
        from indexer.embedding import Encoder
        encoder = Encoder.from_settings(ModelSettings(name=name, cache_dir=cache))
        print(json.dumps({"ok": encoder.model_id}))
    else:
        from indexer.clothes_parser.segformer import load_segmenter
        print(json.dumps({"ok": load_segmenter(name, cache_dir=cache).name}))
except Exception as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
"""


class ResettingServer:
    """Accepts TCP connections on 127.0.0.1, counts them and resets each at once."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except OSError:
                continue
            self.connections += 1
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture
def hub() -> Iterator[ResettingServer]:
    server = ResettingServer()
    yield server
    server.close()


def load_offline(kind: str, name: str, cache: Path, hub: ResettingServer) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "TRANSFORMERS_"))}
    env |= {
        "HF_ENDPOINT": f"http://127.0.0.1:{hub.port}",
        "HF_HOME": str(cache.parent / "hf-home"),
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "*",
    }
    done = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, kind, name, str(cache)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a bound against a hang only: the assertions count connections, not seconds
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def put_in_cache(cache: Path, repo: str, folder: Path) -> None:
    """``folder``'s files as the Hugging Face cache holds a downloaded snapshot of ``repo``."""
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(COMMIT)
    shutil.copytree(folder, root / "snapshots" / COMMIT)


def test_a_missing_encoder_fails_after_one_connection_with_the_local_folder_hint(
    hub: ResettingServer, tmp_path: Path
) -> None:
    result = load_offline("encoder", "hf-hub:someone/missing-model", tmp_path / "cache", hub)
    assert result.get("error") == "EncoderLoadError", result
    message = result["message"]
    assert "\n" not in message
    assert "cannot be reached" in message and "someone/missing-model is not in its cache" in message
    assert "open_clip_config.json" in message and "local-dir:" in message
    assert hub.connections == 1  # one probe, no retry loop, no per-file download attempts


def test_a_cached_encoder_loads_without_the_network(
    hub: ResettingServer, tmp_path: Path, tiny_model_dir: Path, tiny_encoder: object
) -> None:
    put_in_cache(tmp_path / "cache", "someone/tiny-clip", tiny_model_dir)
    result = load_offline("encoder", "hf-hub:someone/tiny-clip", tmp_path / "cache", hub)
    assert "ok" in result, result
    local_id = tiny_encoder.model_id  # type: ignore[attr-defined]
    assert result["ok"] == "hf-hub:someone/tiny-clip@" + local_id.split("@", 1)[1]
    assert hub.connections == 0


def test_a_missing_garment_parser_fails_after_one_connection_naming_only_its_files(
    hub: ResettingServer, tmp_path: Path
) -> None:
    result = load_offline("parser", "someone/segformer-clothes", tmp_path / "cache", hub)
    assert result.get("error") == "GarmentLoadError", result
    message = result["message"]
    assert "\n" not in message and "cannot be reached" in message
    command = "hf download someone/segformer-clothes config.json model.safetensors preprocessor_config.json"
    assert command in message
    assert hub.connections == 1


def test_a_cached_garment_parser_loads_without_the_network(
    hub: ResettingServer, tmp_path: Path, tiny_segformer_dir: Path
) -> None:
    put_in_cache(tmp_path / "cache", "someone/segformer-clothes", tiny_segformer_dir)
    result = load_offline("parser", "someone/segformer-clothes", tmp_path / "cache", hub)
    assert result == {"ok": "someone/segformer-clothes"}
    assert hub.connections == 0


def test_a_hub_that_answers_at_all_is_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from huggingface_hub import constants

    from indexer.hub import hub_access, probe_hub

    class NotFound(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        assert probe_hub("someone/model") is None  # a 404 still means the Hub answers
        assert hub_access("someone/model", cached=False) == "hub"
        assert hub_access("someone/model", cached=True) == "cache"
    finally:
        server.shutdown()
        server.server_close()


def test_hf_hub_offline_fails_without_a_connection(
    hub: ResettingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    from indexer.hub import HubUnreachableError, hub_access

    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{hub.port}")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnreachableError, match="HF_HUB_OFFLINE is set and someone/model is not in"):
        hub_access("someone/model", cached=False)
    assert hub.connections == 0
