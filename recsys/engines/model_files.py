"""Where a pretrained model's files are: a local directory or a hub id, read without torch.

``MODEL`` of an engine (``settings.RECSYS_ENGINES[name]["MODEL"]``) is either; ``local_model_dir``
tells them apart, ``read_model_type`` reads ``config.json`` as JSON (no transformers) and
``WEIGHT_FILES`` names the files a local directory must hold one of.
"""

from __future__ import annotations

import json
from pathlib import Path

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def read_model_type(model_id: str, *, local_files_only: bool) -> str | None:
    """``model_type`` of the ``config.json`` of a local directory or hub id (the hub's file goes
    through the local Hugging Face cache), read as JSON: no transformers, no torch."""
    model_dir = local_model_dir(model_id)
    if model_dir is not None:
        path = model_dir / "config.json"
    else:
        from huggingface_hub import hf_hub_download

        path = Path(hf_hub_download(model_id, "config.json", local_files_only=local_files_only))
    return json.loads(path.read_text(encoding="utf-8")).get("model_type")


def local_model_dir(model_id: str) -> Path | None:
    """The local directory ``model_id`` names, or None when it is a hub id ("owner/name").

    An existing directory always wins; a path that does not exist is recognised by its shape
    (absolute, ``./``, ``~`` or more than one ``/``) so that the error can say so.
    """
    path = Path(model_id).expanduser()
    if path.is_dir():
        return path
    if path.is_absolute() or model_id.startswith((".", "~")) or model_id.count("/") > 1:
        return path
    return None
