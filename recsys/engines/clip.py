"""CLIP early-fusion engine: one joint vector per painting from its image and its text.

Embeddings: the image embedding is ``get_image_features(...).pooler_output`` and the text
embedding ``get_text_features(...).pooler_output`` (both in CLIP's shared projection space),
each L2-normalised. Text longer than CLIP's 77-token context is never cut: it is split into
token windows whose unit embeddings are averaged, weighted by tokens (``recsys.engines.hf``);
``chunk_overlap`` and ``max_chunks`` tune the windows.

Joint embedding (early fusion): ``normalize(unit_image + unit_text)``. Why the normalised sum:
CLIP trains image and text into one space, so the sum is the midpoint direction of the two unit
vectors and weighs both modalities equally whatever their raw norms. The cosine of two joint
vectors is the sum of the four similarities between them (image-image, text-text and both
image-text cross terms) divided by the product of the two sums' lengths, so paintings are close
when their images, their texts, or one's image and the other's text agree. Concatenation would
drop the cross-modal terms.

Missing modality: the joint embedding is the unit embedding of the modality that is there
(image only -> unit image embedding; text only -> unit text embedding). Both lie in the same
space, on the same unit sphere as the fused vectors, so such paintings stay comparable with
every other one; the fallback is recorded as a per-painting note. A painting with neither a
readable image nor text is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.engines.hf import ModalInput, TransformerEngine

if TYPE_CHECKING:
    import torch


class ClipEngine(TransformerEngine):
    kind = "joint"
    modalities = frozenset({"text", "image"})
    # text-to-image search: a text query's unit text embedding against the joint rows
    query_modalities = frozenset({"text", "image"})
    model_class_name = "CLIPModel"
    model_types = frozenset({"clip"})
    default_options = {"batch_size": 16}
    fallback_notes = {"image": "joint = unit text embedding", "text": "joint = unit image embedding"}

    def image_embeddings(self, inputs: Sequence[ModalInput]) -> torch.Tensor:
        """Unit image embeddings of inputs that all have an image."""
        import torch.nn.functional as F

        model = self.loaded().model
        pixels = self.pixel_values([prepared.image for prepared in inputs])
        return F.normalize(model.get_image_features(pixel_values=pixels).pooler_output, dim=-1)

    def text_embeddings(self, inputs: Sequence[ModalInput]) -> torch.Tensor:
        """Unit (chunk-averaged) text embeddings of inputs that all have text."""
        model = self.loaded().model

        def forward(batch: dict[str, torch.Tensor], owner: torch.Tensor) -> tuple[torch.Tensor]:
            return (model.get_text_features(**batch).pooler_output,)

        (vectors,) = self.encode_texts(inputs, forward)
        return vectors

    def embed(self, inputs: Sequence[ModalInput], state_dir: Path) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        loaded = self.loaded()
        joint = torch.zeros(len(inputs), loaded.model.config.projection_dim, device=loaded.device)
        with_image = [row for row, prepared in enumerate(inputs) if prepared.image is not None]
        with_text = [row for row, prepared in enumerate(inputs) if prepared.text]
        if with_image:
            joint[with_image] += self.image_embeddings([inputs[row] for row in with_image])
        if with_text:
            joint[with_text] += self.text_embeddings([inputs[row] for row in with_text])
        return F.normalize(joint, dim=-1)
