"""Settings, read once from ``ADVISOR_*`` environment variables; every one has a working default.

The defaults serve one developer on loopback with no configuration: no API keys, SQLite in the user's data
directory, JSON logs at ``info``. The README's settings table lists every variable.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = [
    "ApiKey",
    "Scope",
    "Settings",
    "default_data_dir",
    "default_database_url",
    "get_settings",
    "hash_key",
    "is_loopback",
]

Scope = Literal["read", "write", "admin"]
#: What each scope may do: ``write`` may also read, ``admin`` may do everything.
SCOPE_RANK: dict[str, int] = {"read": 0, "write": 1, "admin": 2}
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def hash_key(secret: str) -> str:
    """The SHA-256 hex digest under which an API key is configured (``printf %s KEY | sha256sum``)."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(BaseModel):
    """One configured key: a name (logged and stored with records), a scope, and the SHA-256 of the secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    scope: Scope
    sha256: str = Field(repr=False)

    @classmethod
    def parse(cls, text: str) -> ApiKey:
        """Read ``name:scope:sha256hex``; the message never repeats the text (it may be a secret pasted by mistake)."""
        parts = text.strip().split(":")
        if len(parts) != 3:
            raise ValueError("each API key must be written name:scope:sha256hex")
        name, scope, digest = parts
        if not _KEY_NAME.match(name):
            raise ValueError("an API key name is 1-64 letters, digits, '.', '_' or '-'")
        if scope not in SCOPE_RANK:
            raise ValueError(f"API key {name!r}: scope must be read, write or admin")
        if not _HEX64.match(digest.lower()):
            raise ValueError(f"API key {name!r}: the third part must be the key's SHA-256 as 64 hex digits")
        return cls(name=name, scope=scope, sha256=digest.lower())


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


def default_cache_dir() -> Path | None:
    """``$XDG_CACHE_HOME/open-model-advisor`` (``XDG_CACHE_HOME`` defaults to ``~/.cache``); None without a home."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base).resolve() / "open-model-advisor"


def is_loopback(host: str) -> bool:
    """True for an address that only this machine can reach (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _split(value: object) -> object:
    """Comma-separated text from the environment to a list; lists from code pass through."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


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
    cache_dir: Path | None = Field(
        default_factory=default_cache_dir,
        description="Where the fitted capability model is kept between starts (keyed by a digest of its exact "
        "inputs; default: in the user cache directory); empty: fit at every start.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="Server processes (`advisor serve --workers`).")
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: Literal["json", "console"] = "json"
    max_body_bytes: int = Field(default=65_536, gt=0, description="Largest accepted request body.")
    api_keys: Annotated[list[ApiKey], NoDecode] = Field(
        default=[], description="Comma-separated name:scope:sha256hex entries; only hashes are configured."
    )
    api_keys_file: Path | None = Field(
        default=None, description="A file with one name:scope:sha256hex per line ('#' starts a comment)."
    )
    behind_proxy: bool = Field(
        default=False,
        description="The service runs behind an authenticating proxy: allow a non-loopback bind without API keys.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default=["127.0.0.1", "localhost", "[::1]", "::1"],
        description="Host header values served (wildcards like *.example.org allowed); others get 400.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=[], description="Origins allowed to call the API from a browser; none by default."
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=0,
        description=(
            "Requests per minute per API key (or per client address without keys) and server, the workers of "
            "`advisor serve --workers N` counting together; 0: off."
        ),
    )
    record_retention_days: int | None = Field(
        default=None, gt=0, description="Prune decision records older than this many days (null: keep)."
    )
    record_retention_count: int | None = Field(
        default=None, gt=0, description="Keep at most this many decision records, newest first (null: no cap)."
    )
    session_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Signs the web pages' session and CSRF cookies (32 or more characters). Unset: a random secret "
        "per start (`advisor serve --workers N` shares one among its workers); sessions then end at a restart.",
    )
    session_max_age_s: int = Field(
        default=8 * 3600, ge=60, le=30 * 86400, description="How long a web sign-in lasts, in seconds."
    )
    database_connect_timeout_s: float = Field(default=3.0, gt=0, le=60, description="Give up connecting after this.")
    database_statement_timeout_s: float = Field(
        default=5.0, gt=0, le=300, description="PostgreSQL statement timeout; SQLite lock wait."
    )
    database_deadline_s: float = Field(
        default=1.0, gt=0, le=300, description="A request waits this long for the database, then gets 503."
    )
    database_retry_after_s: float = Field(
        default=10.0, gt=0, le=600, description="After a database failure, answer 503 at once for this long."
    )

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("allowed_hosts", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split(value)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        value = _split(value)
        if isinstance(value, list):
            return [ApiKey.parse(item) if isinstance(item, str) else item for item in value]
        return value

    @model_validator(mode="after")
    def _keys_from_file(self) -> Settings:
        if self.api_keys_file is None:
            return self
        try:
            lines = self.api_keys_file.read_text().splitlines()
        except OSError as exc:
            raise ValueError(f"api_keys_file cannot be read: {exc.strerror}") from exc
        keys = list(self.api_keys)
        for number, line in enumerate(lines, start=1):
            text = line.split("#", 1)[0].strip()
            if text:
                try:
                    keys.append(ApiKey.parse(text))
                except ValueError as exc:
                    raise ValueError(f"api_keys_file line {number}: {exc}") from exc
        object.__setattr__(self, "api_keys", keys)
        return self

    @model_validator(mode="after")
    def _unique_key_names(self) -> Settings:
        names = [key.name for key in self.api_keys]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"api_keys: names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @property
    def auth_enabled(self) -> bool:
        """True when API keys are configured: every ``/v1`` route then needs one."""
        return bool(self.api_keys)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
