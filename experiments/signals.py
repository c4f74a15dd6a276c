"""Saving or deleting an experiment (start, stop, a new window) drops the cached answer of
``selectors.active_experiment``, at once and again when the transaction commits (a request
reading in between may have cached the old state). Saving or deleting a recommender definition
drops the process's memo of the admin-defined recommenders (``recsys.serving.recommenders``) the same way."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from experiments.models import Experiment, RecommenderDefinition
from experiments.selectors import forget_active_experiment
from recsys.serving.recommenders import forget_provided_recommenders


@receiver(post_save, sender=Experiment, dispatch_uid="experiments.forget_active_on_save")
@receiver(post_delete, sender=Experiment, dispatch_uid="experiments.forget_active_on_delete")
def forget_active(sender: type, **kwargs: Any) -> None:
    forget_active_experiment()
    transaction.on_commit(forget_active_experiment)


@receiver(post_save, sender=RecommenderDefinition, dispatch_uid="experiments.forget_definitions_on_save")
@receiver(post_delete, sender=RecommenderDefinition, dispatch_uid="experiments.forget_definitions_on_delete")
def forget_definitions(sender: type, **kwargs: Any) -> None:
    forget_provided_recommenders()
    transaction.on_commit(forget_provided_recommenders)
