"""A tiny random XLM-R sentence encoder, built from ``XLMRobertaConfig`` with a character-level
Unigram tokenizer made in memory (accented letters included: texts in several languages)."""

from __future__ import annotations

import string
from pathlib import Path

import torch

#: characters the tiny tokenizer knows (others become <unk>)
CHARS = string.ascii_lowercase + string.digits + ".,!?'-" + "àâäçéèêëïîôöùûüßñóíúáœ"
CONTEXT = 32


def build_tiny_xlmr(target: Path) -> str:
    from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaTokenizer

    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    for char in CHARS:  # every character alone and at a word start: no merges needed
        vocab += [("\u2581" + char, -1.0), (char, -2.0)]
    vocab += [("\u2581", -3.0), ("<mask>", 0.0)]
    tokenizer = XLMRobertaTokenizer(vocab=vocab, model_max_length=CONTEXT)
    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=CONTEXT + 2,  # XLM-R positions start after the padding index
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        initializer_range=0.2,  # distinguishable texts from a random model
    )
    XLMRobertaModel(config).save_pretrained(target)
    tokenizer.save_pretrained(target)
    return str(target)
