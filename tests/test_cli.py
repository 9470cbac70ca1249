"""`newswire preview`: the real sample article, as JSON and as the channel post's HTML."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.sandbox import parse_html
from tests.support.articles import SAMPLE
from tests.support.cli import clear_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clear_settings(monkeypatch)
    monkeypatch.setenv("TIMEZONE", "Asia/Singapore")
    monkeypatch.setenv("SUMMARIZER", "extractive")
    monkeypatch.chdir(tmp_path)  # no stray .env


def preview_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["preview", str(SAMPLE), "--json"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    data: dict[str, Any] = json.loads(out.out)
    return data


def test_preview_json_of_the_real_sample(capsys: pytest.CaptureFixture[str]) -> None:
    data = preview_json(capsys)
    assert data["title"] == "Ukraine tells Russian mothers to come pick up their captured sons"
    assert data["author"] == "Belmont Lay"
    assert data["published"] == "2022-03-04T02:03:00+08:00"
    assert data["headings"] == [
        "What online flyer said",
        "Info on retrieving sons put up",
        "Number of captured and dead Russian soldiers unknown",
    ]
    assert data["channel_hint"] == "https://t.me/mothershipsg"
    assert data["paragraphs"][0].startswith("Ukraine's defence ministry is asking the mothers")
    assert data["paragraphs"][-1] == (
        "Ukraine defended its decision by claiming it is providing a public service for Russians."
    )
    assert data["url"] is None
    assert data["topics"] and all(t == t.lower() for t in data["topics"])


def test_preview_json_drops_boilerplate(capsys: pytest.CaptureFixture[str]) -> None:
    data = preview_json(capsys)
    for text in [*data["paragraphs"], data["summary"]]:
        assert "follow us" not in text.lower()
        assert "podcast" not in text.lower()
        assert "t.me/" not in text
    assert not any(p in data["headings"] for p in data["paragraphs"])


def test_preview_json_summary_is_short_and_from_the_article(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = preview_json(capsys)
    summary = data["summary"]
    assert 50 <= len(summary) <= 600
    body = " ".join(data["paragraphs"])
    # Extractive: its first sentence is taken from the body as written.
    first_sentence = summary.split(". ")[0]
    assert first_sentence in body


def test_preview_html_is_a_valid_channel_post(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", str(SAMPLE)]) == 0
    out = capsys.readouterr().out.strip()
    text, entities = parse_html(out)
    title = "Ukraine tells Russian mothers to come pick up their captured sons"
    assert text.startswith(title + "\n\n")
    assert {"type": "bold", "offset": 0, "length": len(title)} in entities
    assert "#world" in text
    assert "Follow us" not in text and "podcast" not in text
    assert len(text) <= 1024 + len(title)  # a short post, not the article


def test_preview_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.txt"
    assert main(["preview", str(missing)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1
    assert "nope.txt" in lines[0]
    assert "Traceback" not in out.err


def test_preview_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert main(["preview", str(binary), "--json"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1
    assert "photo.txt" in lines[0] and "text" in lines[0]


def test_preview_of_a_directory_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview", str(tmp_path)]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_preview_with_a_bad_setting_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMEZONE", "Mars/Base")
    with pytest.raises(SystemExit) as caught:
        main(["preview", str(SAMPLE)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "TIMEZONE" in err and len(err.strip().splitlines()) == 1
