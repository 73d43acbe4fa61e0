"""``snapfit model download``: which files, from the Hugging Face cache offline, and every error as one line.

No test reaches the Hub (there is no network): the download path is exercised through a Hugging
Face cache laid out as huggingface_hub writes it, with ``HF_HUB_OFFLINE=1`` (set for every test).
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from bot.cli import app
from indexer.model_download import (
    CONFIG_FILE,
    ModelDownloadError,
    choose_weight_file,
    repo_of,
    select_files,
)
from tests.image_corpus import case

runner = CliRunner()
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def cached_repo(cache: Path, repo: str, files: dict[str, bytes | Path], *, commit: str = COMMIT) -> Path:
    """A repository snapshot in a Hugging Face cache, as huggingface_hub lays it out."""
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / "main").write_text(commit, encoding="utf-8")
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = snapshot / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content)
    return snapshot


@pytest.fixture
def cache(tmp_path: Path, tiny_model_dir: Path) -> Path:
    """``acme/tiny-clip``: the tiny model's config and weights, a second weight format, a tokenizer
    file, a README and a sub-folder, as a real open_clip repository has."""
    cache = tmp_path / "hf-cache"
    cached_repo(
        cache,
        "acme/tiny-clip",
        {
            CONFIG_FILE: tiny_model_dir / CONFIG_FILE,
            "open_clip_model.safetensors": tiny_model_dir / "open_clip_model.safetensors",
            "open_clip_pytorch_model.bin": b"the same weights in another format: must not be fetched",
            "tokenizer.json": b'{"version": "1.0"}',
            "README.md": b"# tiny",
            "onnx/model.onnx": b"not for open_clip",
        },
    )
    return cache


def write_config(tmp_path: Path, cache: Path, name: str = "hf-hub:acme/tiny-clip") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[model]\nname = {json.dumps(name)}\ncache_dir = {json.dumps(str(cache))}\n", "utf-8")
    return path


def test_download_copies_what_local_dir_needs_and_prints_the_name(
    tmp_path: Path, cache: Path, tiny_encoder: object
) -> None:
    target = tmp_path / "models" / "tiny"
    result = runner.invoke(
        app, ["model", "download", "--config", str(write_config(tmp_path, cache)), "--to", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"local-dir:{target}\n"
    assert sorted(path.name for path in target.iterdir()) == [
        CONFIG_FILE,
        "open_clip_model.safetensors",
        "tokenizer.json",
    ]
    assert f'set [model] name = "local-dir:{target}"' in result.stderr
    assert "from the local Hugging Face cache" in result.stderr

    # The folder loads offline, with the very weights of the repository.
    from indexer.config import ModelSettings
    from indexer.embedding import Encoder

    loaded = Encoder.from_settings(ModelSettings(name=result.stdout.strip()))
    image = Image.open(io.BytesIO(case("webp").data)).convert("RGB")
    np.testing.assert_allclose(
        loaded.embed_image(image),
        tiny_encoder.embed_image(image),  # type: ignore[attr-defined]
        atol=1e-6,
    )


def test_default_folder_and_model_override(tmp_path: Path, cache: Path) -> None:
    config = write_config(tmp_path, cache, name="local-dir:/somewhere/else")
    result = runner.invoke(
        app, ["model", "download", "--config", str(config), "--model", "hf-hub:acme/tiny-clip"]
    )
    assert result.exit_code == 0, result.output
    folder = Path("models/tiny-clip").absolute()  # relative to the working directory
    assert result.stdout == f"local-dir:{folder}\n"
    assert (folder / "open_clip_model.safetensors").is_file()
    assert not list(folder.glob(".*partial"))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            "local-dir:/models/x",
            "model.name = 'local-dir:/models/x' is not an hf-hub: model "
            "(e.g. 'hf-hub:Marqo/marqo-fashionSigLIP'); only those can be downloaded "
            "(pass --model or set [model] name)",
        ),
        (
            "hf-hub:marqo",
            "model.name = 'hf-hub:marqo': 'marqo' is not a Hugging Face repository id like 'org/name'",
        ),
        (
            "hf-hub:a/../b",
            "model.name = 'hf-hub:a/../b': 'a/../b' is not a Hugging Face repository id like 'org/name'",
        ),
    ],
)
def test_names_that_cannot_be_downloaded_are_exit_2(
    tmp_path: Path, cache: Path, model: str, message: str
) -> None:
    result = runner.invoke(
        app, ["model", "download", "--config", str(write_config(tmp_path, cache)), "--model", model]
    )
    assert result.exit_code == 2
    assert result.stderr == f"snapfit: {message}\n"


def test_offline_without_a_cached_copy(tmp_path: Path, cache: Path) -> None:
    config = write_config(tmp_path, cache, name="hf-hub:Marqo/marqo-fashionSigLIP")
    result = runner.invoke(app, ["model", "download", "--config", str(config)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"snapfit: HF_HUB_OFFLINE is set and Marqo/marqo-fashionSigLIP is not in the Hugging Face cache at "
        f"{cache}: run this where the Hub is reachable (or point [model] cache_dir / HF_HOME at a cache that "
        "holds the model)\n"
    )
    assert not Path("models").exists()


def test_repositories_that_are_not_open_clip_models(tmp_path: Path, cache: Path) -> None:
    cached_repo(cache, "acme/no-weights", {CONFIG_FILE: b'{"model_cfg": {}}', "README.md": b"#"})
    cached_repo(cache, "acme/transformers", {"config.json": b"{}", "model.safetensors": b"x"})
    cached_repo(
        cache, "acme/bad-config", {CONFIG_FILE: b'{"model_cfg": {}}', "open_clip_model.safetensors": b"x"}
    )
    expected = {
        "acme/no-weights": (
            "no weight file (open_clip_model.safetensors, open_clip_pytorch_model.bin, ...) in the repository"
        ),
        "acme/transformers": f"no {CONFIG_FILE} in the repository: it is not an open_clip model",
        "acme/bad-config": (
            f"acme/bad-config/{CONFIG_FILE} has no 'model_cfg' with 'vision_cfg' and 'text_cfg'"
        ),
    }
    for repo, message in expected.items():
        result = runner.invoke(
            app,
            [
                "model",
                "download",
                "--config",
                str(write_config(tmp_path, cache)),
                "--model",
                f"hf-hub:{repo}",
                "--to",
                str(tmp_path / "out"),
            ],
        )
        assert result.exit_code == 1, repo
        assert result.stderr.splitlines()[-1] == f"snapfit: {message}", repo
        assert not (tmp_path / "out" / "open_clip_model.safetensors").exists()


def test_a_target_that_is_a_file(tmp_path: Path, cache: Path) -> None:
    occupied = tmp_path / "taken"
    occupied.write_text("a file", encoding="utf-8")
    result = runner.invoke(
        app, ["model", "download", "--config", str(write_config(tmp_path, cache)), "--to", str(occupied)]
    )
    assert result.exit_code == 1
    assert result.stderr == f"snapfit: {occupied} exists and is not a folder\n"


# -------------------------------------------------------------------------------- file selection


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            [CONFIG_FILE, "open_clip_pytorch_model.bin", "open_clip_model.safetensors", "README.md"],
            [CONFIG_FILE, "open_clip_model.safetensors"],
        ),
        (
            [CONFIG_FILE, "pytorch_model.bin", "open_clip_pytorch_model.bin"],
            [CONFIG_FILE, "open_clip_pytorch_model.bin"],
        ),
        ([CONFIG_FILE, "b.bin", "weights.safetensors", "a.pth"], [CONFIG_FILE, "weights.safetensors"]),
        ([CONFIG_FILE, "b.bin", "a.pth"], [CONFIG_FILE, "a.pth"]),
        (
            [
                CONFIG_FILE,
                "model.safetensors",
                "vocab.json",
                "merges.txt",
                "tokenizer_config.json",
                "x/tokenizer.json",
            ],
            [CONFIG_FILE, "model.safetensors", "merges.txt", "tokenizer_config.json", "vocab.json"],
        ),
        (
            [CONFIG_FILE, "sub/open_clip_model.safetensors", "open_clip_pytorch_model.bin"],
            [CONFIG_FILE, "open_clip_pytorch_model.bin"],
        ),
    ],
)
def test_select_files(files: list[str], expected: list[str]) -> None:
    assert select_files(files) == expected


@pytest.mark.parametrize(
    "names",
    [
        ["open_clip_pytorch_model.bin", "open_clip_model.safetensors"],
        ["pytorch_model.bin", "model.pth", "open_clip_pytorch_model.pth"],
        ["z.safetensors", "a.safetensors", "a.bin"],
        ["b.bin", "a.pth"],
        ["model.pth", "pytorch_model.pth"],
    ],
)
def test_the_choice_is_the_one_the_loader_makes_in_the_folder(tmp_path: Path, names: list[str]) -> None:
    from indexer.embedding.loading import find_weight_file

    for name in names:
        (tmp_path / name).write_bytes(b"")
    chosen = find_weight_file(tmp_path)
    assert chosen is not None and choose_weight_file(names) == chosen.name


def test_repo_of() -> None:
    assert repo_of("hf-hub:Marqo/marqo-fashionSigLIP") == "Marqo/marqo-fashionSigLIP"
    for bad in ("Marqo/marqo-fashionSigLIP", "hf-hub:", "hf-hub:a/b/c", "hf-hub:/x"):
        with pytest.raises(ModelDownloadError):
            repo_of(bad)
