"""Photo → reply end to end: the real pipeline in-process, then the full bot path through the fake Telegram.

What runs is what the bot runs, built by ``BotServices.open`` from settings (nothing re-wired):

- **Index:** an embedded (Edge) index of ``--products`` (100 000) products. The products come from
  the fake Musinsa's catalogue through the real listing parser; their vectors are synthetic
  768-d unit vectors in a narrow cone (like image embeddings), written under the query model's id,
  because embedding 100 000 catalogue photos with ViT-B-16 would take this CPU half a day.
- **Model:** a random-weight ViT-B-16-SigLIP (the default Marqo-FashionSigLIP's shape) loaded
  from a ``local-dir:`` folder, ``[model]`` defaults otherwise (``precision = auto``).
- **Queries:** ``--photos`` distinct 12 MP phone-like JPEGs (4000×3000 sensor, EXIF orientation
  1/6/8/3, 1–3 MB), cycled.

Measured:

1. **In-process compute** at concurrency 1, 8 and 32: ``SearchService.search_image`` (decode →
   embed through the micro-batcher → search) and render (session, captions, header, buttons),
   p50/p95/p99 per stage and in total, throughput and the peak RSS of each level.
2. **Memory over ``--memory-queries`` (10 000) queries** at concurrency 8: RSS every 1 000
   queries. With ``--memory-model tiny`` (default) the query model is the tests' tiny open_clip
   model (so 10 000 queries take minutes, not an hour) over a 100 000-product index of its own
   dimension; decoding, search, sessions and rendering are the real ones.
3. **The bot path** at concurrency 1, 8 and 32: users of the fake Telegram (in this process,
   sharing its cores) send the photos as files (Telegram keeps a file's full resolution); the
   time runs from the update being queued to the message with buttons under the album. The bot's
   own stage timings (download from Telegram, decode, embed, search, reply: album and buttons
   sent) come from its ``TimingsLog``. Product photos come from the fake Musinsa (another thread).

    python -m bench.e2e            # full run, writes the "e2e" section of BENCHMARKS.md
    python -m bench.e2e --quick    # 20 000 products, few queries: proves the script works
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if __package__ in (None, ""):  # run as `python bench/e2e.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image, ImageDraw

from bench.report import markdown_table, write_section
from bench.sync import build_siglip_folder

if TYPE_CHECKING:
    from bot.services import BotServices
    from indexer.config import Settings
    from indexer.product import Product
    from tests.fakes.musinsa import FakeMusinsa

LEAVES = ("001004", "001001", "001005", "002022", "003002", "004001", "103004")
ORIENTATIONS = (1, 6, 8, 3)  # as shot, rotated 90° CW, 90° CCW, upside down
UPSERT_CHUNK = 2000
STAGES = ("decode", "embed", "search", "render")
BOT_STAGES = ("download", "decode", "embed", "search", "reply")
TARGET_C1_P50_MS = 150
TARGET_C32_P95_MS = 400


# ---------------------------------------------------------------------------------------------- inputs


def phone_photo(seed: int, orientation: int) -> bytes:
    """A 12 MP JPEG as a phone writes it: 4000×3000 sensor pixels, an EXIF orientation, 1–3 MB."""
    rng = np.random.default_rng(seed)
    width, height = 4000, 3000
    x = np.linspace(0, 1, width, dtype=np.float32)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    base = np.stack([170 + 40 * x + 20 * y, 150 + 60 * y + 0 * x, 140 - 40 * x * y], axis=-1)
    base += rng.normal(0, 4, size=(height, width, 1)).astype(np.float32)
    image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(40):  # a figure's garments and the scene around it
        x0, y0 = int(rng.integers(0, width - 600)), int(rng.integers(0, height - 600))
        colour = tuple(int(v) for v in rng.integers(0, 255, size=3))
        box = (x0, y0, x0 + int(rng.integers(80, 600)), y0 + int(rng.integers(80, 600)))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "snapfit-bench"  # Make
    for quality in (92, 88, 84, 80, 75, 70):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, exif=exif)
        if buffer.tell() <= 3_000_000:
            break
    data = buffer.getvalue()
    if not 1_000_000 <= len(data) <= 3_000_000:
        raise RuntimeError(f"phone photo {seed} is {len(data)} bytes, outside 1-3 MB")
    return data


def cone_vectors(count: int, dimension: int, seed: int = 0) -> np.ndarray:
    """Unit vectors around a shared direction with clusters, like image embeddings (not uniform noise)."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(size=dimension)
    centres = rng.normal(size=(max(50, count // 400), dimension))
    rows = np.empty((count, dimension), dtype=np.float32)
    for start in range(0, count, 20_000):
        part = slice(start, min(count, start + 20_000))
        size = part.stop - part.start
        picked = centres[rng.integers(0, len(centres), size)]
        noise = rng.normal(scale=0.7, size=(size, dimension))
        block = 0.8 * shared + picked + noise
        rows[part] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return rows


def catalogue_products(fake: FakeMusinsa) -> list[Product]:
    """The fake's products as the crawler reads them: listing JSON through the real parser."""
    from indexer.musinsa.listing import parse_item
    from tests.fakes.musinsa_catalog import listing_item

    now = datetime.now(UTC)
    return [
        parse_item(
            listing_item(product, fake.url),
            category=product.category,
            image_host=fake.url,
            web_url=fake.url,
            crawled_at=now,
        )
        for product in fake.catalog
    ]


async def build_index(
    path: Path, products: list[Product], model_id: str, model_name: str, dimension: int
) -> float:
    """Commit ``products`` with synthetic vectors as the live index version; seconds taken."""
    from indexer.config import StoreSettings
    from indexer.store import open_catalog

    started = time.perf_counter()
    vectors = cone_vectors(len(products), dimension)
    catalog = await open_catalog(StoreSettings(path=str(path)))
    try:
        rebuild = await catalog.begin_rebuild(model_id, model_name, dimension)
        for start in range(0, len(products), UPSERT_CHUNK):
            chunk = list(
                zip(
                    products[start : start + UPSERT_CHUNK], vectors[start : start + UPSERT_CHUNK], strict=True
                )
            )
            await rebuild.upsert(chunk, model_id=model_id)
        await rebuild.commit()
    finally:
        await catalog.close()
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------------- measuring


def rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS since the last ``reset_peak_rss``) in MB, from /proc/self/status."""
    fields = dict(
        line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def reset_peak_rss() -> None:
    with contextlib.suppress(OSError):  # Linux: "5" resets VmHWM to the current RSS
        Path("/proc/self/clear_refs").write_text("5")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


@dataclass
class Level:
    concurrency: int
    samples: list[dict[str, float]] = field(default_factory=list)  # seconds per stage, "total"
    # The bot's own stage timings (its TimingsLog), when they are not in ``samples``.
    stage_samples: list[dict[str, float]] = field(default_factory=list)
    wall: float = 0.0
    peak_rss: float = 0.0
    errors: int = 0

    def row(self, stages: tuple[str, ...]) -> list[object]:
        cells: list[object] = [self.concurrency, len(self.samples)]
        for stage in (*stages, "total"):
            cells.append("/".join(f"{self.p(stage, q):.0f}" for q in (50, 95, 99)))
        cells.append(f"{len(self.samples) / self.wall:.2f}" if self.wall else "–")
        cells.append(f"{self.peak_rss:.0f}")
        if self.errors:
            cells[-1] = f"{cells[-1]} ({self.errors} errors)"
        return cells

    def p(self, stage: str, q: float) -> float:
        source = self.stage_samples if stage != "total" and self.stage_samples else self.samples
        return percentile([1000 * sample[stage] for sample in source if stage in sample], q)


async def run_workers(concurrency: int, count: int, one: Callable[[int], Awaitable[None]]) -> float:
    """``count`` calls of ``one(i)`` by ``concurrency`` workers; the wall time."""
    counter = itertools.count()

    async def worker() -> None:
        while (index := next(counter)) < count:
            await one(index)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def compute_query(services: BotServices, data: bytes) -> dict[str, float]:
    """One photo through the bot's search and render code, without Telegram: seconds per stage."""
    from bot.render import caption, results_header, results_keyboard
    from bot.timing import StageTimings

    timings = StageTimings()
    started = time.perf_counter()
    page_size = services.settings.telegram.results_per_page
    result = await services.search.search_image(data, limit=page_size, timings=timings)
    rendered = time.perf_counter()
    session = services.sessions.create(
        "photo", user_id=0, category=None, page_size=page_size, query=result.query
    )
    captions = [caption("en", rank, item.product) for rank, item in enumerate(result.items, start=1)]
    session.shown, session.next_offset, session.pages_sent = (
        [i.product.id for i in result.items],
        page_size,
        1,
    )
    results_header("en", first=1, last=len(captions), category=None)
    results_keyboard(
        "en", search_id=session.id, first_rank=1, count=len(captions), next_page=2, category=None
    )
    done = time.perf_counter()
    if len(result.items) != page_size:
        raise RuntimeError(f"expected {page_size} results, got {len(result.items)}")
    return {**dict(timings.seconds), "render": done - rendered, "total": done - started}


async def compute_levels(settings: Settings, photos: list[bytes], counts: dict[int, int]) -> list[Level]:
    from bot.services import BotServices

    services = await BotServices.open(settings)
    try:
        for data in photos[:2]:  # warm-up: first passes, allocator, index pages
            await compute_query(services, data)
        levels = []
        for concurrency, count in counts.items():
            level = Level(concurrency)
            gc.collect()
            reset_peak_rss()

            async def one(index: int, level: Level = level) -> None:
                level.samples.append(await compute_query(services, photos[index % len(photos)]))

            level.wall = await run_workers(concurrency, count, one)
            level.peak_rss = rss_mb()[1]
            levels.append(level)
            print(f"compute c={concurrency}: {level.row(STAGES)}", flush=True)
        return levels
    finally:
        await services.close()


async def memory_run(settings: Settings, photos: list[bytes], total: int, step: int) -> list[list[object]]:
    """RSS every ``step`` queries over ``total`` queries at concurrency 8."""
    from bot.services import BotServices

    services = await BotServices.open(settings)
    rows: list[list[object]] = []
    try:
        done = 0
        started = time.perf_counter()
        rows.append([0, f"{rss_mb()[0]:.0f}", "–", len(services.sessions)])
        while done < total:
            batch = min(step, total - done)

            async def one(index: int, offset: int = done) -> None:
                await compute_query(services, photos[(offset + index) % len(photos)])

            await run_workers(8, batch, one)
            done += batch
            current, _ = rss_mb()
            rows.append(
                [done, f"{current:.0f}", f"{time.perf_counter() - started:.0f}", len(services.sessions)]
            )
            print(
                f"memory: {done} queries, RSS {current:.0f} MB, {len(services.sessions)} sessions", flush=True
            )
    finally:
        await services.close()
    return rows


async def bot_levels(
    settings_for: Callable[[Any], Settings], photos: list[bytes], counts: dict[int, int]
) -> list[Level]:
    """The full bot path: fake Telegram users send the photos as files; time to the buttons message."""
    from bot.app import build_application
    from tests.bot.world import next_album, next_text, running, services
    from tests.fakes.telegram import FakeTelegram
    from tests.fakes.telegram_ptb import TEST_TOKEN

    levels = []
    async with FakeTelegram(token=TEST_TOKEN) as fake:
        app = build_application(settings_for(fake))
        async with running(app):
            pending: list[dict[str, float]] = []

            def observe(kind: str, outcome: str, timings: Any) -> None:
                if kind == "photo":
                    pending.append({name: timings.seconds[name] for name in timings.seconds})

            services(app).timings.observers.append(observe)

            async def send(user_id: int, data: bytes) -> dict[str, float]:
                since = fake.mark()
                queued = time.monotonic()
                fake.push_document(user_id, data, "image/jpeg", file_name="IMG_0001.JPG")
                album = await next_album(fake, user_id, since)
                buttons = await next_text(fake, user_id, album.index, with_buttons=True)
                return {"total": buttons.time - queued}

            for index in range(2):  # warm-up: product photos uploaded once, reused afterwards
                fake.user(10_000 + index, "Warm", language_code="en")
                await send(10_000 + index, photos[index])
            for concurrency, count in counts.items():
                users = [20_000 + 100 * concurrency + n for n in range(concurrency)]
                for user_id in users:
                    fake.user(user_id, f"User {user_id}", language_code="en")
                level = Level(concurrency)
                pending.clear()
                gc.collect()
                reset_peak_rss()
                queue = itertools.count()
                started = time.perf_counter()

                async def user_loop(
                    user_id: int, level: Level = level, count: int = count, queue: Any = queue
                ) -> None:
                    while (index := next(queue)) < count:
                        try:
                            level.samples.append(await send(user_id, photos[index % len(photos)]))
                        except AssertionError:
                            level.errors += 1

                await asyncio.gather(*(user_loop(user_id) for user_id in users))
                level.wall = time.perf_counter() - started
                level.peak_rss = rss_mb()[1]
                level.stage_samples = list(pending)
                levels.append(level)
                print(f"bot c={concurrency}: {level.row(BOT_STAGES)}", flush=True)
        if fake.violations:
            raise RuntimeError(f"the bot broke Telegram's rules: {fake.violations}")
    return levels


# ----------------------------------------------------------------------------------------------- main


def settings_for(
    model: str, store: Path, data_dir: Path, fake: FakeMusinsa, precision: str, telegram: Any = None
) -> Settings:
    from indexer.config import (
        DataSettings,
        GarmentSettings,
        ImageSettings,
        MetricsSettings,
        ModelSettings,
        ScheduleSettings,
        Settings,
        StoreSettings,
        TelegramSettings,
    )

    telegram_settings = TelegramSettings()
    if telegram is not None:
        from tests.fakes.telegram_ptb import TEST_TOKEN

        telegram_settings = TelegramSettings(
            token=TEST_TOKEN,
            base_url=telegram.base_url,
            base_file_url=telegram.base_file_url,
            photos_per_minute=10_000,
        )
    return Settings(
        telegram=telegram_settings,
        musinsa=fake.musinsa_settings(),
        images=ImageSettings(requests_per_second=50.0),
        model=ModelSettings(name=model, precision=precision),  # type: ignore[arg-type]
        store=StoreSettings(path=str(store)),
        data=DataSettings(dir=str(data_dir)),
        schedule=ScheduleSettings(enabled=False, sync_when_empty=False),
        metrics=MetricsSettings(enabled=False),
        garments=GarmentSettings(enabled=False),  # bench/garments.py measures the garment pick
    )


@contextlib.contextmanager
def fake_musinsa(products: int) -> Iterator[FakeMusinsa]:
    from tests.fakes.musinsa import FakeMusinsa
    from tests.fakes.musinsa_catalog import FakeCatalog

    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    with FakeMusinsa.in_thread(FakeCatalog.generate(seed=7, count=products, categories=LEAVES)) as fake:
        yield fake


def verdict(met: bool) -> str:
    return "**met**" if met else "**missed**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k products, a few queries per level")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=8, help="distinct 12 MP query photos")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    parser.add_argument("--memory-queries", type=int, default=10_000)
    parser.add_argument("--memory-model", choices=("tiny", "siglip"), default="tiny")
    parser.add_argument("--skip-bot", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print, do not update BENCHMARKS.md")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)

    if args.quick:
        args.products, args.photos, args.memory_queries = 20_000, 4, 400
    compute_counts = {1: 8, 8: 16, 32: 32} if args.quick else {1: 24, 8: 64, 32: 128}
    bot_counts = {1: 4, 8: 8, 32: 32} if args.quick else {1: 12, 8: 32, 32: 64}

    started = time.perf_counter()
    photos = [phone_photo(seed, ORIENTATIONS[seed % len(ORIENTATIONS)]) for seed in range(args.photos)]
    sizes = [len(photo) / 1e6 for photo in photos]
    print(
        f"{len(photos)} photos, {min(sizes):.1f}-{max(sizes):.1f} MB, {time.perf_counter() - started:.0f} s"
    )

    with tempfile.TemporaryDirectory(prefix="snapfit-e2e-") as tmp, fake_musinsa(args.products) as fake:
        work = Path(tmp)
        from indexer.config import ModelSettings
        from indexer.embedding import Encoder

        model_name = f"local-dir:{build_siglip_folder(work / 'siglip')}"
        encoder = Encoder.from_settings(ModelSettings(name=model_name, precision=args.precision))  # type: ignore[arg-type]
        model_id, dimension, precision = encoder.model_id, encoder.dimension, encoder.precision
        del encoder
        products = catalogue_products(fake)
        seconds = asyncio.run(build_index(work / "qdrant", products, model_id, model_name, dimension))
        print(f"index: {len(products)} products in {seconds:.0f} s")

        settings = settings_for(model_name, work / "qdrant", work / "data", fake, args.precision)
        compute = asyncio.run(compute_levels(settings, photos, compute_counts))

        bot: list[Level] = []
        if not args.skip_bot:
            bot = asyncio.run(
                bot_levels(
                    lambda telegram: settings_for(
                        model_name, work / "qdrant", work / "data", fake, args.precision, telegram
                    ),
                    photos,
                    bot_counts,
                )
            )

        memory: list[list[object]] = []
        memory_note = ""
        if not args.skip_memory:
            if args.memory_model == "tiny":
                from tests.tiny_model import build_tiny_model

                tiny = f"local-dir:{build_tiny_model(work / 'tiny')}"
                tiny_encoder = Encoder.from_settings(ModelSettings(name=tiny, precision=args.precision))  # type: ignore[arg-type]
                asyncio.run(
                    build_index(
                        work / "qdrant-tiny", products, tiny_encoder.model_id, tiny, tiny_encoder.dimension
                    )
                )
                memory_settings = settings_for(
                    tiny, work / "qdrant-tiny", work / "data", fake, args.precision
                )
                memory_note = (
                    f"the tests' tiny open_clip model ({tiny_encoder.dimension}-d) over its own "
                    f"{len(products)}-product index"
                )
                del tiny_encoder
            else:
                memory_settings = settings
                memory_note = "ViT-B-16-SigLIP over the same index"
            memory = asyncio.run(
                memory_run(memory_settings, photos, args.memory_queries, max(100, args.memory_queries // 10))
            )

    if args.no_write:
        return
    write_section(
        "e2e", "End to end: photo → reply", report(args, precision, photos, compute, bot, memory, memory_note)
    )


def report(
    args: argparse.Namespace,
    precision: str,
    photos: list[bytes],
    compute: list[Level],
    bot: list[Level],
    memory: list[list[object]],
    memory_note: str,
) -> str:
    import torch

    from indexer.embedding.policy import cpu_has_native_bf16

    by = {level.concurrency: level for level in compute}
    sizes = [len(photo) / 1e6 for photo in photos]
    quick = "Quick run (`--quick`): indicative only.\n\n" if args.quick else ""
    header = ["concurrency", "queries", *(f"{s} ms p50/p95/p99" for s in STAGES), "total ms p50/p95/p99"]
    lines = [
        f"{quick}Random-weight ViT-B-16-SigLIP (`local-dir:`, precision `{args.precision}` → {precision}; "
        f"native bf16 on this CPU: {'yes' if cpu_has_native_bf16() else 'no'}; "
        f"{torch.get_num_threads()} torch threads) over an embedded Qdrant Edge index of "
        f"{args.products:,} products (synthetic 768-d vectors, the fake Musinsa's products through the real "
        f"listing parser); {len(photos)} distinct 12 MP phone JPEGs ({min(sizes):.1f}–{max(sizes):.1f} MB, "
        "EXIF orientations 1/6/8/3), cycled. `embed` includes the wait in the micro-batcher "
        "(up to 8 photos a pass); `render` is the session, captions, header and buttons.",
        "",
        "### In-process: decode → embed → search → render",
        "",
        markdown_table([*header, "queries/s", "peak RSS MB"], [level.row(STAGES) for level in compute]),
        "",
    ]
    if bot:
        bot_header = ["concurrency", "queries", *(f"{s} ms p50/p95/p99" for s in BOT_STAGES)]
        lines += [
            "### The bot path, through the fake Telegram",
            "",
            "Each user sends a photo as a file and waits for the album and the buttons; `total` runs from "
            "the update being queued at the fake to the buttons message (long polling, getFile, download, "
            "the search, sendMediaGroup with cached product photos, sendMessage). The fake Telegram shares "
            "this process and its two cores, so the totals include some of its own work.",
            "",
            markdown_table(
                [*bot_header, "total ms p50/p95/p99", "queries/s", "peak RSS MB"],
                [level.row(BOT_STAGES) for level in bot],
            ),
            "",
        ]
    if memory:
        lines += [
            f"### Memory over {args.memory_queries:,} queries",
            "",
            f"Concurrency 8, {memory_note}; the bot keeps up to 4 096 searches (for More and Similar), "
            "so RSS grows until that cache is full, then must stay flat.",
            "",
            markdown_table(["queries", "RSS MB", "seconds", "searches kept"], memory),
            "",
        ]
    c1, c32 = by.get(1), by.get(32)
    lines += ["### Targets (issue 8)", ""]
    if c1 is not None:
        p50 = c1.p("total", 50)
        lines.append(
            f"- Compute p50 ≤ {TARGET_C1_P50_MS} ms at concurrency 1: {verdict(p50 <= TARGET_C1_P50_MS)}, "
            f"{p50:.0f} ms (embed {c1.p('embed', 50):.0f}, decode {c1.p('decode', 50):.0f}, "
            f"search {c1.p('search', 50):.1f}, render {c1.p('render', 50):.1f})."
        )
    if c32 is not None:
        p95, rate = c32.p("total", 95), len(c32.samples) / c32.wall
        lines.append(
            f"- p95 ≤ {TARGET_C32_P95_MS} ms at concurrency 32: {verdict(p95 <= TARGET_C32_P95_MS)}, "
            f"{p95:.0f} ms at {rate:.2f} queries/s. Throughput bounds it: 32 photos at once need at least "
            f"32 / {rate:.2f} = {32 / rate:.1f} s of this machine, and the target would need "
            f"{32 / (TARGET_C32_P95_MS / 1000):.0f} photos/s."
        )
    if memory:
        # Flat: from the first reading with the search cache full (else the middle one) to the last.
        readings = [(int(row[0]), float(str(row[1]))) for row in memory[1:]]
        full = [reading for reading, row in zip(readings, memory[1:], strict=True) if int(row[3]) >= 4096]
        start = full[0] if full else readings[len(readings) // 2]
        growth = readings[-1][1] - start[1]
        lines.append(
            f"- Memory flat over {args.memory_queries:,} queries: {verdict(abs(growth) <= 0.05 * start[1])}, "
            f"{growth:+.0f} MB from query {start[0]:,} ({start[1]:.0f} MB) to query {readings[-1][0]:,}."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
