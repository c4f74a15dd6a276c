"""Fill a running experiment with simulated participants (seeded): see experiments.simulate."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.exceptions import ApplicationError
from experiments.models import Experiment
from experiments.simulate import simulate


class Command(BaseCommand):
    help = "Add simulated participants, their lists and answers to a running experiment."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("experiment", help="Experiment id or name.")
        parser.add_argument("--participants", type=int, default=40)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: object, **options: object) -> None:
        ref = str(options["experiment"])
        experiment = (
            Experiment.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
        ) or Experiment.objects.filter(name=ref).first()
        if experiment is None:
            raise CommandError(f"No experiment {ref!r}.")
        if experiment.status != Experiment.Status.RUNNING:
            raise CommandError(f"Experiment {experiment.name!r} is {experiment.status}; start it first.")
        if int(options["participants"]) < 1:
            raise CommandError("--participants must be at least 1.")
        try:
            summary = simulate(
                experiment=experiment, participants=int(options["participants"]), seed=int(options["seed"])
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"{experiment.name}: {summary.participants} simulated participants, {summary.exposures} lists "
            f"({summary.real_lists} from the recommendation service, the rest random draws)."
        )
