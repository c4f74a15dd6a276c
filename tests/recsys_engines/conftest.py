"""Tiny, randomly initialised CLIP / BLIP / ResNet checkpoints and generated images.

The models are built from ``transformers`` config classes (after the offline recipe in
``shared/snippets/tiny_models.py``), with tokenizers and image processors constructed in memory,
saved once per session to a temporary directory and loaded back by the engines through
``from_pretrained(<dir>)``, exactly as a production checkpoint would be.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from recsys.engines.base import PaintingInput

CHARS = list(string.ascii_lowercase + string.digits + ".,!?'-")
HIDDEN = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4)
VISION = dict(image_size=32, patch_size=8, **HIDDEN)
#: text positions of the tiny CLIP and BLIP: a text of more than ~30 characters is "long"
TEXT_CONTEXT = 32
#: BERT's default init (0.02) makes a tiny random BLIP map every input to nearly the same CLS
#: state (cosines > 0.9999); a wider init gives distinguishable paintings.
BLIP_INIT = 0.2


def _clip_parts():
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in CHARS:  # byte-level BPE over single characters: no merges needed
        vocab.setdefault(char, len(vocab))
        vocab.setdefault(char + "</w>", len(vocab))
    config = CLIPConfig(
        text_config=dict(
            vocab_size=len(vocab),
            max_position_embeddings=TEXT_CONTEXT,
            eos_token_id=1,
            bos_token_id=0,
            pad_token_id=1,
            **HIDDEN,
        ),
        vision_config=VISION,
        projection_dim=16,
    )
    processor = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return CLIPModel(config), CLIPTokenizer(vocab=vocab, merges=[]), processor


def _blip_parts():
    from transformers import BertTokenizer, BlipConfig, BlipForImageTextRetrieval, BlipImageProcessorPil

    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *CHARS, *("##" + c for c in CHARS)]
    config = BlipConfig(
        text_config=dict(
            vocab_size=len(tokens),
            max_position_embeddings=TEXT_CONTEXT,
            pad_token_id=0,
            bos_token_id=2,
            sep_token_id=3,
            initializer_range=BLIP_INIT,
            **HIDDEN,
        ),
        vision_config=dict(initializer_range=BLIP_INIT, **VISION),
        image_text_hidden_size=16,
        projection_dim=16,
        initializer_range=BLIP_INIT,
    )
    tokenizer = BertTokenizer(vocab={token: i for i, token in enumerate(tokens)})
    return (
        BlipForImageTextRetrieval(config),
        tokenizer,
        BlipImageProcessorPil(size={"height": 32, "width": 32}),
    )


def _resnet_parts():
    from transformers import ConvNextImageProcessorPil, ResNetConfig, ResNetModel

    config = ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1], layer_type="bottleneck"
    )
    # the hub's microsoft/resnet-50 ships a ConvNext image processor, too
    return ResNetModel(config), None, ConvNextImageProcessorPil(size={"shortest_edge": 32}, crop_pct=1.0)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, str]:
    """engine name -> local directory of a tiny random checkpoint (model, tokenizer, processor)."""
    root = tmp_path_factory.mktemp("tiny-models")
    torch.manual_seed(0)
    dirs = {}
    for name, build in (("clip", _clip_parts), ("blip", _blip_parts), ("resnet", _resnet_parts)):
        model, tokenizer, processor = build()
        target = root / name
        model.save_pretrained(target)
        processor.save_pretrained(target)
        if tokenizer is not None:
            tokenizer.save_pretrained(target)
        dirs[name] = str(target)
    return dirs


def write_image(path: Path, seed: int, size: tuple[int, int] = (48, 64)) -> str:
    """A random RGB image (noise, seeded) saved as PNG; returns its path."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path, format="PNG")
    return str(path)


@pytest.fixture
def painting(tmp_path) -> Callable[..., PaintingInput]:
    """Build a ``PaintingInput``; ``image_seed`` writes a generated image for it."""

    def build(pk: int, text: str = "", image_seed: int | None = None, image_path: str | None = None):
        if image_seed is not None:
            image_path = write_image(tmp_path / f"img-{pk}-{image_seed}.png", image_seed)
        return PaintingInput(pk=pk, external_id=f"p-{pk}", text=text, image_path=image_path)

    return build


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def assert_identical_pair_closest(engine, painting, tmp_path) -> None:
    """Two paintings with the same image and text are identical (cos 1) and closer to each other
    than to an unrelated one, whatever the random weights of the tiny model."""
    items = [
        painting(1, "a storm at sea", image_seed=5),
        painting(2, "a storm at sea", image_seed=5),
        painting(3, "portrait of a woman", image_seed=6),
    ]
    vectors = engine.encode(items, tmp_path).vectors
    similarity = vectors @ vectors.T
    assert similarity[0, 1] == pytest.approx(1.0, abs=1e-5)
    assert similarity[0, 2] < similarity[0, 1] - 1e-3


@pytest.fixture(scope="module")
def direct(tiny_models):
    """The tiny CLIP checkpoint loaded with plain transformers, to compute expected values."""
    from transformers import AutoImageProcessor, AutoTokenizer, CLIPModel

    path = tiny_models["clip"]
    return (
        CLIPModel.from_pretrained(path).eval(),
        AutoTokenizer.from_pretrained(path),
        AutoImageProcessor.from_pretrained(path),
    )
