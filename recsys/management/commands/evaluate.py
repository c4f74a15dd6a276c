"""``manage.py evaluate [--seed N] [--visitors N] [--collection SOURCE] [--lambda L] [--json PATH]
[--plot PATH] [--tuned [--train-sizes 0,50,200,1000] [--test-visitors 300]]``: the offline
evaluation (see ``recsys.evaluation.runner``; ``--tuned``: ``recsys.evaluation.tuned``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from config.exceptions import ApplicationError
from recsys.evaluation.runner import (
    default_report_path,
    evaluate,
    markdown_table,
    paired_table,
    tuning_table,
    write_report,
)
from recsys.evaluation.tuned import TEST_VISITORS, TRAIN_SIZES
from recsys.learned import DEFAULT_LAMBDA


class Command(BaseCommand):
    help = (
        "Offline evaluation of every ready recommender (simulated visitors with a known taste, and "
        "leave-k-out over stored ratings): nDCG@9, precision@9, recall@50, coverage, diversity, "
        "novelty with 95% intervals, the MMR trade-off and the learned recommender's lambda sweep."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--seed", type=int, default=0, help="Seed of the visitors (same seed, same numbers)."
        )
        parser.add_argument("--visitors", type=int, default=300, help="Simulated visitors (default 300).")
        parser.add_argument(
            "--collection", default=None, help="Only recommend paintings of this source (Painting.source)."
        )
        parser.add_argument(
            "--lambda",
            dest="lam",
            type=float,
            default=DEFAULT_LAMBDA,
            help="Ridge lambda of the learned rows.",
        )
        parser.add_argument(
            "--json", type=Path, default=None, help=f"Report path (default {default_report_path()})."
        )
        parser.add_argument("--plot", type=Path, default=None, help="Also write the report's PNG here.")
        parser.add_argument(
            "--tuned",
            action="store_true",
            help="Also tune the spaces on simulated visitors and compare tuned vs untuned on held-out "
            "ones, with a learning curve (trains one model per training size; torch, CPU minutes).",
        )
        parser.add_argument(
            "--train-sizes",
            default=",".join(map(str, TRAIN_SIZES)),
            help="Training visitors of each point of the learning curve (default %(default)s).",
        )
        parser.add_argument(
            "--test-visitors",
            type=int,
            default=TEST_VISITORS,
            help="Held-out visitors the tuned spaces are judged on (default %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["visitors"] < 1:
            raise CommandError("--visitors must be at least 1.")
        if not options["lam"] > 0:
            raise CommandError("--lambda must be positive.")
        try:
            sizes = [int(part) for part in options["train_sizes"].split(",") if part.strip()]
        except ValueError:
            raise CommandError("--train-sizes must be whole numbers separated by commas.") from None
        if not sizes or min(sizes) < 0 or max(sizes) > 100_000:
            raise CommandError("--train-sizes must be 1 to 100000 visitors, or 0 (the untuned space).")
        if not 1 <= options["test_visitors"] <= 100_000:
            raise CommandError("--test-visitors must be 1 to 100000.")
        try:
            report = evaluate(
                seed=options["seed"],
                visitors=options["visitors"],
                collection=options["collection"],
                lam=options["lam"],
                tuned=options["tuned"],
                train_sizes=sizes,
                test_visitors=options["test_visitors"],
                progress=lambda message: self.stderr.write(message),
            )
        except (ApplicationError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        path = write_report(report, options["json"])
        self.stdout.write(markdown_table(report))
        self.stdout.write(
            "\nlearned vs eq. 1 and late fusion (paired, same visitors):\n" + paired_table(report)
        )
        stored = report["protocols"]["leave_k_out"]
        if stored["status"] == "ok":
            self.stdout.write("\nleave-k-out over stored ratings:\n" + markdown_table(report, "leave_k_out"))
        else:
            self.stdout.write(f"\nleave-k-out skipped: {stored['reason']}")
        self.stdout.write(f"learned: best lambda on validation visitors {report['learned']['best_lambda']}")
        if options["tuned"]:
            self.stdout.write(
                "\ntuned vs untuned on held-out visitors (learning curve):\n" + tuning_table(report)
            )
        if options["plot"] is not None:
            from recsys.evaluation.plot import plot_learning_curve, plot_report

            self.stdout.write(f"plot: {plot_report(report, options['plot'])}")
            if options["tuned"]:
                curve = options["plot"].with_name(f"{options['plot'].stem}-tuning.png")
                self.stdout.write(f"learning curve: {plot_learning_curve(report, curve)}")
        self.stdout.write(f"report: {path} ({report['seconds']} s)")
