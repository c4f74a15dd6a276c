"""An eight-painting catalogue with a small lda artefact, and experiments to take part in."""

import numpy as np
import pytest

from experiments.models import Arm, Experiment
from recsys.artefacts.reader import artefact_cache
from tests.artefact_helpers import write_artefact
from tests.factories import PaintingFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_artefact_cache():
    artefact_cache.clear()
    yield
    artefact_cache.clear()


@pytest.fixture
def paintings(db):
    return [PaintingFactory() for _ in range(12)]


@pytest.fixture
def lda(paintings):
    angles = np.linspace(0, np.pi / 2, len(paintings))
    return write_artefact(
        engine="lda", paintings=paintings, vectors=np.c_[np.cos(angles), np.sin(angles), np.ones(12)]
    )


def make_experiment(
    *, design: str = "between", status: str = "running", arms=(("A", "lda", 1.0), ("B", "resnet", 1.0))
):
    experiment = Experiment.objects.create(
        name=f"exp-{design}-{Experiment.objects.count()}", design=design, status=status, n_recommendations=4
    )
    for name, recommender, weight in arms:
        Arm.objects.create(experiment=experiment, name=name, recommender=recommender, weight=weight)
    return experiment


@pytest.fixture
def between(db):
    return make_experiment()


@pytest.fixture
def within(db):
    return make_experiment(
        design="within", arms=(("A", "lda", 1.0), ("B", "resnet", 1.0), ("C", "clip", 1.0))
    )


@pytest.fixture
def staff_client(client, db):
    """A curator: staff, in the "curator" group the migrations create (experiments view rights)."""
    from django.contrib.auth.models import Group

    user = UserFactory(username="staffer", is_staff=True)
    user.groups.add(Group.objects.get(name="curator"))
    client.force_login(user)
    return client
