"""The project's folders, shared by the settings modules."""

from pathlib import Path

from config.settings.env import env_path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")
