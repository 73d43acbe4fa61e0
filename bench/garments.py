"""Garment parser time per photo (p50), fp32 vs bf16, and the time the garment pick adds to a photo.

The model is a randomly initialised SegFormer-B2 built from config (the architecture of the default
``mattmdjaga/segformer_b2_clothes``: 18 labels, 512×512 input; speed does not depend on the
weights, so nothing is downloaded), plus the B0 shape of ``segformer_b0_clothes`` in fp32 for
comparison, run through ``SegformerSegmenter`` and ``GarmentParser`` as
the bot runs it. The photo is a 960×1280 JPEG (the size Telegram delivers a phone photo in).

Timed per photo:

- parse: ``GarmentParser.parse`` on the decoded photo (image processor, forward pass, logits
  upsampled to the label map, argmax, boxes and crops);
- added: what the bot does before searching that it did not do without the parser: decode the
  photo for the parser, parse, and JPEG-encode the crops (the crop's search then replaces the whole
  photo's search: same cost). Asking (two or more garments) adds drawing the preview too.

    python -m bench.garments            # full run, writes the "garments" section of BENCHMARKS.md
    python -m bench.garments --quick    # a few runs: proves the script works

On a CPU without native bf16 the bf16 row is one pass (several minutes: SegFormer's convolutions
have no fast emulated-bf16 kernel), and ``--quick`` leaves it out; the bot itself then runs the
parser in fp32 (``SegformerSegmenter``).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):  # run as `python bench/garments.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image, ImageDraw

from bench.report import markdown_table, write_section
from indexer.config import GarmentSettings, ImageSettings
from indexer.images import ImageDecoder
from tests.tiny_segformer import CLOTHES_LABELS  # the real model's id2label, in id order

if TYPE_CHECKING:
    from indexer.clothes_parser.segformer import SegformerSegmenter

INPUT_SIZE = 512


# mattmdjaga/segformer_b2_clothes's config.json (the default), and segformer_b0_clothes's (same labels).
SHAPES: dict[str, dict[str, object]] = {
    "B2": {
        "depths": [3, 4, 6, 3],
        "hidden_sizes": [64, 128, 320, 512],
        "decoder_hidden_size": 768,
    },
    "B0": {
        "depths": [2, 2, 2, 2],
        "hidden_sizes": [32, 64, 160, 256],
        "decoder_hidden_size": 256,
    },
}


def segformer(precision: str, shape: str = "B2") -> SegformerSegmenter:
    """A random-weight SegFormer segmenter of ``SHAPES[shape]``, 18 clothes labels, 512 px input."""
    import torch
    from transformers import SegformerConfig, SegformerForSemanticSegmentation, SegformerImageProcessor

    from indexer.clothes_parser.segformer import SegformerSegmenter

    id2label = dict(enumerate(CLOTHES_LABELS))
    config = SegformerConfig(
        **SHAPES[shape],  # type: ignore[arg-type]
        num_attention_heads=[1, 2, 5, 8],
        sr_ratios=[8, 4, 2, 1],
        mlp_ratios=[4, 4, 4, 4],
        id2label=id2label,
        label2id={name: index for index, name in id2label.items()},
    )
    torch.manual_seed(0)
    model = SegformerForSemanticSegmentation(config)
    processor = SegformerImageProcessor(size={"height": INPUT_SIZE, "width": INPUT_SIZE})
    name = f"segformer-{shape.lower()} (random)"
    return SegformerSegmenter(
        model, processor, name=name, device="cpu", precision=precision, emulated_ok=True
    )


def outfit_photo(width: int = 960, height: int = 1280, seed: int = 0) -> bytes:
    """A portrait JPEG with a background gradient, a figure's blocks of colour and some noise."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    pixels = np.broadcast_to(np.array([200, 190, 175], np.float32) - 40 * y, (height, width, 3)).copy()
    pixels += rng.normal(0, 5, size=(height, width, 1)).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((400, 80, 560, 260), fill=(220, 180, 160))  # head
    draw.rectangle((300, 260, 660, 700), fill=(40, 40, 90))  # top
    draw.rectangle((330, 700, 630, 1150), fill=(30, 60, 120))  # trousers
    draw.rectangle((320, 1150, 470, 1220), fill=(20, 20, 20))  # shoes
    draw.rectangle((490, 1150, 640, 1220), fill=(20, 20, 20))
    draw.rectangle((660, 500, 780, 640), fill=(150, 90, 40))  # bag
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def bench_precision(
    precision: str, photo: bytes, runs: int, *, warm_up: bool = True, shape: str = "B2"
) -> list[object]:
    """One photo at a time through the bot's garment steps, each step timed; p50 over ``runs``."""
    from bot.garment_finder import crop_jpeg
    from bot.preview import draw_preview
    from indexer.clothes_parser import GarmentParser, find_garments

    segmenter = segformer(precision, shape)
    settings = GarmentSettings()
    parser = GarmentParser(segmenter, settings)
    decoder = ImageDecoder(ImageSettings(), parser.input_size)

    def one_photo() -> dict[str, float]:
        started = time.perf_counter()
        image = decoder.decode(photo)
        decoded = time.perf_counter()
        labels = segmenter.segment(image)
        segmented = time.perf_counter()
        garments = find_garments(
            image,
            labels,
            parser.plan,
            min_area=settings.min_area,
            padding=settings.padding,
            crop_mode=settings.crop_mode,
        )
        found = time.perf_counter()
        for garment in garments:
            crop_jpeg(garment.crop)
        cropped = time.perf_counter()
        draw_preview(image, [garment.box for garment in garments])
        drawn = time.perf_counter()
        return {
            "segment": segmented - decoded,
            "parse": found - decoded,
            "added": cropped - started,
            "preview": drawn - cropped,
            "garments": len(garments),
        }

    if warm_up:
        one_photo()
    samples = [one_photo() for _ in range(runs)]
    p50 = {key: 1000 * statistics.median(sample[key] for sample in samples) for key in samples[0]}
    print(
        f"{shape} {precision}: segment {p50['segment']:.0f} ms, parse {p50['parse']:.0f} ms, "
        f"added {p50['added']:.0f} ms, preview {p50['preview']:.0f} ms",
        flush=True,
    )
    garments = int(samples[0]["garments"])
    timings = [f"{p50[key]:.0f}" for key in ("segment", "parse", "added", "preview")]
    return [f"SegFormer-{shape}", precision, *timings, garments]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 timed runs instead of 11")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "both"), default="both")
    args = parser.parse_args()
    import torch

    from indexer.embedding.policy import cpu_has_native_bf16

    if args.threads:
        torch.set_num_threads(args.threads)
    runs = 2 if args.quick else 11
    photo = outfit_photo()
    rows, notes = [], []
    for precision in ("fp32", "bf16") if args.precision == "both" else (args.precision,):
        if precision == "bf16" and not cpu_has_native_bf16():
            # Emulated bf16 convolutions: minutes per photo. One pass, and none in --quick.
            if args.quick:
                notes.append("bf16 is emulated on this CPU and skipped by `--quick` (minutes per photo).")
                continue
            notes.append("bf16 is emulated on this CPU: one pass, no warm-up.")
            rows.append(bench_precision(precision, photo, 1, warm_up=False))
        else:
            rows.append(bench_precision(precision, photo, runs))
    # The smaller model with the same labels, for CPU-only servers.
    rows.append(bench_precision("fp32", photo, runs, shape="B0"))
    params = {shape: sum(p.numel() for p in segformer("fp32", shape).model.parameters()) for shape in SHAPES}
    native = (
        "yes"
        if cpu_has_native_bf16()
        else "no (bf16 is emulated: the parser falls back to fp32 unless forced, as here)"
    )
    note = "Quick run (`--quick`): indicative only.\n\n" if args.quick else ""
    note += "".join(f"{line}\n\n" for line in notes)
    side = f"{INPUT_SIZE}×{INPUT_SIZE}"
    body = (
        f"{note}Random-weight SegFormer-B2 ({params['B2'] / 1e6:.1f} M parameters, the default "
        f"`mattmdjaga/segformer_b2_clothes`'s shape) and SegFormer-B0 ({params['B0'] / 1e6:.1f} M, "
        f"`mattmdjaga/segformer_b0_clothes`'s), 18 labels, {side} input, through `GarmentParser`, "
        "on a 960×1280 JPEG outfit photo, CPU, "
        f"{torch.get_num_threads()} torch threads, p50 of {runs} runs after a warm-up. Native bf16 on this "
        f"CPU: {native}.\n\n"
        "- segment: image processor + forward pass + upsampled argmax (the label map);\n"
        "- parse: segment + boxes and crops (`GarmentParser.parse`);\n"
        "- added per photo: decode for the parser + parse + crops as JPEG — what a photo costs before "
        "its search, over the whole-photo flow (the chosen crop's search costs what the photo's did);\n"
        "- preview: drawing the numbered boxes (only when the bot asks).\n\n"
        + markdown_table(
            ["model", "precision", "segment ms", "parse ms", "added per photo ms", "preview ms", "garments"],
            rows,
        )
    )
    write_section("garments", "Garment parser", body)


if __name__ == "__main__":
    main()
