"""A tiny random open_clip model saved as a ``local-dir:`` folder, the way a deployment ships one.

The folder holds ``open_clip_config.json`` (``model_cfg`` + ``preprocess_cfg``) and
``open_clip_model.safetensors`` with seeded random weights; it loads in well under a second
through ``Encoder.from_settings(ModelSettings(name=f"local-dir:{folder}"))``, the code users
take. ``vocab_size`` stays 49408 so that open_clip's bundled offline tokenizer works for
``embed_texts``. Vectors have ``TINY_DIMENSION`` floats; the input side is ``TINY_IMAGE_SIZE``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TINY_DIMENSION = 32
TINY_IMAGE_SIZE = 32
TINY_MODEL_CFG: dict[str, Any] = {
    "embed_dim": TINY_DIMENSION,
    "vision_cfg": {
        "image_size": TINY_IMAGE_SIZE,
        "patch_size": 16,
        "width": 64,
        "layers": 2,
        "head_width": 32,
    },
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
# SigLIP-style preprocessing, like the default Marqo-FashionSigLIP model.
TINY_PREPROCESS_CFG: dict[str, Any] = {
    "mean": [0.5, 0.5, 0.5],
    "std": [0.5, 0.5, 0.5],
    "interpolation": "bicubic",
    "resize_mode": "squash",
}


def build_tiny_model(
    folder: Path,
    *,
    seed: int = 0,
    preprocess_cfg: dict[str, Any] | None = None,
    weights: bool = True,
) -> Path:
    """Write the model folder (created if needed) and return it; same seed, same weights."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "model_cfg": TINY_MODEL_CFG,
        "preprocess_cfg": TINY_PREPROCESS_CFG if preprocess_cfg is None else preprocess_cfg,
    }
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    if weights:
        generator_state = torch.random.get_rng_state()
        try:
            torch.manual_seed(seed)
            model = open_clip.CLIP(**json.loads(json.dumps(TINY_MODEL_CFG)))
        finally:
            torch.random.set_rng_state(generator_state)
        state = {name: tensor.contiguous() for name, tensor in model.state_dict().items()}
        save_file(state, str(folder / "open_clip_model.safetensors"))
    return folder
