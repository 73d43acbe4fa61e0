"""A tiny random SegFormer saved as a model folder, the way a deployment ships the garment parser.

The folder holds what ``hf download mattmdjaga/segformer_b2_clothes`` brings: ``config.json`` (with
the 18-label ``id2label`` map of the real model), ``model.safetensors`` (seeded random weights) and
``preprocessor_config.json``. It loads through ``AutoImageProcessor`` and
``AutoModelForSemanticSegmentation`` exactly like the real one, in well under a second.

``favour`` raises the classifier's bias for a few labels so that a random model's label map is
a patchwork of those (and so shows garments) instead of 18 labels in specks.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# mattmdjaga/segformer_b2_clothes config.json id2label, in id order.
CLOTHES_LABELS = (
    "Background",
    "Hat",
    "Hair",
    "Sunglasses",
    "Upper-clothes",
    "Skirt",
    "Pants",
    "Dress",
    "Belt",
    "Left-shoe",
    "Right-shoe",
    "Face",
    "Left-leg",
    "Right-leg",
    "Left-arm",
    "Right-arm",
    "Bag",
    "Scarf",
)
TINY_INPUT_SIZE = 64


def tiny_segformer_config(labels: Sequence[str] = CLOTHES_LABELS) -> object:
    from transformers import SegformerConfig

    id2label = dict(enumerate(labels))
    return SegformerConfig(
        num_encoder_blocks=2,
        depths=[1, 1],
        sr_ratios=[2, 1],
        hidden_sizes=[8, 16],
        patch_sizes=[7, 3],
        strides=[4, 2],
        num_attention_heads=[1, 1],
        mlp_ratios=[2, 2],
        decoder_hidden_size=16,
        id2label=id2label,
        label2id={name: index for index, name in id2label.items()},
    )


def build_tiny_segformer(
    folder: Path,
    *,
    labels: Sequence[str] = CLOTHES_LABELS,
    favour: Sequence[str] = (),
    seed: int = 0,
    input_size: int = TINY_INPUT_SIZE,
) -> Path:
    """Save a seeded random SegFormer (model + image processor) into ``folder``; returns ``folder``."""
    import torch
    from transformers import SegformerForSemanticSegmentation, SegformerImageProcessor

    torch.manual_seed(seed)
    model = SegformerForSemanticSegmentation(tiny_segformer_config(labels))
    if favour:
        with torch.no_grad():
            bias = model.decode_head.classifier.bias
            bias.fill_(-4.0)
            for name in favour:
                bias[list(labels).index(name)] = 0.0
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    SegformerImageProcessor(size={"height": input_size, "width": input_size}).save_pretrained(folder)
    return folder
