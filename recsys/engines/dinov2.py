"""DINOv2 image engine: self-supervised ViT features (Oquab et al. 2023), as the lost-art paper uses.

``transformers.Dinov2Model`` (default ``facebook/dinov2-small``, 384-d tokens) reads each image
through its own image processor (resize, centre crop, normalise). The final layer-normed token
states give two summaries of the picture:

* the CLS token, ``h_0`` (what DINOv2 was trained to make discriminative);
* the mean of the patch tokens, ``(1 / P) sum_p h_p`` (the spatial content).

``pooling`` (option, ``RECSYS_DINOV2_POOLING``) chooses the vector: ``"cls+mean"`` (default,
the paper's and DINOv2's linear-probe feature: the two concatenated, 768-d for the small
model), ``"cls"`` or ``"mean"``. The pipeline L2-normalises it, so the similarity is the
cosine. Paintings without a readable image are skipped with the reason. Register tokens (the
``-reg`` checkpoints' ``Dinov2WithRegistersModel``) are not patch tokens and are left out of
the mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.engines.hf import ModalInput, TransformerEngine

if TYPE_CHECKING:
    import torch

POOLINGS = ("cls+mean", "cls", "mean")


class Dinov2Engine(TransformerEngine):
    kind = "image"
    modalities = frozenset({"image"})
    query_modalities = frozenset({"image"})
    model_class_name = "AutoModel"
    model_types = frozenset({"dinov2", "dinov2_with_registers"})
    default_options = {"batch_size": 16, "pooling": "cls+mean"}

    def check_available(self) -> None:
        pooling = self.option("pooling")
        if pooling not in POOLINGS:
            raise self.unavailable(f"pooling {pooling!r} is not one of {', '.join(POOLINGS)}")
        super().check_available()

    def embed(self, inputs: Sequence[ModalInput], state_dir: Path) -> torch.Tensor:
        import torch

        model = self.loaded().model
        states = model(
            pixel_values=self.pixel_values([prepared.image for prepared in inputs])
        ).last_hidden_state
        registers = int(getattr(model.config, "num_register_tokens", 0) or 0)
        cls, patches = states[:, 0], states[:, 1 + registers :]
        pooling = self.option("pooling")
        if pooling == "cls":
            return cls
        if pooling == "mean":
            return patches.mean(dim=1)
        return torch.cat([cls, patches.mean(dim=1)], dim=-1)
