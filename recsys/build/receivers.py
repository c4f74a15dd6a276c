"""Signal receivers of the recommender, connected in ``RecsysConfig.ready``."""

from __future__ import annotations

from typing import Any

from recsys.build import services
from recsys.engines.registry import clear_engine_cache


def on_catalogue_changed(sender: Any, *, painting_ids: list[int], **kwargs: Any) -> None:
    """Paintings were imported or edited: refresh the artefacts (debounced, after commit)."""
    services.schedule_refresh(painting_ids=painting_ids)


def on_setting_changed(sender: Any, *, setting: str, **kwargs: Any) -> None:
    """``override_settings`` of an engine setting must not keep serving cached engines."""
    if setting.startswith("RECSYS_"):
        clear_engine_cache()
