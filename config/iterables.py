"""Small iteration helpers shared by the apps (Python 3.11 has no ``itertools.batched``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def batched(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of ``items`` of ``size`` elements, the last one shorter if need be."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
