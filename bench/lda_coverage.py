"""LDA neighbour degeneracy on the sample catalogue: how many paintings get "random" neighbours.

    .venv/bin/python bench/lda_coverage.py [--data ../shared/data] [--topics 20] [--passes 10]
        [--story-groups] [--min-tokens 1 2 3 4 6 8]

Reads the sample sets with the importer's own mappings (no database writes), builds each
painting's engine text (``catalog.text.compose_text``; ``--story-groups`` appends the story
group name as the text did before issue 8.3), fits ``recsys.engines.lda.LdaEngine`` (a fixed
number of topics, one seed: the statistic, not the sweep, is measured) and encodes every
painting. For each ``--min-tokens`` threshold t (paintings with fewer informative tokens than t
are left out of training and of the artefact, as the engine does) it prints:

* coverage: the share of paintings in the artefact;
* degenerate: the share of those with >= 6 other paintings at cosine >= 0.999 (their "similar
  paintings" are an arbitrary pick among near-identical topic mixes);
* degenerate_of_catalogue: the same count over the whole catalogue.

Each threshold refits (short texts change the topics they are trained with). Writes JSON to
bench/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

SIMILAR = 0.999
CROWD = 6


def sample_items(data: Path, *, story_groups: bool) -> list:
    from catalog.importing.records import build_record
    from catalog.importing.sources import resolve_sources
    from catalog.text import compose_text
    from recsys.engines.base import PaintingInput

    items = []
    for source in resolve_sources(data):
        for number, values in source.manifest.rows:
            record, _ = build_record(number, values, mapping=source.mapping, base_dir=source.base_dir)
            if record is None:
                continue
            text = compose_text(
                title=record.title,
                artist=record.artist,
                medium=record.medium,
                description=record.description,
                subjects=record.subjects,
            )
            if story_groups and record.group is not None:
                text = f"{text}\n{record.group.name}"
            items.append(PaintingInput(pk=len(items) + 1, external_id=record.external_id, text=text))
    return items


def degenerate_share(vectors: np.ndarray) -> int:
    """Rows with at least CROWD other rows at cosine >= SIMILAR (unit rows)."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    count = 0
    for start in range(0, unit.shape[0], 1024):
        block = unit[start : start + 1024] @ unit.T
        count += int(((block >= SIMILAR).sum(axis=1) - 1 >= CROWD).sum())  # minus itself
    return count


def measure(items: list, *, topics: int, passes: int, min_tokens: int) -> dict:
    from recsys.engines.lda import LdaEngine

    engine = LdaEngine(
        name="lda",
        options={"num_topics": topics, "passes": passes, "sweep_seeds": 1, "min_tokens": min_tokens},
    )
    with tempfile.TemporaryDirectory() as state:
        tick = time.perf_counter()
        fit = engine.fit(items, Path(state))
        batch = engine.encode(items, Path(state))
        seconds = time.perf_counter() - tick
    degenerate = degenerate_share(batch.vectors)
    return {
        "min_tokens": min_tokens,
        "catalogue": len(items),
        "in_artefact": len(batch.pks),
        "coverage": len(batch.pks) / len(items),
        "degenerate": degenerate / max(len(batch.pks), 1),
        "degenerate_of_catalogue": degenerate / len(items),
        "training_documents": fit.get("training_documents"),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--story-groups", action="store_true")
    parser.add_argument("--min-tokens", type=int, nargs="+", default=[1, 2, 3, 4, 6, 8])
    args = parser.parse_args()

    import django

    django.setup()
    items = sample_items(args.data, story_groups=args.story_groups)
    rows = []
    print(f"{len(items)} paintings, story groups in the text: {args.story_groups}, {args.topics} topics")
    print(f"{'min_tokens':>10} {'coverage':>9} {'degenerate':>11} {'of catalogue':>13} {'seconds':>8}")
    for threshold in args.min_tokens:
        row = measure(items, topics=args.topics, passes=args.passes, min_tokens=threshold)
        rows.append(row)
        print(
            f"{threshold:>10} {row['coverage']:>9.3f} {row['degenerate']:>11.3f} "
            f"{row['degenerate_of_catalogue']:>13.3f} {row['seconds']:>8.1f}",
            flush=True,
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = out / f"lda_coverage-{stamp}.json"
    target.write_text(json.dumps({"args": {**vars(args), "data": str(args.data)}, "rows": rows}, indent=2))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
