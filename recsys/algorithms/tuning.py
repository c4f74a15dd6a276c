"""Tuning the engines' embeddings on every visitor's feedback: a contrastive (or triplet) loss on a
linear map per engine, initialised at the identity and regularised towards it (no database, no
Django).

The seed papers fine-tune their representations on linked pairs (a triplet loss in visual-link
retrieval, a Siamese network on painting pairs, CuratorNet on purchases). Here the frozen unit
embeddings x_i of one engine (rows of an (m, d) array) are mapped by one d x d matrix W,

    z_i = x_i W / ||x_i W||                     the tuned unit row (a zero row, i.e. a painting the
                                                engine does not represent, stays zero)

and W is trained on triplets drawn from the visitors' histories. From one visitor who rated
painting a and painting p 4-5 (liked) and painting n 1-3 (not liked), with a != p:

    t = (a, p, n)           w_t = (min(r_a, r_p) - r_n) / 4  in (0, 1]   (rating distance)
    s_ap = z_a . z_p        s_an = z_a . z_n                              (cosines in the tuned space)
    l_t = log(1 + exp(gamma * (s_an - s_ap))) / gamma                     (soft-margin triplet loss)

A visitor who liked a and p also prefers p to a painting drawn at random from the catalogue (the
BPR assumption of implicit feedback; recommending ranks p against every painting, not only
against the few the visitor disliked): each triplet gets a companion t' = (a, p, q) with q drawn
uniformly from the paintings the engine represents, weight w_t' = omega * (min(r_a, r_p) - 3) / 2
(``random_negative_weight`` omega; 0 turns it off). The objective is the weighted mean triplet
loss plus a pull towards the identity that counts like ``identity_weight`` (lambda) triplets of
weight 1:

    L(W) = [ sum_t (w_t l_t + w_t' l_t')  +  lambda * ||W - I||_F^2 ] / sum_t (w_t + w_t')

The default objective, ``loss="contrastive"``, replaces the two soft margins by one softmax over
the visitor's negative and K random paintings q_1..q_K shared by the minibatch (InfoNCE,
temperature tau), which weighs the paintings closest to the anchor most, as a top-9 list does
(on validation visitors of the sample it lifted tuned eq. 1 nearly twice as much as the triplet
loss; ``loss="triplet"`` keeps the soft margins):

    c_t = -log( exp(s_ap / tau) / (exp(s_ap / tau) + exp(s_an / tau) + sum_k exp(s_aq_k / tau)) )
    L(W) = [ sum_t w_t c_t  +  lambda * ||W - I||_F^2 ] / sum_t w_t

So with little feedback W stays close to I (the untuned space), and the more visitors agree that
two paintings go together and a third does not, the more the space moves. Each engine is tuned on
its own (triplets with a painting the engine lacks are left out for it), so every tuned space can
be used wherever the untuned one is: by the learned recommender's mean kernel, by eq. 1, by MMR.

Training: Adam on minibatches of ``batch_size`` triplets (sampled with ``numpy.random.default_rng
(seed)``), ``steps`` steps, one CPU thread and torch's deterministic algorithms, so the same
input and seed give the same W, bit for bit, on the same machine. A visitor contributes at most
``max_triplets_per_visitor`` triplets (a seeded sample), so a visitor with hundreds of ratings
cannot dominate and the cost stays bounded. Fewer than ``min_triplets`` triplets in all: nothing
is trained and the report says so (``report.trained`` is False; the embeddings come back
unchanged, re-normalised).

torch is imported inside ``tune_embeddings`` only: importing this module costs numpy alone (the
web process imports no model library).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

LIKED_MIN = 4  # a rating of at least this is "liked": anchor or positive
NEGATIVE_MAX = 3  # a rating of at most this is a negative
RATING_SPAN = 4.0  # 5 - 1: the largest rating distance
TRIPLET, CONTRASTIVE = "triplet", "contrastive"


@dataclass(frozen=True)
class TuningParams:
    """Hyper-parameters of ``tune_embeddings`` (defaults chosen by ``manage.py evaluate --tuned``,
    see the README's "Learning from every visitor")."""

    gamma: float = 10.0  # sharpness of the soft margin (cosines live in [-1, 1])
    identity_weight: float = 50.0  # lambda: the pull towards W = I, in triplets of weight 1
    steps: int = 300
    batch_size: int = 1024
    learning_rate: float = 2e-3
    max_triplets_per_visitor: int = 60
    min_triplets: int = 20
    random_negative_weight: float = 1.0  # omega: weight of the random-painting companions
    loss: str = "contrastive"  # TRIPLET or CONTRASTIVE
    temperature: float = 0.1  # tau of the contrastive loss
    negatives: int = 255  # K random paintings shared by a contrastive minibatch


@dataclass
class EngineReport:
    """What training did to one engine's space."""

    triplets: int  # triplets usable by this engine
    paintings: int  # distinct paintings in them
    trained: bool
    loss_curve: list[float]  # the objective's mean minibatch loss over each 1/20th of the steps
    # the soft-margin triplet loss l_t over the visitors' triplets (whichever objective trained)
    loss_before: float | None  # weighted mean at W = I
    loss_after: float | None  # ... at the trained W
    order_before: float | None  # weighted share of triplets with s_ap > s_an at W = I
    order_after: float | None  # ... at the trained W
    distance_from_identity: float  # ||W - I||_F
    dims: tuple[int, int]  # (d, d') of W


@dataclass
class TuningReport:
    """The training's summary (``as_dict()`` is JSON) and the learned maps (``projections``)."""

    seed: int
    params: TuningParams
    visitors: int  # histories given
    visitors_used: int  # histories that gave at least one triplet
    ratings: int  # ratings in all histories
    triplets: int  # triplets built (before per-engine filtering)
    trained: bool  # at least one engine was trained
    reason: str  # why nothing was trained ("" when trained)
    seconds: float
    engines: dict[str, EngineReport] = field(default_factory=dict)
    projections: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # engine -> W (d, d')

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("projections")
        out["engines"] = {name: {**asdict(rep), "dims": list(rep.dims)} for name, rep in self.engines.items()}
        return out


@dataclass(frozen=True)
class Triplets:
    """Parallel arrays of (anchor, positive, negative) rows, their weights and their visitor."""

    anchor: np.ndarray  # int64 (t,)
    positive: np.ndarray
    negative: np.ndarray
    weight: np.ndarray  # float64 (t,), (min(r_a, r_p) - r_n) / 4
    visitor: np.ndarray  # int64 (t,), index into the histories
    liked: np.ndarray  # float64 (t,), min(r_a, r_p)

    def __len__(self) -> int:
        return int(self.anchor.shape[0])

    def subset(self, keep: np.ndarray) -> Triplets:
        return Triplets(
            *(
                getattr(self, f)[keep]
                for f in ("anchor", "positive", "negative", "weight", "visitor", "liked")
            )
        )


def check_histories(histories: Sequence[Mapping[int, int]], m: int) -> None:
    """ValueError naming the first history with a row outside 0..m-1 or a rating outside 1..5."""
    for index, history in enumerate(histories):
        for row, rating in history.items():
            if isinstance(row, bool) or not isinstance(row, int | np.integer) or not 0 <= row < m:
                raise ValueError(f"histories[{index}]: row {row!r} is not in 0..{m - 1}")
            if isinstance(rating, bool) or not isinstance(rating, int | np.integer) or not 1 <= rating <= 5:
                raise ValueError(f"histories[{index}][{row}]: rating {rating!r} is not a whole number 1..5")


def build_triplets(histories: Sequence[Mapping[int, int]], *, rng: np.random.Generator, cap: int) -> Triplets:
    """Every (a, p, n) of each history (a < p liked, n a negative), at most ``cap`` per history
    (a seeded sample without replacement), weight (min(r_a, r_p) - r_n) / 4."""
    parts: list[np.ndarray] = []
    for index, history in enumerate(histories):
        rows = sorted(history)
        liked = [r for r in rows if history[r] >= LIKED_MIN]
        negatives = [r for r in rows if history[r] <= NEGATIVE_MAX]
        if len(liked) < 2 or not negatives:
            continue
        found = [
            (
                a,
                p,
                n,
                (min(history[a], history[p]) - history[n]) / RATING_SPAN,
                index,
                min(history[a], history[p]),
            )
            for i, a in enumerate(liked)
            for p in liked[i + 1 :]
            for n in negatives
        ]
        table = np.array(found, dtype=np.float64)
        if table.shape[0] > cap:
            table = table[np.sort(rng.choice(table.shape[0], size=cap, replace=False))]
        parts.append(table)
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return Triplets(empty, empty, empty, np.empty(0), empty, np.empty(0))
    table = np.concatenate(parts)
    ints = table[:, [0, 1, 2, 4]].astype(np.int64)
    return Triplets(ints[:, 0], ints[:, 1], ints[:, 2], table[:, 3], ints[:, 3], table[:, 5])


def unit_rows(array: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); zero rows stay zero."""
    array = np.asarray(array, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)


def project(embeddings: np.ndarray, projection: np.ndarray) -> np.ndarray:
    """The tuned unit rows z_i = x_i W / ||x_i W|| of any embeddings of the engine (e.g. paintings
    added after training), float32; zero rows stay zero."""
    return unit_rows(np.asarray(embeddings, dtype=np.float32) @ np.asarray(projection, dtype=np.float32))


def triplet_losses(tuned: np.ndarray, triplets: Triplets, gamma: float) -> tuple[float, float]:
    """(weighted mean l_t, weighted share of triplets with s_ap > s_an) in the space ``tuned``."""
    a, p, n = (tuned[triplets.anchor], tuned[triplets.positive], tuned[triplets.negative])
    gap = np.einsum("ij,ij->i", a, n, dtype=np.float64) - np.einsum("ij,ij->i", a, p, dtype=np.float64)
    loss = np.logaddexp(0.0, gamma * gap) / gamma
    w = triplets.weight
    return float((w * loss).sum() / w.sum()), float((w * (gap < 0)).sum() / w.sum())


def _usable(embeddings: np.ndarray, triplets: Triplets) -> Triplets:
    present = np.linalg.norm(embeddings, axis=1) > 0
    return triplets.subset(present[triplets.anchor] & present[triplets.positive] & present[triplets.negative])


def _train_engine(
    embeddings: np.ndarray, triplets: Triplets, params: TuningParams, rng: np.random.Generator
) -> tuple[np.ndarray, list[float]]:
    """W for one engine (float32 (d, d)) and its loss curve; see the module docstring."""
    import torch

    d = embeddings.shape[1]
    x = torch.from_numpy(np.ascontiguousarray(embeddings, dtype=np.float32))
    eye = torch.eye(d)
    w = torch.eye(d, requires_grad=True)
    optimiser = torch.optim.Adam([w], lr=params.learning_rate)
    present = np.flatnonzero(np.linalg.norm(embeddings, axis=1) > 0)
    companion = (params.random_negative_weight * (triplets.liked - 3.0) / 2.0).astype(np.float32)
    total_weight = float(triplets.weight.sum() + companion.sum())
    prior = params.identity_weight / total_weight
    columns = [torch.from_numpy(getattr(triplets, f)) for f in ("anchor", "positive", "negative")]
    weight = torch.from_numpy(triplets.weight.astype(np.float32))
    companion_weight = torch.from_numpy(companion)
    size = min(params.batch_size, len(triplets))
    window = max(1, params.steps // 20)
    curve: list[float] = []
    running: list[float] = []
    contrastive = params.loss == CONTRASTIVE
    if contrastive:
        prior = params.identity_weight / float(triplets.weight.sum())
    for _ in range(params.steps):
        pick = torch.from_numpy(rng.choice(len(triplets), size=size, replace=False))
        a, p, n = (col[pick] for col in columns)
        q = torch.from_numpy(
            present[rng.integers(present.shape[0], size=params.negatives if contrastive else size)]
        )
        rows, inverse = torch.unique(torch.cat([a, p, n, q]), return_inverse=True)
        z = torch.nn.functional.normalize(x[rows] @ w, dim=1)
        za, zp, zn = (z[inverse[i * size : (i + 1) * size]] for i in range(3))
        zq = z[inverse[3 * size :]]
        s_ap, s_an = (za * zp).sum(1), (za * zn).sum(1)
        wb, wq = weight[pick], companion_weight[pick]
        if contrastive:
            logits = torch.cat([s_ap[:, None], s_an[:, None], za @ zq.T], dim=1) / params.temperature
            data = (wb * -torch.log_softmax(logits, dim=1)[:, 0]).sum() / wb.sum()
        else:
            terms = wb * torch.nn.functional.softplus(params.gamma * (s_an - s_ap))
            terms = terms + wq * torch.nn.functional.softplus(params.gamma * ((za * zq).sum(1) - s_ap))
            data = terms.sum() / (params.gamma * (wb.sum() + wq.sum()))
        loss = data + prior * ((w - eye) ** 2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        running.append(float(data.detach()))
        if len(running) == window:
            curve.append(float(np.mean(running)))
            running = []
    if running:
        curve.append(float(np.mean(running)))
    return w.detach().numpy().astype(np.float32), curve


def tune_embeddings(
    embeddings: Mapping[str, np.ndarray],
    histories: Sequence[Mapping[int, int]],
    *,
    seed: int = 0,
    params: TuningParams | None = None,
) -> tuple[dict[str, np.ndarray], TuningReport]:
    """Tune each engine's space on the visitors' histories (see the module docstring).

    ``embeddings``: engine -> float32 (m, d) unit rows, the same m paintings in the same row order
    for every engine (a zero row: the engine does not represent that painting). ``histories``:
    one dict per visitor, row index -> rating 1..5. Returns engine -> float32 (m, d) unit rows of
    the tuned space, and the report (with each engine's W in ``projections``).
    """
    params = params or TuningParams()
    started = time.perf_counter()
    sizes = {engine: np.asarray(array).shape for engine, array in embeddings.items()}
    if not sizes:
        raise ValueError("tune_embeddings needs at least one engine")
    if len({shape[0] for shape in sizes.values()}) != 1 or any(len(shape) != 2 for shape in sizes.values()):
        raise ValueError(f"every engine needs an (m, d) array over the same m paintings, got {sizes}")
    m = next(iter(sizes.values()))[0]
    check_histories(histories, m)
    rng = np.random.default_rng(seed)
    triplets = build_triplets(histories, rng=rng, cap=params.max_triplets_per_visitor)
    report = TuningReport(
        seed=seed,
        params=params,
        visitors=len(histories),
        visitors_used=int(np.unique(triplets.visitor).shape[0]),
        ratings=sum(len(h) for h in histories),
        triplets=len(triplets),
        trained=False,
        reason="",
        seconds=0.0,
    )
    tuned: dict[str, np.ndarray] = {}
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        for engine, array in embeddings.items():
            base = unit_rows(array)
            mine = _usable(base, triplets)
            d = base.shape[1]
            if len(mine) < params.min_triplets:
                tuned[engine] = base
                report.projections[engine] = np.eye(d, dtype=np.float32)
                report.engines[engine] = EngineReport(
                    len(mine), 0, False, [], None, None, None, None, 0.0, (d, d)
                )
                continue
            torch.manual_seed(seed)
            w, curve = _train_engine(base, mine, params, np.random.default_rng([seed, len(tuned)]))
            tuned[engine] = project(base, w)
            before, after = (
                triplet_losses(base, mine, params.gamma),
                triplet_losses(tuned[engine], mine, params.gamma),
            )
            report.projections[engine] = w
            report.engines[engine] = EngineReport(
                triplets=len(mine),
                paintings=int(
                    np.unique(np.concatenate([mine.anchor, mine.positive, mine.negative])).shape[0]
                ),
                trained=True,
                loss_curve=curve,
                loss_before=before[0],
                loss_after=after[0],
                order_before=before[1],
                order_after=after[1],
                distance_from_identity=float(np.linalg.norm(w - np.eye(d, dtype=np.float32))),
                dims=(d, d),
            )
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    report.trained = any(rep.trained for rep in report.engines.values())
    if not report.trained:
        report.reason = (
            f"{len(triplets)} triplets from {report.visitors_used} of {len(histories)} visitors "
            f"(at least {params.min_triplets} needed: visitors who liked two paintings and rated one 1-3)"
        )
    report.seconds = round(time.perf_counter() - started, 2)
    return tuned, report
