"""Edge-only behaviour: the folder on disk, one owner process, crash safety of the pointer switch."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest

from indexer.config import StoreSettings
from indexer.store import (
    Catalog,
    CatalogClosedError,
    CatalogError,
    CatalogLockedError,
    CatalogVersion,
    SearchQuery,
    open_catalog,
)
from indexer.store import edge as edge_module
from indexer.store.edge_layout import EdgeLayout, optimizer_pid_path, process_alive
from indexer.store.edge_shard import ShardHandle
from indexer.store.versions import new_version_name

from .conftest import MODEL_A, MODEL_B, Data, build, exact_ranking, make_data, random_vectors

REPO = Path(__file__).resolve().parents[2]
QUERY = random_vectors(1, seed=42)[0]


@pytest.fixture
def settings(tmp_path: Path) -> StoreSettings:
    return StoreSettings(path=str(tmp_path / "qdrant"))


@pytest.fixture
async def edge(settings: StoreSettings, data: Data) -> AsyncIterator[Catalog]:
    catalog = await open_catalog(settings)
    await build(catalog, data)
    try:
        yield catalog
    finally:
        await catalog.close()


def run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a snippet in a fresh interpreter with this worktree importable (another 'process')."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def layout_of(settings: StoreSettings) -> EdgeLayout:
    return EdgeLayout(Path(settings.path), settings.collection)


async def test_open_catalog_without_url_is_edge(settings: StoreSettings) -> None:
    catalog = await open_catalog(settings)
    try:
        assert catalog.backend == "edge"
        assert (Path(settings.path) / "versions").is_dir()
    finally:
        await catalog.close()


async def test_the_index_persists_across_reopen(settings: StoreSettings, data: Data) -> None:
    catalog = await open_catalog(settings)
    version = await build(catalog, data)
    before = [hit.product.id for hit in await catalog.search(SearchQuery(QUERY, limit=10))]
    await catalog.delete([before[0]])
    await catalog.close()

    reopened = await open_catalog(settings)
    try:
        assert reopened.version == version
        assert await reopened.count() == len(data.ids) - 1
        assert [item.product for item in await reopened.get(data.ids[1:3])] == data.products[1:3]
        after = [hit.product.id for hit in await reopened.search(SearchQuery(QUERY, limit=10))]
        assert after[:9] == before[1:]
        assert after == exact_ranking(data.vectors, data.ids, QUERY)[1:11]
    finally:
        await reopened.close()


async def test_a_second_opener_is_refused_with_the_folder_named(
    edge: Catalog, settings: StoreSettings
) -> None:
    with pytest.raises(CatalogLockedError, match="already open in this process"):
        await open_catalog(settings)
    result = run_python(
        f"""
        import asyncio, sys
        from indexer.config import StoreSettings
        from indexer.store import CatalogLockedError, open_catalog
        try:
            asyncio.run(open_catalog(StoreSettings(path={settings.path!r})))
        except CatalogLockedError as exc:
            print(exc)
            sys.exit(3)
        """
    )
    assert result.returncode == 3, result.stderr
    message = result.stdout.strip()
    assert settings.path in message
    assert f"pid {os.getpid()}" in message and "stop that process" in message
    assert await edge.count() > 0  # the owner is unaffected


async def test_the_engines_wal_lock_becomes_the_same_clear_error(
    edge: Catalog, settings: StoreSettings
) -> None:
    assert edge.version is not None
    shard = layout_of(settings).shard_dir(edge.version.name)
    with pytest.raises(CatalogLockedError, match="in use by another snapfit process"):
        await ShardHandle.open(shard, None, "intruder", Path(settings.path))


SLOW_OPTIMIZER = """
import importlib.util, os, sys, time, types

spec = importlib.util.spec_from_file_location("edge_optimize", {script!r})
edge_optimize = importlib.util.module_from_spec(spec)
spec.loader.exec_module(edge_optimize)


class EdgeShard:  # stands in for qdrant_edge's: a build that takes long (after die_with_parent ran)
    @staticmethod
    def load(path):
        with open({ready!r}, "w") as ready:
            ready.write(str(os.getpid()))
        time.sleep(120)


sys.modules["qdrant_edge"] = types.SimpleNamespace(EdgeShard=EdgeShard)
sys.exit(edge_optimize.main(sys.argv))
"""


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_an_index_build_child_dies_with_its_parent_and_its_pid_is_recorded(tmp_path: Path) -> None:
    shard = tmp_path / "qdrant" / "versions" / "products_x" / "shard"
    shard.mkdir(parents=True)
    ready = tmp_path / "child.pid"
    slow = tmp_path / "slow_optimizer.py"
    slow.write_text(SLOW_OPTIMIZER.format(script=str(edge_module.OPTIMIZER_SCRIPT), ready=str(ready)))
    parent_code = f"""
        import asyncio
        from pathlib import Path
        from indexer.store import edge
        edge.OPTIMIZER_SCRIPT = Path({str(slow)!r})
        asyncio.run(edge.run_optimizer(Path({str(shard)!r})))
        """
    parent = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(parent_code)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    child = 0
    try:
        wait_for(lambda: ready.exists() and ready.read_text() != "", 60, "the index build to start")
        child = int(ready.read_text())
        assert optimizer_pid_path(shard).read_text().strip() == str(child)
        parent.kill()  # SIGKILL: no clean-up of its own can run
        parent.wait(30)
        wait_for(lambda: not process_alive(child), 10, "the orphaned index build to die")
    finally:
        if parent.poll() is None:
            parent.kill()
        if child and process_alive(child):
            os.kill(child, signal.SIGKILL)


async def test_a_shard_held_by_a_leftover_index_build_names_its_pid(
    settings: StoreSettings, data: Data
) -> None:
    catalog = await open_catalog(settings)
    version = await build(catalog, data)
    await catalog.close()
    shard = layout_of(settings).shard_dir(version.name)
    # An index build that outlived its parent (where the kernel cannot kill it): it holds the WAL.
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys, time\nfrom qdrant_edge import EdgeShard\n"
        "shard = EdgeShard.load(sys.argv[1])\nprint('ready', flush=True)\ntime.sleep(120)\n",
        str(shard),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert (await asyncio.wait_for(holder.stdout.readline(), 60)).strip() == b"ready"
        optimizer_pid_path(shard).write_text(f"{holder.pid}\n")  # as run_optimizer records its child
        with pytest.raises(CatalogLockedError) as refused:
            await ShardHandle.open(shard, None, version.name, Path(settings.path))
        assert f"pid {holder.pid}, building the search index of version {version.name}" in str(refused.value)
        assert "pid unknown" not in str(refused.value)
    finally:
        holder.kill()
        await holder.wait()


async def test_a_crash_in_the_middle_of_a_rebuild_keeps_the_old_version(
    settings: StoreSettings, data: Data
) -> None:
    catalog = await open_catalog(settings)
    old = await build(catalog, data)
    await catalog.close()
    result = run_python(
        f"""
        import asyncio, os
        import numpy as np
        from indexer.config import StoreSettings
        from indexer.store import open_catalog
        from indexer.product import Product

        async def main():
            catalog = await open_catalog(StoreSettings(path={settings.path!r}))
            rebuild = await catalog.begin_rebuild({MODEL_B.id!r}, {MODEL_B.name!r}, {MODEL_B.dimension})
            vectors = np.random.default_rng(1).normal(size=(10, {MODEL_B.dimension}))
            products = [
                Product(id=9000 + i, name="n", brand="b", brand_name="B", category="001004", price=1000,
                        normal_price=1000, image_url="https://i/x.jpg", url="https://u/x")
                for i in range(10)
            ]
            await rebuild.upsert(list(zip(products, vectors)))
            print(rebuild.version.name, flush=True)
            os._exit(1)  # killed before commit: no close, no flush beyond the batch's own

        asyncio.run(main())
        """
    )
    assert result.returncode == 1, result.stderr
    half_built = result.stdout.strip()

    catalog = await open_catalog(settings)
    try:
        assert catalog.version == old
        assert [h.product.id for h in await catalog.search(SearchQuery(QUERY, limit=5))] == exact_ranking(
            data.vectors, data.ids, QUERY
        )[:5]
        assert half_built in {v.name for v in await catalog.versions() if v.state == "building"}
        resumed = await catalog.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
        assert resumed.resumed and resumed.version.name == half_built
        assert await resumed.count() == 10
        await resumed.commit()
        assert catalog.version is not None and catalog.version.name == half_built
    finally:
        await catalog.close()


async def test_a_crash_at_the_switch_leaves_the_old_pointer(
    edge: Catalog, data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = edge.version
    rebuild = await edge.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    await rebuild.upsert(make_data(8, MODEL_B.dimension, first_id=8000).items())

    def power_cut(self: EdgeLayout, name: str) -> None:
        raise OSError("simulated crash while replacing CURRENT")

    monkeypatch.setattr(EdgeLayout, "write_current", power_cut)
    with pytest.raises(OSError, match="simulated crash"):
        await rebuild.commit()
    monkeypatch.undo()
    assert edge.version == old
    best = exact_ranking(data.vectors, data.ids, QUERY)[0]
    assert (await edge.search(SearchQuery(QUERY, limit=3)))[0].product.id == best
    again = await edge.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    assert again.resumed and await again.count() == 8
    await again.commit()
    assert edge.version is not None and edge.version.model_id == MODEL_B.id


async def test_a_pointer_switched_before_a_crash_is_completed_on_open(
    settings: StoreSettings, data: Data
) -> None:
    catalog = await open_catalog(settings)
    await build(catalog, data)
    rebuild = await catalog.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    await rebuild.upsert(make_data(6, MODEL_B.dimension, first_id=6000).items())
    name = rebuild.version.name
    await catalog.close()
    layout = layout_of(settings)
    layout.write_current(name)  # the crash came after the switch, before "ready" was written

    catalog = await open_catalog(settings)
    try:
        assert catalog.version is not None and catalog.version.name == name
        assert catalog.version.state == "ready" and layout.read_version(name).state == "ready"
        assert await catalog.count() == 6
    finally:
        await catalog.close()


async def test_leftovers_of_a_crash_are_cleaned_or_skipped(settings: StoreSettings, data: Data) -> None:
    catalog = await open_catalog(settings)
    old = await build(catalog, data)
    await catalog.close()
    layout = layout_of(settings)
    (layout.root / ".CURRENT.tmp-12345").write_text("garbage")
    (layout.versions_dir / ".trash-products_00000000_00000000000000000000").mkdir()
    # A rebuild that died after writing its metadata but before creating its shard:
    broken_name = new_version_name(settings.collection, MODEL_B.id, layout.version_names())
    layout.write_version(
        CatalogVersion(broken_name, MODEL_B.id, MODEL_B.name, MODEL_B.dimension, old.created_at, "building")
    )

    catalog = await open_catalog(settings)
    try:
        assert not (layout.root / ".CURRENT.tmp-12345").exists()
        assert not any(entry.name.startswith(".trash-") for entry in layout.versions_dir.iterdir())
        assert catalog.version == old
        rebuild = await catalog.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
        assert not rebuild.resumed and rebuild.version.name != broken_name
        assert broken_name not in layout.version_names()
        await rebuild.abort()
    finally:
        await catalog.close()


@pytest.mark.parametrize(
    ("pointer", "message"),
    [("products_0123abcd_20260101000000000000", "does not exist"), ("../../etc", "not a version")],
)
async def test_a_bad_pointer_is_reported_not_guessed(
    settings: StoreSettings, pointer: str, message: str
) -> None:
    root = Path(settings.path)
    await asyncio.to_thread(root.mkdir, parents=True)
    await asyncio.to_thread((root / "CURRENT").write_text, pointer)
    with pytest.raises(CatalogError, match=message):
        await open_catalog(settings)
    # The failed open released the folder: a fixed pointer opens fine.
    await asyncio.to_thread((root / "CURRENT").unlink)
    catalog = await open_catalog(settings)
    await catalog.close()


async def test_a_failed_index_build_keeps_serving_and_can_be_resumed(
    edge: Catalog, data: Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = tmp_path / "failing_optimizer.py"
    failing.write_text("import sys\nsys.stderr.write('disk full\\n')\nsys.exit(1)\n")
    monkeypatch.setattr(edge_module, "OPTIMIZER_SCRIPT", failing)
    rebuild = await edge.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    await rebuild.upsert(make_data(5, MODEL_B.dimension, first_id=4000).items())
    with pytest.raises(CatalogError, match="disk full"):
        await rebuild.commit()
    assert edge.version is not None and edge.version.model_id == MODEL_A.id
    assert await edge.count() == len(data.ids)
    monkeypatch.undo()
    resumed = await edge.begin_rebuild(MODEL_B.id, MODEL_B.name, MODEL_B.dimension)
    assert resumed.resumed and await resumed.count() == 5
    await resumed.commit()


async def test_optimize_switches_to_an_indexed_copy_while_reads_and_writes_go_on(
    edge: Catalog, data: Data, settings: StoreSettings
) -> None:
    assert await edge.optimize() is False  # a few dozen unindexed vectors: not worth a copy
    old = edge.version
    assert old is not None
    task = asyncio.create_task(edge.optimize(force=True))
    for _ in range(10_000):  # until it holds the write lock (it is copying or indexing)
        if edge._write_lock.locked() or task.done():
            break
        await asyncio.sleep(0.001)
    assert not task.done()
    late = make_data(3, first_id=30_000, seed=8)
    writer = asyncio.create_task(edge.upsert(late.items()))
    answered_meanwhile = 0
    while not task.done():
        assert len(await edge.search(SearchQuery(QUERY, limit=5))) == 5
        answered_meanwhile += not task.done()
        assert not writer.done() or task.done()  # the write waits for the switch
        await asyncio.sleep(0.005)
    assert await task is True
    assert await writer == 3
    assert answered_meanwhile > 0
    new = edge.version
    assert new is not None and new.name != old.name and new.model_id == old.model_id
    assert await edge.count() == len(data.ids) + 3  # the write landed in the new version
    everything = Data(data.products + late.products, np.vstack([data.vectors, late.vectors]))
    top = [hit.product.id for hit in await edge.search(SearchQuery(QUERY, limit=10))]
    assert top == exact_ranking(everything.vectors, everything.ids, QUERY)[:10]
    assert {v.name for v in await edge.versions()} == {old.name, new.name}
    metadata = json.loads((layout_of(settings).version_dir(new.name) / "version.json").read_text())
    assert metadata["state"] == "ready" and metadata["model_id"] == MODEL_A.id


async def test_closing_during_optimize_leaves_the_old_version_current(
    settings: StoreSettings, data: Data
) -> None:
    catalog = await open_catalog(settings)
    old = await build(catalog, data)
    task = asyncio.create_task(catalog.optimize(force=True))
    for _ in range(10_000):
        if catalog._write_lock.locked() or task.done():
            break
        await asyncio.sleep(0.001)
    await catalog.close()  # e.g. the bot is stopped while the nightly job indexes
    with pytest.raises(CatalogClosedError):
        await task
    reopened = await open_catalog(settings)
    try:
        assert reopened.version == old
        assert await reopened.count() == len(data.ids)
    finally:
        await reopened.close()
