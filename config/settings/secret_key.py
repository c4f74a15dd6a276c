"""How strong a ``SECRET_KEY`` looks: production refuses a key that is short, published, or
patterned (``config.settings.prod``).

Two estimates of the key's randomness, both cheap and both needed:

    H = -sum_c p_c log2 p_c        (p_c: the share of character c in the key)
    bits = H * len(key)            must be >= MIN_BITS (128)

catches keys made of few characters (``"abcde" * 10``: H = log2 5 = 2.32, bits = 116), and

    ratio = len(zlib.compress(key)) / len(key)     must be >= MIN_COMPRESSED_RATIO (0.8)

catches repeated patterns of many characters (``"abc...xyz" * 2``: H = 4.7 but ratio 0.71),
which a random key never has (Django's ``get_random_secret_key`` and ``secrets.token_urlsafe``
keys compress to more than their length; 50 hex digits to about 0.9).
"""

from __future__ import annotations

import math
import zlib
from collections import Counter

MIN_LENGTH = 50
MIN_BITS = 128
MIN_COMPRESSED_RATIO = 0.8
#: Keys published in this repository (.env.example, the dev default).
KNOWN_PLACEHOLDER_KEYS = frozenset({"replace-with-a-long-random-string", "insecure-dev-key-change-me"})


def shannon_bits(key: str) -> float:
    """``H * len(key)``: the key's length times the entropy of its character frequencies."""
    n = len(key)
    if n == 0:
        return 0.0
    return -n * sum(count / n * math.log2(count / n) for count in Counter(key).values())


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is not fit for production, or None."""
    if key in KNOWN_PLACEHOLDER_KEYS or key.startswith("django-insecure"):
        return "it is a placeholder published with the code"
    if len(key) < MIN_LENGTH:
        return f"it has {len(key)} characters, fewer than {MIN_LENGTH}"
    bits = shannon_bits(key)
    if bits < MIN_BITS:
        return f"it is made of too few different characters (about {bits:.0f} bits, fewer than {MIN_BITS})"
    ratio = len(zlib.compress(key.encode("utf-8", "surrogatepass"), 9)) / len(key)
    if ratio < MIN_COMPRESSED_RATIO:
        return "it repeats a pattern"
    return None
