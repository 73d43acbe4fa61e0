"""Which device and precision the encoder runs with, and why.

``precision = auto`` picks bf16 only where it is fast: CPUs with native bf16 (AVX-512 BF16
or AMX) and CUDA devices that support it (else fp16 on CUDA). Elsewhere bf16 is emulated and
several times slower than fp32, so auto means fp32. The reduced-precision paths keep fp32
master copies of everything but the matmul/conv weights and run under ``torch.autocast``.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Any

import torch
from torch import nn

from indexer.embedding.errors import EncoderLoadError

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags listed in /proc/cpuinfo text (x86 'flags', ARM 'Features')."""
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"flags", "Features"}:
            flags.update(value.split())
    return frozenset(flags)


@functools.cache
def cpu_flags() -> frozenset[str]:
    try:
        return parse_cpu_flags(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return frozenset()


def cpu_has_native_bf16(flags: frozenset[str] | None = None) -> bool:
    """True when the CPU executes bf16 matmuls natively (AVX-512 BF16 or AMX-BF16)."""
    return bool(_NATIVE_BF16_FLAGS & (cpu_flags() if flags is None else flags))


def resolve_device(requested: str) -> torch.device:
    """``auto`` → CUDA when present, else CPU; an explicit device must exist."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise EncoderLoadError(
                f"model.device = {requested!r}, but CUDA is not available here; use 'auto' or 'cpu'"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise EncoderLoadError(
                f"model.device = {requested!r}, but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise EncoderLoadError(
            f"model.device = {requested!r}, but Apple MPS is not available here; use 'auto'"
        )
    return device


def resolve_precision(
    requested: str,
    device: torch.device,
    *,
    cpu_bf16: bool | None = None,
    cuda_bf16: bool | None = None,
) -> tuple[str, str]:
    """The precision to run in and a short reason for the log line."""
    if requested != "auto":
        if requested not in DTYPES:
            raise EncoderLoadError(f"model.precision must be auto, fp32, bf16 or fp16, got {requested!r}")
        return requested, "set in model.precision"
    if device.type == "cuda":
        if cuda_bf16 is None:
            cuda_bf16 = torch.cuda.is_bf16_supported()
        return ("bf16", "auto: CUDA with bf16") if cuda_bf16 else ("fp16", "auto: CUDA without bf16")
    if device.type == "cpu":
        if cpu_has_native_bf16() if cpu_bf16 is None else cpu_bf16:
            return "bf16", "auto: CPU with native bf16 (AVX-512 BF16/AMX)"
        return "fp32", "auto: no native bf16 on this CPU"
    return "fp32", f"auto: {device.type}"


def cast_matmul_weights(model: nn.Module, dtype: torch.dtype) -> None:
    """Store linear/conv/attention projection weights in ``dtype``; norms and embeddings stay fp32.

    Under autocast these weights would otherwise be re-cast on every forward pass, which at
    batch size 1 costs about as much as the pass itself; layer norms keep fp32 parameters.
    """
    for module in model.modules():
        if isinstance(module, nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d):
            module.to(dtype)
        elif isinstance(module, nn.MultiheadAttention):
            for name in ("in_proj_weight", "in_proj_bias", "q_proj_weight", "k_proj_weight", "v_proj_weight"):
                parameter = getattr(module, name, None)
                if parameter is not None:
                    parameter.data = parameter.data.to(dtype)


def prepare_model(model: nn.Module, device: torch.device, precision: str) -> nn.Module:
    """``model`` in eval mode on ``device``, its matmul/conv weights cast for a reduced precision."""
    model = model.eval().to(device)
    if precision != "fp32":
        cast_matmul_weights(model, DTYPES[precision])
    return model


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager[Any]:
    """``torch.autocast`` for a reduced precision; a context that does nothing in fp32."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=DTYPES[precision])
