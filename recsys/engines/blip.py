"""BLIP early-fusion engine (``BlipForImageTextRetrieval``) with ITM re-scored neighbour lists.

One checkpoint (default ``Salesforce/blip-itm-base-coco``) gives three things per painting:

* **The multimodal embedding** (the engine's vectors): the CLS state of the image-grounded text
  encoder (the text encoder whose cross-attention layers attend to the ViT's patch states),
  L2-normalised (768-d in the base model). The joint similarity A_ij is the cosine of these.
  Long text is embedded window by window, each window attending to the same image, and the
  windows averaged as in ``recsys.engines.hf``.
* **ITM probabilities**, as in the UMAP'23 paper: ``postprocess`` takes each painting's top-K
  candidates by the joint cosine (``itm_top_k``, default 50; 0 disables), re-scores each pair
  with the image-text matching head, ``p_ij = mean(ITM(image_i, text_j), ITM(image_j, text_i))``
  over the directions whose image and text both exist, and writes the re-ranked lists as
  ``itm_idx.npy`` (int32 (m, K), row indices, best first, -1 padded) and ``itm_prob.npy``
  (float32 (m, K), 0 where padded: mask with ``itm_idx >= 0``). A full m x m ITM is never
  computed: each image goes through the ViT once and each distinct (image, text) pair through
  the text encoder once, at most 2·m·K passes. ITM reads a text's first context window only (a
  cross-encoder per window would multiply the dominant cost); ``itm_max_tokens`` reads fewer
  tokens still, since the pair cost grows with the text's length. The lists depend on the whole
  catalogue, so they are rebuilt on every run; the pair *scores* do not: an incremental run
  reuses the previous artefact's p_ij of every pair of unchanged paintings and scores only the
  pairs that involve a new or changed painting. In the pipeline the scoring is its own step
  (``recsys.build.pairing``: ``plan_pairs`` here says which (image, text) directions to
  score, ``score_pairs`` scores one batch of images on a worker, ``postprocess`` receives the
  merged ``PairScores``); called alone, ``postprocess`` does all of it in this process. The
  manifest records the least-squares line of ``recsys.algorithms.itm`` (``itm_calibration``) that scores
  the pairs outside the lists when BLIP is scored by ITM (``RECSYS_BLIP_SCORE``).
* **Unimodal ITC embeddings**: ``vision_proj`` of the ViT's CLS state and ``text_proj`` of the
  unimodal text encoder's CLS state (chunk-averaged), L2-normalised: BLIP's image-text
  contrastive space (256-d in the base model). They are not the engine's similarity; they are
  written alongside the ITM lists, by the same ViT pass, as ``itc_image.npy`` / ``itc_text.npy``
  (rows in artefact order, zero rows where the modality is missing) for cross-modal use.

Missing modality (the multimodal embedding must stay in one space, the image-grounded
encoder's 768-d CLS output):

* **No text**: the image-grounded encoder reads an empty caption (``[CLS] [SEP]``) while
  attending to the image, so the vector is that encoder's reading of the image alone.
* **No image**: the ITC text embedding is *not* used: ``text_proj`` maps into the 256-d
  contrastive space, a different space (and dimension) from the multimodal CLS state, and
  padding it into 768-d would make such a painting orthogonal to every painting with an image.
  Instead the same text encoder runs with its cross-attention switched off (BLIP's unimodal text
  encoder, which shares every self-attention and feed-forward weight with the image-grounded
  one) and its CLS state is used. It is the output of the same layer stack and residual stream,
  so its cosine with multimodal embeddings is meaningful: it compares the text with another
  painting's text-plus-image reading. Such paintings get a note in the artefact log.

A painting with neither a readable image nor text is skipped with the reason.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from config.iterables import batched
from recsys.algorithms import itm
from recsys.algorithms.itm import ITM_IDX, ITM_PROB
from recsys.algorithms.similarity import top_k_neighbours
from recsys.artefacts.files import save_local_array
from recsys.engines.base import PaintingInput
from recsys.engines.hf import ModalInput, TransformerEngine
from recsys.engines.images import ImageUnreadable, open_rgb

if TYPE_CHECKING:
    import torch

ITC_IMAGE = "itc_image.npy"
ITC_TEXT = "itc_text.npy"


@dataclass(slots=True)
class PairWork:
    """What the pair step has to do: rows are artefact rows."""

    top_k: int
    candidates: np.ndarray  # int (m, K): each row's top-K by the joint cosine, best first
    texts_of: dict[int, list[int]]  # image row -> text rows whose ITM(image, text) is scored
    image_rows: list[int]  # rows whose image goes through the ViT (for ITM pairs and/or ITC)


@dataclass(slots=True)
class PairScores:
    """The pair step's results, merged (rows are artefact rows)."""

    candidates: np.ndarray
    scores: dict[tuple[int, int], float]  # (image row, text row) -> ITM probability, scored now
    reused: dict[tuple[int, int], float] = field(default_factory=dict)  # (i < j) -> previous p_ij
    itc_image: np.ndarray | None = None  # (m, d): rows of images passed now or reused
    itc_text: np.ndarray | None = None  # (m, d): reused text rows (``itc_text_rows``)
    itc_text_rows: Collection[int] = ()
    unreadable: int = 0


def pair_key(i: int, j: int) -> tuple[int, int]:
    return (i, j) if i < j else (j, i)


class BlipEngine(TransformerEngine):
    kind = "joint"
    scores_pairs = True
    modalities = frozenset({"text", "image"})
    model_class_name = "BlipForImageTextRetrieval"
    model_types = frozenset({"blip"})
    default_options = {"batch_size": 8, "itm_top_k": 50, "itm_batch_size": 32, "itm_max_tokens": None}
    fallback_notes = {
        "image": "multimodal embedding from the text encoder without cross-attention",
        "text": "multimodal embedding of the image with an empty caption",
    }

    # -- model passes ----------------------------------------------------------------------------
    def vision_states(self, images: Sequence[Any]) -> torch.Tensor:
        """ViT token states (B, tokens, hidden) of the images."""
        return self.loaded().model.vision_model(pixel_values=self.pixel_values(images)).last_hidden_state

    def grounded_cls(self, batch: dict[str, torch.Tensor], image_states: torch.Tensor) -> torch.Tensor:
        """CLS state of the image-grounded text encoder for texts paired row-wise with images."""
        import torch

        model = self.loaded().model
        image_mask = torch.ones(image_states.shape[:2], dtype=torch.long, device=image_states.device)
        return model.text_encoder(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            encoder_hidden_states=image_states,
            encoder_attention_mask=image_mask,
        ).last_hidden_state[:, 0]

    def itm_max_tokens(self) -> int:
        """Tokens of a text that ITM reads: the model's context, or fewer (``itm_max_tokens``)."""
        context = self.loaded().layout.context
        return min(context, int(self.option("itm_max_tokens") or context))

    def text_cls(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """CLS state of the unimodal text encoder (cross-attention off)."""
        return self.loaded().model.text_encoder(**batch).last_hidden_state[:, 0]

    # -- encoding --------------------------------------------------------------------------------
    def embed(self, inputs: Sequence[ModalInput], state_dir: Path) -> torch.Tensor:
        import torch

        loaded = self.loaded()
        joint = torch.zeros(len(inputs), loaded.model.config.text_config.hidden_size, device=loaded.device)
        with_image = [row for row, prepared in enumerate(inputs) if prepared.image is not None]
        text_only = [row for row, prepared in enumerate(inputs) if prepared.image is None]
        if with_image:
            states = self.vision_states([inputs[row].image for row in with_image])
            (joint[with_image],) = self.encode_texts(
                [inputs[row] for row in with_image],
                lambda batch, owner: (self.grounded_cls(batch, states[owner]),),
            )
        if text_only:
            (joint[text_only],) = self.encode_texts(
                [inputs[row] for row in text_only], lambda batch, owner: (self.text_cls(batch),)
            )
        return joint

    # -- the pair step: ITM lists and ITC embeddings --------------------------------------------
    def plan_pairs(
        self,
        *,
        items: Sequence[PaintingInput],
        embeddings: np.ndarray,
        reused: Collection[tuple[int, int]] = (),
        fresh_rows: Collection[int] | None = None,
    ) -> PairWork | None:
        """The (image, text) directions to score: every direction a pair of each row's top-K
        candidates can have, except pairs in ``reused`` (unordered, i < j); images go through the
        ViT when they have a direction to score or are in ``fresh_rows`` (None: all; their ITC
        embedding cannot be reused). None when ``itm_top_k`` is 0."""
        top_k = min(int(self.option("itm_top_k") or 0), len(items) - 1)
        if top_k <= 0:
            return None
        candidates, _ = top_k_neighbours(np.asarray(embeddings), top_k)
        has_image = [bool(item.image_path) for item in items]
        has_text = [bool((item.text or "").strip()) for item in items]
        skip = set(reused)
        texts_of: dict[int, set[int]] = defaultdict(set)  # image row -> text rows to score with it
        for i, row in enumerate(candidates.tolist()):
            for j in row:
                if pair_key(i, j) in skip:
                    continue
                if has_image[i] and has_text[j]:
                    texts_of[i].add(j)
                if has_image[j] and has_text[i]:
                    texts_of[j].add(i)
        fresh = range(len(items)) if fresh_rows is None else fresh_rows
        image_rows = sorted(set(texts_of) | {row for row in fresh if has_image[row]})
        return PairWork(
            top_k=top_k,
            candidates=candidates,
            texts_of={a: sorted(b) for a, b in texts_of.items()},
            image_rows=image_rows,
        )

    def score_pairs(
        self, *, items: Sequence[PaintingInput], image_rows: Sequence[int], texts_of: dict[int, list[int]]
    ) -> tuple[dict[tuple[int, int], float], np.ndarray, int]:
        """One batch of the pair step (``image_pass`` on ``image_rows``)."""
        return self.image_pass(items, image_rows, texts_of)

    def postprocess(
        self,
        *,
        items: Sequence[PaintingInput],
        embeddings: np.ndarray,
        out_dir: Path,
        pairs: PairScores | None = None,
    ) -> dict[str, Any]:
        import torch

        if len(items) != embeddings.shape[0]:
            raise ValueError(f"{len(items)} items but {embeddings.shape[0]} embedding rows")
        started = time.perf_counter()
        if pairs is None:  # called alone: the whole pair step here
            work = self.plan_pairs(items=items, embeddings=embeddings)
            if work is None:
                return {"itm_top_k": 0}
            scores, itc_image, unreadable = self.image_pass(items, work.image_rows, work.texts_of)
            pairs = PairScores(
                candidates=work.candidates, scores=scores, itc_image=itc_image, unreadable=unreadable
            )
        if pairs.candidates.shape[1] == 0:
            return {"itm_top_k": 0}
        itm_idx, itm_prob = rescore(pairs.candidates, pairs.scores, pairs.reused)
        save_local_array(out_dir / ITM_IDX, itm_idx)
        save_local_array(out_dir / ITM_PROB, itm_prob)
        graph = itm.itm_graph(itm_idx, itm_prob)
        line = itm.calibrate(itm.graph_cosines(embeddings, graph), graph.probs)

        dim = self.loaded().model.config.image_text_hidden_size
        itc_image = (
            pairs.itc_image if pairs.itc_image is not None else np.zeros((len(items), dim), np.float32)
        )
        itc_text = np.zeros_like(itc_image)
        kept = sorted(pairs.itc_text_rows)
        if kept and pairs.itc_text is not None:
            itc_text[kept] = pairs.itc_text[kept]
        done = set(kept)
        text_rows = [row for row, item in enumerate(items) if (item.text or "").strip() and row not in done]
        if text_rows:
            with torch.inference_mode():
                model = self.loaded().model
                (vectors,) = self.encode_texts(
                    [
                        ModalInput(pk=items[row].pk, text=items[row].text.strip(), image=None)
                        for row in text_rows
                    ],
                    lambda batch, owner: (model.text_proj(self.text_cls(batch)),),
                )
            itc_text[text_rows] = vectors.cpu().numpy()
        save_local_array(out_dir / ITC_IMAGE, itc_image)
        save_local_array(out_dir / ITC_TEXT, itc_text)
        return {
            "itm_top_k": int(pairs.candidates.shape[1]),
            "itm_pairs_scored": len(pairs.scores),
            "itm_pairs_reused": len(pairs.reused),
            "itm_images_unreadable": pairs.unreadable,
            "itm_rows_without_scores": int((itm_idx[:, 0] < 0).sum()),
            "itm_calibration": {"a": line.a, "b": line.b, "pairs": line.pairs},
            "itc_dim": int(itc_image.shape[1]),
            "postprocess_seconds": round(time.perf_counter() - started, 3),
        }

    def image_pass(
        self, items: Sequence[PaintingInput], image_rows: Sequence[int], texts_of: dict[int, list[int]]
    ) -> tuple[dict[tuple[int, int], float], np.ndarray, int]:
        """One ViT pass over every image: its ITC embedding, and the ITM match probability with
        each text row ``texts_of`` lists for it.

        Images are encoded ``batch_size`` at a time and their ViT states reused for all their
        texts; (image, text) pairs go through the text encoder ``itm_batch_size`` at a time.
        Returns {(image row, text row): probability}, the (m, d) ITC image embeddings (zero rows
        without image) and the number of images that could not be read (their pairs are left out).
        """
        import torch
        import torch.nn.functional as F

        loaded = self.loaded()
        model, tokenizer = loaded.model, loaded.tokenizer
        itc_image = np.zeros((len(items), model.config.image_text_hidden_size), dtype=np.float32)
        text_rows = sorted({b for texts in texts_of.values() for b in texts})
        encoded = (
            tokenizer(
                [items[b].text.strip() for b in text_rows], truncation=True, max_length=self.itm_max_tokens()
            )["input_ids"]
            if text_rows
            else []
        )
        token_ids = dict(zip(text_rows, encoded, strict=True))
        pair_batch = max(1, int(self.option("itm_batch_size")))
        scores: dict[tuple[int, int], float] = {}
        unreadable = 0
        with torch.inference_mode():
            for block in batched(list(image_rows), self.batch_size):
                rows, images = [], []
                for a in block:
                    try:
                        images.append(open_rgb(items[a].image_path))
                        rows.append(a)
                    except ImageUnreadable:
                        unreadable += 1
                if not rows:
                    continue
                states = self.vision_states(images)
                for image in images:
                    image.close()
                itc_image[rows] = F.normalize(model.vision_proj(states[:, 0]), dim=-1).cpu().numpy()
                pairs = [(local, b) for local, a in enumerate(rows) for b in texts_of.get(a, ())]
                pairs.sort(key=lambda pair: len(token_ids[pair[1]]))  # batches of similar length
                for chunk in batched(pairs, pair_batch):
                    batch = self.pad_ids([token_ids[b] for _, b in chunk])
                    cls = self.grounded_cls(batch, states[[local for local, _ in chunk]])
                    probs = torch.softmax(model.itm_head(cls).float(), dim=-1)[:, 1].tolist()
                    for (local, b), prob in zip(chunk, probs, strict=True):
                        scores[(rows[local], b)] = prob
        return scores, itc_image, unreadable


def rescore(
    candidates: np.ndarray,
    scores: dict[tuple[int, int], float],
    reused: dict[tuple[int, int], float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's candidates re-ranked by the mean ITM probability of the directions scored for
    the pair (or, for a pair of unchanged paintings, the previous artefact's ``reused`` p_ij),
    best first; candidates with neither are dropped (-1 / 0 padding)."""
    reused = reused or {}
    m, k = candidates.shape
    itm_idx = np.full((m, k), -1, dtype=np.int32)
    itm_prob = np.zeros((m, k), dtype=np.float32)
    for i, row in enumerate(candidates.tolist()):
        rescored = []
        for j in row:
            directions = [p for p in (scores.get((i, j)), scores.get((j, i))) if p is not None]
            if directions:
                rescored.append((sum(directions) / len(directions), j))
            elif pair_key(i, j) in reused:
                rescored.append((reused[pair_key(i, j)], j))
        rescored.sort(key=lambda pair: (-pair[0], pair[1]))
        itm_idx[i, : len(rescored)] = [j for _, j in rescored]
        itm_prob[i, : len(rescored)] = [p for p, _ in rescored]
    return itm_idx, itm_prob
