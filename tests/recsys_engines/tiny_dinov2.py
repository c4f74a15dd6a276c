"""A tiny random DINOv2 checkpoint built from ``Dinov2Config`` with a local PIL image processor."""

from __future__ import annotations

from pathlib import Path

import torch

HIDDEN = 32


def build_tiny_dinov2(target: Path) -> str:
    from transformers import BitImageProcessorPil, Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    config = Dinov2Config(
        image_size=32, patch_size=8, hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=4
    )
    Dinov2Model(config).save_pretrained(target)
    BitImageProcessorPil(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}, do_convert_rgb=True
    ).save_pretrained(target)
    return str(target)
