"""Long text for a transformer with a short context: split token ids into (overlapping) windows,
embed every window, pool the unit window vectors weighted by their token counts.

    e(text) = normalise( sum_c t_c * e_c / ||e_c|| )      t_c = tokens of window c

A text that fits in one window gives exactly the model's plain embedding. ``text_layout`` finds a
model's context and the special tokens framing each window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

#: tokenizers that declare no limit report this huge sentinel as ``model_max_length``
_NO_LIMIT = 10**9
#: a short text every tokenizer can encode; used to find where special tokens go
_PROBE = "a"


def split_token_ids(
    ids: Sequence[int], *, size: int, overlap: int = 0, max_chunks: int | None = None
) -> tuple[list[list[int]], bool]:
    """Split token ids into windows of at most ``size`` tokens, consecutive windows sharing
    ``overlap`` tokens; at most ``max_chunks`` windows. Returns (windows, truncated).

    An empty text gives one empty window, so that a model can still embed it (BLIP embeds an
    image with an empty caption).
    """
    if size < 1:
        raise ValueError("size must be positive")
    overlap = max(0, min(overlap, size // 2))
    step = size - overlap
    starts = [0]
    while starts[-1] + size < len(ids):
        starts.append(starts[-1] + step)
    truncated = max_chunks is not None and len(starts) > max_chunks
    if truncated:
        starts = starts[:max_chunks]
    return [list(ids[start : start + size]) for start in starts], truncated


def pool_chunks(vectors: torch.Tensor, owner: torch.Tensor, weight: torch.Tensor, n: int) -> torch.Tensor:
    """Per owner: the ``weight``-weighted mean of the unit chunk vectors, L2-normalised.

    Normalising each chunk first keeps one chunk's norm from dominating the mean.
    """
    import torch
    import torch.nn.functional as F

    unit = F.normalize(vectors.float(), dim=-1) * weight.to(vectors.device, torch.float32)[:, None]
    pooled = torch.zeros(n, vectors.shape[1], dtype=torch.float32, device=vectors.device)
    pooled.index_add_(0, owner.to(vectors.device), unit)
    return F.normalize(pooled, dim=-1)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the token states under the attention mask (sentence-transformers' pooling)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


@dataclass(frozen=True)
class TextLayout:
    """How a model's text input is framed: special tokens around at most ``size`` text tokens."""

    prefix: tuple[int, ...]
    suffix: tuple[int, ...]
    size: int
    overlap: int
    max_chunks: int

    @property
    def context(self) -> int:
        """Tokens per model input, special tokens included."""
        return self.size + len(self.prefix) + len(self.suffix)

    def frame(self, ids: Sequence[int]) -> list[int]:
        return [*self.prefix, *ids, *self.suffix]


def text_layout(
    tokenizer: Any, config: Any, *, max_tokens: int | None, overlap: int, max_chunks: int
) -> TextLayout:
    """The model's context: the smallest of its position embeddings, the tokenizer's declared
    maximum and the engine's ``max_tokens`` option; special tokens found by tokenising a probe.
    """
    text_config = getattr(config, "text_config", None) or config
    limits = [getattr(text_config, "max_position_embeddings", None), tokenizer.model_max_length, max_tokens]
    context = min(int(limit) for limit in limits if limit is not None and int(limit) < _NO_LIMIT)
    bare = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]
    full = tokenizer(_PROBE, add_special_tokens=True)["input_ids"]
    start = next((i for i in range(len(full) - len(bare) + 1) if full[i : i + len(bare)] == bare), None)
    if start is None:
        raise ValueError("cannot locate the text between the tokenizer's special tokens")
    prefix, suffix = tuple(full[:start]), tuple(full[start + len(bare) :])
    size = context - len(prefix) - len(suffix)
    if size < 1:
        raise ValueError(f"a context of {context} tokens leaves no room for text")
    return TextLayout(prefix=prefix, suffix=suffix, size=size, overlap=overlap, max_chunks=max_chunks)
