"""Recommendation quality offline: ``manage.py evaluate``'s report as JSON plus a PNG plot.

    .venv/bin/python bench/quality.py [--seed 0] [--visitors 300] [--collection SOURCE] [--lambda L]

Runs ``recsys.evaluation.runner.evaluate`` on the ready artefacts of the configured database
(build them first: ``manage.py import_catalog --sample && manage.py precompute --engine all``)
and writes ``bench/results/quality-<time>.json`` and ``.png`` (gitignored): nDCG@9 per
recommender with 95% intervals, the MMR accuracy/diversity curves and the learned
recommender's lambda sweep. Prints the Markdown table of the README's "Offline evaluation".
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from recsys.algorithms.learned import DEFAULT_LAMBDA  # noqa: E402
from recsys.evaluation.plot import plot_report  # noqa: E402
from recsys.evaluation.report import markdown_table, paired_table, write_report  # noqa: E402
from recsys.evaluation.runner import evaluate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--visitors", type=int, default=300)
    parser.add_argument("--collection", default=None)
    parser.add_argument("--lambda", dest="lam", type=float, default=DEFAULT_LAMBDA)
    args = parser.parse_args()
    report = evaluate(
        seed=args.seed,
        visitors=args.visitors,
        collection=args.collection,
        lam=args.lam,
        progress=lambda message: print(message, file=sys.stderr),
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = ROOT / "bench" / "results" / f"quality-{stamp}"
    json_path = write_report(report, out.with_suffix(".json"))
    png_path = plot_report(report, out.with_suffix(".png"))
    print(markdown_table(report))
    print("\n" + paired_table(report))
    sweep = ", ".join(f"{e['lambda']}: {e['ndcg@9']['mean']:.3f}" for e in report["learned"]["sweep"])
    print(f"\nlearned lambda sweep (nDCG@9, validation visitors): {sweep}")
    print(f"wrote {json_path} and {png_path} ({report['seconds']} s)")


if __name__ == "__main__":
    main()
