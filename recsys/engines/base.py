"""The one interface every representation engine implements.

An engine turns paintings (``catalog.snapshot.PaintingInput``: text and/or image path) into
float32 vectors whose cosine similarity is the engine's painting-to-painting similarity A_ij.
Everything around it (id <-> row mapping, batching, L2 normalisation, neighbour structures,
artefact I/O, Celery orchestration) is written once in ``recsys.build.pipeline``,
``recsys.algorithms.similarity`` and ``recsys.artefacts``; an engine module only knows how to load its
model and encode a batch. Engines never import the pipeline.

Lifecycle, driven by the pipeline:

1. ``fit(items, state_dir)`` once per artefact, for engines that learn from the whole catalogue
   (LDA trains its dictionary and topic model and saves them to ``state_dir``). Pretrained
   engines do nothing here.
2. ``encode(items, state_dir)`` per batch, possibly in several worker processes; returns one
   row per item it could encode and the items it had to skip, with a reason.
3. For an engine that ``scores_pairs`` (BLIP's ITM cross-encoder), the pipeline's pair step
   (``recsys.build.pairing``) asks it which pairs to score (``plan_pairs``), spreads them
   over workers in batches (``score_pairs``) and hands the results to ``postprocess``.
4. ``postprocess(...)`` optionally adds extra arrays to the artefact (BLIP's ITM re-scored
   neighbour lists).

At request time (search, ``recsys.serving.search``) an engine that declares ``query_modalities`` encodes
a free-text query (``encode_query_text``) or an uploaded picture (``encode_query_image``) into one
unit vector through exactly the preprocessing its artefact rows went through, so the cosine of
the query with a row is comparable with the rows' cosines among themselves.
"""

from __future__ import annotations

import abc
import contextvars
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from catalog.snapshot import PaintingInput
from config.exceptions import ValidationFailed

__all__ = ["EncodedBatch", "Engine", "FitProgress", "PaintingInput", "fit_progress", "report_fit_progress"]

#: ``progress(done, total, unit)``: how far an engine's ``fit`` is (e.g. 4 of 12 "LDA models").
FitProgress = Callable[[int, int, str], None]
#: The pipeline sets this around ``fit`` (``recsys.build.planning``); engines never import it.
fit_progress: contextvars.ContextVar[FitProgress | None] = contextvars.ContextVar(
    "fit_progress", default=None
)


def report_fit_progress(done: int, total: int, unit: str) -> None:
    """Tell whoever runs ``fit`` that ``done`` of ``total`` units of the fit are finished (a no-op
    outside a build). Engines call it between the long parts of their fit, so the progress of a
    build is honest while it fits (the API, the admin and the waiting page show it)."""
    reporter = fit_progress.get()
    if reporter is not None:
        reporter(done, total, unit)


@dataclass(slots=True)
class EncodedBatch:
    """Rows for the encoded items (same order as ``pks``) plus the items skipped, with a reason."""

    pks: list[int]
    vectors: np.ndarray  # float32 (len(pks), dim)
    skipped: dict[int, str] = field(default_factory=dict)
    # per-pk notes (e.g. "image missing: text only") recorded in the artefact log
    notes: dict[int, str] = field(default_factory=dict)


class Engine(abc.ABC):
    """Base class; subclasses set ``kind``/``modalities`` and implement ``encode``."""

    #: "text", "image" or "joint" (early fusion engines)
    kind: ClassVar[str]
    #: which PaintingInput fields the engine reads
    modalities: ClassVar[frozenset[str]]
    #: whether ``fit`` must run over the whole catalogue before encoding
    needs_fit: ClassVar[bool] = False
    #: whether the engine re-scores pairs of paintings in the pipeline's pair step (BLIP's ITM)
    scores_pairs: ClassVar[bool] = False
    #: what a search query may be for this engine: "text" and/or "image" (empty: no search)
    query_modalities: ClassVar[frozenset[str]] = frozenset()
    #: whether the plan puts paintings of similar text length into the same encode batch (a
    #: transformer text encoder pads every text of a forward to the longest: 1.2-1.5x faster)
    batch_by_text_length: ClassVar[bool] = False

    def __init__(self, *, name: str, model: str | None = None, options: Mapping[str, Any] | None = None):
        self.name = name
        self.model_id = model
        self.options: dict[str, Any] = dict(options or {})

    # -- identity ----------------------------------------------------------------------------
    @property
    def model_setting(self) -> str:
        """The environment variable that selects this engine's model (named in errors)."""
        return f"RECSYS_{self.name.upper()}_MODEL"

    def params(self) -> dict[str, Any]:
        """Everything that determines the vectors; stored in the artefact manifest."""
        return {"engine": self.name, "class": type(self).__qualname__, "model": self.model_id, **self.options}

    # -- lifecycle ---------------------------------------------------------------------------
    def check_available(self) -> None:
        """Raise ``config.exceptions.ModelNotAvailable`` (naming the setting) if it cannot run."""

    def fit(self, items: Sequence[PaintingInput], state_dir: Path) -> dict[str, Any]:
        """Learn from the whole catalogue and save what ``encode`` needs under ``state_dir``.

        Returns facts to record in the manifest (e.g. the chosen number of topics)."""
        return {}

    @abc.abstractmethod
    def encode(self, items: Sequence[PaintingInput], state_dir: Path) -> EncodedBatch:
        """Encode a batch. Vectors need not be normalised; the pipeline L2-normalises them."""

    def postprocess(
        self, *, items: Sequence[PaintingInput], embeddings: np.ndarray, out_dir: Path, pairs: Any = None
    ) -> dict[str, Any]:
        """Optionally write extra arrays into ``out_dir`` (staging); return manifest facts.
        ``pairs``: the pair step's results, for an engine that ``scores_pairs``."""
        return {}

    # -- queries (search) ----------------------------------------------------------------------
    def encode_query_text(self, text: str) -> np.ndarray:
        """A unit float32 vector (d,) for a free-text query, in the space of the artefact rows.

        Engines that support it (``"text" in query_modalities``) override this; the default
        refuses the query naming the engine."""
        raise ValidationFailed(f"Engine {self.name!r} cannot encode a text query.", field="engine")

    def encode_query_image(self, image: Image.Image) -> np.ndarray:
        """A unit float32 vector (d,) for a query picture (RGB, upright, already normalised like a
        catalogue image: ``catalog.importing.images.check_upload``)."""
        raise ValidationFailed(f"Engine {self.name!r} cannot encode an image query.", field="engine")
