"""The Catalog contract, run against both backends: Qdrant Edge in a temporary folder and
qdrant-client's local mode (the server backend's code path, on ":memory:")."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from indexer.store import (
    NO_FILTERS,
    Catalog,
    CatalogClosedError,
    DimensionMismatchError,
    ModelMismatchError,
    NoIndexError,
    ProductNotFoundError,
    RebuildInProgressError,
    SearchFilters,
    SearchQuery,
    product_fingerprint,
    same_model,
)
from indexer.store.versions import canonical_model_id

from .conftest import (
    DIM,
    MODEL_A,
    MODEL_B,
    MODEL_C,
    Data,
    Harness,
    Model,
    build,
    exact_ranking,
    make_data,
    make_product,
    random_vectors,
)

QUERIES = random_vectors(5, seed=99)
ALL = NO_FILTERS  # these tests are about ranking: sold-out products (hidden by default) count too


def ranked(vector: np.ndarray, **fields: Any) -> SearchQuery:
    """A SearchQuery over every product, sold-out ones included, unless ``filters`` says otherwise."""
    fields.setdefault("filters", ALL)
    return SearchQuery(vector, **fields)


async def test_an_empty_catalog_answers_without_an_index(catalog: Catalog) -> None:
    assert catalog.version is None
    assert await catalog.count() == 0
    assert await catalog.search(ranked(QUERIES[0])) == []
    assert [ref async for ref in catalog.refs()] == []
    stats = await catalog.stats()
    assert (stats.total, stats.by_category, stats.model_id, stats.dimension) == (0, {}, None, None)
    with pytest.raises(ProductNotFoundError):
        await catalog.similar(1000)
    with pytest.raises(NoIndexError, match="begin_rebuild"):
        await catalog.upsert([(make_product(1), QUERIES[0])])
    assert (await catalog.update_payload([make_product(5)])).missing == (5,)


async def test_payload_round_trips_to_equal_products(filled: Catalog, data: Data) -> None:
    asked = [data.ids[3], 999_999, data.ids[0]]
    stored = await filled.get(asked)
    assert [item.product for item in stored] == [data.products[3], data.products[0]]
    assert all(item.vector is None for item in stored)
    with_vectors = await filled.get([data.ids[5]], with_vectors=True)
    expected = data.vectors[5] / np.linalg.norm(data.vectors[5])  # cosine storage normalises
    assert with_vectors[0].vector is not None
    np.testing.assert_allclose(with_vectors[0].vector, expected, atol=1e-5)


async def test_results_follow_exact_cosine_order(filled: Catalog, data: Data) -> None:
    for query in QUERIES:
        hits = await filled.search(ranked(query, limit=10))
        assert [hit.product.id for hit in hits] == exact_ranking(data.vectors, data.ids, query)[:10]
        expected = data.vectors[data.ids.index(hits[0].product.id)]
        cosine = float(expected @ query / np.linalg.norm(expected) / np.linalg.norm(query))
        assert hits[0].score == pytest.approx(cosine, abs=1e-4)
        assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
        assert hits[0].product == data.products[data.ids.index(hits[0].product.id)]


async def test_category_filter_is_hierarchical(filled: Catalog, data: Data) -> None:
    tops = data.subset([p.category.startswith("001") for p in data.products])
    hoodies = data.subset([p.category == "001004" for p in data.products])
    assert 0 < len(hoodies.ids) < len(tops.ids) < len(data.ids)
    hits = await filled.search(ranked(QUERIES[0], categories="001", limit=100))
    assert [hit.product.id for hit in hits] == exact_ranking(tops.vectors, tops.ids, QUERIES[0])
    hits = await filled.search(ranked(QUERIES[0], categories="001004", limit=100))
    assert [hit.product.id for hit in hits] == exact_ranking(hoodies.vectors, hoodies.ids, QUERIES[0])
    assert await filled.search(ranked(QUERIES[0], categories="009")) == []
    assert await filled.count("001") == len(tops.ids)
    assert await filled.count("001004") == len(hoodies.ids)
    assert await filled.count() == len(data.ids)


async def test_several_categories_match_a_product_in_any_of_them(filled: Catalog, data: Data) -> None:
    """A garment that may be a top or outerwear searches ("001", "002"): one ranking over both."""
    either = data.subset([p.category[:3] in ("001", "002") for p in data.products])
    tops = data.subset([p.category.startswith("001") for p in data.products])
    assert 0 < len(tops.ids) < len(either.ids) < len(data.ids)
    hits = await filled.search(ranked(QUERIES[0], categories=("001", "002"), limit=100))
    assert [hit.product.id for hit in hits] == exact_ranking(either.vectors, either.ids, QUERIES[0])
    page = await filled.search(ranked(QUERIES[0], categories=["002", "001"], limit=3, offset=2))
    assert [hit.product.id for hit in page] == [hit.product.id for hit in hits][2:5]
    # One code in a list is that code; a code and its own subcategory is just the code.
    one = await filled.search(ranked(QUERIES[0], categories=["001"], limit=100))
    assert [hit.product.id for hit in one] == exact_ranking(tops.vectors, tops.ids, QUERIES[0])
    nested = await filled.search(ranked(QUERIES[0], categories=["001", "001004"], limit=100))
    assert [hit.product.id for hit in nested] == [hit.product.id for hit in one]
    target = either.ids[0]
    neighbours = await filled.similar(target, category=("001", "002"), filters=ALL, limit=100)
    assert {hit.product.id for hit in neighbours} == set(either.ids) - {target}
    with pytest.raises(ValueError, match="empty list of categories"):
        await filled.search(ranked(QUERIES[0], categories=[]))
    with pytest.raises(ValueError, match="category code"):
        await filled.search(ranked(QUERIES[0], categories=["001", "tops"]))
    with pytest.raises(ValueError, match="category code"):
        await filled.similar(target, category=["shoes"])


async def test_price_filter_uses_the_effective_price(filled: Catalog, data: Data) -> None:
    low, high = 15_000, 30_000
    inside = data.subset([low <= p.effective_price <= high for p in data.products])
    assert any(p.final_price is not None and p.price != p.effective_price for p in inside.products)
    hits = await filled.search(
        ranked(QUERIES[1], filters=ALL.replace(min_price=low, max_price=high), limit=100)
    )
    assert [hit.product.id for hit in hits] == exact_ranking(inside.vectors, inside.ids, QUERIES[1])
    discounted = next(p for p in data.products if p.final_price is not None)
    at_bound = await filled.search(
        ranked(QUERIES[1], filters=ALL.replace(min_price=discounted.effective_price), limit=100)
    )
    assert discounted.id in {hit.product.id for hit in at_bound}  # bounds are inclusive
    both = await filled.search(
        ranked(QUERIES[1], categories="003", filters=ALL.replace(max_price=20_000), limit=100)
    )
    assert all(h.product.category.startswith("003") and h.product.effective_price <= 20_000 for h in both)
    assert both


async def test_pages_have_no_duplicates_or_gaps(filled: Catalog, data: Data) -> None:
    whole = [hit.product.id for hit in await filled.search(ranked(QUERIES[2], limit=len(data.ids)))]
    pages: list[int] = []
    for offset in range(0, len(data.ids) + 7, 7):
        pages += [hit.product.id for hit in await filled.search(ranked(QUERIES[2], limit=7, offset=offset))]
    assert pages == whole == exact_ranking(data.vectors, data.ids, QUERIES[2])


async def test_similar_never_returns_the_product_itself(filled: Catalog, data: Data) -> None:
    target = data.ids[4]
    hits = await filled.similar(target, filters=ALL, limit=10)
    expected = [pid for pid in exact_ranking(data.vectors, data.ids, data.vectors[4]) if pid != target][:10]
    assert [hit.product.id for hit in hits] == expected
    in_category = await filled.similar(target, category="002", limit=100)
    assert in_category and all(hit.product.category.startswith("002") for hit in in_category)
    assert target not in [hit.product.id for hit in in_category]
    second_page = await filled.similar(target, filters=ALL, limit=10, offset=10)
    assert [hit.product.id for hit in second_page] == [
        pid for pid in exact_ranking(data.vectors, data.ids, data.vectors[4]) if pid != target
    ][10:20]
    with pytest.raises(ProductNotFoundError, match="424242"):
        await filled.similar(424242)


async def test_exclude_ids_removes_them_from_results(filled: Catalog, data: Data) -> None:
    top = [hit.product.id for hit in await filled.search(ranked(QUERIES[3], limit=5))]
    hits = await filled.search(ranked(QUERIES[3], limit=5, exclude_ids=top[:3]))
    rest = [pid for pid in exact_ranking(data.vectors, data.ids, QUERIES[3]) if pid not in top[:3]]
    assert [hit.product.id for hit in hits] == rest[:5]


async def test_delete_removes_products_everywhere(filled: Catalog, data: Data) -> None:
    gone = exact_ranking(data.vectors, data.ids, QUERIES[0])[:3]
    await filled.delete([*gone, 777_777])
    await filled.flush()
    assert await filled.count() == len(data.ids) - 3
    assert await filled.get(gone) == []
    assert not {hit.product.id for hit in await filled.search(ranked(QUERIES[0], limit=20))} & set(gone)
    assert gone[0] not in [ref.id async for ref in filled.refs()]


async def test_update_payload_changes_metadata_not_vectors(filled: Catalog, data: Data) -> None:
    original = data.products[0]
    assert not original.category.startswith("002")
    before = (await filled.get([original.id], with_vectors=True))[0]
    changed = original.model_copy(
        update={"name": "리네임", "price": 1_000, "final_price": None, "category": "002009"}
    )
    result = await filled.update_payload([changed, make_product(555_555)])
    assert (result.updated, result.missing) == (1, (555_555,))
    after = (await filled.get([original.id], with_vectors=True))[0]
    assert after.product == changed
    assert before.vector is not None and after.vector is not None
    np.testing.assert_array_equal(after.vector, before.vector)
    assert original.id in [
        h.product.id for h in await filled.search(ranked(QUERIES[0], categories="002", limit=100))
    ]
    assert original.id in [
        h.product.id
        for h in await filled.search(ranked(QUERIES[0], filters=ALL.replace(max_price=1_000), limit=100))
    ]
    refs = {ref.id: ref async for ref in filled.refs()}
    assert refs[original.id].fingerprint == product_fingerprint(changed) != product_fingerprint(original)
    assert await filled.count() == len(data.ids)  # the missing id was not created


async def test_refs_list_every_product_for_sync(filled: Catalog, data: Data) -> None:
    refs = [ref async for ref in filled.refs(page_size=7)]
    assert [ref.id for ref in refs] == sorted(data.ids)
    by_id = {p.id: p for p in data.products}
    for ref in refs:
        assert ref.image_url == by_id[ref.id].image_url
        assert ref.fingerprint == product_fingerprint(by_id[ref.id])
        assert ref.model_id == MODEL_A.id


async def test_stats_count_top_level_categories(filled: Catalog, data: Data) -> None:
    stats = await filled.stats()
    expected: dict[str, int] = {}
    for product in data.products:
        expected[product.category[:3]] = expected.get(product.category[:3], 0) + 1
    assert stats.by_category == expected
    assert stats.total == len(data.ids)
    assert (stats.model_id, stats.model_name, stats.dimension) == (MODEL_A.id, MODEL_A.name, DIM)
    assert filled.version is not None and stats.version == filled.version.name


async def test_bad_writes_are_refused_whole(filled: Catalog, data: Data) -> None:
    good = (make_product(1), random_vectors(1)[0])
    with pytest.raises(DimensionMismatchError, match="8 dimensions"):
        await filled.upsert([good, (make_product(2), np.ones(8, dtype=np.float32))])
    with pytest.raises(ValueError, match="NaN"):
        await filled.upsert([good, (make_product(3), np.full(16, np.nan, dtype=np.float32))])
    with pytest.raises(ValueError, match="all zeros"):
        await filled.upsert([(make_product(4), np.zeros(16, dtype=np.float32))])
    with pytest.raises(ModelMismatchError, match=MODEL_B.id):
        await filled.upsert([good], model_id=MODEL_B.id)
    with pytest.raises(TypeError):
        await filled.upsert([(data.products[0].model_dump(), data.vectors[0])])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="positive integers"):
        await filled.delete([0])
    assert await filled.count() == len(data.ids)
    assert await filled.upsert([good, good], model_id=MODEL_A.id) == 1


async def test_bad_searches_get_clear_errors(filled: Catalog, data: Data) -> None:
    with pytest.raises(ValueError, match="category code"):
        await filled.search(ranked(QUERIES[0], categories="tops"))
    with pytest.raises(ValueError, match="limit"):
        await filled.search(ranked(QUERIES[0], limit=0))
    with pytest.raises(ValueError, match="offset"):
        await filled.search(ranked(QUERIES[0], offset=-1))
    with pytest.raises(ValueError, match="above max_price"):
        await filled.search(ranked(QUERIES[0], filters=SearchFilters(min_price=10, max_price=5)))
    with pytest.raises(DimensionMismatchError, match=f"expects {DIM}"):
        await filled.search(ranked(np.ones(MODEL_B.dimension, dtype=np.float32)))
    with pytest.raises(ModelMismatchError):
        await filled.search(ranked(QUERIES[0], model_id=MODEL_C.id))
    assert await filled.search(ranked(QUERIES[0], model_id=MODEL_A.id))


async def test_a_model_change_builds_a_new_version_while_the_old_serves(filled: Catalog, data: Data) -> None:
    old = filled.version
    assert old is not None
    wide = make_data(count=30, dimension=MODEL_B.dimension, seed=3, first_id=5000)
    rebuild = await filled.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    assert not rebuild.resumed and rebuild.version.name != old.name
    with pytest.raises(RebuildInProgressError):
        await filled.begin_rebuild(MODEL_C.id, MODEL_C.name, MODEL_C.dimension)
    await rebuild.upsert(wide.items()[:15], model_id=MODEL_B.id)
    # The old version keeps answering, with the old model's vectors, during the rebuild.
    assert [h.product.id for h in await filled.search(ranked(QUERIES[0], limit=5))] == exact_ranking(
        data.vectors, data.ids, QUERIES[0]
    )[:5]
    assert filled.version == old
    await rebuild.upsert(wide.items()[15:])
    query = random_vectors(1, MODEL_B.dimension, seed=5)[0]
    assert [h.product.id for h in await rebuild.search(ranked(query, limit=5))] == exact_ranking(
        wide.vectors, wide.ids, query
    )[:5]
    committed = await rebuild.commit()
    assert filled.version == committed
    assert (committed.model_id, committed.model_name, committed.dimension, committed.state) == (
        MODEL_B.id,
        MODEL_B.name,
        MODEL_B.dimension,
        "ready",
    )
    assert [h.product.id for h in await filled.search(ranked(query, limit=5))] == exact_ranking(
        wide.vectors, wide.ids, query
    )[:5]
    assert await filled.count() == 30
    with pytest.raises(DimensionMismatchError):
        await filled.search(ranked(QUERIES[0]))
    with pytest.raises(CatalogClosedError):
        await rebuild.upsert(wide.items())
    assert {v.name for v in await filled.versions()} == {old.name, committed.name}  # previous kept


async def test_a_same_dimension_model_change_never_mixes_vectors(filled: Catalog, data: Data) -> None:
    first = filled.version
    assert first is not None
    with pytest.raises(ModelMismatchError):
        await filled.upsert(data.items()[:1], model_id=MODEL_C.id)
    second = await build(filled, make_data(seed=11), MODEL_C)
    assert second.model_id == MODEL_C.id and second.dimension == first.dimension
    with pytest.raises(ModelMismatchError, match=MODEL_C.id):
        await filled.search(ranked(QUERIES[0], model_id=MODEL_A.id))
    third = await build(filled, make_data(seed=12), MODEL_A)
    names = {v.name for v in await filled.versions()}
    assert names == {second.name, third.name}  # the oldest one is removed after the switch
    assert first.name not in names


async def test_an_interrupted_rebuild_resumes_where_it_stopped(harness: Harness, data: Data) -> None:
    catalog = await harness.open()
    await build(catalog, data)
    wide = make_data(count=20, dimension=MODEL_B.dimension, seed=4, first_id=7000)
    rebuild = await catalog.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    await rebuild.upsert(wide.items()[:12])
    await catalog.close()  # the process stops mid-rebuild; the rebuild is left for later

    catalog = await harness.open()
    assert catalog.version is not None and catalog.version.model_id == MODEL_A.id
    other = await catalog.begin_rebuild(MODEL_C.id, MODEL_C.name, MODEL_C.dimension)
    assert not other.resumed  # another model does not pick up B's work
    await other.abort()
    resumed = await catalog.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    assert resumed.resumed and resumed.version.name == rebuild.version.name
    assert sorted([ref.id async for ref in resumed.refs()]) == wide.ids[:12]
    await resumed.upsert(wide.items()[12:])
    await resumed.commit()
    assert catalog.version is not None and catalog.version.model_id == MODEL_B.id
    assert await catalog.count() == 20


async def test_abort_discards_the_new_version(filled: Catalog, data: Data) -> None:
    rebuild = await filled.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    await rebuild.upsert(make_data(count=5, dimension=MODEL_B.dimension).items())
    await rebuild.abort()
    assert filled.version is not None and filled.version.model_id == MODEL_A.id
    assert rebuild.version.name not in {v.name for v in await filled.versions()}
    assert await filled.count() == len(data.ids)
    fresh = await filled.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    assert not fresh.resumed


async def test_an_empty_rebuild_is_not_switched_to(filled: Catalog, data: Data) -> None:
    rebuild = await filled.begin_rebuild(MODEL_C.id, MODEL_C.name, MODEL_C.dimension)
    with pytest.raises(Exception, match="holds no products"):
        await rebuild.commit()
    assert filled.version is not None and filled.version.model_id == MODEL_A.id
    assert await filled.count() == len(data.ids)


async def test_readers_keep_working_during_a_write_batch(filled: Catalog, data: Data) -> None:
    batch = make_data(count=600, seed=21, first_id=20_000)
    writer = asyncio.create_task(filled.upsert(batch.items(), model_id=MODEL_A.id))
    answered_while_writing = 0
    while not writer.done():
        hits = await filled.search(ranked(QUERIES[0], limit=10))
        assert len(hits) == 10
        answered_while_writing += not writer.done()
        await asyncio.sleep(0)
    assert await writer == 600
    assert answered_while_writing > 0
    assert await filled.count() == len(data.ids) + 600
    everything = Data(data.products + batch.products, np.vstack([data.vectors, batch.vectors]))
    top = [hit.product.id for hit in await filled.search(ranked(QUERIES[0], limit=10))]
    assert top == exact_ranking(everything.vectors, everything.ids, QUERIES[0])[:10]


async def test_a_closed_catalog_refuses_calls(catalog: Catalog) -> None:
    await catalog.close()
    await catalog.close()
    with pytest.raises(CatalogClosedError):
        await catalog.search(ranked(QUERIES[0]))
    with pytest.raises(CatalogClosedError):
        await catalog.begin_rebuild(MODEL_A.id, MODEL_A.name, MODEL_A.dimension)


async def test_an_id_that_names_a_float_precision_is_the_same_model(catalog: Catalog, data: Data) -> None:
    """Indexes built before the precision left the model id keep serving the precision-free id."""
    current = "tiny-clip@sha256-0123/squash-abcd"
    await build(catalog, data, Model(f"{current}/bf16", "tiny-clip", DIM))
    assert await catalog.search(ranked(QUERIES[0], model_id=current))
    assert await catalog.search(ranked(QUERIES[0], model_id=f"{current}/fp32"))
    assert await catalog.upsert(data.items()[:1], model_id=current) == 1
    with pytest.raises(ModelMismatchError):  # int8 changes the vectors: another model
        await catalog.search(ranked(QUERIES[0], model_id=f"{current}/int8"))


def test_same_model_ignores_only_the_float_precision() -> None:
    assert same_model("m@w/squash-1/fp32", "m@w/squash-1")
    assert same_model("m@w/squash-1/bf16", "m@w/squash-1/fp16")
    assert not same_model("m@w/squash-1/int8", "m@w/squash-1")
    assert not same_model("m@w/squash-1", "m@w/squash-2")
    assert not same_model(None, "m@w/squash-1")
    assert canonical_model_id("fp32") == "fp32"


async def test_sold_out_is_hidden_unless_asked_and_gender_keeps_unisex(catalog: Catalog) -> None:
    genders = ["남성", "여성", "공용", None]
    products = [
        make_product(3000 + i, "001004", sold_out=i % 3 == 0, gender=genders[i % 4]) for i in range(24)
    ]
    vectors = random_vectors(len(products), seed=17)
    await build(catalog, Data(products, vectors))
    every = {p.id for p in products}
    on_sale = {p.id for p in products if not p.sold_out}
    assert 0 < len(on_sale) < len(every)
    hidden = await catalog.search(SearchQuery(QUERIES[0], limit=100))  # DEFAULT_FILTERS
    assert {hit.product.id for hit in hidden} == on_sale
    shown = await catalog.search(
        SearchQuery(QUERIES[0], limit=100, filters=SearchFilters(include_sold_out=True))
    )
    assert {hit.product.id for hit in shown} == every
    men = await catalog.search(SearchQuery(QUERIES[0], limit=100, filters=SearchFilters(gender="men")))
    assert {hit.product.id for hit in men} == {
        p.id for p in products if not p.sold_out and p.gender != "여성"
    }
    women = ALL.replace(gender="women")
    assert {hit.product.id for hit in await catalog.search(ranked(QUERIES[0], limit=100, filters=women))} == {
        p.id for p in products if p.gender != "남성"
    }
    neighbours = await catalog.similar(products[1].id, limit=100)  # similar hides sold-out too
    assert {hit.product.id for hit in neighbours} == on_sale - {products[1].id}
