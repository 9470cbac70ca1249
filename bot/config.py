"""Settings: every environment variable, validated once at start (pydantic-settings)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from content.preferences import QuietHours, parse_quiet
from content.routing import ChannelOptions, Route, parse_channel_options, parse_routes

PACKAGED_SAMPLES = Path(__file__).resolve().parent.parent / "content" / "samples"
TELEGRAM_API = "https://api.telegram.org/bot"
_CHANNEL_RE = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20})$")
_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
_TOKEN_IN_URL = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{20,}")
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


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
    # Newswire's own web server (bot/web/): CMS pushes; 0 picks a free port (tests).
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    # Unset: the push routes answer 404. Ghost signs with its own per-webhook secret.
    push_secret: SecretStr | None = None
    ghost_webhook_secret: SecretStr | None = None
    # Feeds and WordPress sites polled for stories: a feed URL, a page whose feed is found by
    # autodiscovery, or wordpress:https://site; comma-separated.
    sources: Annotated[list[str], NoDecode] = Field(default_factory=list)
    feed_interval: float = Field(default=300.0, gt=0, le=86400)
    full_text: Literal["auto", "always", "never"] = "auto"
    # None: allowed only in sandbox mode (no token), where feeds are served locally.
    allow_private_urls: bool | None = None
    site_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # A URL or address appended to the User-Agent so site owners can reach the operator.
    user_agent_contact: str | None = None
    # Topic routes: `topic[,topic...]=target` pairs separated by `;` (content/routing.py).
    channel_routes: str = ""
    # Per channel or route: `target=option[,option...]` pairs separated by `;`; target `*`: all.
    channel_options: str = ""
    # HH:MM-HH:MM in TIMEZONE: channel posts go out silently then (breaking ones never).
    channel_quiet_hours: str | None = None
    pin_breaking: bool = True  # pin a breaking story's channel posts ...
    pin_hours: float = Field(default=6.0, gt=0, le=720)  # ... and unpin them after this
    # A story whose file leaves CONTENT_DIR is withdrawn (else it stays: files get moved).
    withdraw_on_file_removed: bool = False
    # Editors (ADMIN_IDS) publish each new story from a preview before it is posted.
    review: bool = False
    # Webhook mode: Telegram posts updates to this URL (reaching HTTP_PORT), with the secret.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    log_format: Literal["text", "json"] = "text"

    @field_validator("channel_routes")
    @classmethod
    def _routes(cls, value: str) -> str:
        from content.routing import RouteError, parse_routes

        try:
            parse_routes(value)
        except RouteError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("channel_options")
    @classmethod
    def _channel_options(cls, value: str) -> str:
        from content.routing import RouteError, parse_channel_options

        try:
            parse_channel_options(value)
        except RouteError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("channel_quiet_hours", mode="before")
    @classmethod
    def _channel_quiet(cls, value: object) -> object:
        from content.preferences import SettingError, parse_quiet

        if isinstance(value, str):
            value = value.strip()
            if not value or value.lower() == "off":
                return None
            try:
                parse_quiet(value)
            except SettingError as exc:
                raise ValueError(f"{value!r}: {exc}") from None
        return value

    @field_validator("telegram_webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"not an http(s) URL: {value[:40]!r}")
            if _TOKEN_IN_URL.search(value):
                raise ValueError("must not contain the bot token")
        return value

    @field_validator("telegram_webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not _WEBHOOK_SECRET_RE.match(value):
                # Never echo the value.
                raise ValueError("use 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("push_secret", "ghost_webhook_secret", mode="before")
    @classmethod
    def _optional_secret(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _sources(cls, value: object) -> object:
        from content.sources.polling import SourceSpecError, parse_spec

        value = _split_csv(value)
        if isinstance(value, list):
            for item in value:
                try:
                    parse_spec(str(item))
                except SourceSpecError as exc:
                    raise ValueError(str(exc)) from None
        return value

    @field_validator("site_domains", mode="before")
    @classmethod
    def _domains(cls, value: object) -> object:
        value = _split_csv(value)
        if isinstance(value, list):
            return [str(item).lower().removeprefix("www.") for item in value]
        return value

    @field_validator("user_agent_contact", mode="before")
    @classmethod
    def _contact(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

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

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            # Without it anyone who finds the URL could post updates as Telegram.
            raise ValueError("TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL")
        return self

    @model_validator(mode="after")
    def _review_has_editors(self) -> Settings:
        if self.review and not self.admin_ids:
            raise ValueError("REVIEW: needs ADMIN_IDS (the editors who publish the stories)")
        return self

    @property
    def routes(self) -> tuple[Route, ...]:
        return parse_routes(self.channel_routes)

    @property
    def channel_option_table(self) -> dict[str, ChannelOptions]:
        return parse_channel_options(self.channel_options)

    @property
    def channel_quiet(self) -> QuietHours | None:
        return parse_quiet(self.channel_quiet_hours) if self.channel_quiet_hours else None

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

    @property
    def private_urls_allowed(self) -> bool:
        """Whether fetching may reach loopback/private addresses (ALLOW_PRIVATE_URLS)."""
        return self.sandbox if self.allow_private_urls is None else self.allow_private_urls


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
