"""The fake Musinsa's data: a generated catalog, its images, and how Musinsa renders them.

Everything here is deterministic from a seed. Rendering follows the real site: listing items
carry every field of the real listing API (the ignorable ones too), product pages are built
exactly like a real one (``__MSS__`` state, ``__NEXT_DATA__``, og/product metas),
and every product has its own decodable image (coloured shapes, distinct per product) so
tests can embed an image and find the product it came from.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

# The fake's own copy of the category names it uses, independent of the
# crawler's table so a wrong name there is caught, not mirrored.
CATEGORY_NAMES = {
    "001": "상의",
    "001001": "반소매 티셔츠",
    "001004": "후드 티셔츠",
    "001005": "맨투맨/스웨트",
    "002": "아우터",
    "002022": "후드 집업",
    "002020": "카디건",
    "003": "바지",
    "003002": "데님 팬츠",
    "004": "가방",
    "004001": "백팩",
    "100": "원피스/스커트",
    "100001": "미니원피스",
    "103": "신발",
    "103004": "스니커즈",
}
NOUNS = {code: name.split("/")[0] for code, name in CATEGORY_NAMES.items()}
DEFAULT_CATEGORIES = ("001004", "001001", "002022", "003002", "004001", "100001", "103004")
BRANDS = (
    ("dimitriblack", "디미트리블랙", "DIMITRI BLACK"),
    ("toffee", "토피", "TOFFEE"),
    ("adidas", "아디다스", "ADIDAS"),
    ("musinsastandard", "무신사 스탠다드", "MUSINSA STANDARD"),
    ("covernat", "커버낫", "COVERNAT"),
    ("thisisneverthat", "디스이즈네버댓", "THISISNEVERTHAT"),
    ("newbalance", "뉴발란스", "NEW BALANCE"),
)
ADJECTIVES = ("오버핏", "세미오버", "베이직", "에센셜", "빈티지", "크롭", "와이드", "릴렉스드", "포시즌")
COLOURS = ("블랙", "차콜", "멜란지 그레이", "네이비", "아이보리", "피그먼트 차콜", "버건디")
TAGS = ("", "", "", "[크롭선택] ", "[2PACK] ", "[단독] ")
GENDERS = ("공용", "공용", "남성", "여성")
SEX = {"공용": (["M", "F"], 6), "남성": (["M"], 2), "여성": (["F"], 4)}
ALL_PAGE_SOURCES = frozenset({"next_data", "mss", "og", "product_metas"})
ThumbnailForm = str  # "absolute" | "protocol_relative" | "relative"


@dataclass(frozen=True)
class FakeProduct:
    """One product as the fake knows it; the catalog replaces it on every change."""

    goods_no: int
    name: str
    brand: str
    brand_name: str
    brand_en: str
    category: str  # a 6-digit code
    normal_price: int
    price: int
    sale_rate: int
    final_price: int | None
    sold_out: bool
    gender_text: str
    review_count: int
    review_score: int  # 0-100, as the listing API reports it
    style_no: str
    image_date: str = "20240109"
    image_ts: int = 17164556227922
    image_ext: str = "jpg"
    image_seed: int = 0
    thumbnail_form: ThumbnailForm = "absolute"
    is_ad: bool = False
    omit_fields: frozenset[str] = field(default_factory=frozenset)  # listing keys left out
    page_sources: frozenset[str] = ALL_PAGE_SOURCES
    review_title: bool = (
        False  # title ends "- 후기 | 무신사" (beauty items) instead of "- 사이즈 & 후기 | 무신사"
    )

    @property
    def image_path(self) -> str:
        no = self.goods_no
        return f"/images/goods_img/{self.image_date}/{no}/{no}_{self.image_ts}_500.{self.image_ext}"

    @property
    def detail_image_path(self) -> str:
        no = self.goods_no
        return f"/images/prd_img/{self.image_date}/{no}/detail_{no}_{self.image_ts + 7}_500.jpg"

    @property
    def category_names(self) -> list[str]:
        return [CATEGORY_NAMES[self.category[:3]], CATEGORY_NAMES[self.category]]


def _make_product(rng: random.Random, goods_no: int, category: str) -> FakeProduct:
    slug, brand_name, brand_en = rng.choice(BRANDS)
    normal = rng.randrange(190, 2000) * 100
    rate = rng.choice((0, 0, 10, 20, 34, 40, 50))
    price = normal * (100 - rate) // 100 // 10 * 10
    final_roll = rng.random()
    final = None if final_roll < 0.15 else (price if final_roll < 0.8 else price - rng.randrange(1, 30) * 100)
    name = f"{rng.choice(TAGS)}{rng.choice(ADJECTIVES)} {NOUNS.get(category, '아이템')}_{rng.choice(COLOURS)}"
    form_roll = rng.random()
    return FakeProduct(
        goods_no=goods_no,
        name=name,
        brand=slug,
        brand_name=brand_name,
        brand_en=brand_en,
        category=category,
        normal_price=normal,
        price=price,
        sale_rate=rate,
        final_price=final,
        sold_out=rng.random() < 0.1,
        gender_text=rng.choice(GENDERS),
        review_count=rng.randrange(0, 20000),
        review_score=rng.randrange(70, 101),
        style_no=f"{slug[:3].upper()}-{goods_no % 10000:04d}",
        image_date=f"2024{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}",
        image_ts=rng.randrange(10**13, 10**14),
        image_ext=rng.choice(("jpg", "jpg", "png")),
        image_seed=rng.randrange(2**31),
        thumbnail_form="protocol_relative"
        if form_roll < 0.15
        else "relative"
        if form_roll < 0.3
        else "absolute",
        is_ad=rng.random() < 0.06,
    )


class FakeCatalog:
    """The products the fake serves. Mutate it between crawls to simulate Musinsa changing."""

    def __init__(self, products: Iterable[FakeProduct] = (), *, seed: int = 0) -> None:
        self._products: dict[int, FakeProduct] = {p.goods_no: p for p in products}
        self._rng = random.Random(seed ^ 0x5EED)

    @classmethod
    def generate(
        cls, *, seed: int = 0, count: int = 60, categories: Iterable[str] = DEFAULT_CATEGORIES
    ) -> FakeCatalog:
        """``count`` products spread round-robin over ``categories`` (6-digit codes), from ``seed``."""
        rng = random.Random(seed)
        codes = list(categories)
        unknown = [code for code in codes if code not in CATEGORY_NAMES]
        if unknown:
            raise ValueError(f"the fake has no names for categories {unknown}; add them to CATEGORY_NAMES")
        numbers = sorted(rng.sample(range(1_000_000, 9_999_999), count))
        products = [_make_product(rng, number, codes[i % len(codes)]) for i, number in enumerate(numbers)]
        return cls(products, seed=seed)

    def __len__(self) -> int:
        return len(self._products)

    def __iter__(self) -> Iterator[FakeProduct]:
        return iter(list(self._products.values()))

    def __contains__(self, goods_no: object) -> bool:
        return goods_no in self._products

    def get(self, goods_no: int) -> FakeProduct:
        return self._products[goods_no]

    def ids(self) -> set[int]:
        return set(self._products)

    def update(self, goods_no: int, **changes: object) -> FakeProduct:
        """Replace fields of one product (any FakeProduct field)."""
        product = dataclasses.replace(self._products[goods_no], **changes)  # type: ignore[arg-type]
        self._products[goods_no] = product
        return product

    def set_price(
        self, goods_no: int, price: int, *, normal_price: int | None = None, final_price: int | None = None
    ) -> FakeProduct:
        """A new sale price (and optionally list price); final price follows the sale price by default."""
        current = self._products[goods_no]
        normal = normal_price if normal_price is not None else max(current.normal_price, price)
        rate = round(100 * (normal - price) / normal) if normal else 0
        return self.update(
            goods_no,
            price=price,
            normal_price=normal,
            sale_rate=rate,
            final_price=final_price if final_price is not None else price,
        )

    def change_image(self, goods_no: int) -> FakeProduct:
        """A new photo: new pixels and a new image URL (Musinsa's URLs carry an upload timestamp)."""
        current = self._products[goods_no]
        return self.update(
            goods_no,
            image_ts=current.image_ts + 1 + self._rng.randrange(1000),
            image_seed=self._rng.randrange(2**31),
        )

    def remove(self, goods_no: int) -> FakeProduct:
        return self._products.pop(goods_no)

    def add(self, product: FakeProduct | None = None, *, category: str = "001004") -> FakeProduct:
        """Add ``product``, or a newly generated one in ``category`` with a fresh goodsNo."""
        if product is None:
            goods_no = max(self._products, default=1_000_000) + 1 + self._rng.randrange(100)
            product = _make_product(self._rng, goods_no, category)
        self._products[product.goods_no] = product
        return product

    def listing(self, category: str, *, sort_code: str = "POPULAR", gender: str = "A") -> list[FakeProduct]:
        """The products a category listing shows, in listing order (ads not included)."""
        chosen = [p for p in self._products.values() if p.category.startswith(category)]
        if gender in ("M", "F"):
            wanted = {"M": "남성", "F": "여성"}[gender]
            chosen = [p for p in chosen if p.gender_text in (wanted, "공용")]
        keys = {
            "POPULAR": lambda p: (-p.review_count, p.goods_no),
            "NEW": lambda p: -p.goods_no,
            "SALE": lambda p: (-p.sale_rate, p.goods_no),
            "PRICE_LOW": lambda p: (p.price, p.goods_no),
            "PRICE_HIGH": lambda p: (-p.price, p.goods_no),
        }
        return sorted(chosen, key=keys[sort_code])


SORT_CODES = frozenset({"POPULAR", "NEW", "SALE", "PRICE_LOW", "PRICE_HIGH"})


# ------------------------------------------------------------------------------ rendering


def thumbnail(product: FakeProduct, base_url: str) -> str:
    path = product.image_path
    if product.thumbnail_form == "relative":
        return path
    if product.thumbnail_form == "protocol_relative":
        return base_url.split(":", 1)[1] + path  # '//127.0.0.1:PORT/images/…'
    return base_url + path


def listing_item(product: FakeProduct, base_url: str, *, as_ad: bool = False) -> dict[str, object]:
    """One item of ``data.list`` with every field the real API sends."""
    item: dict[str, object] = {
        "goodsNo": product.goods_no,
        "goodsName": product.name,
        "goodsLinkUrl": f"{base_url}/products/{product.goods_no}",
        "thumbnail": thumbnail(product, base_url),
        "displayGenderText": product.gender_text,
        "isSoldOut": product.sold_out,
        "normalPrice": product.normal_price,
        "price": product.price,
        "saleRate": product.sale_rate,
        "finalPrice": product.final_price,
        "couponPrice": None,
        "couponSaleRate": None,
        "finalDiscount": None,
        "brand": product.brand,
        "brandName": product.brand_name,
        "brandLinkUrl": f"{base_url}/brand/{product.brand}",
        "reviewCount": product.review_count,
        "reviewScore": product.review_score,
        "isOptionVisible": True,
        "isAd": as_ad,
        "isPlusDelivery": product.goods_no % 3 == 0,
        "plusDeliveryGuideText": "",
        "infoLabelList": [{"code": "FREE_DELIVERY", "title": "무료배송", "color": "#000000"}]
        if product.goods_no % 2
        else [],
        "imageLabelList": [],
        "clickTrackers": [f"{base_url}/track/click?goodsNo={product.goods_no}"] if as_ad else [],
        "impressionTrackers": [],
        "snap": None,
        "score": 0,
    }
    for key in product.omit_fields:
        item.pop(key, None)
    return item


def goods_object(product: FakeProduct, *, rich: bool) -> dict[str, object]:
    """The goods object of ``__NEXT_DATA__`` (``rich``) or of the ``__MSS__`` state."""
    sex, sex_code = SEX[product.gender_text]
    category = {
        "categoryDepth1Code": product.category[:3],
        "categoryDepth1Name": product.category_names[0],
        "categoryDepth2Code": product.category,
        "categoryDepth2Name": product.category_names[1],
    }
    price: dict[str, object] = {
        "normalPrice": product.normal_price,
        "salePrice": product.price,
        "discountRate": product.sale_rate,
        "isSale": product.sale_rate > 0,
    }
    sale_type = "SOLDOUT" if product.sold_out else "SALE"
    brand_info = {"brandName": product.brand_name, "brandEnglishName": product.brand_en}
    if not rich:
        return {
            "goodsNo": product.goods_no,
            "goodsNm": product.name,
            "thumbnailImageUrl": product.image_path,
            "brand": product.brand,
            "brandInfo": brand_info,
            "category": category,
            "goodsPrice": price,
            "goodsSaleType": sale_type,
            "goodsImages": [
                {
                    "kind": "DETAIL",
                    "repYn": False,
                    "bigYn": True,
                    "width": 500,
                    "height": 600,
                    "seq": 1,
                    "imageUrl": product.detail_image_path,
                }
            ],
            "sexCode": sex_code,
        }
    return {
        "goodsNo": product.goods_no,
        "goodsNm": product.name,
        "goodsNmEng": "",
        "styleNo": product.style_no,
        "sex": sex,
        "season": "0",
        "brand": product.brand,
        "brandInfo": brand_info,
        "category": category,
        "baseCategoryFullPath": "Clothing > " + " > ".join(product.category_names),
        "goodsPrice": {**price, "couponPrice": None, "finalPrice": product.final_price},
        "goodsSaleType": sale_type,
        "goodsReview": {
            "totalCount": product.review_count,
            "satisfactionScore": round(product.review_score / 20, 1),
            "hasSummary": True,
        },
        "goodsMaterial": {
            "materials": [
                {
                    "name": "핏",
                    "items": [{"name": "오버", "isSelected": True}, {"name": "레귤러", "isSelected": False}],
                }
            ]
        },
        "goodsImages": [{"imageUrl": product.detail_image_path}],
    }


def _script_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def product_page(product: FakeProduct, base_url: str) -> str:
    """The product page's HTML, shaped like a real product page."""
    sources = product.page_sources
    suffix = "후기 | 무신사" if product.review_title else "사이즈 & 후기 | 무신사"
    title = f"{product.brand_name}({product.brand_en}) {product.name} - {suffix}"
    parent, child = product.category_names
    description = (
        f"제품분류 :{parent} > {child} 브랜드 : {product.brand_name}({product.brand_en}) "
        f"제품번호 : {product.style_no} 제품 : {product.name} - {product.price:,}"
    )
    image = thumbnail(dataclasses.replace(product, thumbnail_form="absolute"), base_url)
    url = f"{base_url}/products/{product.goods_no}"

    def meta(prop: str, content: str) -> str:
        return f'<meta property="{prop}" content="{html.escape(content)}" data-next-head=""/>'

    head = [
        '<!DOCTYPE html><html lang="ko"><head>',
        '<meta charSet="utf-8" data-next-head=""/>',
        f'<title data-next-head="">{html.escape(title, quote=False)}</title>',
    ]
    if "og" in sources:
        head += [
            meta("og:type", "product"),
            meta("og:site_name", "무신사"),
            meta("og:title", title),
            meta("og:description", description),
            meta("og:image", image),
            meta("og:url", url),
        ]
    if "product_metas" in sources:
        head += [
            meta("product:brand", product.brand_name),
            meta("product:price:amount", str(product.price)),
            meta("product:price:normal_price", str(product.normal_price)),
            meta("product:price:sale_rate", str(product.sale_rate)),
            meta("product:availability", "품절" if product.sold_out else "주문가능"),
        ]
    head.append(f'<link rel="canonical" href="{url}" data-next-head=""/>')
    body = ['</head><body><div id="__next"><div class="sc-1x9qz text-title_18px_med">무신사</div></div>']
    if "mss" in sources:
        body.append(
            "<script>window.__MSS__ = window.__MSS__ || {}; "
            "window.__MSS__.product = window.__MSS__.product || {};\n"
            f"window.__MSS__.product.state = {_script_json(goods_object(product, rich=False))};\n</script>"
        )
    if "next_data" in sources:
        envelope = {
            "props": {"pageProps": {"meta": {"data": goods_object(product, rich=True)}}, "__N_SSP": True},
            "page": "/products/[goodsNo]",
            "query": {"goodsNo": str(product.goods_no)},
            "buildId": "1770876110586-moxsko",
            "assetPrefix": "https://static.msscdn.net/static/mss-frontend-web",
            "isFallback": False,
            "gssp": True,
            "scriptLoader": [],
        }
        body.append(f'<script id="__NEXT_DATA__" type="application/json">{_script_json(envelope)}</script>')
    body.append("</body></html>")
    return "\n".join(head + body)


# -------------------------------------------------------------------------------- images


def render_image(seed: int, size: tuple[int, int] = (96, 112), fmt: str = "JPEG") -> bytes:
    """A distinct picture per seed: a coloured background, coloured shapes and a fine grain."""
    rng = random.Random(seed)
    width, height = size

    def colour() -> tuple[int, int, int]:
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))

    image = Image.new("RGB", size, colour())
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randrange(3, 7)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = x0 + rng.randrange(8, width), y0 + rng.randrange(8, height)
        box = (x0 - width // 4, y0 - height // 4, x1 - width // 4, y1 - height // 4)
        shape = rng.choice(("ellipse", "rectangle", "triangle"))
        if shape == "ellipse":
            draw.ellipse(box, fill=colour())
        elif shape == "rectangle":
            draw.rectangle(box, fill=colour())
        else:
            draw.polygon(
                [(box[0], box[3]), (box[2], box[3]), ((box[0] + box[2]) // 2, box[1])], fill=colour()
            )
    # Seeded grain, like fabric in a photo: keeps files photo-sized and images distinct.
    grain = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGB")
    image = Image.blend(image, grain, 0.12)
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def render_placeholder(size: tuple[int, int] = (96, 112)) -> bytes:
    """What the CDN sends to requests without Musinsa's Referer: a grey card with a cross."""
    image = Image.new("RGB", size, (235, 235, 235))
    draw = ImageDraw.Draw(image)
    draw.line((0, 0, size[0], size[1]), fill=(180, 180, 180), width=3)
    draw.line((0, size[1], size[0], 0), fill=(180, 180, 180), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
