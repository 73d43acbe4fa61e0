"""Getting a model's files from the Hugging Face Hub without waiting on an unreachable one.

huggingface_hub retries every file it cannot fetch, with back-off, before it looks in its cache or
gives up: a server without internet waited minutes for a one-line error. ``hub_access`` decides
first: the files are in the cache (load them without the network), or the Hub answers one quick
request (download as usual), or it is a one-line ``HubUnreachableError``. Torch-free.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

# One request, no retry: a Hub that does not answer within this many seconds is taken as unreachable.
PROBE_TIMEOUT_SECONDS = 5.0

HubSource = Literal["cache", "hub"]


class HubUnreachableError(Exception):
    """The model is not in the Hugging Face cache and the Hub cannot be reached; one line."""


def cached_file(repo: str, filename: str, cache_dir: str | None = None) -> Path | None:
    """The cached copy of ``repo``'s ``filename`` (main revision), or None."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo, filename, cache_dir=cache_dir)
    return Path(found) if isinstance(found, str) else None


def first_cached(repo: str, filenames: Sequence[str], cache_dir: str | None = None) -> Path | None:
    """The first of ``filenames`` that the cache holds (the caller's order of preference), or None."""
    for name in filenames:
        found = cached_file(repo, name, cache_dir)
        if found is not None:
            return found
    return None


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` as huggingface_hub read it at import, or as the environment says now."""
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return bool(constants.HF_HUB_OFFLINE) or value.strip().upper() in {"1", "ON", "YES", "TRUE"}


def probe_hub(repo: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """None when the Hub answers one request about ``repo`` (any HTTP status), else why not.

    Goes through huggingface_hub's own HTTP client (its proxies, certificates and endpoint), once.
    """
    from huggingface_hub import constants
    from huggingface_hub.utils import get_session

    url = f"{constants.ENDPOINT}/api/models/{repo}"
    try:
        get_session().head(url, timeout=timeout, follow_redirects=False)
    except Exception as exc:  # any transport failure (DNS, refused, reset, timeout, TLS) means the same
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return f"{constants.ENDPOINT} did not answer ({reason[:160]})"
    return None


def hub_access(repo: str, cached: bool) -> HubSource:
    """Where to load ``repo`` from: ``"cache"`` when ``cached`` (every needed file is in the cache),
    ``"hub"`` when the Hub answers; ``HubUnreachableError`` otherwise, without a retry loop."""
    if cached:
        return "cache"
    if hub_offline():
        raise HubUnreachableError(f"HF_HUB_OFFLINE is set and {repo} is not in the Hugging Face cache")
    problem = probe_hub(repo)
    if problem is not None:
        raise HubUnreachableError(
            f"the Hugging Face Hub cannot be reached ({problem}) and {repo} is not in its cache"
        )
    return "hub"
