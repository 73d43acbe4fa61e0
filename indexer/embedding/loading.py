"""Loading an open_clip model named by ``[model] name``, refusing every way of getting an untrained one.

Names: ``local-dir:/path`` (offline; the folder is checked first because open_clip only warns
about a missing weight file), ``hf-hub:org/repo``, or a built-in name with ``pretrained``.
Every failure is one ``EncoderLoadError`` line that says what to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import open_clip
import torch

from indexer.config import ModelSettings
from indexer.embedding.errors import EncoderLoadError
from indexer.hub import HubUnreachableError, cached_file, first_cached, hub_access
from indexer.model_download import CONFIG_FILE, HF_HUB, LOCAL_DIR, choose_weight_file, config_problem

log = logging.getLogger(__name__)

OFFLINE_HINT = (
    "to run offline, put the model's open_clip_config.json, its weight file (open_clip_model.safetensors) "
    "and tokenizer files in a folder (`snapfit model download`, where the Hub is reachable, fetches just "
    'those) and set model.name = "local-dir:/path/to/that/folder" (or SNAPFIT_MODEL__NAME)'
)
# The weight files open_clip fetches for an hf-hub: model, in its order (download_pretrained_from_hf).
HUB_WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


@dataclass(frozen=True)
class LoadedModel:
    """An open_clip model in fp32 on the CPU, in eval mode, plus what identifies its weights."""

    model: torch.nn.Module
    label: str  # the model's name for ids and logs (a local folder by its basename)
    weights: str  # the pretrained tag, or "sha256-<12 hex>" of the weight file
    preprocess_cfg: dict[str, Any]  # the model's own preprocessing (open_clip PreprocessCfg fields)
    tokenizer_name: str  # what open_clip.get_tokenizer needs for embed_texts
    cache_dir: str | None = None


def load_model(settings: ModelSettings) -> LoadedModel:
    """Load the configured model or raise ``EncoderLoadError`` with one actionable line."""
    name = settings.name
    cache_dir = settings.cache_dir or None
    if name.startswith(LOCAL_DIR):
        return _load_local_dir(name, cache_dir)
    if name.startswith(HF_HUB):
        return _load_hf_hub(name, cache_dir)
    return _load_builtin(name, settings.pretrained, cache_dir)


def find_weight_file(folder: Path) -> Path | None:
    """The weight file open_clip will pick in a local-dir: folder, by its own rules."""
    name = choose_weight_file(path.name for path in folder.iterdir())
    return folder / name if name is not None else None


def weights_digest(path: Path) -> str:
    """A short content hash: a copied or moved weight file keeps its id, changed weights do not."""
    with path.open("rb") as handle:
        return "sha256-" + hashlib.file_digest(handle, "sha256").hexdigest()[:12]


def _load_local_dir(name: str, cache_dir: str | None) -> LoadedModel:
    folder = Path(name.removeprefix(LOCAL_DIR)).expanduser()
    where = f"model.name = {name!r}"
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise EncoderLoadError(
            f"{where}: {folder} {what}; point it at a folder holding {CONFIG_FILE} "
            "and open_clip_model.safetensors"
        )
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise EncoderLoadError(f"{where}: {folder} has no {CONFIG_FILE}; {OFFLINE_HINT}")
    problem = config_problem(config_path)
    if problem is not None:
        raise EncoderLoadError(f"{where}: {config_path} {problem}")
    weight_file = find_weight_file(folder)
    if weight_file is None:
        raise EncoderLoadError(
            f"{where}: no weight file in {folder} (expected open_clip_model.safetensors or "
            "open_clip_pytorch_model.bin); open_clip would silently load an untrained model"
        )
    if not weight_file.is_file():
        raise EncoderLoadError(f"{where}: {weight_file} is not a file")
    model_name = LOCAL_DIR + str(folder.resolve())
    model = _create(
        model_name,
        None,
        cache_dir,
        failure=f"{where}: the weights in {weight_file} could not be loaded",
        hint="replace the file with the one from the model's Hugging Face repo",
    )
    return LoadedModel(
        model=model,
        label=f"{LOCAL_DIR}{folder.resolve().name}",
        weights=weights_digest(weight_file),
        preprocess_cfg=_preprocess_cfg(model),
        tokenizer_name=model_name,
        cache_dir=cache_dir,
    )


def _load_hf_hub(name: str, cache_dir: str | None) -> LoadedModel:
    """From the Hugging Face cache without the network when it holds the files; else from the Hub,
    after one quick request shows it answers (an unreachable Hub is one line within seconds)."""
    repo = name.removeprefix(HF_HUB)
    config = cached_file(repo, CONFIG_FILE, cache_dir)
    weights = first_cached(repo, HUB_WEIGHT_FILES, cache_dir)
    try:
        source = hub_access(repo, cached=config is not None and weights is not None)
    except HubUnreachableError as exc:
        raise EncoderLoadError(f"model.name = {name!r}: {exc}; {OFFLINE_HINT}") from None
    failure = f"model.name = {name!r} could not be loaded from the Hugging Face Hub or its cache"
    if source == "cache" and config is not None:
        snapshot = LOCAL_DIR + str(config.parent)  # the cached snapshot, loaded like a local folder
        model = _create(snapshot, None, cache_dir, failure=failure, hint=OFFLINE_HINT)
        weight_file = find_weight_file(config.parent)
        tokenizer_name = snapshot
    else:
        model = _create(name, None, cache_dir, failure=failure, hint=OFFLINE_HINT)
        from open_clip.pretrained import download_pretrained_from_hf

        # Already downloaded by create_model: this resolves the cached file open_clip loaded.
        weight_file = Path(download_pretrained_from_hf(repo, cache_dir=cache_dir))
        tokenizer_name = name
    if weight_file is None:
        raise EncoderLoadError(f"{failure} (no weight file in the cache); {OFFLINE_HINT}")
    return LoadedModel(
        model=model,
        label=name,
        weights=weights_digest(weight_file),
        preprocess_cfg=_preprocess_cfg(model),
        tokenizer_name=tokenizer_name,
        cache_dir=cache_dir,
    )


def _load_builtin(name: str, pretrained: str, cache_dir: str | None) -> LoadedModel:
    builtin = name.replace("/", "-")
    if builtin not in open_clip.list_models():
        raise EncoderLoadError(
            f"model.name = {name!r} is not an open_clip model: use a built-in name (see "
            "open_clip.list_models()), 'hf-hub:org/repo' or 'local-dir:/path/to/folder'"
        )
    if not pretrained:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(builtin)) or "none"
        raise EncoderLoadError(
            f"model.name = {name!r} needs model.pretrained (a weights tag: {tags}; or a weight file), "
            "otherwise the model would be untrained"
        )
    weight_path = Path(pretrained).expanduser()
    if pretrained_cfg := open_clip.get_pretrained_cfg(builtin, pretrained):
        _check_hub_weights(name, pretrained_cfg, cache_dir)
        source, weights = pretrained, pretrained
    elif weight_path.is_file():
        source, weights = str(weight_path), weights_digest(weight_path)
        log.warning(
            "model.pretrained is a weight file: open_clip applies CLIP's default preprocessing and does not "
            "check QuickGELU; prefer local-dir: with the model's open_clip_config.json"
        )
    else:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(builtin)) or "none"
        raise EncoderLoadError(
            f"model.pretrained = {pretrained!r} is neither a weights tag of {builtin} ({tags}) "
            "nor an existing file"
        )
    model = _create(
        builtin,
        source,
        cache_dir,
        failure=f"model {name!r} with pretrained = {pretrained!r} could not be loaded",
        hint=OFFLINE_HINT,
    )
    return LoadedModel(
        model=model,
        label=builtin,
        weights=weights,
        preprocess_cfg=_preprocess_cfg(model),
        tokenizer_name=builtin,
        cache_dir=cache_dir,
    )


def _check_hub_weights(name: str, pretrained_cfg: dict[str, Any], cache_dir: str | None) -> None:
    """Fail within seconds when a weights tag lives on an unreachable Hub and is not in the cache."""
    hub_path = str(pretrained_cfg.get("hf_hub") or "")
    if not hub_path:
        return
    repo, _, filename = hub_path.rpartition("/")  # open_clip splits it the same way (os.path.split)
    files: tuple[str, ...] = (filename,)
    if filename in ("", "open_clip_pytorch_model.bin"):
        files = HUB_WEIGHT_FILES
    elif filename.endswith((".bin", ".pth")):  # open_clip tries the .safetensors twin first
        files = (filename[:-4] + ".safetensors", filename)
    try:
        hub_access(repo, cached=first_cached(repo, files, cache_dir) is not None)
    except HubUnreachableError as exc:
        raise EncoderLoadError(f"model {name!r}: {exc}; {OFFLINE_HINT}") from None


def _create(
    name: str, pretrained: str | None, cache_dir: str | None, *, failure: str, hint: str
) -> torch.nn.Module:
    try:
        with quiet_open_clip_info():
            model = open_clip.create_model(
                name,
                pretrained=pretrained,
                precision="fp32",
                device="cpu",
                require_pretrained=True,
                cache_dir=cache_dir,
            )
    except Exception as exc:
        raise EncoderLoadError(f"{failure} ({_one_line(_root_cause(exc))}); {hint}") from exc
    return model.eval()


def _not_open_clip_info(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or "open_clip" not in record.pathname


@contextlib.contextmanager
def quiet_open_clip_info() -> Iterator[None]:
    """Drop the dozen INFO lines open_clip writes to the root logger per load; keep its warnings."""
    root = logging.getLogger()
    root.addFilter(_not_open_clip_info)
    try:
        yield
    finally:
        root.removeFilter(_not_open_clip_info)


def _preprocess_cfg(model: torch.nn.Module) -> dict[str, Any]:
    visual = getattr(model, "visual", None)
    cfg = getattr(visual, "preprocess_cfg", None)
    if not isinstance(cfg, dict):
        raise EncoderLoadError("the loaded open_clip model has no image preprocessing configuration")
    return dict(cfg)


def _root_cause(exc: BaseException) -> BaseException:
    seen = {id(exc)}
    while exc.__cause__ is not None and id(exc.__cause__) not in seen:
        exc = exc.__cause__
        seen.add(id(exc))
    return exc


def _one_line(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
