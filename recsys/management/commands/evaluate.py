"""``manage.py evaluate [--seed N] [--visitors N] [--collection SOURCE] [--lambda L] [--json PATH]
[--plot PATH] [--end-to-end [--sets N]] [--decide] [--tuned [--train-sizes 0,50,200,1000]
[--test-visitors 300]]``: the offline evaluation (see ``recsys.evaluation.runner``; ``--tuned``:
``recsys.evaluation.tuned``), or the whole elicitation-to-recommendation loop
(``recsys.evaluation.end_to_end``); ``--decide`` writes what the evidence chose
(``recsys.evaluation.decision``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.exceptions import ApplicationError
from recsys.algorithms.learned import DEFAULT_LAMBDA
from recsys.evaluation.decision import merge_decision
from recsys.evaluation.end_to_end import end_to_end, end_to_end_table
from recsys.evaluation.report import (
    default_report_path,
    markdown_table,
    paired_table,
    tuning_table,
    write_report,
)
from recsys.evaluation.runner import evaluate, ready_artefacts
from recsys.evaluation.tuned import TEST_VISITORS, TRAIN_SIZES


def fmt_estimate(estimate: dict[str, Any]) -> str:
    if estimate.get("mean") is None:
        return "n/a"
    return f"{estimate['mean']:+.3f} [{estimate['ci95'][0]:+.3f}, {estimate['ci95'][1]:+.3f}]"


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
        parser.add_argument(
            "--end-to-end",
            action="store_true",
            help="Simulated visitors with a hidden taste answer what each elicitation strategy shows, "
            "then every served recommender recommends: nDCG@9 per strategy x recommender.",
        )
        parser.add_argument(
            "--sets", type=int, default=2, help="Elicitation sets per visitor (--end-to-end)."
        )
        parser.add_argument(
            "--decide",
            action="store_true",
            help="Write the decision (default recommender; with --end-to-end the elicitation strategy) "
            "to RECSYS_DEFAULT_DECISION_PATH, which serving reads.",
        )

    def _decide(self, **entries: Any) -> None:
        path = settings.RECSYS_DEFAULT_DECISION_PATH
        if not path:
            raise CommandError("--decide: RECSYS_DEFAULT_DECISION_PATH is empty (decisions are off).")
        written = merge_decision(Path(path), **entries)
        self.stdout.write(f"decision: {written}")

    def _end_to_end(self, options: dict[str, Any]) -> None:
        if options["sets"] < 1:
            raise CommandError("--sets must be at least 1.")
        artefacts, _ = ready_artefacts()
        if not artefacts:
            raise CommandError("No engine has a ready artefact; run `manage.py precompute` first.")
        try:
            report = end_to_end(
                artefacts=artefacts,
                seed=options["seed"],
                visitors=options["visitors"],
                sets=options["sets"],
                progress=lambda message: self.stderr.write(message),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        path = write_report(report, options["json"] or default_report_path().with_name("end_to_end.json"))
        self.stdout.write(end_to_end_table(report))
        chosen = report["decision"]
        self.stdout.write(f"\nstrategy on {report['recommender']}: {chosen['default']} ({chosen['status']})")
        for entry in chosen["comparisons"]:
            self.stdout.write(f"  {entry['a']} - {entry['b']}: {fmt_estimate(entry['ndcg@9_difference'])}")
        if options["decide"]:
            self._decide(elicitation=chosen["default"], elicitation_decision=chosen)
        self.stdout.write(f"report: {path}")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["visitors"] < 1:
            raise CommandError("--visitors must be at least 1.")
        if not options["lam"] > 0:
            raise CommandError("--lambda must be positive.")
        if options["end_to_end"]:
            self._end_to_end(options)
            return
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
            "\nlearned and score fusion vs eq. 1 and late fusion, and engine vs engine (paired, same "
            "visitors):\n" + paired_table(report)
        )
        stored = report["protocols"]["leave_k_out"]
        if stored["status"] == "ok":
            self.stdout.write("\nleave-k-out over stored ratings:\n" + markdown_table(report, "leave_k_out"))
        else:
            self.stdout.write(f"\nleave-k-out skipped: {stored['reason']}")
        self.stdout.write(f"learned: best lambda on validation visitors {report['learned']['best_lambda']}")
        chosen = report["protocols"]["simulated"]["decision"]
        self.stdout.write(f"default recommender: {chosen['default']} ({chosen['status']})")
        for entry in chosen["comparisons"]:
            self.stdout.write(f"  {entry['a']} - {entry['b']}: {fmt_estimate(entry['ndcg@9_difference'])}")
        if options["decide"]:
            self._decide(default=chosen["default"], recommender_decision=chosen)
        for pair, beta in report["score"]["best_beta"].items():
            first = pair.split("+")[0]
            self.stdout.write(f"score:{pair}: best beta (weight of {first}) on validation visitors {beta}")
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
