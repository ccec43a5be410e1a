"""Settings, read once from ``ADVISOR_*`` environment variables; every one has a working default."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_data_dir", "default_database_url", "get_settings"]


def default_data_dir(name: str) -> Path:
    """The shipped ``catalogue`` or ``rules`` directory: inside the installed package, else the source tree."""
    packaged = Path(__file__).parent / "_data" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


def default_database_url() -> str:
    """SQLite in the user's data directory: ``$XDG_DATA_HOME/open-model-advisor/advisor.db``.

    ``XDG_DATA_HOME`` defaults to ``~/.local/share``. A per-user location (rather than the working directory)
    means ``advisor serve`` and ``advisor report`` find the same records wherever they are started.
    """
    base = os.environ.get("XDG_DATA_HOME")
    if not base:
        try:
            base = str(Path.home() / ".local" / "share")
        except RuntimeError:  # no home directory (some containers): fall back to the working directory
            return "sqlite:///advisor.db"
    return f"sqlite:///{Path(base).resolve() / 'open-model-advisor' / 'advisor.db'}"


class Settings(BaseSettings):
    """Service settings. ``ADVISOR_CATALOGUE_DIR=/path`` overrides ``catalogue_dir``, and so on."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", extra="forbid", frozen=True)

    catalogue_dir: Path = Field(default_factory=lambda: default_data_dir("catalogue"))
    rules_dir: Path = Field(default_factory=lambda: default_data_dir("rules"))
    database_url: str = Field(
        default_factory=default_database_url,
        description="Decision records database: sqlite:///path/advisor.db (default: in the user data directory) "
        "or a PostgreSQL URL.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    max_body_bytes: int = Field(default=65_536, gt=0, description="Largest accepted request body.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
