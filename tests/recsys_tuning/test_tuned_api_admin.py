"""The tuned spaces through the API (``/api/v1/tuned/``, staff) and the admin: status, training
data size, last train time, retrain and roll back; the recommenders list says which space."""

import pytest
from django.urls import reverse

from recsys.models import TunedSpace
from tests.factories import UserFactory
from tests.recsys_tuning.conftest import rate_like_a_group


@pytest.fixture
def staff(api_client, db):
    api_client.force_authenticate(UserFactory(is_staff=True))
    return api_client


def test_status_before_any_training(staff, minilm, paintings):
    rate_like_a_group(paintings, 3)
    body = staff.get("/api/v1/tuned/").json()

    assert body["active"] is None and body["training"] is None and body["versions"] == []
    assert body["feedback"] == {
        "visitors": 3,
        "usable_visitors": 3,
        "ratings": 15,
        "sources": {"ratings": 3, "exposures": 0},
        "min_visitors": 5,
    }
    assert body["retrain_due"] is None
    assert body["engines"] == ["minilm"]


def test_retrain_then_status_shows_size_and_time(
    staff, minilm, paintings, django_capture_on_commit_callbacks
):
    rate_like_a_group(paintings, 6)
    with django_capture_on_commit_callbacks(execute=True):
        answer = staff.post("/api/v1/tuned/train/")
    assert answer.status_code == 202
    assert answer.json()["status"] == "pending" and answer.json()["trigger"] == "api"

    body = staff.get("/api/v1/tuned/").json()
    active = body["active"]
    assert active["version"] == answer.json()["version"]
    assert (active["visitors"], active["ratings"], active["triplets"]) == (6, 30, 36)
    assert active["finished_at"] is not None and active["status"] == "ready"
    assert len(active["loss_curve"]["minilm"]) == 20
    recommenders = {r["name"]: r for r in staff.get("/api/v1/recommenders/").json()}
    assert recommenders["learned"]["space"] == f"tuned:{active['version']}"
    assert recommenders["minilm"]["space"] is None


def test_retrain_with_too_little_feedback_is_a_409_naming_the_setting(staff, minilm, paintings):
    rate_like_a_group(paintings, 2)
    answer = staff.post("/api/v1/tuned/train/")

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "not_enough_feedback"
    assert "RECSYS_TUNED_MIN_VISITORS is 5" in answer.json()["error"]["message"]
    assert not TunedSpace.objects.exists()


def test_rollback_through_the_api(staff, minilm, paintings, django_capture_on_commit_callbacks):
    rate_like_a_group(paintings, 6)
    with django_capture_on_commit_callbacks(execute=True):
        first = staff.post("/api/v1/tuned/train/").json()["version"]
    with django_capture_on_commit_callbacks(execute=True):
        staff.post("/api/v1/tuned/train/")

    answer = staff.post("/api/v1/tuned/rollback/")
    assert answer.status_code == 200 and answer.json()["version"] == first
    assert staff.get("/api/v1/tuned/").json()["active"]["version"] == first
    again = staff.post("/api/v1/tuned/rollback/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "no_previous_version"


@pytest.mark.parametrize(
    "method, path",
    [("get", "/api/v1/tuned/"), ("post", "/api/v1/tuned/train/"), ("post", "/api/v1/tuned/rollback/")],
)
def test_only_staff(api_client, db, method, path):
    assert getattr(api_client, method)(path).status_code == 401
    api_client.force_authenticate(UserFactory())
    assert getattr(api_client, method)(path).status_code == 403


def test_recommenders_list_says_the_learned_recommender_is_untuned(api_client, minilm):
    learned = api_client.get("/api/v1/recommenders/learned/").json()
    assert learned["space"] == "untuned"
    assert "untuned space: no tuned version is active yet" in learned["reason"]


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_page_shows_the_feedback_and_the_buttons(admin_client, minilm, paintings):
    rate_like_a_group(paintings, 3)
    page = admin_client.get(reverse("admin:recsys_tunedspace_changelist"))

    assert page.status_code == 200
    text = page.content.decode()
    assert "none: recommenders marked TUNED use the untuned space" in text
    assert "3 visitors, 3 of them usable" in text
    assert "Retrain now" in text and "Roll back to the previous version" in text


def test_admin_retrain_and_roll_back(admin_client, minilm, paintings, django_capture_on_commit_callbacks):
    rate_like_a_group(paintings, 6)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:recsys_tunedspace_train"))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:recsys_tunedspace_train"))
    first, second = TunedSpace.objects.order_by("created_at", "id")
    assert second.trigger == "admin" and TunedSpace.objects.get(is_active=True) == second

    page = admin_client.post(reverse("admin:recsys_tunedspace_rollback"), follow=True)

    assert TunedSpace.objects.get(is_active=True) == first
    assert f"Tuned version {first.version} is active again" in page.content.decode()
    detail = admin_client.get(reverse("admin:recsys_tunedspace_change", args=[first.pk]))
    assert "loss_curve" in detail.content.decode()


def test_admin_retrain_with_too_little_feedback_says_why(admin_client, minilm, paintings):
    page = admin_client.post(reverse("admin:recsys_tunedspace_train"), follow=True)
    assert "Not enough feedback to tune: 0 visitors" in page.content.decode()
