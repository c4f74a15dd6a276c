"""ResNet-50 image engine: the pooled 2048-d output of ``transformers.ResNetModel``.

The global-average-pooled features of the last stage (``pooler_output``, shape (B, C, 1, 1))
are flattened and L2-normalised, so the similarity is their cosine. ``ResNetModel`` loads the
backbone of a classification checkpoint such as the default ``microsoft/resnet-50`` (the
ImageNet head is dropped). Paintings without a readable image are skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.engines.hf import ModalInput, TransformerEngine

if TYPE_CHECKING:
    import torch


class ResNetEngine(TransformerEngine):
    kind = "image"
    modalities = frozenset({"image"})
    query_modalities = frozenset({"image"})
    model_class_name = "ResNetModel"
    model_types = frozenset({"resnet"})
    default_options = {"batch_size": 16}

    def embed(self, inputs: Sequence[ModalInput], state_dir: Path) -> torch.Tensor:
        import torch.nn.functional as F

        model = self.loaded().model
        pooled = model(pixel_values=self.pixel_values([prepared.image for prepared in inputs])).pooler_output
        return F.normalize(pooled.flatten(1), dim=-1)
