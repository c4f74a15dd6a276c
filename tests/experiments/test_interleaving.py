"""Team-draft interleaving: the draft, the credit, the share of wins, and an interleaved
experiment end to end (web page, simulation, analysis)."""

import io
import random

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from experiments.interleaving import credit, preference, team_draft, win_share
from experiments.models import Exposure, Feedback
from tests.experiments.conftest import make_experiment


class _Coin(random.Random):
    """A coin that always lands on ``side``."""

    def __init__(self, side: int) -> None:
        super().__init__(0)
        self.side = side

    def randrange(self, *args, **kwargs) -> int:
        return self.side


def test_team_draft_alternates_and_skips_what_the_other_team_took():
    # A first: A takes 1; B (fewer) takes 2 (its 1 is taken); tie -> coin A: 3; B: 4 ... hand-worked
    items, teams = team_draft([1, 3, 5, 7], [1, 2, 3, 4], n=5, rng=_Coin(0))
    assert items == [1, 2, 3, 4, 5] and teams == [0, 1, 0, 1, 0]
    items, teams = team_draft([1, 3, 5, 7], [1, 2, 3, 4], n=4, rng=_Coin(1))
    assert items == [1, 3, 2, 5] and teams == [1, 0, 1, 0]


def test_team_draft_fills_from_the_longer_ranking():
    items, teams = team_draft([1], [2, 3, 4], n=4, rng=_Coin(0))
    assert items == [1, 2, 3, 4] and teams == [0, 1, 1, 1]


def test_credit_counts_clicks_and_liked_ratings_for_the_drafting_team():
    assert credit(teams=[0, 1, 0, 1], clicked=[1, 2], liked=[1]) == (1, 2)
    assert preference([(1, 2), (2, 0)]) == 0
    assert preference([(1, 1)]) is None


def test_win_share_is_an_exact_binomial_test():
    share = win_share([1] * 15 + [0] * 5 + [None] * 3)
    assert (share.wins_a, share.wins_b, share.ties) == (5, 15, 3)
    assert share.share_b == 0.75
    assert share.p_value == pytest.approx(0.041389, rel=1e-4)  # 2 * P(X >= 15), X ~ Bin(20, 0.5)
    assert share.ci_low == pytest.approx(0.50895, rel=1e-3) and share.ci_high == pytest.approx(
        0.91343, rel=1e-3
    )
    assert win_share([None, None]).share_b is None


@pytest.mark.parametrize(("effect", "significant"), [(None, False), ("accuracy=B:1.5", True)])
def test_simulated_interleaving_reports_the_planted_difference(staff_client, paintings, effect, significant):
    experiment = make_experiment(design="interleaved", arms=(("A", "lda", 1.0), ("B", "resnet", 1.0)))
    out = io.StringIO()
    args = ["--participants", "150", "--seed", "2"] + (["--effect", effect] if effect else [])
    call_command("simulate_experiment", str(experiment.pk), *args, stdout=out)
    report = staff_client.get(
        reverse("experiments:analysis", args=[experiment.pk]), {"format": "json"}
    ).json()
    share = report["interleaving"]["share"]
    assert not Feedback.objects.exists()
    assert "Interleaving (B against A" in out.getvalue()
    if significant:
        assert share["share_b"] > 0.5 and share["p_value"] < 0.05
    else:
        assert share["ci_low"] <= 0.5 <= share["ci_high"]
    page = staff_client.get(reverse("experiments:analysis", args=[experiment.pk])).content.decode()
    assert "Share of wins of B" in page


def test_a_reload_of_an_interleaved_list_is_the_same_draw(lda, paintings):
    from experiments import services
    from tests.artefact_helpers import write_artefact

    angles = np.linspace(np.pi / 2, 0, len(paintings))  # resnet ranks the other way round
    write_artefact(
        engine="resnet", paintings=paintings, vectors=np.c_[np.cos(angles), np.sin(angles), np.ones(12)]
    )
    experiment = make_experiment(design="interleaved", arms=(("A", "lda", 1.0), ("B", "resnet", 1.0)))
    ratings = {paintings[0].pk: 5, paintings[11].pk: 4}
    first = services.recommend_for_visitor(visitor_key="visitor:v1", ratings=ratings, n=9).exposure
    again = services.recommend_for_visitor(visitor_key="visitor:v1", ratings=ratings, n=9).exposure
    assert again == first and Exposure.objects.count() == 1
    assert set(first.teams) == set(experiment.arms.values_list("id", flat=True))
    assert not first.fallback_reason and first.recommender == "lda+resnet"
