"""Which builds have work waiting in the broker's queue: the reaper's "heartbeat from the queue".

A build whose next task waits behind other engines' batches beats no heartbeat (nothing of it
runs), yet it is alive: its message is in the queue. ``queued_artefact_ids`` reads the waiting
messages of the default queue without taking them and returns the Artefact ids their ``recsys.*``
tasks carry (the first argument of every build task). Messages a worker has taken but not
acknowledged are *not* counted: a worker killed with ``kill -9`` leaves exactly those behind.

Supported transports: Redis (``LRANGE`` of the queue's priority lists, at most ``LIMIT``
messages) and kombu's filesystem transport (the embedded default: one file per message).
Anything else, an unreadable broker, or a longer queue: None, "unknown", and the reaper falls
back to the heartbeat alone.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

from celery import Celery, current_app

logger = logging.getLogger(__name__)

LIMIT = 100_000  # messages read at most; a longer queue is "unknown"


def artefact_id_of(message: dict[str, Any]) -> int | None:
    """The Artefact id of a queued ``recsys.*`` task message (kombu's JSON envelope), else None."""
    headers = message.get("headers") or {}
    if not str(headers.get("task", "")).startswith("recsys."):
        return None
    body = message.get("body")
    if (message.get("properties") or {}).get("body_encoding") == "base64" and isinstance(body, str):
        body = base64.b64decode(body)
    try:
        decoded = json.loads(body) if isinstance(body, (bytes, str)) else body
        args = decoded[0]
    except (ValueError, TypeError, IndexError, KeyError):
        return None
    first = args[0] if isinstance(args, list) and args else None
    return first if isinstance(first, int) and not isinstance(first, bool) else None


def _ids(raw_messages: list[bytes | str]) -> set[int]:
    found = set()
    for raw in raw_messages:
        try:
            message = json.loads(raw)
        except ValueError:
            continue
        artefact_id = artefact_id_of(message)
        if artefact_id is not None:
            found.add(artefact_id)
    return found


def _redis(channel: Any, queue: str) -> set[int] | None:
    client = channel.client
    names = [channel._q_for_pri(queue, pri) for pri in channel.priority_steps]
    if sum(client.llen(name) for name in names) > LIMIT:
        return None
    return _ids([raw for name in names for raw in client.lrange(name, 0, -1)])


def _filesystem(channel: Any, queue: str) -> set[int] | None:
    folder = Path(channel.data_folder_in)
    files = sorted(folder.glob(f"*.{queue}.msg"))
    if len(files) > LIMIT:
        return None
    raw = []
    for path in files:
        try:
            raw.append(path.read_bytes())
        except OSError:  # taken by a worker meanwhile
            continue
    return _ids(raw)


def queued_artefact_ids(app: Celery | None = None) -> set[int] | None:
    """Artefact ids with a build task waiting in the default queue of ``app`` (the current Celery
    app), or None when unknown."""
    app = app or current_app
    if app.conf.task_always_eager:
        return None
    queue = app.conf.task_default_queue
    try:
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            transport = connection.transport_cls
            if transport in ("redis", "rediss") or hasattr(channel, "_q_for_pri"):
                return _redis(channel, queue)
            if hasattr(channel, "data_folder_in"):
                return _filesystem(channel, queue)
    except Exception as exc:  # the broker down or unreadable: the heartbeat alone decides
        logger.warning("could not read the build queue (%s: %s)", type(exc).__name__, exc)
    return None
