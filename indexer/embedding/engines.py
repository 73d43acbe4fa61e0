"""What runs the image tower's forward pass: PyTorch (default) or ONNX Runtime (``[model] engine``).

Both take the same preprocessed (N, 3, H, W) float32 pixels and return raw image features.
ONNX's fp32 vectors equal PyTorch's up to float rounding, so it keeps the model id;
``quantize = "int8"`` (ONNX only) changes the vectors, so the model id says ``/int8``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from indexer.embedding.errors import EncoderLoadError
from indexer.embedding.policy import autocast

log = logging.getLogger(__name__)

ENGINES = ("torch", "onnx")
QUANTIZE_MODES = ("none", "int8")
ONNX_INPUT = "pixels"
ONNX_OPSET = 17
ONNX_EXTRA_HINT = "install the optional ONNX packages: pip install 'snapfit[onnx]'"


class ImageEngine(Protocol):
    """Runs the image tower on preprocessed pixels; called under the encoder's forward lock."""

    name: str

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor: ...


class TorchEngine:
    """``model.encode_image`` in eager PyTorch, under autocast for reduced precisions."""

    name = "torch"

    def __init__(self, model: nn.Module, device: torch.device, precision: str) -> None:
        self._model = model
        self._device = device
        self._precision = precision

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        with autocast(self._device, self._precision):
            return self._model.encode_image(pixels.to(self._device))


class OnnxEngine:
    """``model.visual`` exported to ONNX and run by ONNX Runtime on the CPU (fp32 or int8 weights)."""

    name = "onnx"

    def __init__(self, visual: nn.Module, image_size: int, *, quantize: str, threads: int) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise EncoderLoadError(f"model.engine = 'onnx' needs onnxruntime: {ONNX_EXTRA_HINT}") from None
        model_bytes = export_visual(visual, image_size)
        if quantize == "int8":
            model_bytes = quantize_int8(model_bytes)
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: ORT warns about every unused initializer
        try:
            self._session = onnxruntime.InferenceSession(
                model_bytes, options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise EncoderLoadError(
                f"ONNX Runtime could not load the exported image tower ({' '.join(str(exc).split())[:200]}); "
                "use model.engine = 'torch'"
            ) from exc
        self.quantize = quantize

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(pixels.detach().cpu().numpy(), dtype=np.float32)
        (features,) = self._session.run(None, {ONNX_INPUT: array})
        return torch.from_numpy(features)


def export_visual(visual: nn.Module, image_size: int) -> bytes:
    """The image tower as an ONNX model with a dynamic batch axis.

    Uses the TorchScript exporter (much faster than the torch.export-based one) and falls back
    to the new exporter where a future torch has removed the old one.
    """
    example = torch.zeros(2, 3, image_size, image_size)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # Deprecation of this exporter and tracer notes about Python constants in timm/open_clip.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                visual,
                (example,),
                buffer,
                dynamo=False,
                input_names=[ONNX_INPUT],
                output_names=["features"],
                dynamic_axes={ONNX_INPUT: {0: "batch"}, "features": {0: "batch"}},
                opset_version=ONNX_OPSET,
            )
        return buffer.getvalue()
    except (TypeError, NotImplementedError, RuntimeError) as legacy_error:
        log.info("TorchScript ONNX export unavailable (%s); using torch.export", legacy_error)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                visual,
                (example,),
                None,
                dynamo=True,
                verbose=False,
                input_names=[ONNX_INPUT],
                output_names=["features"],
                dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1, max=4096)}},
            )
        assert program is not None
        return program.model_proto.SerializeToString()
    except Exception as exc:
        raise EncoderLoadError(
            f"the image tower could not be exported to ONNX ({' '.join(str(exc).split())[:200]}); "
            f"use model.engine = 'torch' or {ONNX_EXTRA_HINT}"
        ) from exc


def quantize_int8(model_bytes: bytes) -> bytes:
    """Dynamic int8 quantization of the MatMul/Gemm weights, per output channel."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise EncoderLoadError(
            f"model.quantize = 'int8' needs onnx and onnxruntime: {ONNX_EXTRA_HINT}"
        ) from None
    with tempfile.TemporaryDirectory(prefix="snapfit-onnx-") as folder:
        source, target = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        source.write_bytes(model_bytes)
        root = logging.getLogger()
        level = root.level
        root.setLevel(max(level, logging.ERROR))  # "consider pre-processing" goes to the root logger
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
        return target.read_bytes()
