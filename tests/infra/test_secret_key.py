"""The secret-key strength estimate (config.settings.secret_key), on hand-worked keys."""

from __future__ import annotations

import math
import secrets

import pytest
from django.core.management.utils import get_random_secret_key

from config.settings.secret_key import secret_key_problem, shannon_bits


def test_shannon_bits_of_hand_worked_keys():
    assert shannon_bits("abcde" * 10) == pytest.approx(50 * math.log2(5))  # 116.1
    assert shannon_bits("aabb") == pytest.approx(4.0)  # H = 1 bit, 4 characters
    assert shannon_bits("") == 0.0


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("abcde" * 10, "too few different characters (about 116 bits"),
        ("abcdefghijklmnopqrstuvwxyz" * 2, "repeats a pattern"),
        ("insecure-dev-key-change-me", "placeholder"),
        ("Xy7" * 5, "fewer than 50"),
    ],
)
def test_weak_keys_are_named_with_the_reason(key, why):
    assert why in secret_key_problem(key)


@pytest.mark.parametrize(
    "make", [get_random_secret_key, lambda: secrets.token_urlsafe(50), lambda: secrets.token_hex(32)]
)
def test_random_keys_of_the_usual_generators_pass(make):
    assert all(secret_key_problem(make()) is None for _ in range(200))
