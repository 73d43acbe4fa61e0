"""Encoder speed options against the PyTorch fp32 baseline, measured A/B interleaved on one model.

Every variant runs the same random-weight ViT-B-16-SigLIP (seeded, so all variants share the
weights) on the same inputs. Each round times every variant once per batch size, so machine
noise hits all of them alike; the tables give the median and the best (min) round. Variants:

- ``torch fp32``: ``Encoder`` as configured by default (the baseline).
- ``onnx fp32``: ``Encoder(engine="onnx")``, kept (``[model] engine``).
- ``onnx int8``: ``Encoder(engine="onnx", quantize="int8")``, kept as an opt-in.
- ``torch 1 thread``, ``torch channels_last``, ``torch int8 (ao dynamic)``: tried, dropped;
  measured on the bare image tower to show why.

Parity is the cosine to the fp32 vectors of the same images, plus the *centred* cosine
(vectors minus their mean): random weights map every image to nearly the same direction
(off-diagonal cosine ≈ 0.99), so the plain cosine hides how much of the image-specific part
survives. The latency table times one 12 MP phone JPEG end to end: decode (draft mode) +
preprocessing + embedding, through ``ImageDecoder`` and ``Encoder.embed_image``.

    python -m bench.encoder_opt            # batch 1/8/32, 5 rounds; writes the "encoder_opt" section
    python -m bench.encoder_opt --quick    # batch 1/8, 2 rounds: proves the script works
    python -m bench.encoder_opt --rounds 9 # more rounds on a noisy machine
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if __package__ in (None, ""):  # run as `python bench/encoder_opt.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from bench.embed import ARCHITECTURE, SIGLIP_PREPROCESS, catalogue_images, phone_photo_jpeg
from bench.report import markdown_table, median_seconds, write_section
from indexer.config import ImageSettings
from indexer.images import ImageDecoder, decode

if TYPE_CHECKING:
    from indexer.embedding import Encoder, LoadedModel

Forward = Callable[[torch.Tensor], torch.Tensor]


def random_model(seed: int = 0) -> LoadedModel:
    import open_clip

    from indexer.embedding import LoadedModel
    from indexer.embedding.loading import quiet_open_clip_info

    torch.manual_seed(seed)
    with quiet_open_clip_info(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = open_clip.create_model(ARCHITECTURE, pretrained=None)
    return LoadedModel(
        model=model.eval(),
        label=ARCHITECTURE,
        weights=f"random-seed{seed}",
        preprocess_cfg=dict(SIGLIP_PREPROCESS),
        tokenizer_name=ARCHITECTURE,
    )


def encoder_variants(loaded: LoadedModel) -> dict[str, Encoder]:
    from indexer.embedding import Encoder

    variants = {"torch fp32 (baseline)": Encoder(loaded, device="cpu", precision="fp32")}
    try:
        started = time.perf_counter()
        variants["onnx fp32"] = Encoder(loaded, device="cpu", precision="fp32", engine="onnx")
        print(f"onnx fp32: export + session {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        variants["onnx int8"] = Encoder(
            loaded, device="cpu", precision="fp32", engine="onnx", quantize="int8"
        )
        print(f"onnx int8: export + quantize + session {time.perf_counter() - started:.1f} s", flush=True)
    except Exception as exc:  # the onnx extra is optional
        print(f"ONNX variants skipped: {exc}", flush=True)
    return variants


def dropped_variants(loaded: LoadedModel) -> dict[str, Forward]:
    """Bare image-tower forwards of the options that did not make it into the encoder."""
    visual = loaded.model.visual

    def one_thread(pixels: torch.Tensor) -> torch.Tensor:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return visual(pixels)
        finally:
            torch.set_num_threads(before)

    channels_last = copy.deepcopy(visual).to(memory_format=torch.channels_last)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated
        ao_int8 = torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(visual), {torch.nn.Linear}, dtype=torch.qint8
        )
    return {
        "torch 1 thread": one_thread,
        "torch channels_last": lambda pixels: channels_last(
            pixels.contiguous(memory_format=torch.channels_last)
        ),
        "torch int8 (ao dynamic)": ao_int8,
    }


def normalized(features: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(features.float(), dim=-1).numpy()


def parity(reference: np.ndarray, vectors: np.ndarray) -> tuple[float, float]:
    """Minimum cosine and minimum centred cosine (after removing the reference mean) to the reference."""
    cosine = np.sum(reference * vectors, axis=1)
    mean = reference.mean(axis=0)
    centred_ref, centred = reference - mean, vectors - mean
    centred_cosine = np.sum(centred_ref * centred, axis=1) / (
        np.linalg.norm(centred_ref, axis=1) * np.linalg.norm(centred, axis=1)
    )
    return float(cosine.min()), float(centred_cosine.min())


def bench_throughput(
    loaded: LoadedModel, encoders: dict[str, Encoder], batch_sizes: list[int], rounds: int
) -> tuple[str, str]:
    forwards: dict[str, Callable[[torch.Tensor], np.ndarray]] = {
        name: encoder.embed_pixels for name, encoder in encoders.items()
    }
    for name, forward in dropped_variants(loaded).items():
        forwards[name] = lambda pixels, forward=forward: normalized(forward(pixels))
    baseline = next(iter(encoders.values()))
    images = catalogue_images(max(batch_sizes), seed=1)
    pixels = torch.stack([baseline.preprocess_image(image) for image in images])
    reference = baseline.embed_pixels(pixels)
    parity_rows = []
    with torch.inference_mode():
        for name, forward in forwards.items():
            cosine, centred = parity(reference, forward(pixels))
            parity_rows.append([name, f"{cosine:.5f}", f"{centred:.4f}"])
            print(f"parity {name}: cos {cosine:.5f}, centred {centred:.4f}", flush=True)
        timings: dict[str, dict[int, list[float]]] = {name: {b: [] for b in batch_sizes} for name in forwards}
        for forward in forwards.values():  # warm-up at every shape
            for batch in batch_sizes:
                forward(pixels[:batch])
        for round_index in range(rounds):
            for name, forward in forwards.items():
                for batch in batch_sizes:
                    started = time.perf_counter()
                    forward(pixels[:batch])
                    timings[name][batch].append(time.perf_counter() - started)
            print(f"round {round_index + 1}/{rounds} done", flush=True)
    base = timings[next(iter(forwards))]
    rows = []
    for name, by_batch in timings.items():
        row: list[object] = [name]
        for batch in batch_sizes:
            median, best = statistics.median(by_batch[batch]), min(by_batch[batch])
            ratio = statistics.median(base[batch]) / median
            row += [f"{batch / median:.2f} ({batch / best:.2f})", f"×{ratio:.2f}"]
        rows.append(row)
        print(" | ".join(map(str, row)), flush=True)
    header = ["variant"]
    for batch in batch_sizes:
        header += [f"b{batch} img/s median (best)", f"b{batch} vs baseline"]
    return markdown_table(header, rows), markdown_table(
        ["variant", "min cosine", "min centred cosine"], parity_rows
    )


def bench_latency(encoders: dict[str, Encoder], rounds: int) -> str:
    """One phone photo end to end: decode + preprocess + embed, per kept engine, interleaved."""
    photo = phone_photo_jpeg()
    decoder = ImageDecoder(ImageSettings(), next(iter(encoders.values())).image_size)
    stages: dict[str, dict[str, list[float]]] = {
        name: {"decode": [], "preprocess": [], "total": []} for name in encoders
    }
    for encoder in encoders.values():
        encoder.embed_image(decoder.decode(photo))  # warm-up
    for _ in range(rounds):
        for name, encoder in encoders.items():
            started = time.perf_counter()
            image = decoder.decode(photo)
            decoded = time.perf_counter()
            pixels = encoder.preprocess_image(image).unsqueeze(0)
            prepared = time.perf_counter()
            encoder.embed_pixels(pixels)
            finished = time.perf_counter()
            stages[name]["decode"].append(decoded - started)
            stages[name]["preprocess"].append(prepared - decoded)
            stages[name]["total"].append(finished - started)
    base = statistics.median(next(iter(stages.values()))["total"])
    rows = []
    for name, timing in stages.items():
        total = statistics.median(timing["total"])
        rows.append(
            [
                name,
                f"{1000 * statistics.median(timing['decode']):.0f}",
                f"{1000 * statistics.median(timing['preprocess']):.1f}",
                f"{1000 * total:.0f}",
                f"{1000 * min(timing['total']):.0f}",
                f"×{base / total:.2f}",
            ]
        )
        print(" | ".join(rows[-1]), flush=True)
    return markdown_table(
        ["engine", "decode ms", "preprocess ms", "p50 total ms", "best ms", "vs baseline"], rows
    )


def bench_preprocessing(loaded: LoadedModel, runs: int) -> str:
    """Where the non-model time goes: JPEG draft sizing and the open_clip transform."""
    from indexer.embedding import Encoder

    encoder = Encoder(loaded, device="cpu", precision="fp32")
    photo = phone_photo_jpeg()
    limits = {"max_bytes": 50_000_000, "max_pixels": 50_000_000}
    rows = []
    vectors = {}
    for label, draft in (("draft 2× (448, current)", 448), ("draft 1× (224)", 224), ("no draft", None)):
        image = decode(photo, draft_size=draft, **limits)
        decode_ms = 1000 * median_seconds(lambda draft=draft: decode(photo, draft_size=draft, **limits), runs)
        transform_ms = 1000 * median_seconds(lambda image=image: encoder.preprocess_image(image), runs)
        vectors[label] = encoder.embed_image(image)
        rows.append([label, f"{image.width}×{image.height}", f"{decode_ms:.1f}", f"{transform_ms:.1f}"])
    catalogue = catalogue_images(1)[0]
    catalogue_ms = 1000 * median_seconds(lambda: encoder.preprocess_image(catalogue), runs)
    reference = vectors["draft 2× (448, current)"]
    notes = [
        "- cosine of the draft 1× vector to the current one: "
        f"{float(reference @ vectors['draft 1× (224)']):.5f}; no draft: "
        f"{float(reference @ vectors['no draft']):.5f} (random weights)",
        f"- open_clip transform of a 500×600 catalogue image: {catalogue_ms:.1f} ms",
    ]
    return (
        markdown_table(["4000×3000 JPEG decode", "decoded size", "decode ms", "transform ms"], rows)
        + "\n\n"
        + "\n".join(notes)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 1 and 8, 2 rounds")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    parser.add_argument(
        "--rounds", type=int, default=0, help="interleaved rounds (default 5; 2 with --quick)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    batch_sizes, rounds, runs = ([1, 8], 2, 3) if args.quick else ([1, 8, 32], 5, 7)
    rounds = args.rounds or rounds
    loaded = random_model()
    encoders = encoder_variants(loaded)
    throughput, parity_table = bench_throughput(loaded, encoders, batch_sizes, rounds)
    latency = bench_latency(encoders, rounds + 2)
    preprocessing = bench_preprocessing(loaded, runs)
    note = "Quick run (`--quick`): indicative only.\n\n" if args.quick else ""
    write_section(
        "encoder_opt",
        "Encoder speed options (A/B against PyTorch fp32)",
        note + f"Random-weight {ARCHITECTURE} (seed 0), {torch.get_num_threads()} torch threads, "
        f"{rounds} interleaved rounds after a warm-up; img/s of the forward pass on preprocessed "
        "500×600 catalogue images.\n\n"
        "### Throughput\n\n"
        + throughput
        + "\n\n### Parity with fp32 (same weights, same images)\n\n"
        + parity_table
        + "\n\nRandom weights send every image in nearly the same direction, so the plain cosine is "
        "close to 1 for any variant; the centred cosine shows how much of the image-specific part "
        "survives.\n\n"
        "### One 12 MP phone photo, end to end (decode + preprocess + embed, batch 1)\n\n"
        + latency
        + "\n\n### Decode and preprocessing\n\n"
        + preprocessing,
    )


if __name__ == "__main__":
    main()
