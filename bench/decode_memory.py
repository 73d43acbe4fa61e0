"""Peak memory of 8 concurrent decodes of a small, huge PNG, with and without the decoded-memory budget.

A 7000×7000 RGBA PNG of a few hundred KB passes the 50 MP pixel cap; decoding it and flattening it
to RGB takes about 374 MiB. Eight users sending it at once used to stack those decodes. Each variant
runs in a fresh subprocess that decodes the file 8 times at once through the real decoder
(``ImageDecoder`` with the draft size of a 224-pixel model, as the bot's search does, one thread per
decode as ``asyncio.to_thread`` gives), and reads its peak RSS (``VmHWM`` in /proc/self/status, reset
before the decodes) against the RSS before them.

Variants: ``before*`` lift the per-image cap and the shared budget and skip handing freed memory
back (the decoder as it was), ``after`` uses the ``[images]`` defaults; the ``*_rgb`` and
``rgba_cap_raised`` variants show the shared budget alone at work on images the per-image cap accepts.

    python -m bench.decode_memory            # all variants, figures into BENCHMARKS.md
    python -m bench.decode_memory --no-write # print only
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CONCURRENT = 8
SIDE = 7000
MODEL_SIDE = 224
TARGET_MB = 500
UNLIMITED_MB = 1_000_000
LEGACY = {"max_decoded_mb": UNLIMITED_MB, "decode_budget_mb": UNLIMITED_MB, "legacy": 1}
# name → (file, [images] overrides (``legacy``: no memory trim either), what it shows)
VARIANTS: dict[str, tuple[str, dict[str, int], str]] = {
    "before": (
        "rgba",
        LEGACY,
        "no memory cap, no shared budget (the decoder before issue 16)",
    ),
    "after": ("rgba", {}, "the `[images]` defaults: refused from the header (`too_big`)"),
    "rgba_cap_raised": (
        "rgba",
        {"max_decoded_mb": 400},
        "per-image cap raised to 400 MiB: accepted, the 400 MiB shared budget runs one at a time",
    ),
    "before_rgb": (
        "rgb",
        LEGACY,
        "7000×7000 RGB PNG, no cap, no shared budget",
    ),
    "after_rgb": ("rgb", {}, "7000×7000 RGB PNG (187 MiB, under the cap): two at a time"),
}


def make_png(mode: str, path: Path) -> None:
    """A mostly flat 7000×7000 picture with a few shapes: compresses to a few hundred KB."""
    from PIL import Image, ImageDraw

    background = (255, 255, 255, 0) if mode == "RGBA" else (255, 255, 255)
    image = Image.new(mode, (SIDE, SIDE), background)
    draw = ImageDraw.Draw(image)
    for index in range(12):
        left = 300 + index * 520
        fill = (40 + index * 15, 80, 200 - index * 10) + ((255,) if mode == "RGBA" else ())
        draw.rectangle((left, 1000 + index * 300, left + 400, 5500), fill=fill)
        draw.ellipse((left, 200, left + 480, 900), fill=fill)
    image.save(path, "PNG", optimize=True)


def _status_kib(field: str) -> int:
    match = re.search(rf"^{field}:\s*(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    if not match:
        raise RuntimeError(f"no {field} in /proc/self/status")
    return int(match.group(1))


def worker(path: Path, overrides: dict[str, int]) -> dict[str, object]:
    """Decode ``path`` CONCURRENT times at once in this process; peak and final RSS against the start."""
    from indexer import image_memory
    from indexer.config import ImageSettings
    from indexer.images import ImageDecoder, ImageError

    settings = dict(overrides)
    if settings.pop("legacy", 0):
        image_memory.release_free_memory = lambda: False  # type: ignore[assignment]
    data = path.read_bytes()
    decoder = ImageDecoder(ImageSettings(**settings), MODEL_SIDE)
    outcomes: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            image = decoder.decode(data)
            outcome = f"ok {image.width}×{image.height}"
        except ImageError as exc:
            outcome = exc.code
        with lock:
            outcomes.append(outcome)

    start_kib = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    threads = [threading.Thread(target=one) for _ in range(CONCURRENT)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    return {
        "file_kb": len(data) / 1000,
        "peak_mb": (_status_kib("VmHWM") - start_kib) / 1024,
        "after_mb": (_status_kib("VmRSS") - start_kib) / 1024,
        "seconds": seconds,
        "outcomes": sorted(set(outcomes)),
        "budget_peak_mb": decoder.budget.peak / 1024 / 1024,
    }


def run_variant(name: str, files: dict[str, Path]) -> dict[str, object]:
    kind, overrides, _ = VARIANTS[name]
    command = [
        sys.executable,
        "-m",
        "bench.decode_memory",
        "--worker",
        str(files[kind]),
        json.dumps(overrides),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument(
        "--no-write", action="store_true", help="print the figures without editing BENCHMARKS.md"
    )
    parser.add_argument("--worker", nargs=2, metavar=("PNG", "OVERRIDES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(Path(args.worker[0]), json.loads(args.worker[1]))))
        return

    with tempfile.TemporaryDirectory() as folder:
        files = {"rgba": Path(folder) / "rgba.png", "rgb": Path(folder) / "rgb.png"}
        make_png("RGBA", files["rgba"])
        make_png("RGB", files["rgb"])
        results = {}
        for name in args.variants:
            results[name] = run_variant(name, files)
            print(name, json.dumps(results[name]), flush=True)
    rows = [
        [
            f"`{name}`",
            VARIANTS[name][2],
            f"{results[name]['file_kb']:.0f} KB",
            f"{results[name]['peak_mb']:+.0f}",
            f"{results[name]['after_mb']:+.0f}",
            f"{results[name]['seconds']:.2f}",
            ", ".join(results[name]["outcomes"]),  # type: ignore[arg-type]
        ]
        for name in args.variants
    ]
    from bench.report import markdown_table, write_section

    body = (
        f"{CONCURRENT} threads decode the same {SIDE}×{SIDE} PNG at once through `ImageDecoder` (draft size "
        f"for a {MODEL_SIDE}-pixel model), each variant in a fresh process. Peak: `VmHWM` over the RSS "
        f"before the decodes, in MiB; after: the RSS left once they are done. Target (issue 16): the "
        f"peak stays under +{TARGET_MB} MB.\n\n"
        + markdown_table(
            ["variant", "settings", "file", "peak RSS (MiB)", "RSS after (MiB)", "wall (s)", "outcome"], rows
        )
    )
    if args.no_write:
        print(body)
    else:
        write_section("decode_memory", "Decoding memory: 8 huge PNGs at once", body)


if __name__ == "__main__":
    main()
