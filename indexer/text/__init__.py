"""Words to search terms: Korean and English product names, brands and shopper queries.

``tokens(text)`` cuts text into search terms with kiwipiepy (a Korean morphological analyser whose
model ships in its wheel); ``sparse_terms`` turns terms into a Qdrant sparse vector (term id →
count) that the index weighs with its IDF modifier.
"""

from __future__ import annotations

from indexer.text.terms import (
    MAX_QUERY_CHARS,
    SparseTerms,
    document_text,
    has_latin,
    load_analyser,
    product_terms,
    sparse_terms,
    term_id,
    tokens,
)

__all__ = [
    "MAX_QUERY_CHARS",
    "SparseTerms",
    "document_text",
    "has_latin",
    "load_analyser",
    "product_terms",
    "sparse_terms",
    "term_id",
    "tokens",
]
