"""Search latency in-process: encoding the query and ranking the artefact (``recsys.serving.search``).

    .venv/bin/python bench/search.py [--items 11577] [--calls 100] [--n 24]

* **Query encoding**: ``MiniLMEngine.encode_query_text`` with the real packaged all-MiniLM-L6-v2
  weights on this machine's CPU, for a short and a 200-word query (the model is loaded once
  before timing, as a server process keeps it).
* **Ranking**: ``recsys.serving.search.rank_by_query`` over ``--items`` unit rows (a fixed-seed random
  matrix of the real engines' widths: minilm 384, clip 512, resnet 2048; the cost depends on the
  shape only), without a filter and with a collection filter keeping a third of the paintings.

Prints medians and p99 in milliseconds; nothing is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from recsys.artefacts.reader import LoadedArtefact  # noqa: E402
from recsys.engines.minilm import MiniLMEngine  # noqa: E402
from recsys.serving.search import rank_by_query  # noqa: E402

SHORT = "a stormy sea with a sinking ship"
LONG = " ".join(["Peasants gather wheat under a low evening sun near a river with willows."] * 16)
WIDTHS = {"minilm": 384, "clip": 512, "resnet": 2048}


def timed(call, calls: int) -> tuple[float, float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return float(np.median(samples)), float(np.percentile(samples, 99))


def artefact(items: int, dim: int, rng: np.random.Generator) -> LoadedArtefact:
    rows = rng.standard_normal((items, dim)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    pks = np.arange(1, items + 1, dtype=np.int64)
    return LoadedArtefact(
        engine="bench",
        version="bench",
        path=ROOT,
        manifest={},
        painting_ids=pks,
        external_ids=tuple(f"p-{pk}" for pk in pks.tolist()),
        embeddings=rows,
        row_of={pk: row for row, pk in enumerate(pks.tolist())},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=11_577)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--n", type=int, default=24)
    args = parser.parse_args()

    config = settings.RECSYS_ENGINES["minilm"]
    engine = MiniLMEngine(name="minilm", model=config["MODEL"], options=config["OPTIONS"])
    started = time.perf_counter()
    engine.encode_query_text("warm up")
    print(f"MiniLM load + first query: {(time.perf_counter() - started) * 1000:.0f} ms")
    for label, text in (("short query", SHORT), ("200-word query", LONG)):
        p50, p99 = timed(lambda text=text: engine.encode_query_text(text), args.calls)
        print(f"encode {label:<16} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")

    rng = np.random.default_rng(0)
    for name, dim in WIDTHS.items():
        art = artefact(args.items, dim, rng)
        query = art.embeddings[0].copy()
        allowed = art.painting_ids[::3].tolist()
        p50, p99 = timed(lambda art=art, q=query: rank_by_query(artefact=art, query=q, n=args.n), args.calls)
        f50, f99 = timed(
            lambda art=art, q=query, keep=allowed: rank_by_query(
                artefact=art, query=q, n=args.n, allowed=keep
            ),
            args.calls,
        )
        print(
            f"rank {name:<7} {args.items} x {dim:<5} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   "
            f"with collection p50 {f50:7.2f} ms   p99 {f99:7.2f} ms"
        )


if __name__ == "__main__":
    main()
