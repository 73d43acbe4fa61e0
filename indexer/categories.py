"""Musinsa category codes: their syntax, English and Korean names, and what a crawl walks.

The one place for category rules: config validation, the crawler and sync (``walk_plan``), the
product-page parser, the store's payload check and the bot's /category command all use it.
A code is 3 digits at the top level and 3 more per level below, down to 9 digits. Codes and
names follow the 2025-2026 Musinsa tree; legacy codes (005, 018, 020, 022, 007) are left out
because their Korean names collide with the current ones.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# 001 (top level), 001004 (sub-category), 017016005 (a deeper level).
_CODE = re.compile(r"[0-9]{3}(?:[0-9]{3}){0,2}")


def is_category_code(value: object) -> bool:
    """True for a well-formed Musinsa category code (3, 6 or 9 digits); says nothing of the table."""
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


@dataclass(frozen=True)
class Category:
    """One Musinsa category. ``code`` is 3 digits at the top level, 3 more per level below."""

    code: str
    name: str
    name_ko: str
    aliases: tuple[str, ...] = field(default=())

    @property
    def parent_code(self) -> str | None:
        return self.code[:-3] if len(self.code) > 3 else None

    @property
    def is_top_level(self) -> bool:
        return len(self.code) == 3

    @property
    def label(self) -> str:
        """How a person sees it: '상의 (tops)'."""
        return f"{self.name_ko} ({self.name})"


def _c(code: str, name: str, name_ko: str, *aliases: str) -> Category:
    return Category(code, name, name_ko, aliases)


CATEGORIES: tuple[Category, ...] = (
    # Top level.
    _c("001", "tops", "상의", "top"),
    _c("002", "outer", "아우터", "outerwear", "outers", "outer wear"),
    _c("003", "pants", "바지", "trousers", "bottoms", "하의", "팬츠"),
    _c("004", "bags", "가방", "bag"),
    _c("017", "sports/leisure", "스포츠/레저", "sports", "leisure", "스포츠", "레저"),
    _c("026", "underwear/homewear", "속옷/홈웨어", "underwear", "innerwear", "속옷"),
    _c("100", "dresses & skirts", "원피스/스커트", "dresses", "dress", "skirts", "skirt", "원피스", "스커트"),
    _c("101", "fashion accessories", "패션소품", "accessories", "accessory", "acc", "소품", "잡화"),
    _c("102", "digital/life", "디지털/라이프", "digital", "life", "lifestyle"),
    _c("103", "shoes", "신발", "shoe", "footwear"),
    _c("104", "beauty", "뷰티", "cosmetics", "화장품"),
    _c("105", "boutique", "부티크", "luxury", "luxury boutique", "럭셔리"),
    _c("106", "kids", "키즈", "children", "아동"),
    _c("107", "outlet", "아웃렛", "아울렛"),
    _c("108", "eco", "어스", "earth"),
    _c("109", "used", "유즈드", "second hand", "중고"),
    _c("111", "k-connect", "K-커넥트", "kconnect"),
    # 001 상의
    _c(
        "001001",
        "short-sleeve t-shirts",
        "반소매 티셔츠",
        "t-shirt",
        "t-shirts",
        "tee",
        "tees",
        "반팔",
        "반팔티",
    ),
    _c(
        "001002",
        "shirts & blouses",
        "셔츠/블라우스",
        "shirt",
        "shirts",
        "blouse",
        "blouses",
        "셔츠",
        "블라우스",
    ),
    _c("001003", "polo shirts", "피케/카라 티셔츠", "polo", "polos", "collar t-shirt", "피케", "카라티"),
    _c("001004", "hoodie", "후드 티셔츠", "hoodies", "hooded sweatshirt", "후드", "후드티"),
    _c("001005", "sweatshirts", "맨투맨/스웨트", "sweatshirt", "crewneck", "맨투맨", "스웨트셔츠"),
    _c("001006", "knitwear", "니트/스웨터", "knit", "sweater", "sweaters", "니트", "스웨터"),
    _c("001008", "other tops", "기타 상의"),
    _c("001010", "long-sleeve t-shirts", "긴소매 티셔츠", "long sleeve", "long-sleeve", "긴팔", "긴팔티"),
    _c("001011", "sleeveless tops", "민소매 티셔츠", "sleeveless", "tank top", "tank tops", "민소매", "나시"),
    # 002 아우터
    _c("002001", "blousons & MA-1", "블루종/MA-1", "blouson", "ma-1", "bomber", "bomber jacket", "블루종"),
    _c(
        "002002",
        "leather & rider jackets",
        "레더/라이더스 재킷",
        "leather jacket",
        "rider jacket",
        "라이더스",
    ),
    _c("002003", "suits & blazers", "슈트/블레이저 재킷", "blazer", "blazers", "suit jacket", "블레이저"),
    _c("002004", "stadium jackets", "스타디움 재킷", "stadium jacket", "varsity jacket", "스타디움"),
    _c("002006", "nylon & coach jackets", "나일론/코치 재킷", "coach jacket", "nylon jacket", "코치 재킷"),
    _c("002007", "single winter coats", "겨울 싱글 코트", "single coat", "winter coat"),
    _c("002008", "transitional coats", "환절기 코트", "trench coat", "spring coat", "트렌치 코트"),
    _c("002009", "other winter coats", "겨울 기타 코트"),
    _c("002012", "short padded jackets", "숏패딩/헤비 아우터", "short padding", "puffer", "숏패딩"),
    _c("002013", "long padded jackets", "롱패딩/헤비 아우터", "long padding", "long puffer", "롱패딩"),
    _c("002014", "safari & hunting jackets", "사파리/헌팅 재킷", "safari jacket", "hunting jacket"),
    _c("002015", "other outerwear", "기타 아우터"),
    _c("002017", "trucker jackets", "트러커 재킷", "trucker jacket", "denim jacket", "트러커"),
    _c("002018", "training jackets", "트레이닝 재킷", "track jacket", "track top", "트랙탑"),
    _c("002019", "anoraks", "아노락 재킷", "anorak", "아노락"),
    _c("002020", "cardigans", "카디건", "cardigan", "가디건"),
    _c("002021", "vests", "베스트", "vest", "gilet"),
    _c("002022", "hooded zip-ups", "후드 집업", "zip-up hoodie", "zip hoodie", "hood zip-up", "후드집업"),
    _c("002023", "fleece", "플리스/뽀글이", "fleece jacket", "플리스", "뽀글이"),
    _c("002024", "double winter coats", "겨울 더블 코트", "double coat"),
    _c("002025", "shearling & fur", "무스탕/퍼", "shearling", "fur", "mustang", "무스탕"),
    _c("002027", "light padding & padded vests", "경량 패딩/패딩 베스트", "light padding", "경량패딩"),
    # 003 바지
    _c("003002", "denim pants", "데님 팬츠", "jeans", "denim", "청바지", "데님"),
    _c(
        "003004",
        "training & jogger pants",
        "트레이닝/조거 팬츠",
        "joggers",
        "sweatpants",
        "track pants",
        "조거",
    ),
    _c("003005", "leggings", "레깅스"),
    _c("003006", "other bottoms", "기타 하의"),
    _c("003007", "cotton pants", "코튼 팬츠", "chinos", "면바지"),
    _c("003008", "suit pants & slacks", "슈트 팬츠/슬랙스", "slacks", "suit pants", "슬랙스"),
    _c("003009", "shorts", "숏 팬츠", "short pants", "반바지"),
    _c("003010", "jumpsuits & overalls", "점프 슈트/오버올", "jumpsuit", "overalls", "점프슈트", "오버올"),
    # 100 원피스/스커트
    _c("100001", "mini dresses", "미니원피스", "mini dress"),
    _c("100002", "midi dresses", "미디원피스", "midi dress"),
    _c("100003", "maxi dresses", "맥시원피스", "maxi dress", "long dress"),
    _c("100004", "mini skirts", "미니스커트", "mini skirt"),
    _c("100005", "midi skirts", "미디스커트", "midi skirt"),
    _c("100006", "long skirts", "롱스커트", "long skirt", "maxi skirt"),
    # 026 속옷/홈웨어
    _c("026001", "women's underwear tops", "여성 속옷 상의", "bra", "bras", "브라"),
    _c("026002", "women's underwear bottoms", "여성 속옷 하의", "panties"),
    _c("026003", "women's underwear sets", "여성 속옷 세트", "lingerie set"),
    _c("026004", "men's underwear", "남성 속옷", "boxers", "briefs"),
    _c("026005", "homewear", "홈웨어", "loungewear", "pajamas", "잠옷"),
    # 017 스포츠/레저: its own clothing sub-codes. Musinsa names them 상의, 아우터, ...; the
    # table prefixes 스포츠 so that 상의 keeps meaning 001.
    _c("017016", "sports tops", "스포츠 상의"),
    _c("017018", "sports outerwear", "스포츠 아우터"),
    _c("017020", "sports bottoms", "스포츠 하의"),
    _c("017023", "sports footwear", "스포츠 신발"),
    _c("017025", "sports bags", "스포츠 가방"),
    # 004 가방
    _c("004001", "backpacks", "백팩", "backpack", "rucksack"),
    _c(
        "004002",
        "messenger & cross bags",
        "메신저/크로스 백",
        "crossbody",
        "cross bag",
        "messenger bag",
        "크로스백",
    ),
    _c("004003", "shoulder bags", "숄더백", "shoulder bag"),
    _c("004005", "clutches", "클러치 백", "clutch", "clutch bag", "클러치"),
    _c("004006", "boston & duffel bags", "보스턴/더블백", "duffel", "duffel bag", "boston bag"),
    _c("004007", "waist bags", "웨이스트 백", "waist bag", "belt bag", "fanny pack", "힙색"),
    _c("004008", "briefcases", "브리프케이스", "briefcase"),
    _c("004009", "suitcases", "캐리어", "suitcase", "luggage"),
    _c("004012", "bag accessories", "가방 소품"),
    _c("004013", "pouches", "파우치 백", "pouch", "파우치"),
    _c("004014", "eco bags", "에코백", "eco bag", "canvas bag"),
    _c("004015", "tote bags", "토트백", "tote", "tote bag"),
    _c("004016", "wallets & money clips", "지갑/머니클립", "wallet", "wallets", "money clip", "지갑"),
    # 103 신발
    _c("103001", "dress shoes", "구두", "loafers", "formal shoes"),
    _c("103002", "boots & walkers", "부츠/워커", "boots", "walkers", "부츠", "워커"),
    _c("103003", "sandals & slippers", "샌들/슬리퍼", "sandals", "slippers", "샌들", "슬리퍼"),
    _c("103004", "sneakers", "스니커즈", "sneaker", "운동화"),
    _c("103005", "sports shoes", "스포츠화", "running shoes", "trainers", "러닝화"),
    _c("103006", "shoe care", "신발용품", "shoe accessories"),
    _c("103007", "padded & fur shoes", "패딩/퍼 신발", "padded shoes", "fur shoes"),
)

_BY_CODE: dict[str, Category] = {category.code: category for category in CATEGORIES}


def normalize_name(text: str) -> str:
    """The lookup key of a name: case, width, spaces and separators do not matter.

    'Dresses & Skirts', 'dresses and skirts', '원피스·스커트' and '원피스/스커트' all meet.
    """
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = re.sub(r"\band\b", "", text)
    return re.sub(r"[\s/·&,_.+'’\-]+", "", text)


def _build_index(categories: Iterable[Category]) -> dict[str, Category]:
    """Every code, name and alias to its category; a key used twice is a bug in the table."""
    index: dict[str, Category] = {}
    for category in categories:
        keys = {category.code, normalize_name(category.name), normalize_name(category.name_ko)}
        keys.update(normalize_name(alias) for alias in category.aliases)
        for key in keys:
            owner = index.setdefault(key, category)
            if owner is not category:
                raise ValueError(f"category key {key!r} is used by {owner.code} and {category.code}")
    return index


_INDEX = _build_index(CATEGORIES)


def get_category(code: str) -> Category | None:
    """The category with exactly this code, if the table knows it."""
    return _BY_CODE.get(code)


def resolve_category(text: str) -> Category | None:
    """A code, English or Korean name or alias (any case, any spacing) to its category."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _INDEX.get(normalize_name(text))


def suggest(text: str, n: int = 3) -> list[Category]:
    """The categories whose names come closest to an unknown ``text``, best first."""
    key = normalize_name(text) if isinstance(text, str) else ""
    if not key or n <= 0:
        return []
    suggestions: list[Category] = []
    for match in difflib.get_close_matches(key, list(_INDEX), n=n * 4, cutoff=0.6):
        category = _INDEX[match]
        if category not in suggestions:
            suggestions.append(category)
    return suggestions[:n]


def top_level_categories() -> list[Category]:
    """The 3-digit categories in table order (for a keyboard of choices)."""
    return [category for category in CATEGORIES if category.is_top_level]


def subcategories(code: str) -> list[Category]:
    """The table's direct children of ``code``."""
    return [category for category in CATEGORIES if category.parent_code == code]


def crawl_plan(codes: Iterable[str], *, expand_subcategories: bool) -> list[str]:
    """The listing codes to walk for ``codes``, each once, in order.

    Musinsa's listing of a top-level code does not say which sub-category an item belongs to,
    so an index built from ``001`` alone could not answer ``/category hoodie``. Expanded, each
    code is preceded by its sub-categories from the table (``001004`` …), and the code itself
    is still walked so that items of sub-categories the table does not know are not lost; the
    crawl keeps each product under its most specific code.
    """
    plan: list[str] = []
    for code in codes:
        if expand_subcategories:
            plan += [child.code for child in subcategories(code)]
        plan.append(code)
    return list(dict.fromkeys(plan))


def from_korean_path(names: Iterable[str]) -> Category | None:
    """The deepest category reached by walking Korean names from the top: ['아우터', '후드 집업'] -> 002022.

    Product pages name their category only in words (og:description); names are matched
    among the children of the previous level, so equal names under other parents never mix.
    """
    found: Category | None = None
    candidates = top_level_categories()
    for name in names:
        key = normalize_name(name)
        if not key:
            break
        match = next((c for c in candidates if normalize_name(c.name_ko) == key), None)
        if match is None and found is not None and found.code == "017":
            # Musinsa calls 017's children plain 상의/아우터/...; the table says 스포츠 상의.
            match = next((c for c in candidates if normalize_name(c.name_ko) == "스포츠" + key), None)
        if match is None:
            break
        found = match
        candidates = subcategories(match.code)
    return found


class UnknownCategoryError(ValueError):
    """A category argument that is neither a known code nor a known name; the message says what to use."""


def category_code(text: str) -> str:
    """Turn a user's category argument into a code to crawl, or raise UnknownCategoryError.

    Accepts any name or alias of the table, a code of the table, or a well-formed deeper code
    under a known top-level category (the table does not list every 9-digit leaf).
    """
    cleaned = text.strip() if isinstance(text, str) else ""
    if is_category_code(cleaned):
        if is_known_code(cleaned):
            return cleaned
        raise UnknownCategoryError(f"unknown category code {cleaned!r}{_did_you_mean(cleaned)}")
    category = resolve_category(cleaned)
    if category is None:
        raise UnknownCategoryError(f"unknown category {text!r}{_did_you_mean(cleaned)}")
    return category.code


def is_known_code(value: object) -> bool:
    """A well-formed code under a known top-level category (the table does not list every leaf)."""
    return is_category_code(value) and str(value)[:3] in _BY_CODE


def walk_plan(
    requested: Iterable[str] | None, *, configured: Iterable[str], expand_subcategories: bool
) -> list[str]:
    """The listing codes a crawl or sync walks, each once, in order; raises UnknownCategoryError.

    Categories asked for explicitly (codes or names) are walked as given. Otherwise the
    configured ones are, expanded to their sub-categories when ``expand_subcategories``
    (``crawl_plan``): ``snapfit crawl``, ``snapfit sync`` and the nightly run all walk this.
    """
    if requested is not None:
        return list(dict.fromkeys(category_code(value) for value in requested))
    codes = [category_code(value) for value in configured]
    return crawl_plan(codes, expand_subcategories=expand_subcategories)


def _did_you_mean(text: str) -> str:
    close = suggest(text)
    if close:
        return " (did you mean " + ", ".join(f"{c.code} {c.name}" for c in close) + "?)"
    tops = ", ".join(f"{c.code} {c.name}" for c in top_level_categories()[:6])
    return f" (known categories include {tops}, ...)"
