"""TF-IDF / LSA text engine: the fast first recommender, ready seconds after ``make run``.

The same painting text as LDA and MiniLM (``catalog.text.painting_text``), tokenised exactly as
LDA tokenises it (``recsys.engines.textprep``: lowercased, stop words and catalogue words dropped,
lemmatised), weighted by TF-IDF and projected onto the catalogue's top ``dims`` LSA dimensions
(``recsys.algorithms.lsa``: formulas there). A row is a dense vector like every other engine's,
so eq. 1, late fusion, the learned recommender, the neighbour lists and the ANN index work on
it unchanged.

``fit`` counts document frequencies, keeps the terms in at least ``min_df`` paintings and at
most ``max_df`` of them, and computes the truncated SVD of the TF-IDF matrix (randomised, a few
sparse products); the vocabulary, idf weights and the k x V components are the engine's state.
``encode`` folds paintings in with that state (``z = x V_k``), so an incremental run embeds new
paintings without refitting, and a painting's vector depends on its text and the state only.

A painting none of whose words is in the vocabulary has no TF-IDF row: it is skipped with the
reason, never given a zero (or random) vector. Unlike LDA no minimum word count is needed: one
rare shared word (an artist's name, "triptych") is real evidence of similarity.

Cost on the 11,577-painting sample (2 cores): tokenising about 2 s, the SVD a few seconds;
no model download, no torch.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from recsys.engines.base import EncodedBatch, Engine, PaintingInput, report_fit_progress

STATE_SUBDIR = "tfidf"
VOCABULARY_FILE = "vocabulary.json"
IDF_FILE = "idf.npy"
COMPONENTS_FILE = "components.npy"
NO_TERMS = "no word of its text is in the TF-IDF vocabulary (text empty, only stop words, or only rare words)"

DEFAULTS: dict[str, Any] = {
    "dims": 256,  # LSA dimensions (fewer when the catalogue or vocabulary is smaller)
    "min_df": 2,  # a term in one painting only links it to nothing
    "max_df": 0.5,  # a term in most paintings says nothing about which are alike
    "power_iterations": 2,
    "seed": 42,
    "language": "en",
}


class TfidfEngine(Engine):
    kind = "text"
    modalities = frozenset({"text"})
    needs_fit = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.options = {**DEFAULTS, **{k: v for k, v in self.options.items() if v is not None}}

    @property
    def model_setting(self) -> str:
        return "RECSYS_TFIDF_DIMS"

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, items: Sequence[PaintingInput], state_dir: Path) -> dict[str, Any]:
        from recsys.algorithms import lsa  # scipy: workers only, never a web process
        from recsys.engines.textprep import tokenize  # gensim's stop words, likewise

        language = self.options["language"]
        report_fit_progress(0, 3, "steps (tokenise, TF-IDF, SVD)")
        documents = [tokenize(item.text, language=language) for item in items]
        df = lsa.document_frequencies(documents)
        terms = lsa.vocabulary(
            df, len(documents), min_df=int(self.options["min_df"]), max_df=float(self.options["max_df"])
        )
        if not terms:
            raise ValueError("TF-IDF: no word occurs in enough paintings to form a vocabulary.")
        report_fit_progress(1, 3, "steps (tokenise, TF-IDF, SVD)")
        term_ids = {term: i for i, term in enumerate(terms)}
        idf = lsa.idf_weights([df[term] for term in terms], len(documents))
        rows = lsa.tfidf_rows(documents, term_ids, idf)
        nonempty = np.flatnonzero(np.diff(rows.indptr))
        if nonempty.size == 0:
            raise ValueError("TF-IDF: no painting has a word of the vocabulary.")
        report_fit_progress(2, 3, "steps (tokenise, TF-IDF, SVD)")
        _, singular, components = lsa.randomized_svd(
            rows[nonempty],
            int(self.options["dims"]),
            power_iterations=int(self.options["power_iterations"]),
            seed=int(self.options["seed"]),
        )
        self._save(terms, idf, components, state_dir)
        report_fit_progress(3, 3, "steps (tokenise, TF-IDF, SVD)")
        energy = float((singular**2).sum() / nonempty.size)  # rows are unit length: ||X||_F^2 = rows
        return {
            "dims": int(components.shape[0]),
            "vocabulary_size": len(terms),
            "training_documents": int(nonempty.size),
            "no_terms": len(items) - int(nonempty.size),
            "explained_energy": round(energy, 4),  # share of ||X||_F^2 the k dimensions keep
        }

    @staticmethod
    def _save(terms: list[str], idf: np.ndarray, components: np.ndarray, state_dir: Path) -> None:
        """Write the state into a fresh folder and rename it into place."""
        state_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tfidf-", dir=state_dir))
        try:
            (tmp / VOCABULARY_FILE).write_text(json.dumps(terms))
            np.save(tmp / IDF_FILE, idf.astype(np.float64))
            np.save(tmp / COMPONENTS_FILE, components.astype(np.float32))
            target = state_dir / STATE_SUBDIR
            if target.exists():
                shutil.rmtree(target)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    # -- encode --------------------------------------------------------------------------------
    def encode(self, items: Sequence[PaintingInput], state_dir: Path) -> EncodedBatch:
        from recsys.algorithms import lsa
        from recsys.engines.textprep import tokenize

        term_ids, idf, components = _load(str(state_dir / STATE_SUBDIR))
        documents = [tokenize(item.text, language=self.options["language"]) for item in items]
        rows = lsa.tfidf_rows(documents, term_ids, idf)
        has_terms = np.diff(rows.indptr) > 0
        vectors = lsa.project(rows[np.flatnonzero(has_terms)], components).astype(np.float32)
        pks = [item.pk for item, ok in zip(items, has_terms, strict=True) if ok]
        skipped = {item.pk: NO_TERMS for item, ok in zip(items, has_terms, strict=True) if not ok}
        return EncodedBatch(pks=pks, vectors=vectors.reshape(len(pks), components.shape[0]), skipped=skipped)


@lru_cache(maxsize=4)
def _load(model_dir: str) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
    """(term -> id, idf, components) of one artefact's state, loaded once per process."""
    path = Path(model_dir)
    if not (path / COMPONENTS_FILE).exists():
        raise RuntimeError(f"No fitted TF-IDF state in {path}; the artefact must be fitted first.")
    terms = json.loads((path / VOCABULARY_FILE).read_text())
    return {t: i for i, t in enumerate(terms)}, np.load(path / IDF_FILE), np.load(path / COMPONENTS_FILE)
