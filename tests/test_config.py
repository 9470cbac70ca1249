"""Settings: defaults, one-line errors naming the setting, `newswire run` refusing to start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PACKAGED_SAMPLES, Settings, SettingsError, load_settings
from tests.support.cli import clear_settings, cli_env, run_cli

GOOD_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the machine or a stray .env leaks into these tests."""
    clear_settings(monkeypatch)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.sandbox is True
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.telegram_channels == []
    assert settings.admin_ids == []
    assert settings.content_dir == PACKAGED_SAMPLES
    assert settings.database_url == "sqlite+aiosqlite:///./data/newswire.db"
    assert settings.timezone == "Asia/Singapore"
    assert str(settings.zone) == "Asia/Singapore"
    assert settings.sandbox_port == 8088
    assert settings.log_level == "INFO"
    assert settings.scan_interval == 3.0
    assert settings.summarizer == "extractive"
    assert settings.global_rate == 30.0
    assert settings.worker_concurrency == 16


def test_paid_broadcast_raises_the_global_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLOBAL_RATE_LIMIT", "10")
    assert load_settings().global_rate == 10.0
    monkeypatch.setenv("ALLOW_PAID_BROADCAST", "true")
    assert load_settings().global_rate == 1000.0


def test_env_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=Europe/London\nADMIN_IDS=7,8\n")
    settings = load_settings()
    assert settings.timezone == "Europe/London"
    assert settings.admin_ids == [7, 8]


def test_a_good_token_leaves_sandbox_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", f"  {GOOD_TOKEN} ")
    settings = load_settings()
    assert settings.sandbox is False
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == GOOD_TOKEN
    assert GOOD_TOKEN not in repr(settings)


def test_blank_token_means_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "   ")
    assert load_settings().sandbox is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "@news_sg, -1001234567890 ,@Other_Channel",
            ["@news_sg", "-1001234567890", "@Other_Channel"],
        ),
        ("@news_sg,,", ["@news_sg"]),
        ("", []),
    ],
)
def test_channels_csv(monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]) -> None:
    monkeypatch.setenv("TELEGRAM_CHANNELS", value)
    assert load_settings().telegram_channels == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1, 2,3", [1, 2, 3]), ("-5", [-5]), ("42,", [42]), ("", [])],
)
def test_admin_ids_csv(monkeypatch: pytest.MonkeyPatch, value: str, expected: list[int]) -> None:
    monkeypatch.setenv("ADMIN_IDS", value)
    assert load_settings().admin_ids == expected


def test_overrides_take_the_same_validation() -> None:
    settings = load_settings(telegram_channels="@abcd,-100", admin_ids="9", _env_file=None)
    assert settings.telegram_channels == ["@abcd", "-100"]
    assert settings.admin_ids == [9]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Mars/Base"),
        ("TIMEZONE", "../../etc/passwd"),
        ("TELEGRAM_CHANNELS", "@ok_channel,news sg"),
        ("TELEGRAM_CHANNELS", "@abc"),  # too short for a channel name
        ("TELEGRAM_CHANNELS", "https://t.me/news"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org/bot"),
        ("TELEGRAM_API_BASE_URL", "ftp://api.telegram.org/bot"),
        ("TELEGRAM_API_BASE_URL", "http://"),
        ("ADMIN_IDS", "12,abc"),
        ("ADMIN_IDS", "1.5"),
        ("DATABASE_URL", "sqlite:///plain.db"),
        ("DATABASE_URL", "mysql://x"),
        ("SANDBOX_PORT", "70000"),
        ("LOG_LEVEL", "LOUD"),
        ("SCAN_INTERVAL", "0"),
        ("SUMMARIZER", "magic"),
        ("GLOBAL_RATE_LIMIT", "0"),
        ("WORKER_CONCURRENCY", "many"),
    ],
)
def test_bad_value_names_the_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert "\n" not in message
    assert len(message) < 200
    assert "validation error" not in message.lower()  # pydantic's multi-line dump is not shown


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "987654:short",
        "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "123456789 AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "123456789:AAHdqTcvCH1vGWJxf$eofSAs0K5PALDsaw",
        f"{GOOD_TOKEN}\nextra",
    ],
)
def test_malformed_token_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("TELEGRAM_BOT_TOKEN: ")
    assert "\n" not in message
    assert token.strip() not in message
    for part in token.replace("\n", ":").replace(" ", ":").split(":"):
        if len(part) >= 6:
            assert part not in message
    # Nor through the exception chain (load_settings raises "from None").
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ is True


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ({}, "SUMMARIZER_URL"),
        ({"SUMMARIZER_MODEL": "gpt-4o-mini"}, "SUMMARIZER_URL"),
        ({"SUMMARIZER_URL": "http://127.0.0.1:8000/v1/chat/completions"}, "SUMMARIZER_MODEL"),
        (
            {"SUMMARIZER_URL": "http://127.0.0.1:8000/v1", "SUMMARIZER_MODEL": "  "},
            "SUMMARIZER_MODEL",
        ),
    ],
)
def test_openai_summarizer_needs_its_url_and_model(
    monkeypatch: pytest.MonkeyPatch, present: dict[str, str], missing: str
) -> None:
    # Before: the extractive summarizer ran silently in place of the one asked for.
    monkeypatch.setenv("SUMMARIZER", "openai")
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message == f"{missing}: required when SUMMARIZER=openai"


def test_openai_summarizer_with_url_and_model_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZER", "openai")
    monkeypatch.setenv("SUMMARIZER_URL", "http://127.0.0.1:8000/v1/chat/completions")
    monkeypatch.setenv("SUMMARIZER_MODEL", "gpt-4o-mini")
    settings = load_settings()
    assert (settings.summarizer, settings.summarizer_model) == ("openai", "gpt-4o-mini")


def test_log_content_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().log_content is False
    monkeypatch.setenv("LOG_CONTENT", "true")
    assert load_settings().log_content is True
    monkeypatch.setenv("LOG_CONTENT", "sometimes")
    with pytest.raises(SettingsError, match=r"^LOG_CONTENT: "):
        load_settings()


def test_settings_object_validates_directly_too() -> None:
    with pytest.raises(ValueError):
        Settings(timezone="Nowhere/Atall", _env_file=None)  # type: ignore[call-arg]


async def test_run_with_a_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    result = await run_cli("run", env=cli_env(tmp_path, TIMEZONE="Mars/Base"), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TIMEZONE" in lines[0] and "Mars/Base" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


async def test_run_with_openai_but_no_url_exits_2_naming_it(tmp_path: Path) -> None:
    # cli_env sets SANDBOX_PORT=0: were it to start after all, it would take no one's port.
    env = cli_env(tmp_path, SUMMARIZER="openai", SUMMARIZER_MODEL="gpt-4o-mini")
    result = await run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SUMMARIZER_URL" in lines[0]
    assert result.stdout == ""


async def test_run_with_a_malformed_token_does_not_print_it(tmp_path: Path) -> None:
    secret = "123456789:this$token$is$malformed$but$secret"
    result = await run_cli("run", env=cli_env(tmp_path, TELEGRAM_BOT_TOKEN=secret), cwd=tmp_path)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "secret" not in result.stderr and "malformed" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_env_example_names_every_setting_and_nothing_else() -> None:
    import re
    from pathlib import Path

    from bot.config import Settings

    text = (Path(__file__).parent.parent / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    assert named == {name.upper() for name in Settings.model_fields}
