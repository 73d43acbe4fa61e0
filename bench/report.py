"""Writes one benchmark's figures into its own section of BENCHMARKS.md.

Each benchmark script owns a section delimited by HTML comments, so scripts can be rerun
independently without clobbering each other's figures. Every section records the exact
command, the machine and the date, as the project's benchmark rule requires.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Figures written by the scripts in `bench/`. Each section names the command that produced it, the\n"
    "machine and the date. The development machine is shared and noisy: read medians and ratios, not\n"
    "single runs.\n"
)


def machine_description() -> str:
    """CPU model, core count, memory and, when present, the GPU: enough to compare runs."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        if match:
            cpu = match.group(1).strip()
    parts = [f"{cpu}, {os.cpu_count()} logical cores"]
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.M)
        if match:
            parts.append(f"{int(match.group(1)) / 1024 / 1024:.0f} GiB RAM")
    try:
        import torch

        parts.append(f"torch {torch.__version__}")
        if torch.cuda.is_available():
            parts.append(f"GPU {torch.cuda.get_device_name(0)}")
        else:
            parts.append(f"CPU capability {torch.backends.cpu.get_cpu_capability()}")
    except ImportError:
        pass
    parts.append(f"Python {platform.python_version()}")
    return "; ".join(parts)


def command_line() -> str:
    """The command as typed: ``python -m bench.x …`` for a module run (sys.argv[0] is then its path)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    args = " ".join(shlex.quote(arg) for arg in sys.argv[1:])
    program = f"-m {spec.name}" if spec is not None and spec.name else shlex.quote(sys.argv[0])
    return f"python {program} {args}".rstrip()


def write_section(name: str, title: str, body: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``body``."""
    stamp = (
        f"- command: `{command_line()}`\n"
        f"- machine: {machine_description()}\n"
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
    )
    section = f"<!-- bench:{name} -->\n## {title}\n\n{stamp}\n{body.strip()}\n<!-- /bench:{name} -->\n"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def markdown_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def median_seconds(action: Callable[[], object], runs: int) -> float:
    """The median wall time of ``runs`` calls of ``action``: what benchmarks quote on a noisy machine."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)
