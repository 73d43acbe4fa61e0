"""Package exports imported on first use, so that importing the package itself stays cheap.

``indexer.embedding`` and ``indexer.clothes_parser`` export classes that need torch (with
open_clip or transformers), which take seconds to import; their error classes do not.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, sources: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each name in ``sources`` from its module when first asked."""

    def __getattr__(name: str) -> Any:
        if name in sources:
            return getattr(importlib.import_module(sources[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
