"""``snapfit model download``: an ``hf-hub:`` model's files in a folder that ``local-dir:`` loads offline.

The repository's ``open_clip_config.json``, the one weight file open_clip would load and its
tokenizer files go through the Hugging Face cache into the folder, each under a temporary name
first so that an interrupted run leaves no truncated file. Every failure is one
``ModelDownloadError`` line.
"""

from __future__ import annotations

import errno
import json
import logging
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from indexer.hub import hub_offline

log = logging.getLogger(__name__)

HF_HUB = "hf-hub:"
LOCAL_DIR = "local-dir:"
CONFIG_FILE = "open_clip_config.json"
# open_clip's preference order for a folder's weight file (factory._find_checkpoint_in_dir); the
# loader (indexer.embedding.loading) picks by the same rules, so this module stays free of torch.
WEIGHT_FILES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.pth",
    "model.pth",
)
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pth")
# Tokenizer files of the towers open_clip uses (CLIP BPE, SentencePiece, HF tokenizers).
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
)
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


class ModelDownloadError(Exception):
    """A model could not be fetched; the message is one line that says what to do."""


@dataclass(frozen=True)
class DownloadedModel:
    repo: str
    folder: Path  # absolute
    files: list[str]
    source: str  # "hub" or "cache"

    @property
    def model_name(self) -> str:
        """The ``[model] name`` value that loads this folder."""
        return f"{LOCAL_DIR}{self.folder}"


def repo_of(name: str) -> str:
    """The ``org/name`` of an ``hf-hub:`` model name, or ``ModelDownloadError``."""
    if not name.startswith(HF_HUB):
        raise ModelDownloadError(
            f"model.name = {name!r} is not an hf-hub: model (e.g. 'hf-hub:Marqo/marqo-fashionSigLIP'); "
            "only those can be downloaded (pass --model or set [model] name)"
        )
    repo = name.removeprefix(HF_HUB).strip()
    if not _REPO_ID.match(repo) or ".." in repo:
        raise ModelDownloadError(
            f"model.name = {name!r}: {repo!r} is not a Hugging Face repository id like 'org/name'"
        )
    return repo


def default_folder(repo: str) -> Path:
    return Path("models") / repo.split("/")[-1]


def select_files(files: Iterable[str]) -> list[str]:
    """The files a ``local-dir:`` folder needs from a repository's file list: the config, the weight
    file open_clip would pick, and any tokenizer files. Top-level files only."""
    top = {name for name in files if "/" not in name}
    if CONFIG_FILE not in top:
        raise ModelDownloadError(f"no {CONFIG_FILE} in the repository: it is not an open_clip model")
    weights = choose_weight_file(top)
    if weights is None:
        raise ModelDownloadError(
            "no weight file (open_clip_model.safetensors, open_clip_pytorch_model.bin, ...) in the repository"
        )
    return [CONFIG_FILE, weights, *sorted(top & set(TOKENIZER_FILES))]


def choose_weight_file(names: Iterable[str]) -> str | None:
    """open_clip's choice among the names of a folder's files, or None when none is a weight file."""
    candidates = [name for name in names if name.endswith(WEIGHT_SUFFIXES)]
    preferred = [name for name in candidates if name in WEIGHT_FILES]
    if preferred:
        return min(preferred, key=WEIGHT_FILES.index)
    if not candidates:
        return None
    return sorted(sorted(candidates), key=lambda name: not name.endswith(".safetensors"))[0]


def download_model(
    name: str,
    folder: str | Path,
    *,
    cache_dir: str | None = None,
    revision: str | None = None,
    on_file: Callable[[str], None] = lambda file: None,
) -> DownloadedModel:
    """Fetch the model's files into ``folder`` (created); ``ModelDownloadError`` on any failure."""
    repo = repo_of(name)
    target = Path(folder).expanduser().absolute()
    if target.exists() and not target.is_dir():
        raise ModelDownloadError(f"{target} exists and is not a folder")
    offline = hub_offline()
    files, source = (None, "cache") if offline else _hub_files(repo, revision)
    if files is None:
        files = _cached_files(repo, revision, cache_dir, offline=offline)
    selected = select_files(files)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelDownloadError(_disk_message(exc, target)) from None
    for file in selected:  # the config first: a repository that is not open_clip's fails before the weights
        on_file(file)
        cached = Path(_fetch(repo, file, revision, cache_dir, local_only=source == "cache"))
        problem = config_problem(cached) if file == CONFIG_FILE else None
        if problem is not None:
            raise ModelDownloadError(f"{repo}/{CONFIG_FILE} {problem}")
        _copy(cached, target / file)
    return DownloadedModel(repo, target, selected, source)


def _hub_files(repo: str, revision: str | None) -> tuple[list[str] | None, str]:
    """The repository's files from the Hub, or (None, "cache") when the Hub cannot be reached."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        return HfApi().list_repo_files(repo, revision=revision), "hub"
    except GatedRepoError:
        raise ModelDownloadError(
            f"{repo} is gated on the Hugging Face Hub: accept its terms, then set HF_TOKEN"
        ) from None
    except RepositoryNotFoundError:
        raise ModelDownloadError(
            f"no model repository {repo!r} on the Hugging Face Hub (a typo, or private: set HF_TOKEN)"
        ) from None
    except RevisionNotFoundError:
        raise ModelDownloadError(f"{repo} has no revision {revision!r}") from None
    except HfHubHTTPError as exc:
        raise ModelDownloadError(f"the Hugging Face Hub refused to list {repo}: {_first_line(exc)}") from None
    except Exception as exc:  # httpx/OS network errors: fall back to the cache
        log.warning("cannot reach the Hugging Face Hub (%s); looking in the local cache", _first_line(exc))
        return None, "cache"


def _cached_files(repo: str, revision: str | None, cache_dir: str | None, *, offline: bool) -> list[str]:
    """The files of the repository's cached snapshot (the Hugging Face cache layout:
    ``models--<org>--<name>/refs/<revision>`` names a commit, ``snapshots/<commit>/`` holds its files)."""
    from huggingface_hub import constants

    cache = Path(cache_dir or constants.HF_HUB_CACHE)
    root = cache / f"models--{repo.replace('/', '--')}"
    wanted = revision or "main"
    ref = root / "refs" / wanted
    try:
        commit = ref.read_text(encoding="utf-8").strip() if ref.is_file() else wanted
    except OSError:
        commit = wanted
    snapshot = root / "snapshots" / commit
    if not snapshot.is_dir():
        why = "HF_HUB_OFFLINE is set" if offline else "the Hugging Face Hub cannot be reached"
        raise ModelDownloadError(
            f"{why} and {repo} is not in the Hugging Face cache at {cache}: run this where the Hub "
            "is reachable (or point [model] cache_dir / HF_HOME at a cache that holds the model)"
        )
    return sorted(path.name for path in snapshot.iterdir() if path.is_file())


def _fetch(
    repo: str,
    file: str,
    revision: str | None,
    cache_dir: str | None,
    *,
    local_only: bool,
) -> str:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    try:
        return hf_hub_download(
            repo,
            file,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_only,
        )
    except LocalEntryNotFoundError:
        raise ModelDownloadError(
            f"{repo}/{file} is not in the Hugging Face cache and the Hub cannot be reached"
        ) from None
    except EntryNotFoundError:
        raise ModelDownloadError(f"{repo} lists {file} but the Hub has no such file") from None
    except HfHubHTTPError as exc:
        raise ModelDownloadError(f"downloading {repo}/{file} failed: {_first_line(exc)}") from None
    except OSError as exc:
        raise ModelDownloadError(_disk_message(exc, cache_dir or "the Hugging Face cache")) from None


def _copy(source: Path, destination: Path) -> None:
    partial = destination.with_name(f".{destination.name}.partial")
    try:
        shutil.copyfile(source, partial)
        partial.replace(destination)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ModelDownloadError(_disk_message(exc, destination)) from None


def config_problem(path: Path) -> str | None:
    """What makes ``path`` unusable as an ``open_clip_config.json`` (to follow its name), or None."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"is not readable JSON ({_first_line(exc)})"
    model_cfg = config.get("model_cfg") if isinstance(config, dict) else None
    if not isinstance(model_cfg, dict) or not {"vision_cfg", "text_cfg"} <= model_cfg.keys():
        return "has no 'model_cfg' with 'vision_cfg' and 'text_cfg'"
    return None


def _disk_message(exc: OSError, where: Path | str) -> str:
    if exc.errno == errno.ENOSPC:
        return f"no space left on the disk of {where}: free some, or download to another folder with --to"
    if isinstance(exc, PermissionError):
        return f"cannot write to {where}: permission denied"
    return f"cannot write {where}: {exc.strerror or exc}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
