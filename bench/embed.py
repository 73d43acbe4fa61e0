"""Encoder throughput (fp32 vs bf16, batch 1/8/32) and 12 MP JPEG decode time with and without draft mode.

The model is a randomly initialised ViT-B-16-SigLIP (the architecture of the default
Marqo-FashionSigLIP; speed does not depend on the weights), run through ``Encoder`` with
SigLIP preprocessing, so the figures include preprocessing, autocast and re-normalisation.
Inputs are 500×600 RGB images, the size of Musinsa catalogue photos.

    python -m bench.embed            # full run, writes the "embed" section of BENCHMARKS.md
    python -m bench.embed --quick    # batch 1 and 8, one timed run each: proves the script works
"""

from __future__ import annotations

import argparse
import functools
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):  # run as `python bench/embed.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image, ImageDraw

from bench.report import markdown_table, median_seconds, write_section
from indexer.images import decode

if TYPE_CHECKING:
    from indexer.embedding import Encoder

ARCHITECTURE = "ViT-B-16-SigLIP"
SIGLIP_PREPROCESS = {
    "size": (224, 224),
    "mode": "RGB",
    "mean": (0.5, 0.5, 0.5),
    "std": (0.5, 0.5, 0.5),
    "interpolation": "bicubic",
    "resize_mode": "squash",
    "fill_color": 0,
}


def catalogue_images(count: int, seed: int = 0) -> list[Image.Image]:
    """Product-photo-like 500×600 images: a light background, a few shapes, some texture."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        base = np.full((600, 500, 3), 235, dtype=np.int16) + rng.integers(-12, 12, size=(600, 500, 3))
        image = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(4):
            x, y = (int(v) for v in rng.integers(0, 400, size=2))
            colour = tuple(int(v) for v in rng.integers(0, 255, size=3))
            draw.rectangle(
                (x, y, x + int(rng.integers(40, 200)), y + int(rng.integers(40, 300))), fill=colour
            )
        images.append(image)
    return images


def phone_photo_jpeg(width: int = 4000, height: int = 3000, seed: int = 0) -> bytes:
    """A 12 MP JPEG with gradients, shapes and sensor-like noise, so it compresses like a photo."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, width, dtype=np.float32)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    pixels = np.stack([200 * x + 30 * y, 80 + 120 * y + 0 * x, 180 - 120 * x * y], axis=-1)
    pixels += rng.normal(0, 6, size=(height, width, 1)).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x0, y0 = int(rng.integers(0, width - 400)), int(rng.integers(0, height - 400))
        colour = tuple(int(v) for v in rng.integers(0, 255, size=3))
        draw.ellipse((x0, y0, x0 + int(rng.integers(50, 400)), y0 + int(rng.integers(50, 400))), fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def build_encoder(precision: str, threads: int) -> Encoder:
    import open_clip

    from indexer.embedding import Encoder, LoadedModel
    from indexer.embedding.loading import quiet_open_clip_info

    with quiet_open_clip_info():
        model = open_clip.create_model(ARCHITECTURE, pretrained=None)
    loaded = LoadedModel(
        model=model,
        label=ARCHITECTURE,
        weights="random",
        preprocess_cfg=dict(SIGLIP_PREPROCESS),
        tokenizer_name=ARCHITECTURE,
    )
    return Encoder(loaded, device="cpu", precision=precision, threads=threads)


def bench_precision(precision: str, batch_sizes: list[int], runs: int, threads: int) -> list[list[object]]:
    encoder = build_encoder(precision, threads)
    rows: list[list[object]] = []
    for batch_size in batch_sizes:
        images = catalogue_images(batch_size)
        encoder.embed_images(images)  # warm-up at this batch size
        seconds = median_seconds(functools.partial(encoder.embed_images, images), runs)
        rows.append(
            [precision, batch_size, f"{batch_size / seconds:.2f}", f"{1000 * seconds / batch_size:.0f}"]
        )
        print(f"{precision} batch {batch_size}: {batch_size / seconds:.2f} img/s", flush=True)
    return rows


def bench_encoder(batch_sizes: list[int], runs: int, threads: int) -> str:
    from indexer.embedding.policy import cpu_has_native_bf16

    rows = [
        row
        for precision in ("fp32", "bf16")
        for row in bench_precision(precision, batch_sizes, runs, threads)
    ]
    native = (
        "yes" if cpu_has_native_bf16() else "no (bf16 is emulated here: expect it to be slower than fp32)"
    )
    return (
        f"Random-weight {ARCHITECTURE} through `Encoder.embed_images` (preprocessing included) on 500×600 "
        f"images, CPU, {threads or 'default'} torch threads, median of {runs} run(s) after a warm-up. "
        f"Native bf16 on this CPU: {native}.\n\n"
        + markdown_table(["precision", "batch", "img/s", "ms/img"], rows)
    )


def bench_decode(runs: int) -> str:
    data = phone_photo_jpeg()
    limits = {"max_bytes": 50_000_000, "max_pixels": 50_000_000}
    rows = []
    for label, draft_size in (("full decode", None), ("draft 448 (224-px model)", 448)):
        decoded = decode(data, draft_size=draft_size, **limits)
        seconds = median_seconds(
            lambda draft_size=draft_size: decode(data, draft_size=draft_size, **limits), runs
        )
        rows.append([label, f"{decoded.width}×{decoded.height}", f"{1000 * seconds:.1f}"])
        print(f"decode {label}: {1000 * seconds:.1f} ms", flush=True)
    return (
        f"`indexer.images.decode` of a 4000×3000 JPEG ({len(data) / 1e6:.1f} MB, quality 90), "
        f"median of {runs} runs.\n\n" + markdown_table(["mode", "decoded size", "ms"], rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 1 and 8 only, fewer runs")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = parser.parse_args()
    batch_sizes, runs, decode_runs = ([1, 8], 1, 3) if args.quick else ([1, 8, 32], 3, 11)
    decode_section = bench_decode(decode_runs)
    encoder_section = bench_encoder(batch_sizes, runs, args.threads)
    note = "Quick run (`--quick`): indicative only.\n\n" if args.quick else ""
    write_section(
        "embed",
        "Image encoder throughput and JPEG decoding",
        note + "### Encoder\n\n" + encoder_section + "\n\n### Decoding a 12 MP photo\n\n" + decode_section,
    )


if __name__ == "__main__":
    main()
