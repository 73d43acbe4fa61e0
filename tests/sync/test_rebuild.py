"""A model change: the new index version is built beside the served one, then switched to."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from indexer.config import ModelSettings, Settings
from indexer.store import Catalog, DimensionMismatchError, SearchQuery
from indexer.sync import run_sync
from tests.fakes.musinsa import FakeMusinsa
from tests.sync.conftest import COUNT, CountingEncoder, assert_matches_fake, contents, stored_vector

OTHER_DIMENSION = 24


@pytest.fixture(scope="module")
def other_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second tiny model: other weights and another dimension (24 instead of 32)."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    from tests.tiny_model import TINY_MODEL_CFG, TINY_PREPROCESS_CFG

    folder = tmp_path_factory.mktemp("other-model") / "tiny-clip-24"
    folder.mkdir()
    model_cfg = copy.deepcopy(TINY_MODEL_CFG)
    model_cfg["embed_dim"] = OTHER_DIMENSION
    config = {"model_cfg": model_cfg, "preprocess_cfg": TINY_PREPROCESS_CFG}
    (folder / "open_clip_config.json").write_text(json.dumps(config), encoding="utf-8")
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(1)
        model = open_clip.CLIP(**copy.deepcopy(model_cfg))
    finally:
        torch.random.set_rng_state(state)
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()},
        str(folder / "open_clip_model.safetensors"),
    )
    return folder


@pytest.fixture(scope="module")
def other_encoder(other_model_dir: Path) -> Any:
    from indexer.embedding import Encoder

    return Encoder.from_settings(ModelSettings(name=f"local-dir:{other_model_dir}"))


class ServingProbe:
    """Wraps the catalog so that after every write into the rebuild, a search hits the live index."""

    def __init__(self, catalog: Catalog, query: Any, model_id: str) -> None:
        self.catalog = catalog
        self.query = query
        self.model_id = model_id
        self.seen: list[tuple[str, int]] = []  # (live model id, top hit) after each rebuild write

    def __getattr__(self, name: str) -> Any:
        return getattr(self.catalog, name)

    @property
    def version(self) -> Any:
        return self.catalog.version

    async def begin_rebuild(self, *args: Any) -> Any:
        return _ProbedRebuild(await self.catalog.begin_rebuild(*args), self)

    async def probe(self) -> None:
        hits = await self.catalog.search(SearchQuery(self.query, limit=3, model_id=self.model_id))
        assert self.catalog.version is not None
        self.seen.append((self.catalog.version.model_id, hits[0].product.id))
        with pytest.raises(DimensionMismatchError):  # the new model's vectors do not fit the live index
            await self.catalog.search(SearchQuery([1.0] * OTHER_DIMENSION))


class _ProbedRebuild:
    def __init__(self, inner: Any, probe: ServingProbe) -> None:
        self.inner = inner
        self._probe = probe

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def upsert(self, items: Any, *, model_id: str | None = None) -> int:
        written = await self.inner.upsert(items, model_id=model_id)
        await self._probe.probe()
        return written


def with_model(config: Settings, folder: Path) -> Settings:
    return config.model_copy(update={"model": ModelSettings(name=f"local-dir:{folder}")})


async def test_a_model_change_builds_a_new_version_while_the_old_one_serves(
    fake: FakeMusinsa,
    catalog: Catalog,
    config: Settings,
    tiny_encoder: Any,
    other_encoder: Any,
    other_model_dir: Path,
) -> None:
    await run_sync(config, catalog=catalog, encoder=CountingEncoder(tiny_encoder))
    old = catalog.version
    assert old is not None
    target = sorted(fake.catalog.ids())[4]
    probe = ServingProbe(catalog, await stored_vector(catalog, target), tiny_encoder.model_id)
    encoder = CountingEncoder(other_encoder)

    summary = await run_sync(with_model(config, other_model_dir), catalog=probe, encoder=encoder)  # type: ignore[arg-type]

    assert summary.ok, summary.error
    assert summary.rebuild and summary.committed and summary.added == COUNT
    assert encoder.images == COUNT
    # While the new version filled up (chunks of 4), every search was answered by the old one.
    assert len(probe.seen) == COUNT // 4
    assert probe.seen == [(tiny_encoder.model_id, target)] * len(probe.seen)
    new = catalog.version
    assert new is not None and new.name != old.name
    assert (new.model_id, new.dimension) == (other_encoder.model_id, OTHER_DIMENSION)
    assert summary.version == new.name
    assert_matches_fake(await contents(catalog), fake)
    query = await stored_vector(catalog, target)
    assert query.shape == (OTHER_DIMENSION,)
    assert (await catalog.search(SearchQuery(query, limit=1)))[0].product.id == target


async def test_an_incomplete_rebuild_is_kept_and_resumed_not_switched_to(
    fake: FakeMusinsa,
    catalog: Catalog,
    config: Settings,
    tiny_encoder: Any,
    other_encoder: Any,
    other_model_dir: Path,
) -> None:
    await run_sync(config, catalog=catalog, encoder=CountingEncoder(tiny_encoder))
    old = catalog.version
    new_config = with_model(config, other_model_dir)
    first_pages = new_config.model_copy(
        update={"musinsa": new_config.musinsa.model_copy(update={"max_pages": 1})}
    )

    partial = await run_sync(first_pages, catalog=catalog, encoder=CountingEncoder(other_encoder))

    assert partial.ok and partial.rebuild and not partial.committed
    assert partial.rebuild_pending is not None and "did not complete" in partial.rebuild_pending
    assert catalog.version == old  # still serving the old model
    assert partial.added == 20  # page 1 of 001 and of 002, ten products each

    encoder = CountingEncoder(other_encoder)
    finished = await run_sync(new_config, catalog=catalog, encoder=encoder)
    assert finished.ok and finished.committed
    assert encoder.images == COUNT - 20  # the kept version was resumed, not started over
    assert catalog.version is not None and catalog.version.model_id == other_encoder.model_id
    assert_matches_fake(await contents(catalog), fake)


class OldIdEncoder(CountingEncoder):
    """The tiny encoder under the id an index built before the precision left the id carries."""

    @property
    def model_id(self) -> str:
        return f"{self.inner.model_id}/bf16"


async def test_an_index_whose_id_carries_the_precision_is_kept_not_rebuilt(
    fake: FakeMusinsa, catalog: Catalog, config: Settings, tiny_encoder: Any
) -> None:
    await run_sync(config, catalog=catalog, encoder=OldIdEncoder(tiny_encoder))
    old = catalog.version
    assert old is not None and old.model_id.endswith("/bf16")

    encoder = CountingEncoder(tiny_encoder)
    summary = await run_sync(config, catalog=catalog, encoder=encoder)

    assert summary.ok and not summary.rebuild
    assert catalog.version == old
    assert encoder.images == 0  # nothing re-embedded: the old vectors serve the new id
    target = sorted(fake.catalog.ids())[4]
    query = SearchQuery(await stored_vector(catalog, target), limit=1, model_id=tiny_encoder.model_id)
    assert (await catalog.search(query))[0].product.id == target
