"""Fill a running experiment with simulated participants (seeded): see experiments.simulate.

``--effect question=arm:delta`` (repeatable) plants a difference on the 1-5 scale for an arm on
a question (arms not named: 0). After the simulation the command analyses the experiment and
prints, per planted question, the planted difference against the first arm beside the
estimate, its 95% interval and Holm-corrected p (interleaved: the share of wins).
"""

from __future__ import annotations

import math

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.exceptions import ApplicationError
from experiments.analysis import analyse
from experiments.mixed import MixedResult
from experiments.models import QUESTIONS, Experiment
from experiments.simulate import IMPRESSION_SD, NOISE_SD, PERSON_SD, parse_effect, simulate

#: participants when no effect is planted (enough for the model and a readable page)
NO_EFFECT_PARTICIPANTS = 200
MAX_DEFAULT = 2000


def default_participants(experiment: Experiment, arms: int, effects: dict[str, dict[str, float]]) -> int:
    """Enough participants for 80% power at the smallest planted difference, at the Holm family's
    first level 0.05 / (questions x contrasts): n from the simulation's variances, 2 SE^2 = 2
    sigma^2 / (participants per arm) between subjects (sigma^2 = every variance), 2 sigma^2 /
    participants within (sigma^2 without the participant's), doubled for interleaving (clicks
    carry less than answers)."""
    differences = [abs(d) for arms_ in effects.values() for d in arms_.values() if d]
    if not differences:
        return NO_EFFECT_PARTICIPANTS
    contrasts = arms * (arms - 1) // 2
    z = 2.807 if contrasts * len(QUESTIONS) <= 1 else 2.807 + 0.35 * math.log2(contrasts * len(QUESTIONS))
    within = IMPRESSION_SD**2 + NOISE_SD**2
    if experiment.is_within:
        n = 2 * within * (z / min(differences)) ** 2
    else:
        n = arms * 2 * (within + PERSON_SD**2) * (z / min(differences)) ** 2
    if experiment.is_interleaved:
        n *= 2
    return int(min(MAX_DEFAULT, max(40, math.ceil(n / 10) * 10)))


class Command(BaseCommand):
    help = "Add simulated participants, their lists and answers to a running experiment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("experiment", help="Experiment id or name.")
        parser.add_argument(
            "--participants",
            type=int,
            default=None,
            help="Default: enough for 80%% power at the smallest planted effect "
            f"({NO_EFFECT_PARTICIPANTS} with none).",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--effect",
            action="append",
            default=[],
            metavar="QUESTION=ARM:DELTA",
            help="Plant a difference on the 1-5 scale, e.g. serendipity=B:0.5 (repeatable).",
        )

    def handle(self, *args: object, **options: object) -> None:
        ref = str(options["experiment"])
        experiment = (
            Experiment.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
        ) or Experiment.objects.filter(name=ref).first()
        if experiment is None:
            raise CommandError(f"No experiment {ref!r}.")
        if experiment.status != Experiment.Status.RUNNING:
            raise CommandError(f"Experiment {experiment.name!r} is {experiment.status}; start it first.")
        arms = list(experiment.arms.order_by("id").values_list("name", flat=True))
        effects: dict[str, dict[str, float]] = {}
        try:
            for text in options["effect"]:  # type: ignore[union-attr]
                question, arm, delta = parse_effect(str(text), arms=arms)
                effects.setdefault(question, {})[arm] = delta
        except ApplicationError as exc:
            raise CommandError(f"--effect: {exc.message}") from exc
        participants = options["participants"]
        if participants is None:
            participants = default_participants(experiment, len(arms), effects)
        if int(participants) < 1:
            raise CommandError("--participants must be at least 1.")
        self.stdout.write(self._planted(effects))
        try:
            summary = simulate(
                experiment=experiment,
                participants=int(participants),
                seed=int(options["seed"]),
                effects=effects,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{experiment.name}: {summary.participants} simulated participants "
            f"({len(summary.inattentive)} answering at random), {summary.exposures} lists "
            f"({summary.real_lists} from the recommendation service, the rest random draws)."
        )
        self._compare(experiment, arms, effects)

    @staticmethod
    def _planted(effects: dict[str, dict[str, float]]) -> str:
        if not effects:
            return "Planted: no effect (every arm alike on every question)."
        parts = [f"{q} {arm} {d:+.2f}" for q, arms_ in effects.items() for arm, d in arms_.items()]
        return "Planted (against arms not named): " + ", ".join(parts) + "."

    def _compare(self, experiment: Experiment, arms: list[str], effects: dict[str, dict[str, float]]) -> None:
        report = analyse(experiment=experiment)
        self.stdout.write(
            f"Analysis: {report.participants} participants, {report.flagged} flagged by the attention check."
        )
        if report.interleaving is not None:
            result = report.interleaving
            share = result.share
            planted = effects.get("accuracy", {})
            gap = planted.get(result.b, 0.0) - planted.get(result.a, 0.0)
            if share.share_b is None:
                self.stdout.write("Interleaving: no participant preferred either arm.")
                return
            self.stdout.write(
                f"Interleaving ({result.b} against {result.a}, planted accuracy {gap:+.2f}): "
                f"{result.b} won {share.wins_b} of {share.wins_a + share.wins_b} decided participants, "
                f"share {share.share_b:.3f} (95% CI {share.ci_low:.3f} to {share.ci_high:.3f}), "
                f"binomial p = {share.p_value:.3g}."
            )
            return
        reference = arms[0]
        for question in QUESTIONS:
            model = report.models.get(question)
            if not isinstance(model, MixedResult):
                self.stdout.write(f"{question}: {model}")
                continue
            planted = effects.get(question, {})
            for contrast in model.contrasts:
                if contrast.a != reference:
                    continue
                gap = planted.get(contrast.b, 0.0) - planted.get(reference, 0.0)
                inside = contrast.ci_low <= gap <= contrast.ci_high
                self.stdout.write(
                    f"{question}: {contrast.b} - {reference} planted {gap:+.2f}, "
                    f"estimated {contrast.difference:+.2f} "
                    f"(95% CI {contrast.ci_low:+.2f} to {contrast.ci_high:+.2f}, "
                    f"p Holm {contrast.p_holm:.3g})"
                    f"{'' if inside else ' - planted value outside the interval'}"
                )
