"""Issue 17's measurement through the REST API: visitors with one department's taste of the
Cleveland paintings, two rating patterns, nDCG@9 of the default and of each named recommender.

    .venv/bin/python bench/taste_rest.py [--visitors 80] [--seed 0] [--collection cleveland-museum-of-art]

Per visitor: a CMA department with >= 5 paintings is the taste; ``mixed`` rates 3 of its
paintings 4-5 and 6 paintings of other departments 1-3, ``few-likes`` rates 2 of its paintings 5
and 7 others 1. Each visitor POSTs to ``/api/v1/recommendations/`` (``collection``, n = 9) once
without a recommender (the default) and once per ready named recommender, in process through
Django's test client (the view, serializers and service a real call runs; the anonymous
recommendation throttle is lifted for the run). Relevant = the department's other paintings.
Prints nDCG@9 mean [95% CI] per pattern and recommender, the paired difference of the default
and each named recommender (same visitors), and writes bench/results/taste-rest-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
os.environ["API_THROTTLE_RECOMMEND_ANON"] = "1000000/min"
os.environ["API_THROTTLE_ANON"] = "1000000/min"

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.test import Client  # noqa: E402

from catalog.models import Painting  # noqa: E402
from recsys.evaluation.metrics import mean_ci, ndcg_at_k  # noqa: E402
from recsys.serving.active import ready_engines  # noqa: E402
from recsys.serving.recommenders import default_recommender_name, settings_recommenders  # noqa: E402

PATTERNS = {"mixed": (3, (4, 5), 6, (1, 2, 3)), "few-likes": (2, (5,), 7, (1,))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=80, help="visitors per pattern")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--collection", default="cleveland-museum-of-art")
    args = parser.parse_args()
    rows = Painting.objects.filter(source="Cleveland Museum of Art", story_group__isnull=False)
    departments: dict[str, list[str]] = {}
    for external_id, group in rows.values_list("external_id", "story_group__slug"):
        departments.setdefault(group, []).append(external_id)
    tastes = sorted(g for g, members in departments.items() if len(members) >= 5)
    ready = ready_engines()
    named = [n for n, c in settings_recommenders().items() if ready.issuperset(c.engines)]
    default = default_recommender_name()
    client = Client(HTTP_HOST="localhost")
    rng = np.random.default_rng(args.seed)
    scores: dict[str, dict[str, list[float]]] = {p: {} for p in PATTERNS}
    for pattern, (n_in, liked, n_out, disliked) in PATTERNS.items():
        for _ in range(args.visitors):
            taste = tastes[int(rng.integers(len(tastes)))]
            members = departments[taste]
            others = [e for g, ms in departments.items() if g != taste for e in ms]
            chosen = rng.choice(members, size=n_in, replace=False).tolist()
            ratings = {e: int(rng.choice(liked)) for e in chosen}
            ratings |= {
                e: int(rng.choice(disliked)) for e in rng.choice(others, size=n_out, replace=False).tolist()
            }
            relevant = set(members) - set(ratings)
            for name in [None, *named]:
                body = {"ratings": ratings, "n": 9, "collection": args.collection}
                if name:
                    body["recommender"] = name
                response = client.post(
                    "/api/v1/recommendations/", json.dumps(body), content_type="application/json"
                )
                if response.status_code != 200:
                    raise SystemExit(f"{name}: {response.status_code} {response.content[:300]!r}")
                top = [r["painting"]["id"] for r in response.json()["results"]]
                key = f"default ({default})" if name is None else name
                scores[pattern].setdefault(key, []).append(ndcg_at_k(top, relevant, 9))
    out = {}
    print("| recommender | " + " | ".join(PATTERNS) + " |\n|---|---|---|")
    for key in scores["mixed"]:
        cells = []
        for pattern in PATTERNS:
            est = mean_ci(scores[pattern][key])
            cells.append(f"{est.mean:.3f} [{est.low:.3f}, {est.high:.3f}]")
            out.setdefault(key, {})[pattern] = est.as_dict()
        print(f"| {key} | " + " | ".join(cells) + " |")
    # paired on the same visitors: the default minus each named recommender
    default_key = f"default ({default})"
    print("\n| default minus | " + " | ".join(PATTERNS) + " |\n|---|---|---|")
    for key in scores["mixed"]:
        if key in (default_key, default):
            continue
        cells = []
        for pattern in PATTERNS:
            diff = np.subtract(scores[pattern][default_key], scores[pattern][key]).tolist()
            est = mean_ci(diff)
            cells.append(f"{est.mean:+.3f} [{est.low:+.3f}, {est.high:+.3f}]")
            out.setdefault(key, {})[f"default_minus_{pattern}"] = est.as_dict()
        print(f"| {key} | " + " | ".join(cells) + " |")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    path = results / f"taste-rest-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(
        json.dumps({"visitors_per_pattern": args.visitors, "seed": args.seed, "rows": out}, indent=2)
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
