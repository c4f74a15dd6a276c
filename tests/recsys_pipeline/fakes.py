"""Tiny deterministic engines for pipeline tests (configured through RECSYS_ENGINES)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from config.exceptions import ModelNotAvailable
from recsys.engines.base import EncodedBatch, Engine, PaintingInput

DIM = 32


def bag_of_words(text: str) -> np.ndarray:
    """Word counts hashed into DIM buckets: equal texts give equal vectors, and texts sharing
    words have positive cosine."""
    vector = np.zeros(DIM, dtype=np.float32)
    for word in text.lower().split():
        vector[zlib.crc32(word.encode()) % DIM] += 1.0
    return vector


class FakeEngine(Engine):
    """Bag of hashed words. Markers in a painting's text steer it: ``SKIPME`` is skipped,
    ``ZEROVEC`` gets a zero vector, ``BOOM`` raises, ``FLAKY`` raises OSError on first sight."""

    kind = "text"
    modalities = frozenset({"text"})
    calls: ClassVar[list[list[int]]] = []  # pks of every encode call, across instances
    flaky_seen: ClassVar[set[int]] = set()

    def encode(self, items: Sequence[PaintingInput], state_dir: Path) -> EncodedBatch:
        FakeEngine.calls.append([item.pk for item in items])
        pks, rows, skipped = [], [], {}
        for item in items:
            if "BOOM" in item.text:
                raise RuntimeError(f"fake engine exploded on painting {item.pk}")
            if "FLAKY" in item.text and item.pk not in FakeEngine.flaky_seen:
                FakeEngine.flaky_seen.add(item.pk)
                raise OSError("fake transient disk error")
            if "SKIPME" in item.text:
                skipped[item.pk] = "fake: asked to skip"
                continue
            pks.append(item.pk)
            rows.append(np.zeros(DIM, np.float32) if "ZEROVEC" in item.text else bag_of_words(item.text))
        vectors = np.vstack(rows) if rows else np.zeros((0, DIM), np.float32)
        return EncodedBatch(pks=pks, vectors=vectors * self.options.get("scale", 1.0), skipped=skipped)


class FakeFittedEngine(FakeEngine):
    """Learns a vocabulary in ``fit`` (a word -> bucket table saved in the state folder)."""

    needs_fit = True
    fits: ClassVar[int] = 0

    def fit(self, items: Sequence[PaintingInput], state_dir: Path) -> dict[str, Any]:
        FakeFittedEngine.fits += 1
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / "fitted.txt").write_text(str(len(items)))
        return {"fitted_on": len(items)}

    def encode(self, items: Sequence[PaintingInput], state_dir: Path) -> EncodedBatch:
        assert (state_dir / "fitted.txt").exists(), "encode before fit"
        return super().encode(items, state_dir)


class MissingModelEngine(FakeEngine):
    def check_available(self) -> None:
        raise ModelNotAvailable(f"Model 'nowhere/missing' not found; set {self.model_setting}.")


class SlowEngine(FakeEngine):
    """The fake engine taking ``OPTIONS["sleep_s"]`` per batch, so a test can kill its worker
    in the middle of a build."""

    def encode(self, items: Sequence[PaintingInput], state_dir: Path) -> EncodedBatch:
        import time

        time.sleep(float(self.options.get("sleep_s", 1.0)))
        return super().encode(items, state_dir)


class FakeLengthSortedEngine(FakeEngine):
    """A FakeEngine whose plan batches paintings by text length (as MiniLM's does)."""

    batch_by_text_length = True
