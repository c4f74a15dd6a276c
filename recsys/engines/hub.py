"""Whether the Hugging Face hub can be reached: one TCP connect, remembered for a while.

Without a network, ``from_pretrained(<hub id>)`` retries every request with back-off (about
23 s per model with huggingface_hub's defaults) before it fails. A web process working out the
recommenders' statuses checks every engine's availability (``check_available`` reads the
config), so on a machine with no way out and ``RECSYS_HF_OFFLINE`` unset its first request
waited over a minute for ResNet, CLIP and BLIP, longer than gunicorn's worker timeout.

The engines therefore load hub ids with ``local_files_only`` (the local Hugging Face cache)
when ``RECSYS_HF_OFFLINE`` is on *or* when the hub does not accept a TCP connection within
``CONNECT_TIMEOUT_S``. The answer is kept ``RECHECK_S`` seconds per process, so a worker
started while the network was down downloads once it is back. The endpoint is ``HF_ENDPOINT``
(a mirror) or huggingface.co.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from urllib.parse import urlsplit

CONNECT_TIMEOUT_S = 3.0
RECHECK_S = 300.0
DEFAULT_ENDPOINT = "https://huggingface.co"

_lock = threading.Lock()
_memo: tuple[bool, float] | None = None  # (reachable, valid until: monotonic seconds)


def hub_address() -> tuple[str, int]:
    """Host and port of ``HF_ENDPOINT`` (default huggingface.co:443)."""
    url = urlsplit(os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT)
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


def hub_reachable() -> bool:
    """True when the hub accepted a TCP connection within ``CONNECT_TIMEOUT_S`` (asked at most
    once per ``RECHECK_S`` per process; concurrent callers wait for the one asking)."""
    global _memo
    with _lock:
        now = time.monotonic()
        if _memo is not None and now < _memo[1]:
            return _memo[0]
        try:
            socket.create_connection(hub_address(), timeout=CONNECT_TIMEOUT_S).close()
            reachable = True
        except OSError:
            reachable = False
        _memo = (reachable, now + RECHECK_S)
        return reachable


def forget() -> None:
    """Drop the remembered answer (tests; the next call connects again)."""
    global _memo
    with _lock:
        _memo = None
