"""Multilingual text engine: an XLM-R family sentence encoder reading every language of a painting.

The lost-art paper embeds museum descriptions in Dutch, French, German, Spanish, ... with a
multilingual sentence encoder; this engine does the same with ``transformers.AutoModel`` (default
``sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2``: XLM-R's 250k-token vocabulary,
384-d, trained so that a sentence and its translations land close together; any XLM-R or BERT
sentence encoder with mean pooling fits, ``RECSYS_XLMR_MODEL``). Token states are mean-pooled
under the attention mask and L2-normalised, as the checkpoint's sentence-transformers pipeline
does, within its 128-token window (``max_tokens``); longer text is embedded window by window and
the windows averaged (``recsys.engines.hf``).

Every language of a painting is read: the catalogue's main text (``PaintingInput.text``) and
each translation (``PaintingInput.translations``, from import mappings that name a language per
text field; ``catalog.text.painting_translations``) are embedded separately and the painting's
vector is the mean of those unit vectors,

    v = (1 / L) sum_l u_l,    u_l = the unit embedding of the painting's text in language l,

L2-normalised by the pipeline. A painting described only in French is therefore represented,
and a query in any language (``encode_query_text``: the query alone, no translation needed) is
compared with every painting in the shared multilingual space: a French query finds an English
description when the model maps translations together, which is what these checkpoints are
trained for.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from recsys.engines.base import PaintingInput
from recsys.engines.chunking import mean_pool
from recsys.engines.hf import ModalInput, TransformerEngine

if TYPE_CHECKING:
    import torch


class XlmrEngine(TransformerEngine):
    kind = "text"
    modalities = frozenset({"text"})
    query_modalities = frozenset({"text"})
    model_class_name = "AutoModel"
    # paraphrase-multilingual-MiniLM-L12-v2 is a BERT body with XLM-R's tokenizer; the
    # -mpnet-base-v2 and XLM-R checkpoints are "xlm-roberta"
    model_types = frozenset({"xlm-roberta", "bert"})
    # sentence-transformers truncates paraphrase-multilingual-* at 128 tokens
    default_options = {"batch_size": 32, "max_tokens": 128}

    def _prepare(self, item: PaintingInput) -> ModalInput | str:
        texts = [text.strip() for text in (item.text, *item.translations) if text and text.strip()]
        if not texts:
            return "no text"
        return ModalInput(pk=item.pk, text=texts[0], image=None, translations=tuple(texts[1:]))

    def embed(self, inputs: Sequence[ModalInput], state_dir: Path) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        model = self.loaded().model
        # one input per (painting, language), embedded together, then averaged per painting
        owners: list[int] = []
        expanded: list[ModalInput] = []
        for index, prepared in enumerate(inputs):
            for text in (prepared.text, *prepared.translations):
                expanded.append(ModalInput(pk=prepared.pk, text=text, image=None))
                owners.append(index)

        def forward(batch: dict[str, torch.Tensor], owner: torch.Tensor) -> tuple[torch.Tensor]:
            return (mean_pool(model(**batch).last_hidden_state, batch["attention_mask"]),)

        (per_text,) = self.encode_texts(expanded, forward)
        for prepared, owner in zip(expanded, owners, strict=True):
            for note in prepared.notes:
                if note not in inputs[owner].notes:
                    inputs[owner].notes.append(note)
        owner_t = torch.tensor(owners, dtype=torch.long, device=per_text.device)
        summed = torch.zeros(len(inputs), per_text.shape[1], dtype=per_text.dtype, device=per_text.device)
        summed.index_add_(0, owner_t, per_text)
        return F.normalize(summed, dim=-1)
