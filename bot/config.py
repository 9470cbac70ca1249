"""Settings: every environment variable, validated once at start (pydantic-settings)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGED_SAMPLES = Path(__file__).resolve().parent.parent / "content" / "samples"
TELEGRAM_API = "https://api.telegram.org/bot"
_CHANNEL_RE = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20})$")
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
_TOKEN_IN_URL = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{20,}")


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Newswire's configuration; names are the environment variables'."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = TELEGRAM_API
    telegram_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    content_dir: Path = PACKAGED_SAMPLES
    database_url: str = "sqlite+aiosqlite:///./data/newswire.db"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Singapore"
    sandbox_port: int = Field(default=8088, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_content: bool = False
    scan_interval: float = Field(default=3.0, gt=0, le=3600)
    global_rate_limit: float = Field(default=30.0, gt=0, le=1000)
    allow_paid_broadcast: bool = False
    worker_concurrency: int = Field(default=16, ge=1, le=512)
    summarizer: Literal["extractive", "openai"] = "extractive"
    summarizer_url: str | None = None
    summarizer_model: str | None = None
    summarizer_api_key: SecretStr | None = None

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not _TOKEN_RE.match(value):
                # Never echo the value: it is a secret even when malformed.
                raise ValueError("does not look like a bot token (expected 123456:ABC...)")
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            # Show only the start: a pasted URL may carry the token after /bot.
            raise ValueError(f"not an http(s) URL: {value[:24]!r}...")
        if _TOKEN_IN_URL.search(value):
            raise ValueError("must not contain the token (it is appended: end it with /bot)")
        return value

    @field_validator("telegram_channels", mode="before")
    @classmethod
    def _channels(cls, value: object) -> object:
        value = _split_csv(value)
        if isinstance(value, list):
            for item in value:
                if not _CHANNEL_RE.match(str(item)):
                    raise ValueError(f"{item!r} is not a channel (@name or numeric id)")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admins(cls, value: object) -> object:
        value = _split_csv(value)
        if isinstance(value, list):
            for item in value:
                if not re.fullmatch(r"-?\d{1,20}", str(item)):
                    raise ValueError(f"{item!r} is not a numeric Telegram user id")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not re.match(r"^(sqlite\+aiosqlite|postgresql\+asyncpg)://", value):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://...")
        return value

    @model_validator(mode="after")
    def _summarizer_complete(self) -> Settings:
        if self.summarizer == "openai":
            # Without these the extractive summarizer would run silently instead.
            for name in ("summarizer_url", "summarizer_model"):
                value = getattr(self, name)
                if value is None or not value.strip():
                    raise ValueError(f"{name.upper()}: required when SUMMARIZER=openai")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def global_rate(self) -> float:
        """Sends per second across all chats: Telegram's 30, or 1000 with paid broadcast."""
        return 1000.0 if self.allow_paid_broadcast else self.global_rate_limit

    @property
    def sandbox(self) -> bool:
        """No token: run against the built-in sandbox."""
        return self.telegram_bot_token is None


class SettingsError(Exception):
    """A bad setting, explained in one line that names it."""


def load_settings(**overrides: object) -> Settings:
    """Read the environment and `.env`; raise SettingsError with one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:
            # A rule across settings: its message starts with the setting it names.
            raise SettingsError(message) from None
        raise SettingsError(f"{str(first['loc'][0]).upper()}: {message}") from None
