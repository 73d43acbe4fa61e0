"""Sync throughput against the fake Musinsa: a cold sync (images per second end to end) and a warm one.

Three measurements, each on a fresh embedded (Edge) index:

1. Cold sync of ``--products`` (10 000) products with the tiny test model, image pacing lifted:
   the pipeline's own cost (listing crawl, image download, decode, embed, upsert, the final
   HNSW build and switch) without the encoder dominating it.
2. Warm sync of the same catalog with nothing changed, the listing paced at ``--listing-rps``:
   expected zero embeddings and zero image downloads; the time is bounded by the crawl pacing.
3. Cold syncs of ``--siglip-products`` (400) with a random-weight ViT-B-16-SigLIP (the shape of
   the default Marqo-FashionSigLIP, precision ``auto``) loaded through a ``local-dir:`` folder, one
   per image pace in ``--siglip-image-rps`` (the default 8/s, then the maximum 50/s), beside the
   encoder-only figure for the same images and chunk size: the default pace shows what an
   operator gets, the maximum whether the pipeline keeps the encoder busy (issue 8's target).

The fake runs in its own process (so it does not compete with the pipeline for the GIL) and
serves ``--image-size`` JPEG/PNG photos (500×600 like Musinsa's ``_500`` images).

    python -m bench.sync            # full run, writes the "sync" section of BENCHMARKS.md
    python -m bench.sync --quick    # 600 products, 16 with SigLIP: proves the script works
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/sync.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import markdown_table, write_section
from indexer.config import (
    DataSettings,
    ImageSettings,
    ModelSettings,
    MusinsaSettings,
    Settings,
    StoreSettings,
    SyncSettings,
)
from indexer.sync import SyncProgress, SyncSummary

LEAVES = ("001004", "001001", "001005", "002022", "003002", "004001", "103004")
CODES = ["001", "002", "003", "004", "103"]
PAGE_SIZE = 100
IMAGE_POOL = 128  # distinct photos the fake serves (by product), rendered before the clock starts
UNPACED_IMAGES_PER_SECOND = 10_000.0  # above the config's limit of 50: only for measuring overhead


# ---- the fake, in its own process -----------------------------------------------------------


def _serve_fake(count: int, seed: int, image_size: tuple[int, int], conn: Any) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.fakes.musinsa import FakeMusinsa
    from tests.fakes.musinsa_catalog import FakeCatalog, FakeProduct, render_image

    # Rendering a 500×600 photo costs the fake ~12 ms: drawn on demand it would be the bottleneck
    # being measured. A pool rendered up front keeps the fake's cost out of the figures.
    pool = {fmt: [render_image(i, image_size, fmt) for i in range(IMAGE_POOL)] for fmt in ("JPEG", "PNG")}

    def pooled(product: FakeProduct, *, detail: bool) -> bytes:
        fmt = "PNG" if product.image_path.endswith(".png") and not detail else "JPEG"
        return pool[fmt][product.image_seed % IMAGE_POOL]

    async def main() -> None:
        catalog = FakeCatalog.generate(seed=seed, count=count, categories=LEAVES)
        async with FakeMusinsa(catalog, image_size=image_size) as fake:
            fake._image_for = pooled  # type: ignore[method-assign]
            conn.send(fake.url)
            await asyncio.Event().wait()

    asyncio.run(main())


class FakeServer:
    def __init__(self, count: int, image_size: tuple[int, int], seed: int = 3) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self.process = context.Process(target=_serve_fake, args=(count, seed, image_size, child), daemon=True)
        self.process.start()
        if not parent.poll(120):
            self.process.terminate()
            raise RuntimeError("the fake Musinsa did not start within 120 s")
        self.url: str = parent.recv()

    def close(self) -> None:
        self.process.terminate()
        self.process.join(10)


# ---- measuring one sync ---------------------------------------------------------------------


class Timeline(SyncProgress):
    """When the slow steps began, to time the final index build and switch."""

    def __init__(self) -> None:
        self.steps: list[tuple[float, str]] = []
        self.finished = 0.0

    def step(self, text: str) -> None:
        self.steps.append((time.perf_counter(), text))

    def seconds_from(self, prefix: str) -> float:
        started = next((at for at, text in self.steps if text.startswith(prefix)), None)
        return self.finished - started if started is not None else 0.0


class CountingEncoder:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0
        self.model_id, self.dimension, self.image_size = inner.model_id, inner.dimension, inner.image_size

    def embed_images(self, images: Any) -> Any:
        self.calls += 1
        return self.inner.embed_images(images)


def config(url: str, data: Path, model: str, *, listing_rps: float, images: ImageSettings) -> Settings:
    musinsa = MusinsaSettings(
        api_url=url,
        web_url=url,
        image_url=url,
        categories=CODES,
        page_size=PAGE_SIZE,
        requests_per_second=listing_rps,
        max_concurrency=4,
        backoff_seconds=0.05,
        timeout_seconds=60.0,
    )
    return Settings(
        musinsa=musinsa,
        images=images,
        sync=SyncSettings(),
        data=DataSettings(dir=str(data)),
        model=ModelSettings(name=model),
    )


def unpaced_images(concurrency: int) -> ImageSettings:
    values = {
        **ImageSettings().model_dump(),
        "requests_per_second": UNPACED_IMAGES_PER_SECOND,
        "download_concurrency": concurrency,
    }
    return ImageSettings.model_construct(**values)  # bypasses the le=50 limit on purpose


async def timed_sync(settings: Settings, store: Path, encoder: Any) -> tuple[SyncSummary, Timeline, float]:
    from indexer.store import open_catalog
    from indexer.sync import run_sync

    catalog = await open_catalog(StoreSettings(path=str(store)))
    timeline = Timeline()
    try:
        started = time.perf_counter()
        summary = await run_sync(settings, catalog=catalog, encoder=encoder, progress=timeline)
        timeline.finished = time.perf_counter()
        total = timeline.finished - started
    finally:
        await catalog.close()
    if summary.error:
        raise RuntimeError(f"the sync failed: {summary.error}")
    return summary, timeline, total


def describe(label: str, summary: SyncSummary, timeline: Timeline, total: float, pace: str) -> list[object]:
    return [
        label,
        summary.crawled,
        summary.embedded,
        f"{total:.1f}",
        f"{summary.crawl_seconds:.1f}",
        f"{summary.embed_seconds:.1f}",
        f"{timeline.seconds_from('building the search index'):.1f}",
        f"{summary.embedded / total:.1f}" if summary.embedded else "0",
        pace,
    ]


# ---- the benchmarks -------------------------------------------------------------------------


def bench_tiny(products: int, image_size: tuple[int, int], listing_rps: float, workdir: Path) -> str:
    from indexer.embedding import Encoder
    from tests.tiny_model import build_tiny_model

    model_dir = build_tiny_model(workdir / "tiny-clip")
    encoder = CountingEncoder(Encoder.from_settings(ModelSettings(name=f"local-dir:{model_dir}")))
    server = FakeServer(products, image_size)
    try:
        store, data = workdir / "tiny-index", workdir / "tiny-data"
        cold_settings = config(
            server.url, data, f"local-dir:{model_dir}", listing_rps=20.0, images=unpaced_images(16)
        )
        print(f"cold sync of {products} products (tiny model)…", flush=True)
        cold, cold_timeline, cold_total = asyncio.run(timed_sync(cold_settings, store, encoder))
        print(f"  {cold.headline()}", flush=True)
        warm_settings = config(
            server.url, data, f"local-dir:{model_dir}", listing_rps=listing_rps, images=ImageSettings()
        )
        encoder.calls = 0
        print(f"warm sync, listing paced at {listing_rps:g} requests/s…", flush=True)
        warm, warm_timeline, warm_total = asyncio.run(timed_sync(warm_settings, store, encoder))
        print(f"  {warm.headline()}", flush=True)
    finally:
        server.close()
    pages = sum(category.pages for category in warm.categories)
    rows = [
        describe("cold", cold, cold_timeline, cold_total, "listing 20/s, images unpaced (16 in flight)"),
        describe("warm, nothing changed", warm, warm_timeline, warm_total, f"listing {listing_rps:g}/s"),
    ]
    return (
        f"Tiny test model (32-d, 32 px), {products} products over {len(CODES)} categories "
        f"({PAGE_SIZE} per listing page), {image_size[0]}×{image_size[1]} images, embedded Edge index, "
        f"chunks of {SyncSettings().embed_batch_size}. Columns: crawl = listing pages; encoder = time "
        "inside `embed_images`; index build + switch = the new version's HNSW build in a child "
        "process and the switch to it.\n\n"
        + markdown_table(
            [
                "sync",
                "crawled",
                "embedded",
                "seconds",
                "crawl s",
                "encoder s",
                "index build + switch s",
                "img/s end to end",
                "pacing",
            ],
            rows,
        )
        + f"\n\nWarm sync: {warm.embedded} embeddings, {encoder.calls} encoder calls, {pages} listing pages. "
        f"At the default listing pace of {MusinsaSettings().requests_per_second:g} requests/s those pages "
        f"alone take ≥ {pages / MusinsaSettings().requests_per_second:.0f} s. A cold sync at the default "
        f"image pace ([images] requests_per_second = {ImageSettings().requests_per_second:g}) takes "
        f"≥ {products / ImageSettings().requests_per_second / 60:.0f} min for the downloads alone "
        f"(the configurable maximum, 50/s: ≥ {products / 50 / 60:.1f} min)."
    )


def build_siglip_folder(folder: Path) -> Path:
    """A ``local-dir:`` folder with random ViT-B-16-SigLIP weights (no download)."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    from indexer.embedding.loading import quiet_open_clip_info

    folder.mkdir(parents=True, exist_ok=True)
    with quiet_open_clip_info():
        model_cfg = open_clip.get_model_config("ViT-B-16-SigLIP")
        torch.manual_seed(0)
        model = open_clip.create_model("ViT-B-16-SigLIP", pretrained=None)
    preprocess_cfg = {
        "size": 224,
        "mean": [0.5, 0.5, 0.5],
        "std": [0.5, 0.5, 0.5],
        "interpolation": "bicubic",
        "resize_mode": "squash",
    }
    (folder / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": model_cfg, "preprocess_cfg": preprocess_cfg}), encoding="utf-8"
    )
    weights = {name: tensor.detach().contiguous().clone() for name, tensor in model.state_dict().items()}
    save_file(weights, str(folder / "open_clip_model.safetensors"))
    return folder


def encoder_only(encoder: Any, url: str, count: int, chunk: int, image_size: int) -> float:
    """img/s of ``embed_images`` alone on the same fake photos, decoded the same way, same chunk size."""
    from indexer.images import ImageDecoder
    from indexer.musinsa import MusinsaClient

    async def photos() -> list[bytes]:
        settings = MusinsaSettings(api_url=url, web_url=url, image_url=url, page_size=min(count, 100))
        async with MusinsaClient(settings) as client:
            page = await client.crawl_category(CODES[0], max_pages=1)
            return [await client.fetch_image(p.image_url) for p in page.products[:count]]

    decoder = ImageDecoder(ImageSettings(), image_size)
    images = [decoder.decode(data) for data in asyncio.run(photos())][:chunk]
    encoder.embed_images(images)  # warm-up
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        encoder.embed_images(images)
        timings.append(time.perf_counter() - started)
    return len(images) / statistics.median(timings)


def bench_siglip(products: int, image_size: tuple[int, int], paces: list[float], workdir: Path) -> str:
    """Cold syncs with the default model shape and precision, at each image pace: which one binds, the
    downloads or the encoder, and does the pipeline keep the encoder busy when the downloads do not?"""
    from PIL import Image

    from indexer.embedding import Encoder
    from indexer.embedding.policy import cpu_has_native_bf16

    folder = build_siglip_folder(workdir / "vit-b-16-siglip-random")
    name = f"local-dir:{folder}"
    encoder = Encoder.from_settings(ModelSettings(name=name))  # precision auto, as `snapfit sync` runs it
    encoder.embed_images([Image.new("RGB", image_size)] * 2)  # warm-up: a long sync pays it once
    chunk = SyncSettings().embed_batch_size
    default_pace = ImageSettings().requests_per_second
    server = FakeServer(products, image_size, seed=4)
    runs: list[tuple[float, int, float, float]] = []  # (pace, embedded, seconds, encoder seconds)
    try:
        for number, pace in enumerate(paces):
            images = ImageSettings(requests_per_second=pace)
            settings = config(
                server.url, workdir / f"siglip-data-{number}", name, listing_rps=20.0, images=images
            )
            print(
                f"cold sync of {products} products (SigLIP, {encoder.precision}, images {pace:g}/s)…",
                flush=True,
            )
            summary, _timeline, total = asyncio.run(
                timed_sync(settings, workdir / f"siglip-index-{number}", encoder)
            )
            print(f"  {summary.headline()}", flush=True)
            runs.append((pace, summary.embedded, total, summary.embed_seconds))
        alone = encoder_only(encoder, server.url, chunk, chunk, encoder.image_size)
    finally:
        server.close()

    def pace_label(pace: float) -> str:
        return f"{pace:g}/s" + (" (the default)" if pace == default_pace else "")

    rows = [
        [
            f"sync pipeline, images paced at {pace_label(pace)}",
            embedded,
            f"{seconds:.1f}",
            f"{embedded / seconds:.2f}",
            f"{encoder_seconds:.1f}",
            f"{embedded / encoder_seconds:.2f}",
        ]
        for pace, embedded, seconds, encoder_seconds in runs
    ]
    rows.append(
        [
            f"encoder only (`embed_images`, batch {chunk})",
            chunk,
            f"{chunk / alone:.1f}",
            f"{alone:.2f}",
            f"{chunk / alone:.1f}",
            f"{alone:.2f}",
        ]
    )
    ratios = "; ".join(
        f"at {pace_label(pace)}: {embedded / seconds / alone:.0%} end to end, the encoder itself at "
        f"{embedded / encoder_seconds / alone:.0%} of its solo speed, {seconds - encoder_seconds:.1f} s "
        "outside it"
        for pace, embedded, seconds, encoder_seconds in runs
    )
    fastest = max(runs, key=lambda run: run[1] / run[2])
    pace, embedded, seconds, _ = fastest
    rate = embedded / seconds
    if encoder.precision != "bf16":
        target = (
            "\n\nNo native bf16 on this CPU, so the run is fp32 and the target of issue 8 "
            "(≥ 90 % of the bf16 limit) is not measured here."
        )
    else:
        verdict = "met" if rate / alone >= 0.9 else "missed"
        target = (
            f"\n\nTarget of issue 8, indexing ≥ 90 % of the bf16 limit: **{verdict}**, {rate:.2f} img/s = "
            f"{rate / alone:.0%} of {alone:.2f} img/s with images paced at {pace:g}/s (bf16, same images; "
            "`bench.embed` measures the same limit on its own)."
        )
    where = (
        "\n\nWhere the gap goes: the time outside the encoder is the listing crawl, the first chunk's "
        "downloads and the index build, paid once per sync; the rest is the encoder running slower than "
        "alone, because on two cores the downloads, decoding, upserts and the fake Musinsa (a process on "
        "the same machine) compete with torch's two threads for the cores and the GIL. A pace below the "
        "encoder's speed binds only when the downloads, not the encoder, are the slower step: compare "
        "the rows."
    )
    return (
        f"Random-weight ViT-B-16-SigLIP ({encoder.dimension}-d, {encoder.image_size} px, precision auto → "
        f"{encoder.precision}; native bf16 on this CPU: {'yes' if cpu_has_native_bf16() else 'no'}) loaded "
        f"from a `local-dir:` folder and warmed up, {products} products per sync, chunks of {chunk}. The "
        "pipeline downloads the next chunk while the encoder runs; the first chunk's downloads and the index "
        "build are fixed costs that a longer sync spreads thinner."
        + "\n\n"
        + markdown_table(
            ["what", "images", "seconds", "img/s", "encoder s", "encoder img/s"],
            rows,
        )
        + "\n\nPipeline / encoder-only: "
        + ratios
        + "."
        + where
        + target
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="600 products, 16 with SigLIP")
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--siglip-products", type=int, default=400)
    parser.add_argument(
        "--siglip-image-rps",
        type=float,
        nargs="+",
        default=[ImageSettings().requests_per_second, 50.0],
        help="image paces of the SigLIP syncs, one sync each (default: the default, then the maximum)",
    )
    parser.add_argument("--listing-rps", type=float, default=None, help="warm sync listing pace")
    parser.add_argument("--image-size", default="500x600", help="fake catalog photo size, WxH")
    args = parser.parse_args()
    products, siglip = (600, 16) if args.quick else (args.products, args.siglip_products)
    listing_rps = args.listing_rps or (20.0 if args.quick else MusinsaSettings().requests_per_second)
    width, height = (int(v) for v in args.image_size.lower().split("x"))
    workdir = Path(tempfile.mkdtemp(prefix="snapfit-bench-sync-"))
    try:
        tiny = bench_tiny(products, (width, height), listing_rps, workdir)
        large = bench_siglip(siglip, (width, height), args.siglip_image_rps, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    note = "Quick run (`--quick`): indicative only.\n\n" if args.quick else ""
    write_section(
        "sync",
        "Sync: cold and warm",
        note
        + "### Pipeline overhead (tiny model)\n\n"
        + tiny
        + "\n\n### With a ViT-B-16-SigLIP-shaped model\n\n"
        + large,
    )
    print("\n" + tiny + "\n\n" + large)


if __name__ == "__main__":
    main()
