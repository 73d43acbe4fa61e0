"""Prices as shoppers type them, in Korean and English, to a range of won: ``/filter 3-8만원``, captions.

Korean shoppers write amounts with units (``3만``, ``2만5천원``, ``1.5만``), commas (``39,900원``)
and bound words after the amount (``이하``, ``이상``, ``미만``, ``부터``, ``까지``); English ones write
``under 50000``, ``over 30k``, ``30k-80k``. ``parse_price_range`` reads a whole text as one range;
``find_price_range`` finds one inside a caption. A lone amount (``5만원``) is a budget: an upper
bound. ``미만`` (below) is read as an upper bound, inclusive, like ``이하``. A range whose left side
has no unit takes the right side's (``3-8만원`` is 30,000 to 80,000 won).

Text that cannot be a range raises ``PriceWordsError``: a ``code`` (``empty``, ``unreadable``,
``negative``, ``too_high``, ``min_above_max``, ``too_low``) with the values its reason needs, and
``reason(lang)`` saying it to the user.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from bot.messages import Lang, format_price, plain
from indexer.store.filters import MAX_PRICE_WON

PriceRange = tuple[int | None, int | None]

# Units, longest first (천만 before 천 and 만).
UNITS: dict[str, int] = {
    "천만": 10_000_000,
    "백만": 1_000_000,
    "조": 1_000_000_000_000,
    "억": 100_000_000,
    "만": 10_000,
    "천": 1_000,
    "백": 100,
    "k": 1_000,
}
TOO_LOW_WITHOUT_UNIT = 100  # "/filter 3-8": surely 만원, not 8 won; asked back instead of guessed
MAX_DIGITS = 20  # longer digit runs are absurd prices, not numbers to compute with

# Bound words. Prefix: before the amount ("under 5만"); suffix: after it ("5만원 이하").
MAX_PREFIXES = (
    "less than",
    "cheaper than",
    "no more than",
    "not more than",
    "at most",
    "up to",
    "upto",
    "under",
    "below",
    "within",
    "maximum",
    "max",
    "<=",
    "≤",
    "<",
)
MIN_PREFIXES = (
    "more than",
    "no less than",
    "at least",
    "starting at",
    "over",
    "above",
    "from",
    "minimum",
    "min",
    ">=",
    "≥",
    ">",
)
MAX_SUFFIXES = (
    "or less",
    "or under",
    "and under",
    "or below",
    "and below",
    "or cheaper",
    "max",
    "이하",
    "미만",
    "까지",
    "이내",
    "아래",
    "안쪽",
    "밑",
)
MIN_SUFFIXES = (
    "or more",
    "and up",
    "and above",
    "or above",
    "plus",
    "min",
    "이상",
    "초과",
    "부터",
    "넘게",
    "넘는",
    "+",
)
SEPARATORS = ("-", "~", "to", "and", "에서")
FILLERS = (
    "between",
    "prices",
    "price",
    "budget",
    "about",
    "around",
    "가격대",
    "가격",
    "예산",
    "사이",
    "정도",
    "쯤",
)
BAND = "대"  # 5만원대: the 50,000s
# Particles a Korean bound word may carry: 5만원 이하로, 3만원부터는.
PARTICLES = ("으로", "로", "의", "은", "는", "만", "인", "에", "요")

_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_UNIT = re.compile("|".join(re.escape(unit) for unit in UNITS) + r"(?![a-z])", re.IGNORECASE)
_CURRENCY = re.compile(r"원|(?:won|krw)(?![a-z])", re.IGNORECASE)
_SPACE = re.compile(r"\s*")
_WORD = re.compile(r"[a-z']+|[가-힣]+|\S", re.IGNORECASE)
_DASHES = str.maketrans({"−": "-", "–": "-", "—": "-", "〜": "~", "∼": "~", "～": "~"})


class PriceWordsError(ValueError):
    """Text that is not a usable price range; ``reason(lang)`` tells the user why."""

    def __init__(self, code: str, **values: object) -> None:
        self.code = code
        self.values = values
        super().__init__(self.reason("en"))

    def reason(self, lang: Lang) -> str:
        """The one-line reason, plain text (the caller escapes it)."""
        values = {
            name: format_price(lang, value) if isinstance(value, int) else value
            for name, value in self.values.items()
        }
        return plain(lang, f"price_error_{self.code}", **values)


# ----------------------------------------------------------------------------------------- tokens


@dataclass
class Amount:
    value: Decimal
    unit: int  # the first part's unit (1: none)
    currency: bool  # 원, won, ₩
    negative: bool = False
    band: bool = False  # 5만원대
    digits: str = ""  # the first number as written (5만원대: 5)
    written: str = ""  # the whole amount as written, for messages

    @property
    def has_unit(self) -> bool:
        return self.unit > 1 or self.currency


@dataclass
class Token:
    kind: str  # amount, maxp, minp, maxs, mins, sep, filler, word
    start: int
    end: int
    amount: Amount | None = field(default=None)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DASHES)


def _phrase_at(text: str, i: int, phrases: tuple[str, ...]) -> str | None:
    """The phrase of ``phrases`` that ``text`` has at ``i`` as whole words (longest listed first)."""
    lowered = text[i : i + 20].lower()
    for phrase in phrases:
        if not lowered.startswith(phrase):
            continue
        after = lowered[len(phrase) : len(phrase) + 1]
        if phrase[-1].isascii() and phrase[-1].isalpha() and after.isascii() and after.isalpha():
            continue  # "understated" is not "under"
        if "가" <= phrase[-1] <= "힣" and "가" <= after <= "힣":
            rest = re.match(r"[가-힣]+", lowered[len(phrase) :])
            if rest is None or rest.group(0) not in PARTICLES:
                continue  # "이하늘" is a word, "이하로" is 이하 + a particle
        return phrase
    return None


def _korean_particle_end(text: str, i: int) -> int | None:
    """``i`` moved past a particle glued to a Korean word (이하로 → past 로); ``i`` when no Korean
    follows; None when another Korean word follows (이하늘)."""
    rest = re.match(r"[가-힣]+", text[i:])
    if rest is None:
        return i
    return i + len(rest.group(0)) if rest.group(0) in PARTICLES else None


def _read_amount(text: str, i: int, negative: bool) -> tuple[Amount, int]:
    """The amount starting with the digit at ``i``: number-unit parts with falling units (2만5천), then
    an optional currency word and 대."""
    number = _NUMBER.match(text, i)
    assert number is not None
    digits = number.group(0)
    total = Decimal(0)
    first_unit = 0
    last_unit: int | None = None
    pos, gap = i, False
    while True:
        number = _NUMBER.match(text, pos)
        if number is None:
            break
        raw = number.group(0).replace(",", "")
        if len(raw.split(".")[0]) > MAX_DIGITS:
            raise PriceWordsError("too_high", amount=text[i : number.end()][:30], limit=MAX_PRICE_WON)
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the pattern only matches numbers
            break
        after = _SPACE.match(text, number.end()).end()  # type: ignore[union-attr]
        unit_match = _UNIT.match(text, after)
        unit = UNITS[unit_match.group(0).lower()] if unit_match else 1
        if last_unit is not None:
            if unit_match is None and (gap or value >= last_unit):
                break  # "2만5000" continues; "3만 8" does not
            if unit_match is not None and unit >= last_unit:
                break  # "3만 8만": two amounts
        total += value * unit
        if last_unit is None:
            first_unit = unit
        last_unit = unit
        pos = unit_match.end() if unit_match else number.end()
        if unit_match is None:
            break
        pos_next = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if _NUMBER.match(text, pos_next) is None:
            break
        gap, pos = pos_next != pos, pos_next
    end = pos
    currency = False
    after = _SPACE.match(text, end).end()  # type: ignore[union-attr]
    currency_match = _CURRENCY.match(text, after)
    if currency_match is not None and text[currency_match.end() : currency_match.end() + 2] != "피스":
        currency, end = True, currency_match.end()
    band = text[end : end + 1] == BAND and _korean_particle_end(text, end + 1) is not None
    if band:
        end = _korean_particle_end(text, end + 1) or end + 1
    return Amount(total, first_unit or 1, currency, negative, band, digits, text[i:end].strip()), end


def tokenize(text: str) -> list[Token]:
    """``text`` (normalised) as price tokens; anything else is a ``word``."""
    tokens: list[Token] = []
    i = 0
    currency_next = False
    while i < len(text):
        if text[i].isspace() or text[i] in ",.;:!?()[]":
            i += 1
            continue
        if text[i] == "₩":
            currency_next = True
            i += 1
            continue
        negative = False
        if text[i] == "-" and _NUMBER.match(text, i + 1) and (not tokens or tokens[-1].kind != "amount"):
            negative, i = True, i + 1
        if text[i].isdigit():
            start = i - (1 if negative else 0)
            amount, i = _read_amount(text, i, negative)
            amount.currency = amount.currency or currency_next
            currency_next = False
            tokens.append(Token("amount", start, i, amount))
            continue
        currency_next = False
        after_amount = bool(tokens) and tokens[-1].kind == "amount"
        for kind, phrases in (
            ("maxs", MAX_SUFFIXES) if after_amount else ("maxp", MAX_PREFIXES),
            ("mins", MIN_SUFFIXES) if after_amount else ("minp", MIN_PREFIXES),
            ("sep", SEPARATORS),
            ("maxp", MAX_PREFIXES),
            ("minp", MIN_PREFIXES),
            ("filler", FILLERS),
        ):
            phrase = _phrase_at(text, i, phrases)
            if phrase is not None:
                end = i + len(phrase)
                if "가" <= phrase[-1] <= "힣":
                    end = _korean_particle_end(text, end) or end
                tokens.append(Token(kind, i, end))
                i = end
                break
        else:
            word = _WORD.match(text, i)
            assert word is not None
            tokens.append(Token("word", i, word.end()))
            i = word.end()
    return tokens


# ---------------------------------------------------------------------------------------- grammar


@dataclass(frozen=True)
class PriceMatch:
    """A price range found in text: its bounds and where it was written (``text[start:end]``)."""

    min_price: int | None
    max_price: int | None
    start: int
    end: int
    text: str


def _won(amount: Amount) -> int:
    return int(amount.value.to_integral_value())


def _share_unit(left: Amount, right: Amount) -> None:
    """3-8만원: a side written without a unit takes the other side's."""
    if left.unit == 1 and right.unit > 1 and left.value < 1000:
        left.value *= right.unit
        left.unit = right.unit
    elif right.unit == 1 and left.unit > 1 and right.value < 1000:
        right.value *= left.unit
        right.unit = left.unit
    left.currency = left.currency or right.currency
    right.currency = right.currency or left.currency


@dataclass(frozen=True)
class _Parsed:
    low: Amount | None
    high: Amount | None
    end: int  # tokens used
    worded: bool  # a bound word, a separator or a unit says this is a price


def _match_at(tokens: list[Token], i: int) -> _Parsed | None:
    """The longest price expression starting at token ``i``."""

    def kind(j: int) -> str:
        return tokens[j].kind if j < len(tokens) else ""

    def amount(j: int) -> Amount | None:
        return tokens[j].amount if kind(j) == "amount" else None

    def range_from(low: Amount, j: int, worded: bool) -> _Parsed | None:
        """``low`` then, at ``j``, a separator (or min suffix) and an amount, maybe a max suffix."""
        if kind(j) in ("sep", "mins") and amount(j + 1) is not None:
            high = amount(j + 1)
            assert high is not None
            _share_unit(low, high)
            end = j + 2
            if kind(end) == "maxs":
                end += 1
            # bare numbers: prices from 1,000 won, but "2019-2024" is years
            big = min(low.value, high.value) >= 1000 and not all(
                1900 <= v <= 2100 for v in (low.value, high.value)
            )
            return _Parsed(
                low, high, end, worded or low.has_unit or high.has_unit or big or kind(j) == "mins"
            )
        return None

    if kind(i) in ("maxp", "minp") and amount(i + 1) is not None:
        first = amount(i + 1)
        assert first is not None
        if kind(i) == "minp":
            ranged = range_from(first, i + 2, True)  # from 30k to 80k
            if ranged is not None:
                return ranged
        end = i + 2 + (kind(i + 2) in ("maxs", "mins"))
        return _Parsed(None, first, end, True) if kind(i) == "maxp" else _Parsed(first, None, end, True)
    if kind(i) == "sep" and tokens[i].end - tokens[i].start == 1 and amount(i + 1) is not None:
        if i > 0 and kind(i - 1) == "amount":
            return None
        first = amount(i + 1)
        assert first is not None
        end = i + 2 + (kind(i + 2) == "maxs")
        return _Parsed(None, first, end, True)  # ~5만
    first = amount(i)
    if first is None:
        return None
    ranged = range_from(first, i + 1, False)
    if ranged is not None:
        return ranged
    if kind(i + 1) == "maxs":
        return _Parsed(None, first, i + 2, True)
    if kind(i + 1) == "mins":
        return _Parsed(first, None, i + 2, True)
    if kind(i + 1) == "sep" and tokens[i + 1].end - tokens[i + 1].start == 1:
        return _Parsed(first, None, i + 2, True)  # 5만~
    if first.band:
        return _Parsed(first, first, i + 1, True)
    return _Parsed(None, first, i + 1, first.has_unit)  # a budget


def _bounds(parsed: _Parsed, *, strict: bool) -> PriceRange:
    """The bounds in won, checked; ``strict`` (typed in /filter) also refuses unit-less tiny prices."""
    low, high = parsed.low, parsed.high
    for side in (low, high):
        if side is not None and side.negative:
            raise PriceWordsError("negative", amount="-" + side.written)
    if low is not None and low.band and low is high:
        magnitude = Decimal(10) ** (len(low.digits.replace(",", "").split(".")[0]) - 1)
        base = _won(low)
        upper = int(base + magnitude * low.unit - 1)
        return _checked(base, upper)
    minimum = _won(low) if low is not None else None
    maximum = _won(high) if high is not None else None
    if strict and not any(side.has_unit for side in (low, high) if side is not None):
        largest = max(value for value in (minimum, maximum) if value is not None)
        if largest == 0:
            raise PriceWordsError("unreadable", text="0")
        if largest < TOO_LOW_WITHOUT_UNIT:
            raise PriceWordsError("too_low", amount=largest, suggestion=f"{largest}만원")
    return _checked(minimum, maximum)


def _checked(minimum: int | None, maximum: int | None) -> PriceRange:
    for value in (minimum, maximum):
        if value is not None and value > MAX_PRICE_WON:
            raise PriceWordsError("too_high", amount=value, limit=MAX_PRICE_WON)
    if minimum is not None and maximum is not None and minimum > maximum:
        raise PriceWordsError("min_above_max", low=minimum, high=maximum)
    return minimum, maximum


def _without_fillers(tokens: list[Token]) -> list[Token]:
    return [token for token in tokens if token.kind != "filler"]


def parse_price_range(text: str) -> PriceRange:
    """The whole of ``text`` as a price range in won: (min or None, max or None).

    Raises ``PriceWordsError`` for empty or unreadable text, negative or absurd prices, a minimum
    above the maximum, and tiny prices written without a unit (``/filter 3-8``).
    """
    normalised = _normalise(text or "").strip()
    if not normalised:
        raise PriceWordsError("empty")
    tokens = _without_fillers(tokenize(normalised))
    parsed = _match_at(tokens, 0) if tokens else None
    if parsed is None or parsed.end != len(tokens):
        amounts = [token for token in tokens if token.amount is not None]
        if amounts and all(token.amount.negative for token in amounts):  # type: ignore[union-attr]
            raise PriceWordsError("negative", amount="-" + amounts[0].amount.written)  # type: ignore[union-attr]
        raise PriceWordsError("unreadable", text=normalised[:40])
    return _bounds(parsed, strict=True)


def find_price_range(text: str) -> PriceMatch | None:
    """The first price range written inside ``text`` (a caption), or None.

    A bare number counts only with a unit or currency (``5만원``); "2024 신상" has no price. Raises
    ``PriceWordsError`` for a price that is there but cannot apply (negative, absurd, min above max).
    """
    normalised = _normalise(text or "")
    tokens = tokenize(normalised)
    i = 0
    while i < len(tokens):
        parsed = _match_at(tokens, i)
        if parsed is not None and parsed.worded:
            low, high = _bounds(parsed, strict=False)
            start, end = tokens[i].start, tokens[parsed.end - 1].end
            return PriceMatch(low, high, start, end, normalised[start:end].strip())
        i += 1
    return None
