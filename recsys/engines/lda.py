"""LDA topic engine (gensim): a painting is its topic distribution, similarity is cosine.

``fit`` tokenises the catalogue (``recsys.engines.textprep``), builds a dictionary without rare and
ubiquitous tokens (``filter_extremes``), chooses the number of topics by a coherence sweep
unless it is fixed, trains the final model and saves model + dictionary under ``state_dir``.
``encode`` only *infers* with the saved model, so new paintings get vectors without a refit.

Coherence measure: ``c_npmi`` by default, the normalised PMI of each topic's top-word pairs in a
sliding window over the training texts. Not ``c_v``: the authors of the measure no longer
recommend it (it cannot be reproduced from its definition and ranks some junk topics highly,
dice-group/Palmetto issues #12 and #76). Cost is not the issue here: for a 20-topic model of the
1,154 CMA descriptions, training takes ~18 s on two cores and coherence ~2 s (``c_npmi``),
~1.4 s (``c_v``), 0.1 s (``u_mass``, document co-occurrence; ``OPTIONS["coherence"]`` selects
it). Runs single-process (``processes=1``): a Celery worker must not fork a pool of its own.

One LDA fit is a random draw (initialisation), so one coherence per topic count ranks the seeds
as much as the counts. The sweep trains ``sweep_seeds`` models per count k (seeds ``seed``,
``seed + 1``, ...) and scores k by their mean coherence; the chosen k keeps its most coherent
model. Ties go to the smaller number of topics.

Honest coverage: a painting whose text leaves fewer than ``min_tokens`` informative tokens
(``recsys.engines.textprep.informative_count``: tokens after preprocessing that the fitted dictionary
keeps) has too little text for a topic mix. Its inferred mix is the prior spread over the topic
or two its couple of words touch, the same for every such painting, so it would be "similar" to
hundreds of others at cosine ~1 and its neighbours an arbitrary pick. Such a painting is neither
trained on nor put in the artefact: it is skipped with the reason (the artefact's coverage and a
request's ``ignored_ratings`` say so), never given or giving random neighbours.

The default threshold, 3, comes from two measurements on the 11,577-painting sample (README,
"LDA coverage"): the neighbour degeneracy of ``bench/lda_coverage.py`` (20 topics; share of the
artefact with at least 6 other paintings at cosine >= 0.999) and the offline evaluation
(``manage.py evaluate --seed 0 --visitors 300``, 10 topics, nDCG@9):

    min_tokens   coverage   degenerate   nDCG@9 lda   nDCG@9 late-text (LDA + MiniLM)
        1          99.7%       12.8%        0.109          0.273
        3          95.0%        8.9%        0.101          0.269
        4          87.4%        5.1%        0.094          0.265
        6          66.2%        4.0%          -              -

Going 1 -> 3 drops 4.7% of the catalogue of which 94% had random neighbours, for 0.008 nDCG@9
(LDA alone; 0.004 fused), well inside the intervals (+-0.026). Going 3 -> 4 drops another 7.6%
of which only half were degenerate, at the same accuracy cost again, and 4 -> 6 a fifth of the
catalogue of which 8% were. 3 removes most of the random neighbours for the least accuracy.

Inference is made independent of batching: gensim initialises each document's variational
parameters from the model's random state, which advances with every call, so the same text
would get (slightly) different vectors depending on which batch, worker or run it was in.
``encode`` reseeds before every document, so a painting's vector is a function of its text
and the model only; reusing rows across incremental runs relies on that.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from config.exceptions import ModelNotAvailable
from recsys.engines.base import EncodedBatch, Engine, PaintingInput, report_fit_progress

PASSES_UNIT = "LDA training passes"
MODEL_DIR = "lda"
MODEL_FILE = "model"
DICTIONARY_FILE = "dictionary"
NO_TOKENS = "no usable words after preprocessing (text empty, or only stop words and rare words)"
TOO_FEW_TOKENS = (
    "too little text for a topic mix: {count} informative word(s) after preprocessing, "
    "fewer than {minimum} (RECSYS_LDA_MIN_TOKENS)"
)

DEFAULTS: dict[str, Any] = {
    "num_topics": None,  # fixed number of topics; None -> coherence sweep over topic_range
    "topic_range": [10, 40, 10],  # start, stop (inclusive), step
    "passes": 10,
    "iterations": 100,
    "seed": 42,
    "sweep_seeds": 3,  # models per topic count in the coherence sweep (mean coherence scores k)
    "no_below": 2,  # keep tokens in at least this many paintings ...
    "no_above": 0.5,  # ... and in at most this fraction of them
    "min_tokens": 3,  # informative tokens a painting needs to get a topic mix (module docstring)
    "keep_n": 50_000,
    "coherence": "c_npmi",
    "coherence_topn": 10,
    "language": "en",
    "top_words": 10,  # per topic, recorded in the manifest
}


class LdaEngine(Engine):
    kind = "text"
    modalities = frozenset({"text"})
    needs_fit = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = {**DEFAULTS, **{k: v for k, v in self.options.items() if v is not None}}

    @property
    def model_setting(self) -> str:
        return "RECSYS_LDA_TOPICS"

    def check_available(self) -> None:
        """gensim is installed (found, not imported: a web process asking needs none of it)."""
        if importlib.util.find_spec("gensim") is None:  # pragma: no cover - a runtime dependency
            raise ModelNotAvailable("The LDA engine needs gensim (pip install gensim).")

    @property
    def min_tokens(self) -> int:
        return max(1, int(self.options["min_tokens"]))

    def candidate_topics(self) -> list[int]:
        if self.options["num_topics"]:
            return [int(self.options["num_topics"])]
        start, stop, step = (int(x) for x in self.options["topic_range"])
        candidates = [k for k in range(start, stop + 1, max(step, 1)) if k >= 2]
        if not candidates:
            raise ValueError(f"RECSYS_LDA_TOPIC_RANGE {self.options['topic_range']} contains no value >= 2.")
        return candidates

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, items: Sequence[PaintingInput], state_dir: Path) -> dict[str, Any]:
        from gensim.corpora import Dictionary

        from recsys.engines.textprep import informative_count, tokenize  # gensim's stop words: workers only

        texts = [tokenize(item.text, language=self.options["language"]) for item in items]
        dictionary = Dictionary(texts)
        dictionary.filter_extremes(
            no_below=self.options["no_below"],
            no_above=self.options["no_above"],
            keep_n=self.options["keep_n"],
        )
        bows = [dictionary.doc2bow(tokens) for tokens in texts]
        minimum = self.min_tokens
        kept = [i for i, bow in enumerate(bows) if bow and informative_count(bow) >= minimum]
        if not kept:
            raise ValueError(
                f"LDA: no painting has {minimum} usable word(s) left after preprocessing and filtering."
            )
        corpus = [bows[i] for i in kept]
        texts = [[t for t in texts[i] if t in dictionary.token2id] for i in kept]

        candidates = self.candidate_topics()
        seeds = [int(self.options["seed"]) + i for i in range(max(1, int(self.options["sweep_seeds"])))]
        # progress: every training pass of every model the sweep trains (one model without a sweep)
        self._passes_done = 0
        self._passes_total = int(self.options["passes"]) * (
            len(candidates) * len(seeds) if len(candidates) > 1 else 1
        )
        report_fit_progress(0, self._passes_total, PASSES_UNIT)
        scores: dict[int, float] = {}
        per_seed: dict[int, list[float]] = {}
        best: tuple[float, int, Any] | None = None
        for k in candidates:
            if len(candidates) == 1:
                model = self._train(corpus, dictionary, k, seeds[0])
                best = (0.0, k, model)
                break
            runs = []
            for seed in seeds:
                model = self._train(corpus, dictionary, k, seed)
                runs.append((_finite(self._coherence(model, corpus, texts, dictionary)), model))
            per_seed[k] = [c for c, _ in runs]
            scores[k] = float(np.mean(per_seed[k]))
            if best is None or scores[k] > best[0]:  # ties keep the smaller k
                best = (scores[k], k, max(runs, key=lambda run: run[0])[1])  # first of equals
        _, num_topics, model = best  # type: ignore[misc]  # candidates is never empty
        self._save(model, dictionary, state_dir)
        return {
            "num_topics": num_topics,
            "num_topics_fixed": bool(self.options["num_topics"]),
            "coherence_measure": self.options["coherence"],
            "coherence_scores": {str(k): _number(v) for k, v in scores.items()},
            "coherence_per_seed": {str(k): [_number(c) for c in v] for k, v in per_seed.items()},
            "sweep_seeds": seeds if per_seed else [],
            "vocabulary_size": len(dictionary),
            "training_documents": len(corpus),
            "min_tokens": minimum,
            "too_little_text": len(items) - len(kept),
        }

    def _train(self, corpus: list, dictionary: Any, num_topics: int, seed: int) -> Any:
        from gensim.models import LdaModel

        model = LdaModel(
            corpus=corpus,
            id2word=dictionary,
            num_topics=num_topics,
            passes=self.options["passes"],
            iterations=self.options["iterations"],
            random_state=seed,
            eval_every=None,
            callbacks=[_pass_reporter(self)],
        )
        model.callbacks = None  # nothing of the build's progress is saved with the model
        return model

    def _pass_done(self) -> None:
        self._passes_done = getattr(self, "_passes_done", 0) + 1
        total = max(getattr(self, "_passes_total", 0), self._passes_done)
        report_fit_progress(self._passes_done, total, PASSES_UNIT)

    def _coherence(self, model: Any, corpus: list, texts: list[list[str]], dictionary: Any) -> float:
        from gensim.models import CoherenceModel

        measure = self.options["coherence"]
        return float(
            CoherenceModel(
                model=model,
                corpus=corpus,
                texts=texts if measure != "u_mass" else None,
                dictionary=dictionary,
                coherence=measure,
                topn=self.options["coherence_topn"],
                processes=1,
            ).get_coherence()
        )

    @staticmethod
    def _save(model: Any, dictionary: Any, state_dir: Path) -> None:
        """Write model + dictionary into a fresh folder and rename it into place."""
        state_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".lda-", dir=state_dir))
        try:
            model.save(str(tmp / MODEL_FILE))
            dictionary.save(str(tmp / DICTIONARY_FILE))
            target = state_dir / MODEL_DIR
            if target.exists():
                shutil.rmtree(target)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    # -- encode --------------------------------------------------------------------------------
    def encode(self, items: Sequence[PaintingInput], state_dir: Path) -> EncodedBatch:
        from recsys.engines.textprep import informative_count, tokenize

        model, dictionary = _load(str(state_dir / MODEL_DIR))
        pks: list[int] = []
        rows: list[np.ndarray] = []
        skipped: dict[int, str] = {}
        for item in items:
            bow = dictionary.doc2bow(tokenize(item.text, language=self.options["language"]))
            count = informative_count(bow)
            if not count:
                skipped[item.pk] = NO_TOKENS
                continue
            if count < self.min_tokens:
                skipped[item.pk] = TOO_FEW_TOKENS.format(count=count, minimum=self.min_tokens)
                continue
            pks.append(item.pk)
            rows.append(self._topic_distribution(model, bow))
        vectors = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, model.num_topics), np.float32)
        return EncodedBatch(pks=pks, vectors=vectors, skipped=skipped)

    def _topic_distribution(self, model: Any, bow: list[tuple[int, int]]) -> np.ndarray:
        """The document's full topic distribution (every topic, sums to 1), reproducibly."""
        model.random_state = np.random.RandomState(self.options["seed"])
        gamma, _ = model.inference([bow])
        theta = gamma[0].astype(np.float64)
        return theta / theta.sum()

    def postprocess(
        self, *, items: Sequence[PaintingInput], embeddings: np.ndarray, out_dir: Path, pairs: Any = None
    ) -> dict[str, Any]:
        """Record each topic's top words, so a topic number means something in the manifest."""
        from recsys.artefacts.files import STATE_DIR

        model, _ = _load(str(out_dir / STATE_DIR / MODEL_DIR))
        topn = self.options["top_words"]
        return {
            "topic_words": [[w for w, _ in model.show_topic(t, topn=topn)] for t in range(model.num_topics)]
        }


def _pass_reporter(engine: LdaEngine) -> Any:
    """A gensim training "metric" whose value is nothing: gensim calls it at the end of every
    pass (``LdaModel(callbacks=...)``), which is when the engine reports one more pass done."""
    from gensim.models.callbacks import Metric

    class PassReporter(Metric):
        logger = None
        title = "pass"
        viz_env = None

        def get_value(self, **kwargs: Any) -> float:
            engine._pass_done()
            return 0.0

    return PassReporter()


def _finite(value: float) -> float:
    """A coherence that could not be computed (NaN) ranks below every real one."""
    return value if math.isfinite(value) else -math.inf


def _number(value: float) -> float | None:
    """JSON has no infinities: a coherence that could not be computed is recorded as null."""
    return value if math.isfinite(value) else None


@lru_cache(maxsize=4)
def _load(model_dir: str) -> tuple[Any, Any]:
    """Model and dictionary of one artefact's state, loaded once per process."""
    from gensim.corpora import Dictionary
    from gensim.models import LdaModel

    path = Path(model_dir)
    if not (path / MODEL_FILE).exists():
        raise RuntimeError(f"No trained LDA model in {path}; the artefact must be fitted first.")
    return LdaModel.load(str(path / MODEL_FILE)), Dictionary.load(str(path / DICTIONARY_FILE))
