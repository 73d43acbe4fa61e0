"""A photo's caption as one-off search settings: "여성 바지 5만원 이하", "women shoes under 50000".

``refine(scope, caption)`` layers what the caption says over the user's saved scope, for that one
search (nothing is saved): a price range (``bot.price_words``: it replaces the saved range), a gender
(여성, 여자, women, men, 남성, 남자; 공용/unisex: both), categories (any name or alias of
``indexer.categories``, plus a few everyday words such as jacket/자켓 → outer and hat/모자 →
fashion accessories) and "sold out included" (품절 포함, incl. sold out). Words are cut with the
same Korean analyser as text search, so "여성바지" reads as 여성 + 바지. ``SearchScope.understood``
keeps the parts as written, for the results header; a caption with none of them leaves the scope as
it was (``understood`` False) and the photo is searched as if it had none.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.price_words import PriceWordsError, find_price_range
from bot.scope import SearchScope
from indexer.categories import get_category, resolve_category
from indexer.store.filters import Gender
from indexer.text import MAX_QUERY_CHARS, tokens

GENDER_WORDS: dict[str, Gender | None] = {
    **dict.fromkeys(
        ("여성", "여자", "여성용", "women", "woman", "womens", "female", "ladies", "lady"), "women"
    ),
    **dict.fromkeys(("남성", "남자", "남성용", "men", "man", "mens", "male"), "men"),
    **dict.fromkeys(("공용", "남녀공용", "남녀", "unisex"), None),  # both: unisex items match either
}
# Everyday words the category table does not list, to its codes (all in indexer.categories).
CATEGORY_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("jacket", "jackets", "coat", "coats", "자켓", "재킷", "점퍼", "jumper", "코트", "패딩"), "002"
    ),
    **dict.fromkeys(("티셔츠", "티", "t-shirt"), "001"),
    **dict.fromkeys(("hat", "hats", "cap", "caps", "모자", "캡", "비니", "beanie"), "101"),
    **dict.fromkeys(("shoes", "신발", "신발류"), "103"),
}
# Top-level categories a photo of clothes can mean; names such as "life", "used" or "kids" are
# ordinary words in a caption, not a wish to search those departments.
CLOTHING_TOPS = frozenset({"001", "002", "003", "004", "017", "026", "100", "101", "103"})
_SOLD_OUT = re.compile(
    r"품절\s*(?:상품\s*)?(?:포함|도)|(?:incl(?:uding|\.)?|with|show)\s*sold[\s-]?out(?:s)?",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class CaptionReading:
    """The scope for this one search; ``understood``: the caption changed something. ``problem``:
    a price the caption has but that cannot apply (its reason is told, the rest still applies)."""

    scope: SearchScope
    understood: bool
    problem: PriceWordsError | None = None


def refine(scope: SearchScope, caption: str | None) -> CaptionReading:
    """``scope`` with what ``caption`` says layered over it (see the module docstring)."""
    text = unicodedata.normalize("NFKC", caption or "").strip()[:MAX_QUERY_CHARS]
    if not text:
        return CaptionReading(scope, False)
    filters, category = scope.filters, scope.category
    parts: list[str] = []
    problem: PriceWordsError | None = None
    try:
        price = find_price_range(text)
    except PriceWordsError as exc:
        price, problem = None, exc
    words_text = text
    if price is not None:
        filters = filters.replace(min_price=price.min_price, max_price=price.max_price)
        parts.append(price.text)
        words_text = text[: price.start] + " " + text[price.end :]
    sold_out = _SOLD_OUT.search(words_text)
    if sold_out is not None:
        words_text = words_text[: sold_out.start()] + " " + words_text[sold_out.end() :]
    terms, simple = _words(words_text)
    written = [word for word in simple if word in GENDER_WORDS]  # as typed: "여성용", not its "여성"
    gender_words = written + [
        word for word in terms if word in GENDER_WORDS and not any(word in other for other in written)
    ]
    if gender_words:
        genders = {GENDER_WORDS[word] for word in gender_words}
        filters = filters.replace(gender=genders.pop() if len(genders) == 1 else None)
        parts.extend(dict.fromkeys(gender_words))
    codes, category_words = _categories(terms, simple)
    if codes:
        category = codes[0] if len(codes) == 1 else tuple(codes)
        parts.extend(category_words)
    if sold_out is not None:
        filters = filters.replace(include_sold_out=True)
        parts.append(sold_out.group(0))
    if not parts:
        return CaptionReading(scope, False, problem)
    refined = SearchScope(category=category, filters=filters, understood=(*scope.understood, *parts))
    return CaptionReading(refined, True, problem)


def _words(text: str) -> tuple[list[str], list[str]]:
    """The caption's words twice: the analyser's terms ("여성바지": 여성, 바지), and its whitespace words
    (for "women's", "t-shirt"); numbers left out."""

    def kept(words: list[str]) -> list[str]:
        return [word for word in words if word and not _DIGITS.match(word)]

    simple = [re.sub(r"[^\w-]", "", word.casefold().replace("'s", "s")) for word in text.split()]
    return kept(tokens(text)), kept(simple)


def _category_of(word: str) -> str | None:
    code = CATEGORY_WORDS.get(word)
    if code is None:
        found = resolve_category(word)
        code = found.code if found is not None else None
    if code is None or code[:3] not in CLOTHING_TOPS or get_category(code) is None:
        return None
    return code


def _categories(*sequences: list[str]) -> tuple[list[str], list[str]]:
    """The category codes the word ``sequences`` name (pairs first: "후드 집업", "bomber jacket"),
    the broadest kept when one contains another, and the words that named them."""
    codes: list[str] = []
    named: list[str] = []
    for words in sequences:
        used: set[int] = set()
        for i in range(len(words) - 1):
            pair = (words[i] + words[i + 1], f"{words[i]} {words[i + 1]}")
            code = _category_of(pair[0]) or _category_of(pair[1])
            if code is not None and i not in used:
                codes.append(code)
                named.append(pair[1])
                used.update((i, i + 1))
        for i, word in enumerate(words):
            code = _category_of(word) if i not in used else None
            if code is not None and not any(word in phrase.split() for phrase in named):
                codes.append(code)
                named.append(word)
    kept = [code for code in dict.fromkeys(codes) if not any(code != o and code.startswith(o) for o in codes)]
    return kept, list(dict.fromkeys(named))
