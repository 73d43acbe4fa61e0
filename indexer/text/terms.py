"""Search terms from text, the same way for product names and for queries (see the package docstring).

Kept: nouns (common, proper, bound), roots, adjective and verb stems, Latin words, numbers and
hanja; dropped: particles, endings, punctuation and symbols. Latin words are lower-cased and
NFKC-normalised (full-width ``ＮＩＫＥ`` is ``nike``). Musinsa names carry option tags in square
brackets (``[크롭선택]``); they are words like the others.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

    from indexer.product import Product

MAX_QUERY_CHARS = 200  # a shopper's query; longer text is refused before it reaches the analyser
# Kiwi part-of-speech tags that carry meaning for product search.
_KEPT_TAGS = frozenset({"NNG", "NNP", "NNB", "NR", "XR", "SL", "SN", "SH", "VA", "VV", "MAG"})
_LATIN = re.compile(r"[A-Za-z]")

_kiwi: Kiwi | None = None
_kiwi_lock = threading.Lock()


def _analyser() -> Kiwi:
    """One Kiwi for the process (loading takes about a second); its calls are serialised."""
    global _kiwi
    with _kiwi_lock:
        if _kiwi is None:
            from kiwipiepy import Kiwi

            _kiwi = Kiwi()
        return _kiwi


def load_analyser() -> None:
    """Load the analyser now (about a second), so that the first text search or caption does not wait."""
    _analyser()


def tokens(text: str) -> list[str]:
    """The search terms of ``text``, in order, repeats kept."""
    normalised = unicodedata.normalize("NFKC", text).strip()
    if not normalised:
        return []
    kiwi = _analyser()
    with _kiwi_lock:
        analysed = kiwi.tokenize(normalised)
    terms = []
    for token in analysed:
        tag = token.tag.split("-")[0]  # "VV-R" / "VA-I": regular and irregular stems
        if tag not in _KEPT_TAGS:
            continue
        form = token.form.lower() if tag == "SL" else token.form
        if form:
            terms.append(form)
    return terms


def has_latin(text: str) -> bool:
    """Whether ``text`` has Latin letters (an English query: also searched with the model's text tower)."""
    return bool(_LATIN.search(unicodedata.normalize("NFKC", text)))


def term_id(term: str) -> int:
    """A stable 32-bit id for a term: the sparse vector's index (the same in every process and release)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "big")


@dataclass(frozen=True)
class SparseTerms:
    """A sparse vector: term ids (ascending, unique) and their counts."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __bool__(self) -> bool:
        return bool(self.indices)


def sparse_terms(terms: Iterable[str]) -> SparseTerms:
    counts = Counter(term_id(term) for term in terms)
    ordered = sorted(counts.items())
    return SparseTerms(tuple(index for index, _ in ordered), tuple(float(count) for _, count in ordered))


def document_text(product: Product) -> str:
    """What text search matches a product by: its name and its brand, in Korean and in Latin letters."""
    parts = [product.name, product.brand_name]
    if product.brand and product.brand.lower() != product.brand_name.lower():
        parts.append(product.brand.replace("-", " ").replace("_", " "))
    return " ".join(parts)


def product_terms(product: Product) -> SparseTerms:
    """The sparse vector stored with a product."""
    return sparse_terms(tokens(document_text(product)))
