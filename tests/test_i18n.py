"""Languages: every catalog string translated, .po and .mo in step, dates and menus per language."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import commands
from bot.rendering import format_time, i18n, welcome
from bot.rendering.text import format_number
from content.preferences import DEFAULT_LANGUAGE, LANGUAGES

BOT = Path(i18n.__file__).resolve().parent.parent
TRANSLATED = [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
TAG = re.compile(r"</?(?:a|b|i|u|s|code|pre|blockquote|tg-spoiler)\b[^>]*>")
COMMAND = re.compile(r"(?<![\w/:])/[a-z]+\b")  # /latest; not the slashes of https://…


def _in_code() -> dict[str, tuple[str, ...]]:
    """Every msgid the code marks with _(), N_() or ngettext(), as it is now (not the .pot)."""
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(BOT), method_map=[("**.py", "python")]
    ):
        forms = (message,) if isinstance(message, str) else tuple(message)
        if forms[0]:
            found[forms[0]] = forms
    return found


def _catalog(language: str) -> Catalog:
    path = BOT / "locales" / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    with path.open("rb") as po:
        return read_po(po, locale=language)


def _forms(message: Message) -> tuple[str, ...]:
    return (message.string,) if isinstance(message.string, str) else tuple(message.string)


def test_the_template_lists_exactly_the_strings_in_the_code() -> None:
    with (BOT / "locales" / f"{i18n.DOMAIN}.pot").open("rb") as pot:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    assert template == set(_in_code()), "run `make i18n` to extract the new strings"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_in_the_code_is_translated(language: str) -> None:
    catalog = _catalog(language)
    missing = []
    for msgid in _in_code():
        entry = catalog.get(msgid)
        if entry is None or entry.fuzzy or not all(_forms(entry)):
            missing.append(msgid)
    assert not missing, f"{language}: untranslated (run `make i18n`, then translate): {missing}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_placeholders_markup_and_commands(language: str) -> None:
    catalog = _catalog(language)
    for msgid, source_forms in _in_code().items():
        entry = catalog.get(msgid)
        if entry is None:
            continue  # reported by the test above
        for form in filter(None, _forms(entry)):
            # str.format would raise on a placeholder the English text does not fill.
            wanted = {p for source in source_forms for p in PLACEHOLDER.findall(source)}
            assert set(PLACEHOLDER.findall(form)) <= wanted, (language, msgid, form)
            assert sorted(TAG.findall(form)) == sorted(TAG.findall(msgid)), (language, msgid)
            assert set(COMMAND.findall(form)) == set(COMMAND.findall(msgid)), (language, msgid)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_the_po_file(language: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(language))
    committed = BOT / "locales" / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo"
    assert committed.read_bytes() == compiled.getvalue(), "run `make i18n` to compile"


@pytest.mark.parametrize("language", TRANSLATED)
def test_po_headers_ask_for_a_native_speakers_review(language: str) -> None:
    path = BOT / "locales" / language / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    assert "native speaker" in path.read_text(encoding="utf-8").split("msgid", 1)[0]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("zh-hans", "zh"), ("ms", "ms"), ("ta-IN", "ta"), ("EN", "en"), ("de", "en"), (None, "en")],
)
def test_a_telegram_language_code_picks_its_catalog(code: str | None, expected: str) -> None:
    with i18n.using(i18n.translations_for(code or "")):
        assert i18n.language() == expected


def test_english_is_the_identity() -> None:
    assert i18n.translations_for("en") is i18n.ENGLISH
    with i18n.using(i18n.translations_for("zh")):
        assert i18n._("What I can do") != "What I can do"
    assert i18n._("What I can do") == "What I can do"  # the block ended


SGT = ZoneInfo("Asia/Singapore")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("language", "zone", "expected"),
    [
        ("en", SGT, "4 Mar 2022, 2:03 AM"),
        ("zh", SGT, "2022年3月4日 02:03"),
        ("ms", SGT, "4 Mac 2022, 2:03\u202fPG"),
        ("ta", SGT, "4 மார்., 2022, 2:03 AM"),
        ("en", LONDON, "3 Mar 2022, 6:03 PM"),
        ("zh", LONDON, "2022年3月3日 18:03"),
    ],
)
def test_dates_are_written_the_readers_way(language: str, zone: ZoneInfo, expected: str) -> None:
    with i18n.using(i18n.translations_for(language)):
        assert format_time(datetime(2022, 3, 3, 18, 3, tzinfo=UTC), zone) == expected


def test_summer_time_moves_the_clock_in_every_language() -> None:
    summer = datetime(2026, 7, 2, 15, 15, tzinfo=UTC)
    with i18n.using(i18n.translations_for("ms")):
        assert format_time(summer, LONDON) == "2 Jul 2026, 4:15\u202fPTG"
    with i18n.using(i18n.translations_for("ta")):
        assert format_time(summer, LONDON) == "2 ஜூலை, 2026, 4:15 PM"


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "1,234,567"), ("zh", "1,234,567"), ("ta", "12,34,567")]
)
def test_numbers_are_grouped_the_readers_way(language: str, expected: str) -> None:
    with i18n.using(i18n.translations_for(language)):
        assert format_number(1234567) == expected


def test_the_welcome_counts_the_archive_the_readers_way() -> None:
    with i18n.using(i18n.translations_for("ta")):
        text = welcome(
            first_name=None, article_count=1234567, commands=commands.reader_commands()
        ).html
    assert "(காப்பகத்தில் 12,34,567)" in text


def test_the_menu_is_set_in_every_language_and_the_default_is_english() -> None:
    menus = dict(commands.menus())
    assert list(menus) == [None, *LANGUAGES]
    english = menus[None]
    assert menus["en"] == english
    for language in TRANSLATED:
        assert [name for name, _ in menus[language]] == [name for name, _ in english]
        for (_, translated), (_, original) in zip(menus[language], english, strict=True):
            assert translated != original and 1 <= len(translated) <= 256, (language, original)
