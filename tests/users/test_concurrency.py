"""Rating upserts under concurrent writers, against the real PostgreSQL server.

Each writer runs in its own thread, hence its own database connection and transaction; a
barrier releases them together so the statements really overlap.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from config.exceptions import UnknownPainting
from tests.factories import PaintingFactory, UserFactory
from users.models import Rating
from users.services import RatingWrite, rating_delete, rating_write, ratings_upsert

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(workers: list[Callable[[], object]]) -> list[object]:
    """Run each callable in its own thread (own connection), started together; re-raise errors."""
    barrier = threading.Barrier(len(workers))
    results: list[object] = [None] * len(workers)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = workers[i]()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    if errors:
        raise errors[0]
    return results


def _row_version(user_id: int, painting_id: int) -> tuple[str, int]:
    """(xmin, value) of the rating row: xmin is the id of the transaction that wrote this version."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xmin::text, value FROM users_rating WHERE user_id = %s AND painting_id = %s",
            [user_id, painting_id],
        )
        return cursor.fetchone()


def test_concurrent_upserts_of_one_rating_leave_one_row_with_the_last_committed_value():
    user, painting = UserFactory(), PaintingFactory()

    def writer(value: int) -> Callable[[], tuple[str, int]]:
        def write() -> tuple[str, int]:
            with transaction.atomic():
                ratings_upsert(user=user, ratings={painting.external_id: value})
                written = _row_version(user.pk, painting.pk)
                time.sleep(random.uniform(0, 0.02))  # hold the row lock so the others queue behind it
            return written

        return write

    written = run_concurrently([writer(value) for value in (1, 2, 3, 4, 5)])

    assert Rating.objects.filter(user=user, painting=painting).count() == 1
    assert sorted(value for _, value in written) == [1, 2, 3, 4, 5]
    # The surviving row version is the one written by the last transaction to commit.
    assert _row_version(user.pk, painting.pk) in written


def test_two_users_racing_on_many_paintings_keep_exactly_their_last_writes():
    users = UserFactory.create_batch(2)
    ids = [p.external_id for p in PaintingFactory.create_batch(40)]
    rounds = 5

    def writer(seed: int) -> Callable[[], dict[str, int]]:
        def write() -> dict[str, int]:
            rng = random.Random(seed)
            last: dict[str, int] = {}
            for _ in range(rounds):
                order = rng.sample(ids, len(ids))
                last = {external_id: rng.randint(1, 5) for external_id in order}
                ratings_upsert(user=users[seed], ratings=last)
            return last

        return write

    last_writes = run_concurrently([writer(0), writer(1)])

    assert Rating.objects.count() == 2 * len(ids)
    for user, last in zip(users, last_writes, strict=True):
        stored = dict(Rating.objects.filter(user=user).values_list("painting__external_id", "value"))
        assert stored == last


def test_one_user_writing_the_same_paintings_in_opposite_orders_does_not_deadlock():
    user = UserFactory()
    ids = [p.external_id for p in PaintingFactory.create_batch(30)]

    def writer(order: list[str], value: int) -> Callable[[], None]:
        def write() -> None:
            for _ in range(10):
                with transaction.atomic():
                    ratings_upsert(user=user, ratings=dict.fromkeys(order, value))
                    time.sleep(0.005)

        return write

    run_concurrently([writer(ids, 2), writer(ids[::-1], 4)])

    values = list(Rating.objects.filter(user=user).values_list("value", flat=True))
    assert len(values) == len(ids)
    # Locks are taken in the same order, so the last transaction to commit wrote every row.
    assert len(set(values)) == 1


def test_concurrent_first_ratings_get_one_created_and_each_writer_its_own_value():
    user, painting = UserFactory(), PaintingFactory()
    values = [1, 2, 3, 4, 5] * 2

    def writer(value: int) -> Callable[[], RatingWrite]:
        return lambda: rating_write(user=user, painting_external_id=painting.external_id, value=value)

    writes = run_concurrently([writer(value) for value in values])

    assert sum(write.created for write in writes) == 1
    assert [write.rating.value for write in writes] == values
    assert Rating.objects.filter(user=user, painting=painting).count() == 1


def test_a_rating_racing_a_delete_of_it_never_fails_and_returns_what_it_wrote():
    user, painting = UserFactory(), PaintingFactory()
    rounds = 60

    def write() -> list[tuple[int, bool]]:
        out = []
        for n in range(rounds):
            value = n % 5 + 1
            written = rating_write(user=user, painting_external_id=painting.external_id, value=value)
            out.append((written.rating.value == value, written.created))
        return out

    def delete() -> int:
        deleted = 0
        for _ in range(rounds):
            try:
                rating_delete(user=user, painting_external_id=painting.external_id)
                deleted += 1
            except UnknownPainting:
                pass
        return deleted

    written, deleted = run_concurrently([write, delete])

    assert all(own_value for own_value, _ in written)
    # Every successful delete made room for exactly one later insert (plus the very first one).
    created = sum(was_created for _, was_created in written)
    assert deleted <= created <= deleted + 1
