"""Shared machinery of the pretrained transformer engines (ResNet-50, CLIP, BLIP, MiniLM, DINOv2, XLM-R).

Each engine module only says which model class it loads and how one batch becomes vectors
(``TransformerEngine.embed``); everything else is written once here:

* **Loading.** ``from_pretrained(<MODEL>)`` for the model, tokenizer and image processor, where
  MODEL is a hub id or a local directory from ``settings.RECSYS_ENGINES[name]["MODEL"]``. A model
  that cannot be loaded raises ``config.exceptions.ModelNotAvailable`` naming the environment
  variable to change; an engine is never silently replaced by another model. With
  ``RECSYS_HF_OFFLINE`` on, or while the hub cannot be reached (``recsys.engines.hub``: one TCP
  connect, remembered for 5 minutes), loading passes ``local_files_only`` so an offline machine
  fails at once instead of waiting on network retries. The model is loaded lazily, the first
  time the engine encodes, once per engine instance (the registry keeps one instance per
  process), moved to ``RECSYS_DEVICE`` and put in eval mode; all forward passes run under
  ``torch.inference_mode``. ``check_available`` is cheap: it reads ``config.json`` only
  (where a model's files are: ``recsys.engines.model_files``).
  Importing an engine imports neither torch nor transformers (``model_class_name``; both are
  imported when a model is loaded), so a web process that only reports statuses never holds
  them (about 320 MB per process). ``RECSYS_TORCH_THREADS`` caps torch's CPU threads: several
  worker processes on few cores otherwise oversubscribe them, and spinning threads then run
  several times slower (device and threads: ``recsys.engines.torch_runtime``).
* **Inputs.** ``encode`` opens images per batch (``recsys.engines.images``), decides per painting
  which modalities are usable, skips paintings with none (with the reason) and records a note
  when a joint engine falls back to one modality.
* **Long text.** Curatorial descriptions are often longer than a text model's context (77 tokens
  for CLIP). Text is never cut: it is tokenised once, split into windows of the model's context
  (minus its special tokens, optionally overlapping), every window is embedded, and the text's
  embedding is the mean of the unit window embeddings weighted by their number of tokens, then
  L2-normalised. A text that fits in one window gives exactly the model's plain embedding
  (the pure parts: ``recsys.engines.chunking``).
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np
from django.conf import settings
from PIL import Image

from config.exceptions import ModelNotAvailable
from config.iterables import batched
from recsys.engines import hub
from recsys.engines.base import EncodedBatch, Engine, PaintingInput
from recsys.engines.chunking import TextLayout, pool_chunks, split_token_ids, text_layout
from recsys.engines.images import ImageUnreadable, open_rgb
from recsys.engines.model_files import WEIGHT_FILES, local_model_dir, read_model_type
from recsys.engines.torch_runtime import check_device, resolve_device, torch_threads

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

T = TypeVar("T")


# -- the engine base class ----------------------------------------------------------------------
@dataclass(slots=True)
class ModalInput:
    """One painting's usable inputs for an engine; ``notes`` end up in ``EncodedBatch.notes``."""

    pk: int
    text: str | None
    image: Image.Image | None
    notes: list[str] = field(default_factory=list)
    #: the painting's text in its other languages (read by the multilingual engine only)
    translations: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadedModel:
    model: Any
    tokenizer: Any | None
    image_processor: Any | None
    device: torch.device
    layout: TextLayout | None


#: chunk forward: (padded ``input_ids``/``attention_mask`` on the device, owner text index of each
#: chunk) -> one or more (n_chunks, d) tensors, each pooled separately
ChunkForward = Callable[[dict[str, "torch.Tensor"], "torch.Tensor"], tuple["torch.Tensor", ...]]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class TransformerEngine(Engine):
    """Base of the engines backed by a ``transformers`` model (see the module docstring)."""

    #: name of the ``transformers`` class whose ``from_pretrained`` loads the model (a name, so
    #: that importing an engine imports neither transformers nor torch: the web never loads one)
    model_class_name: ClassVar[str]
    #: accepted ``config.model_type`` values (None: any), checked without loading weights
    model_types: ClassVar[frozenset[str] | None] = None
    #: option defaults; text-reading engines also get ``TEXT_OPTIONS``
    default_options: ClassVar[dict[str, Any]] = {"batch_size": 16}
    TEXT_OPTIONS: ClassVar[dict[str, Any]] = {"max_tokens": None, "chunk_overlap": 0, "max_chunks": 32}
    #: joint engines: what the embedding becomes when a modality is missing, keyed by that modality
    fallback_notes: ClassVar[dict[str, str]] = {}

    def __init__(self, *, name: str, model: str | None = None, options: dict[str, Any] | None = None):
        super().__init__(name=name, model=model, options=options)
        self._lock = threading.Lock()
        self._loaded: LoadedModel | None = None

    # -- options ---------------------------------------------------------------------------------
    def _defaults(self) -> dict[str, Any]:
        text = self.TEXT_OPTIONS if "text" in self.modalities else {}
        return {**text, **self.default_options}

    def option(self, key: str) -> Any:
        value = self.options.get(key)
        return self._defaults()[key] if value is None else value

    @property
    def batch_size(self) -> int:
        return max(1, int(self.option("batch_size")))

    def params(self) -> dict[str, Any]:
        return {**super().params(), **{key: self.option(key) for key in self._defaults()}}

    # -- loading ---------------------------------------------------------------------------------
    def unavailable(self, reason: str) -> ModelNotAvailable:
        """The error for a model that cannot be used, naming the setting that selects it."""
        hint = ""
        if self.model_id and local_model_dir(self.model_id) is None and self.local_files_only():
            why = "RECSYS_HF_OFFLINE is on" if settings.RECSYS_HF_OFFLINE else "{}:{} cannot be reached"
            hint = f" {why.format(*hub.hub_address())}, so hub ids are looked up in the local cache only."
        return ModelNotAvailable(
            f"Model {self.model_id!r} for engine {self.name!r} could not be loaded ({reason}). "
            f"Set {self.model_setting} to a local directory or a reachable hub id.{hint}",
            detail={"engine": self.name, "model": self.model_id, "setting": self.model_setting},
        )

    def local_files_only(self) -> bool:
        """Load from local files only: ``RECSYS_HF_OFFLINE``, or a hub id while the hub cannot be
        reached (``recsys.engines.hub``: no minute of retries per model)."""
        if settings.RECSYS_HF_OFFLINE:
            return True
        return bool(self.model_id) and local_model_dir(self.model_id) is None and not hub.hub_reachable()

    def _pretrained(self, loader: Callable[..., T], what: str, **kwargs: Any) -> T:
        try:
            return loader(self.model_id, local_files_only=self.local_files_only(), **kwargs)
        except ModelNotAvailable:
            raise
        except Exception as exc:  # third-party file loading fails in many ways; all mean "unusable"
            raise self.unavailable(f"{what}: {_first_line(exc)}") from exc

    def check_available(self) -> None:
        """Cheap check: the device exists, the directory has a config and weights, the config
        is of the right model type. Weights are only read by the first ``encode``."""
        check_device(settings.RECSYS_DEVICE)
        if not self.model_id:
            raise self.unavailable("no model configured")
        model_dir = local_model_dir(self.model_id)
        if model_dir is not None:
            if not model_dir.is_dir():
                raise self.unavailable(f"directory {model_dir} does not exist")
            if not (model_dir / "config.json").is_file():
                raise self.unavailable(f"no config.json in {model_dir}")
            if not any((model_dir / name).is_file() for name in WEIGHT_FILES):
                raise self.unavailable(f"no weights file in {model_dir}")
        model_type = self._pretrained(read_model_type, "config")
        if self.model_types is not None and model_type not in self.model_types:
            raise self.unavailable(
                f"it is a {model_type!r} model; engine {self.name!r} needs {sorted(self.model_types)}"
            )

    def loaded(self) -> LoadedModel:
        """The model, tokenizer and image processor, loaded on first use and kept."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self._loaded

    def _load(self) -> LoadedModel:
        import torch
        import transformers
        from transformers import AutoImageProcessor, AutoTokenizer

        self.check_available()
        device = resolve_device(settings.RECSYS_DEVICE)
        if device.type == "cpu":
            torch.set_num_threads(torch_threads())  # process-wide, like torch's pool
        model_class = getattr(transformers, self.model_class_name)
        model = self._pretrained(model_class.from_pretrained, "model", dtype=torch.float32)
        model.to(device).eval()
        if self.options.get("quantize"):
            model = self._quantised(model, device)
        tokenizer = processor = layout = None
        if "text" in self.modalities:
            tokenizer = self._pretrained(AutoTokenizer.from_pretrained, "tokenizer")
            try:
                layout = text_layout(
                    tokenizer,
                    model.config,
                    max_tokens=self.option("max_tokens"),
                    overlap=int(self.option("chunk_overlap")),
                    max_chunks=int(self.option("max_chunks")),
                )
            except ValueError as exc:
                raise self.unavailable(f"tokenizer: {exc}") from exc
        if "image" in self.modalities:
            processor = self._pretrained(AutoImageProcessor.from_pretrained, "image processor")
        logger.info("Loaded %s model %s on %s", self.name, self.model_id, device)
        return LoadedModel(
            model=model, tokenizer=tokenizer, image_processor=processor, device=device, layout=layout
        )

    def _quantised(self, model: Any, device: torch.device) -> Any:
        """int8 dynamic quantisation of the Linear layers (``OPTIONS["quantize"] = "int8"``): weights
        stored as int8, activations quantised per batch; CPU only. Off by default: it changes the
        vectors, so it is only worth turning on where the offline evaluation shows no loss
        (bench/README.md, "Encoding throughput", has the agreement measured so far)."""
        import torch

        kind = self.options["quantize"]
        if kind != "int8":
            raise self.unavailable(f"quantize={kind!r}: only 'int8' (dynamic, CPU) is supported")
        if device.type != "cpu":
            raise self.unavailable(f"int8 dynamic quantisation runs on the CPU only, not on {device}")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)

    # -- encoding --------------------------------------------------------------------------------
    def encode(self, items: Sequence[PaintingInput], state_dir: Path) -> EncodedBatch:
        import torch

        self.loaded()  # a missing model fails here, before any image is opened
        pks: list[int] = []
        parts: list[np.ndarray] = []
        skipped: dict[int, str] = {}
        notes: dict[int, str] = {}
        # A text-only engine gets the whole task at once: ``encode_texts`` sorts all its token
        # windows by length and forwards them ``batch_size`` at a time, so a forward pads to
        # similar lengths (1.2-1.5x faster than batches in catalogue order). Images are opened
        # per batch, so engines that read them keep batches of ``batch_size`` paintings.
        group = self.batch_size if "image" in self.modalities else max(1, len(items))
        for batch in batched(list(items), group):
            inputs: list[ModalInput] = []
            for item in batch:
                prepared = self._prepare(item)
                if isinstance(prepared, str):
                    skipped[item.pk] = prepared
                else:
                    inputs.append(prepared)
            if not inputs:
                continue
            try:
                with torch.inference_mode():
                    vectors = self.embed(inputs, state_dir)
            finally:
                for prepared in inputs:
                    if prepared.image is not None:
                        prepared.image.close()
            parts.append(vectors.detach().to("cpu", torch.float32).numpy())
            pks.extend(prepared.pk for prepared in inputs)
            notes.update({prepared.pk: "; ".join(prepared.notes) for prepared in inputs if prepared.notes})
        dim = parts[0].shape[1] if parts else 0
        vectors_all = np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32)
        return EncodedBatch(pks=pks, vectors=vectors_all, skipped=skipped, notes=notes)

    def _prepare(self, item: PaintingInput) -> ModalInput | str:
        """The painting's usable inputs, or the reason it has none (a ``str``)."""
        wants_text, wants_image = "text" in self.modalities, "image" in self.modalities
        text = (item.text or "").strip() if wants_text else ""
        image, image_problem = None, None
        if wants_image:
            if not item.image_path:
                image_problem = "no image"
            else:
                try:
                    image = open_rgb(item.image_path)
                except ImageUnreadable as exc:
                    image_problem = str(exc)
        if image is None and not text:
            return "; ".join(p for p in (image_problem, "no text" if wants_text else None) if p)
        prepared = ModalInput(pk=item.pk, text=text or None, image=image)
        if wants_text and wants_image:
            if image is None:
                prepared.notes.append(f"{image_problem}: {self.fallback_notes['image']}")
            elif not text:
                prepared.notes.append(f"no text: {self.fallback_notes['text']}")
        return prepared

    @abc.abstractmethod
    def embed(self, inputs: Sequence[ModalInput], state_dir: Path) -> torch.Tensor:
        """(len(inputs), d) vectors for inputs that each have at least one usable modality."""

    # -- queries (search) ----------------------------------------------------------------------
    def encode_query_text(self, text: str) -> np.ndarray:
        """The query as a painting whose only input is ``text`` (stripped, as ``_prepare`` does):
        the same tokenising, windowing and pooling as the artefact's texts. For a joint engine
        (CLIP) that is its unit text embedding, the vector a text-only painting gets."""
        if "text" not in self.query_modalities:
            return super().encode_query_text(text)
        return self._encode_query(ModalInput(pk=0, text=text.strip() or None, image=None))

    def encode_query_image(self, image: Image.Image) -> np.ndarray:
        """The query as a painting whose only input is ``image``: the same image processor as the
        artefact's images (for CLIP its unit image embedding)."""
        if "image" not in self.query_modalities:
            return super().encode_query_image(image)
        return self._encode_query(ModalInput(pk=0, text=None, image=image.convert("RGB")))

    def _encode_query(self, prepared: ModalInput) -> np.ndarray:
        import torch

        if prepared.text is None and prepared.image is None:
            raise ValueError("a query needs text or an image")
        self.loaded()  # a missing model fails here (ModelNotAvailable naming the setting)
        with torch.inference_mode():
            # pretrained engines read nothing of ``state_dir`` (only LDA does, and it has no queries)
            vector = self.embed([prepared], Path())[0].detach().to("cpu", torch.float32).numpy()
        norm = float(np.linalg.norm(vector))
        return (vector / norm if norm > 0 else vector).astype(np.float32)

    # -- helpers for ``embed`` -----------------------------------------------------------------
    def pixel_values(self, images: Sequence[Image.Image]) -> torch.Tensor:
        loaded = self.loaded()
        return loaded.image_processor(images=list(images), return_tensors="pt")["pixel_values"].to(
            loaded.device
        )

    def tokenize_chunks(self, inputs: Sequence[ModalInput]) -> tuple[list[list[int]], list[int], list[int]]:
        """Framed token windows of every input's text (empty for none), their owner index and
        their number of text tokens; notes inputs whose text exceeded ``max_chunks`` windows."""
        loaded = self.loaded()
        layout = loaded.layout
        texts = [prepared.text or "" for prepared in inputs]
        token_ids = (
            loaded.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"] if texts else []
        )
        chunks: list[list[int]] = []
        owner: list[int] = []
        weight: list[int] = []
        for index, (prepared, ids) in enumerate(zip(inputs, token_ids, strict=True)):
            windows, truncated = split_token_ids(
                ids, size=layout.size, overlap=layout.overlap, max_chunks=layout.max_chunks
            )
            note = f"text longer than {layout.max_chunks} windows of {layout.size} tokens: cut"
            if truncated and note not in prepared.notes:
                prepared.notes.append(note)
            chunks.extend(layout.frame(window) for window in windows)
            owner.extend([index] * len(windows))
            weight.extend(max(1, len(window)) for window in windows)
        return chunks, owner, weight

    def pad_ids(self, ids: Sequence[Sequence[int]]) -> dict[str, torch.Tensor]:
        """Right-padded ``input_ids`` and ``attention_mask`` of framed token lists, on the device."""
        loaded = self.loaded()
        batch = loaded.tokenizer.pad({"input_ids": list(ids)}, padding_side="right", return_tensors="pt")
        return {key: value.to(loaded.device) for key, value in batch.items()}

    def encode_texts(self, inputs: Sequence[ModalInput], forward: ChunkForward) -> tuple[torch.Tensor, ...]:
        """Embed every input's text chunk by chunk (see module docstring): one pooled, unit
        (len(inputs), d) tensor per tensor that ``forward`` returns.

        Chunks are batched in order of length, so a batch pads to similar lengths."""
        import torch

        loaded = self.loaded()
        chunks, owner, weight = self.tokenize_chunks(inputs)
        order = sorted(range(len(chunks)), key=lambda c: len(chunks[c]))
        owner_t = torch.tensor([owner[c] for c in order], dtype=torch.long, device=loaded.device)
        weight_t = torch.tensor([weight[c] for c in order], dtype=torch.float32)
        outputs: list[list[torch.Tensor]] = []
        for start in range(0, len(order), self.batch_size):
            batch = self.pad_ids([chunks[c] for c in order[start : start + self.batch_size]])
            outputs.append(list(forward(batch, owner_t[start : start + self.batch_size])))
        return tuple(
            pool_chunks(torch.cat(per_output), owner_t, weight_t, len(inputs))
            for per_output in zip(*outputs, strict=True)
        )
