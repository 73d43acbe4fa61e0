"""Text search, run against both backends: sparse (IDF) terms from the real Korean analyser, RRF
fusion with a text-tower vector, products holding every query word first across pages, filters,
renames, and versions made before text search getting their text vectors in place."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.product import Product
from indexer.store import (
    NO_FILTERS,
    Catalog,
    DimensionMismatchError,
    ModelMismatchError,
    SearchFilters,
    SearchQuery,
    TextIndexMissingError,
    TextQuery,
)
from indexer.text import sparse_terms, tokens

from .conftest import DIM, MODEL_A, MODEL_B, MODEL_C, Data, Harness, build, make_product, random_vectors

NAMES = [
    "검정 와이드 슬랙스",  # every word of "검정 와이드 슬랙스"
    "와이드 데님 팬츠",
    "검정 후드 집업",
    "베이직 와이드 슬랙스 검정",  # every word, in another order
    "크롭 니트 가디건",
    "와이드 슬랙스 [기장선택]",
    "나이키 스포츠웨어 클럽 후드",
    "Black Wide Slacks",
    "검정 와이드 슬랙스 세미",  # every word; sold out below
    "오버핏 코튼 셔츠",
    "슬랙스 검정 와이드 롱",  # every word; women's below
    "데일리 검정 스커트",
]
FIRST_ID = 2000
SOLD_OUT_ID = FIRST_ID + 8
WOMENS_ID = FIRST_ID + 10


def text_products() -> list[Product]:
    products = []
    for i, name in enumerate(NAMES):
        pid = FIRST_ID + i
        products.append(
            make_product(
                pid,
                "003002" if i % 2 == 0 else "001004",
                name=name,
                brand="nike" if "나이키" in name else f"brand{i % 3}",
                brand_name="나이키" if "나이키" in name else f"브랜드{i % 3}",
                sold_out=pid == SOLD_OUT_ID,
                gender="여성" if pid == WOMENS_ID else ("남성" if i % 4 == 1 else "공용"),
            )
        )
    return products


@pytest.fixture
def words() -> Data:
    products = text_products()
    return Data(products, random_vectors(len(products), seed=21))


@pytest.fixture
async def indexed(catalog: Catalog, words: Data) -> Catalog:
    await build(catalog, words)
    return catalog


def text_query(text: str, **fields: object) -> TextQuery:
    return TextQuery(sparse_terms(tokens(text)), **fields)  # type: ignore[arg-type]


def holding_all(products: list[Product], text: str, hidden: set[int] = frozenset()) -> set[int]:  # type: ignore[assignment]
    wanted = set(tokens(text))
    return {
        p.id
        for p in products
        if wanted <= set(tokens(f"{p.name} {p.brand_name} {p.brand}")) and p.id not in hidden
    }


def ids(hits: list) -> list[int]:  # type: ignore[type-arg]
    return [hit.product.id for hit in hits]


async def test_products_with_every_word_come_first(indexed: Catalog, words: Data) -> None:
    hits = await indexed.search_text(text_query("검정 와이드 슬랙스", limit=20))
    full = holding_all(words.products, "검정 와이드 슬랙스", {SOLD_OUT_ID})
    assert full == {FIRST_ID, FIRST_ID + 3, FIRST_ID + 10}
    assert set(ids(hits)[: len(full)]) == full
    rest = ids(hits)[len(full) :]
    # The rest: products with some of the words (sparse matches only), never the sold-out one.
    assert set(rest) == {FIRST_ID + 1, FIRST_ID + 2, FIRST_ID + 5, FIRST_ID + 11}
    assert SOLD_OUT_ID not in ids(hits)
    # Within the rest, IDF ranks "와이드 슬랙스" (two rarer words) above one word.
    assert rest[0] == FIRST_ID + 5
    assert all(hit.score > 0 for hit in hits)


async def test_korean_and_brand_words_match_through_the_analyser(indexed: Catalog) -> None:
    # Particles and endings drop out: "슬랙스를" is "슬랙스", "와이드한" is "와이드".
    hits = await indexed.search_text(text_query("와이드한 슬랙스를", limit=20))
    assert set(ids(hits)[:4]) == {FIRST_ID, FIRST_ID + 3, FIRST_ID + 5, FIRST_ID + 10}
    assert set(ids(hits)[4:]) == {FIRST_ID + 1}  # "와이드" alone
    by_brand = await indexed.search_text(text_query("나이키"))
    assert ids(by_brand) == [FIRST_ID + 6]
    by_slug = await indexed.search_text(text_query("NIKE"))  # the brand slug, any case
    assert ids(by_slug) == [FIRST_ID + 6]
    latin = await indexed.search_text(text_query("black wide slacks"))
    assert ids(latin) == [FIRST_ID + 7]
    assert await indexed.search_text(text_query("패딩")) == []


async def test_pages_are_exact_and_keep_the_tiers(indexed: Catalog, words: Data) -> None:
    for vector in (None, random_vectors(1, seed=5)[0]):
        whole = ids(await indexed.search_text(text_query("검정 와이드 슬랙스", vector=vector, limit=50)))
        assert len(whole) == len(set(whole))
        full = holding_all(words.products, "검정 와이드 슬랙스", {SOLD_OUT_ID})
        assert set(whole[: len(full)]) == full
        for size in (1, 2, 3):
            pages: list[int] = []
            for offset in range(0, len(whole) + size, size):
                page = await indexed.search_text(
                    text_query("검정 와이드 슬랙스", vector=vector, limit=size, offset=offset)
                )
                assert len(page) <= size
                pages += ids(page)
            assert pages == whole


async def test_fusion_adds_image_neighbours_of_the_text_vector(indexed: Catalog, words: Data) -> None:
    # A query vector next to a product whose name shares no query word: it joins the results.
    knit = words.ids.index(FIRST_ID + 4)  # "크롭 니트 가디건"
    vector = words.vectors[knit] + 0.01
    sparse_only = ids(await indexed.search_text(text_query("와이드 슬랙스", limit=20)))
    fused = await indexed.search_text(
        text_query("와이드 슬랙스", vector=vector, limit=20, model_id=MODEL_A.id)
    )
    assert FIRST_ID + 4 not in sparse_only
    assert FIRST_ID + 4 in ids(fused)
    full = holding_all(words.products, "와이드 슬랙스", {SOLD_OUT_ID})
    assert set(ids(fused)[: len(full)]) == full  # every word still ranks first
    # In the rest, the nearest image is behind at most the one product that has a query word
    # ("와이드 데님 팬츠": found by both lists) and ahead of products found by one list only.
    assert ids(fused).index(FIRST_ID + 4) <= len(full) + 1
    scores = [hit.score for hit in fused[: len(full)]]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(ModelMismatchError):
        await indexed.search_text(text_query("와이드", vector=vector, model_id=MODEL_C.id))
    with pytest.raises(DimensionMismatchError):
        await indexed.search_text(text_query("와이드", vector=np.ones(MODEL_B.dimension, dtype=np.float32)))


async def test_filters_apply_to_both_tiers(indexed: Catalog, words: Data) -> None:
    vector = random_vectors(1, seed=8)[0]
    for vec in (None, vector):
        hits = await indexed.search_text(
            text_query("검정 와이드 슬랙스", vector=vec, limit=50, categories="003")
        )
        assert hits and all(hit.product.category.startswith("003") for hit in hits)
        women = await indexed.search_text(
            text_query("검정 와이드 슬랙스", vector=vec, limit=50, filters=SearchFilters(gender="men"))
        )
        assert WOMENS_ID not in ids(women) and women
        everything = await indexed.search_text(
            text_query("검정 와이드 슬랙스", vector=vec, limit=50, filters=NO_FILTERS)
        )
        assert SOLD_OUT_ID in ids(everything)[:4]  # it holds every word
        cheap = SearchFilters(max_price=20_000)
        priced = await indexed.search_text(
            text_query("검정 와이드 슬랙스", vector=vec, limit=50, filters=cheap)
        )
        assert priced and all(hit.product.effective_price <= 20_000 for hit in priced)
        skipped = await indexed.search_text(
            text_query("검정 와이드 슬랙스", vector=vec, limit=50, exclude_ids=[FIRST_ID, FIRST_ID + 1])
        )
        assert not {FIRST_ID, FIRST_ID + 1} & set(ids(skipped))
        assert ids(skipped)[0] == FIRST_ID + 3 or ids(skipped)[0] == FIRST_ID + 10


async def test_renames_and_new_products_update_their_terms(indexed: Catalog, words: Data) -> None:
    knit = words.products[4]
    before = (await indexed.get([knit.id], with_vectors=True))[0]
    renamed = knit.model_copy(update={"name": "검정 와이드 슬랙스 니트"})
    assert (await indexed.update_payload([renamed])).updated == 1
    hits = await indexed.search_text(text_query("검정 와이드 슬랙스", limit=20))
    assert knit.id in ids(hits)[:4]
    assert await indexed.search_text(text_query("가디건")) == []
    after = (await indexed.get([knit.id], with_vectors=True))[0]
    assert before.vector is not None and after.vector is not None
    np.testing.assert_array_equal(after.vector, before.vector)  # the image vector is untouched
    # A name with no searchable word keeps no stale terms.
    blank = knit.model_copy(update={"name": "★★★", "brand": "", "brand_name": "★"})
    await indexed.update_payload([blank])
    assert knit.id not in ids(await indexed.search_text(text_query("검정 와이드 슬랙스 니트", limit=20)))
    # A new product is searchable once written.
    new = make_product(9001, "003002", name="울 와이드 슬랙스 검정")
    await indexed.upsert([(new, random_vectors(1, seed=9)[0])])
    assert 9001 in ids(await indexed.search_text(text_query("검정 와이드 슬랙스", limit=5)))


async def test_an_empty_catalog_has_no_text_results(catalog: Catalog) -> None:
    assert await catalog.search_text(text_query("슬랙스")) == []


async def test_a_version_made_before_text_search_gets_it_in_place(harness: Harness, words: Data) -> None:
    catalog = await harness.open()
    rebuild = await catalog.begin_rebuild(MODEL_A.id, MODEL_A.name, MODEL_A.dimension, text_index=False)
    await rebuild.upsert(words.items())
    old = await rebuild.commit()
    assert not old.text_index
    with pytest.raises(TextIndexMissingError, match="next sync"):
        await catalog.search_text(text_query("슬랙스"))
    before = {item.product.id: item.vector for item in await catalog.get(words.ids, with_vectors=True)}
    image_hits = ids(await catalog.search(SearchQuery(words.vectors[0], filters=NO_FILTERS)))

    assert await catalog.add_text_index(page_size=5) == len(words.ids)
    assert catalog.version is not None and catalog.version.text_index
    assert catalog.version.name == old.name  # in place: no new version, no image embedded again
    hits = await catalog.search_text(text_query("검정 와이드 슬랙스", limit=20))
    assert set(ids(hits)[:3]) == {FIRST_ID, FIRST_ID + 3, FIRST_ID + 10}
    after = {item.product.id: item.vector for item in await catalog.get(words.ids, with_vectors=True)}
    for pid, vector in before.items():  # local mode normalises again on update: the last bit may move
        np.testing.assert_allclose(after[pid], vector, atol=1e-6)
    assert ids(await catalog.search(SearchQuery(words.vectors[0], filters=NO_FILTERS))) == image_hits
    assert [item.product for item in await catalog.get(words.ids)] == words.products
    assert await catalog.add_text_index() == 0  # done once
    await catalog.close()

    reopened = await harness.open()  # the flag is in the version's stored metadata
    assert reopened.version is not None and reopened.version.text_index
    assert ids(await reopened.search_text(text_query("검정 와이드 슬랙스", limit=3))) == ids(hits)[:3]


async def test_a_text_vector_refused_by_the_index_reports_the_model(indexed: Catalog) -> None:
    wrong = np.ones(DIM + 1, dtype=np.float32)
    with pytest.raises(DimensionMismatchError, match=f"expects {DIM}"):
        await indexed.search_text(text_query("슬랙스", vector=wrong))
