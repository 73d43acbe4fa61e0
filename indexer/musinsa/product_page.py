"""Product pages (``{web_url}/products/{goodsNo}``) to a Product.

Sources in order: ``__NEXT_DATA__`` → ``props.pageProps.meta.data``, then
``window.__MSS__.product.state``, then the ``og:*``/``product:*`` metas. Each field is taken
from the first source that has it, so a page missing one source (or one field) still parses.
The visible DOM is never read: its class names change with every deploy.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from bs4 import BeautifulSoup
from pydantic import ValidationError

from indexer.categories import from_korean_path, is_category_code
from indexer.musinsa.errors import UnexpectedResponseError
from indexer.musinsa.listing import as_int
from indexer.musinsa.refs import ProductRefSyntaxError, parse_product_ref
from indexer.musinsa.urls import absolute_url, product_url
from indexer.product import Product

log = logging.getLogger(__name__)

TITLE_SUFFIX = re.compile(r"\s*-\s*(사이즈\s*&\s*)?후기\s*\|\s*무신사$")
DESCRIPTION_BRAND = re.compile(r"브랜드\s*:\s*(.+?)\s+제품번호")
DESCRIPTION_CATEGORY = re.compile(r"제품분류\s*:\s*(.+?)\s+브랜드")
DESCRIPTION_NAME_PRICE = re.compile(r"제품\s*:\s*(.+?)\s+-\s+([\d,]+)\s*$")
MSS_STATE = re.compile(r"window\.__MSS__\.product\.state\s*=\s*")
SOLD_OUT_TYPES = frozenset({"SOLDOUT", "SOLD_OUT"})
# Team-Alilm: sexCode 2 = men, 4 = women, 6 = unisex; displayed as the listing API does.
GENDER_BY_SEX_CODE = {2: "남성", 4: "여성", 6: "공용"}

Fields = dict[str, Any]


def _goods_from_next_data(soup: BeautifulSoup) -> dict[str, Any] | None:
    script = soup.find("script", id="__NEXT_DATA__")
    if script is None or not script.string:
        return None
    try:
        data = json.loads(script.string)["props"]["pageProps"]["meta"]["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        log.warning("__NEXT_DATA__ present but unusable (%s); falling back", exc)
        return None
    return data if isinstance(data, dict) else None


def _goods_from_mss(html: str) -> dict[str, Any] | None:
    match = MSS_STATE.search(html)
    if match is None:
        return None
    try:
        state, _ = json.JSONDecoder().raw_decode(html, match.end())
    except json.JSONDecodeError as exc:
        log.warning("window.__MSS__.product.state present but not JSON (%s); falling back", exc)
        return None
    return state if isinstance(state, dict) else None


def _category_code(goods: dict[str, Any]) -> str | None:
    category = goods.get("category")
    if not isinstance(category, dict):
        return None
    deepest = None
    for depth in range(1, 5):
        code = category.get(f"categoryDepth{depth}Code")
        if is_category_code(code):
            deepest = code
    return deepest


def _gender(goods: dict[str, Any]) -> str | None:
    sex_code = as_int(goods.get("sexCode"))
    if sex_code in GENDER_BY_SEX_CODE:
        return GENDER_BY_SEX_CODE[sex_code]
    sex = goods.get("sex")
    if isinstance(sex, list):
        codes = {value for value in sex if isinstance(value, str)}
        if {"M", "F"} <= codes:
            return "공용"
        if codes == {"M"}:
            return "남성"
        if codes == {"F"}:
            return "여성"
    return None


def _sold_out(goods: dict[str, Any]) -> bool | None:
    sale_type = goods.get("goodsSaleType")
    if isinstance(sale_type, str):
        return sale_type.upper() in SOLD_OUT_TYPES
    for key in ("isSoldOut", "soldOut"):
        if isinstance(goods.get(key), bool):
            return goods[key]
    return None


def _fields_from_goods(goods: dict[str, Any], image_host: str) -> Fields:
    """The Product fields one goods object (from either script) provides."""
    price = goods.get("goodsPrice") if isinstance(goods.get("goodsPrice"), dict) else {}
    review = goods.get("goodsReview") if isinstance(goods.get("goodsReview"), dict) else {}
    brand_info = goods.get("brandInfo") if isinstance(goods.get("brandInfo"), dict) else {}
    images = goods.get("goodsImages") if isinstance(goods.get("goodsImages"), list) else []
    # The gallery (detail shots) is the last resort, after every source's main image.
    gallery = next((i for i in images if isinstance(i, dict) and i.get("repYn") is True), None)
    gallery = gallery or next((i for i in images if isinstance(i, dict)), None)
    rating = review.get("satisfactionScore")
    name = goods.get("goodsNm")
    brand = goods.get("brand")
    return {
        "id": as_int(goods.get("goodsNo")),
        "name": name.strip() if isinstance(name, str) and name.strip() else None,
        "brand": brand.strip() if isinstance(brand, str) and brand.strip() else None,
        "brand_name": brand_info.get("brandName") if isinstance(brand_info.get("brandName"), str) else None,
        "category": _category_code(goods),
        "price": as_int(price.get("salePrice")),
        "normal_price": as_int(price.get("normalPrice")),
        "sale_rate": as_int(price.get("discountRate")),
        "final_price": as_int(price.get("finalPrice")),
        "image_url": absolute_url(goods.get("thumbnailImageUrl"), image_host),
        "gallery_image_url": absolute_url(gallery.get("imageUrl"), image_host) if gallery else None,
        "gender": _gender(goods),
        "sold_out": _sold_out(goods),
        "review_count": as_int(review.get("totalCount")),
        "rating": float(rating) if isinstance(rating, int | float) and 0 <= rating <= 5 else None,
    }


def _brand_slug(english: str) -> str | None:
    """Metas carry no slug; Musinsa's slugs are the English name lower-cased without spaces."""
    slug = re.sub(r"[^a-z0-9]", "", english.lower())
    return slug or None


def _fields_from_metas(soup: BeautifulSoup, image_host: str, web_url: str) -> Fields:
    metas: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = tag.get("property") or tag.get("name")
        if isinstance(key, str) and key not in metas:
            metas[key] = str(tag.get("content") or "").strip()
    title = metas.get("og:title") or (soup.title.get_text().strip() if soup.title else "")
    title = TITLE_SUFFIX.sub("", title).strip()
    description = metas.get("og:description", "")
    fields: Fields = {}

    brand_full = DESCRIPTION_BRAND.search(description)
    brand_text = brand_full.group(1).strip() if brand_full else ""
    brand_match = re.match(r"^(.+?)\s*\((.+)\)$", brand_text)
    brand_name = metas.get("product:brand") or (brand_match.group(1) if brand_match else brand_text) or None
    fields["brand_name"] = brand_name
    fields["brand"] = _brand_slug(brand_match.group(2)) if brand_match else None

    name_price = DESCRIPTION_NAME_PRICE.search(description)
    # The title is '{브랜드}({BRAND}) {상품명}': drop the brand to keep the product name.
    name = title
    if brand_text and name.startswith(brand_text):
        name = name[len(brand_text) :]
    elif brand_name and name.startswith(f"{brand_name}("):
        name = re.sub(r"^[^)]*\)\s*", "", name)
    fields["name"] = name.strip() or (name_price.group(1).strip() if name_price else None)

    category = DESCRIPTION_CATEGORY.search(description)
    if category:
        found = from_korean_path(part for part in category.group(1).split(">"))
        fields["category"] = found.code if found else None

    fields["price"] = as_int(metas.get("product:price:amount")) or (
        as_int(name_price.group(2)) if name_price else None
    )
    fields["normal_price"] = as_int(metas.get("product:price:normal_price"))
    fields["sale_rate"] = as_int(metas.get("product:price:sale_rate"))
    fields["image_url"] = absolute_url(metas.get("og:image", ""), image_host)
    availability = metas.get("product:availability", "").lower()
    if availability:
        fields["sold_out"] = any(
            word in availability for word in ("품절", "soldout", "sold out", "out of stock")
        )
    for candidate in (metas.get("og:url"), _canonical(soup)):
        if candidate:
            try:
                fields["id"] = parse_product_ref(candidate, extra_hosts={_host(web_url)})
                break
            except ProductRefSyntaxError:
                continue
    return fields


def _canonical(soup: BeautifulSoup) -> str | None:
    link = soup.find("link", rel="canonical")
    href = link.get("href") if link else None
    return href if isinstance(href, str) else None


def _host(url: str) -> str:
    return re.sub(r"^https?://", "", url).split("/", 1)[0].split(":", 1)[0].lower()


def parse_product_page(
    html: str,
    *,
    url: str,
    web_url: str = "https://www.musinsa.com",
    image_host: str = "https://image.msscdn.net",
    goods_no: int | None = None,
    crawled_at: datetime | None = None,
) -> Product:
    """The Product on a product page, or UnexpectedResponseError naming what no source provided."""
    soup = BeautifulSoup(html, "html.parser")
    sources: list[Fields] = []
    for goods in (_goods_from_next_data(soup), _goods_from_mss(html)):
        if goods is not None:
            sources.append(_fields_from_goods(goods, image_host))
    sources.append(_fields_from_metas(soup, image_host, web_url))

    def first(name: str) -> Any:
        return next((source[name] for source in sources if source.get(name) is not None), None)

    product_id = first("id") or goods_no
    missing = [
        label
        for label, value in (("goodsNo", product_id), ("name", first("name")), ("price", first("price")))
        if value is None
    ]
    image_url = first("image_url") or first("gallery_image_url")
    if image_url is None:
        missing.append("image")
    if missing:
        raise UnexpectedResponseError(
            url,
            f"product page has no {', '.join(missing)} "
            "(looked in __NEXT_DATA__, window.__MSS__ and the og/product metas)",
        )
    price = first("price")
    sale_rate = first("sale_rate")
    try:
        return Product(
            id=product_id,
            name=first("name"),
            brand=first("brand") or "",
            brand_name=first("brand_name") or first("brand") or "",
            category=first("category") or "",
            price=price,
            normal_price=first("normal_price") or price,
            sale_rate=sale_rate if sale_rate is not None and 0 <= sale_rate <= 100 else 0,
            final_price=first("final_price"),
            image_url=image_url,
            url=product_url(web_url, product_id),
            gender=first("gender"),
            sold_out=bool(first("sold_out")),
            review_count=first("review_count") or 0,
            rating=first("rating"),
            crawled_at=crawled_at or datetime.now(UTC),
        )
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise UnexpectedResponseError(url, f"product page field {field}: {problem['msg']}") from None
