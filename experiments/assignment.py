"""Pure rules of assignment to experiment arms (no Django).

* Between subjects: u = H(experiment key, visitor key), the first 8 bytes of a SHA-256 digest read
  as an integer / 2^64, uniform in [0, 1). Arm i is chosen when
  W_{i-1} <= u * W < W_i, with W_i the cumulative traffic weights (W = W_n), so the same visitor
  always gets the same arm and arm i receives weight_i / W of the visitors.
* Within subjects: participant number j (0, 1, 2, ...) sees every arm once in the order of row j
  of a balanced Latin square (Williams 1949): for n arms the first row is
  0, 1, n-1, 2, n-2, ..., row j adds j modulo n; for odd n, odd-numbered rows are reversed, so
  that 2n participants balance first-order carry-over. Each arm
  appears once in each position over n (even n) or 2n (odd n) participants. One arm, chosen by
  the hash, is shown a second time as an attention check, inserted after its first showing and,
  when possible, not right after it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def unit_hash(*parts: str) -> float:
    """A deterministic number in [0, 1) from ``parts``."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick_weighted(u: float, weights: Sequence[float]) -> int:
    """Index i of the arm whose cumulative-weight interval holds ``u * sum(weights)``."""
    if not weights or any(w <= 0 for w in weights):
        raise ValueError("weights must be a non-empty list of positive numbers")
    target = u * sum(weights)
    cumulative = 0.0
    for i, weight in enumerate(weights):
        cumulative += weight
        if target < cumulative:
            return i
    return len(weights) - 1  # rounding: u * W just below W


def balanced_latin_square_row(n: int, index: int) -> list[int]:
    """Row ``index`` of the balanced Latin square of order ``n`` (arm positions 0..n-1)."""
    if n < 1:
        raise ValueError("n must be positive")
    first: list[int] = []
    low, high = 0, 0
    for i in range(n):
        if i < 2 or i % 2 == 1:
            first.append(low)
            low += 1
        else:
            first.append(n - high - 1)
            high += 1
    row = [(value + index) % n for value in first]
    if n % 2 == 1 and index % 2 == 1:
        row.reverse()
    return row


def within_sequence(n: int, index: int, *, u_repeat: float, u_position: float) -> list[int]:
    """Participant ``index``'s order of the ``n`` arms plus one repeated arm (n + 1 showings)."""
    order = balanced_latin_square_row(n, index)
    repeated = order[min(int(u_repeat * n), n - 1)]
    first = order.index(repeated)
    # insertion points after the first showing, not adjacent to it when there is a choice
    choices = list(range(first + 2, n + 1)) or [n]
    at = choices[min(int(u_position * len(choices)), len(choices) - 1)]
    return [*order[:at], repeated, *order[at:]]


def repeated_arm(sequence: Sequence[int]) -> int | None:
    """The arm shown twice in a within-subjects sequence (None: none)."""
    seen: set[int] = set()
    for arm in sequence:
        if arm in seen:
            return arm
        seen.add(arm)
    return None
