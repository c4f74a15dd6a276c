"""The reaper's "heartbeat from the queue" reads real broker queues without taking messages:
kombu's filesystem transport (the embedded default) and Redis."""

from __future__ import annotations

import uuid

import pytest
from celery import Celery
from django.conf import settings

from recsys.build.queue_probe import queued_artefact_ids


def _send(app: Celery) -> None:
    app.send_task("recsys.encode_batch", args=[42, 0])
    app.send_task("recsys.prepare_artefact", args=[7], kwargs={"full": True})
    app.send_task("experiments.something_else", args=[99])


def test_the_filesystem_queue_names_the_waiting_builds(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    app = Celery("probe-fs", broker="filesystem://", set_as_current=False)
    app.conf.broker_transport_options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    _send(app)
    assert queued_artefact_ids(app) == {42, 7}
    assert len(list(folder.iterdir())) == 3  # read, not taken


@pytest.mark.redis
def test_the_redis_queue_names_the_waiting_builds():
    app = Celery("probe-redis", broker=settings.TEST_REDIS_URL, set_as_current=False)
    app.conf.task_default_queue = f"probe-{uuid.uuid4().hex}"
    try:
        _send(app)
        assert queued_artefact_ids(app) == {42, 7}
        with app.connection_for_read() as connection:
            assert connection.default_channel.client.llen(app.conf.task_default_queue) == 3
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.client.delete(app.conf.task_default_queue)


def test_an_unreachable_broker_is_unknown_not_empty():
    app = Celery("probe-down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    app.conf.broker_connection_timeout = 1
    app.conf.broker_transport_options = {"socket_connect_timeout": 0.5, "max_retries": 0}
    assert queued_artefact_ids(app) is None
