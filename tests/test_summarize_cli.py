"""`newswire summarize`: called through `run()` on parsed arguments, output read with capsys."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from bot import summarize_cli
from tests.support.articles import SAMPLE
from tests.support.cli import parse_command


def parse(*argv: str) -> argparse.Namespace:
    return parse_command(summarize_cli.add_parser, "summarize", *argv)


def test_summarize_file_prints_one_sentence_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert summarize_cli.run(parse(str(SAMPLE))) == 0
    lines = capsys.readouterr().out.splitlines()
    assert 2 <= len(lines) <= 3
    assert any("mothers of captured Russian troops" in line for line in lines)
    assert not any("Follow us" in line or "Belmont Lay" in line for line in lines)


def test_summarize_sentences_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert summarize_cli.run(parse("--sentences", "1", str(SAMPLE))) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    with pytest.raises(SystemExit):
        parse("--sentences", "0")


def test_summarize_stdin_raw_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "The council closed the old bridge on Tuesday after engineers found cracks.\n\n"
        "Repairs are expected to take at least a year, officials said.\n\n"
        "Follow us on Telegram for the latest updates: https://t.me/example\n"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    assert summarize_cli.run(parse("-")) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "The council closed the old bridge on Tuesday after engineers found cracks.",
        "Repairs are expected to take at least a year, officials said.",
    ]


def test_summarize_missing_file_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert summarize_cli.run(parse("/nonexistent/article.txt")) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "no such file" in captured.err


def test_summarize_jsonl_skips_bad_lines_and_keeps_going(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    good = "Officials said the port will reopen on Monday. Ships were diverted for a week."
    lines = [
        json.dumps({"id": "a1", "article": good}),
        "{not json",
        json.dumps({"id": "a2"}),
        "",
        json.dumps({"id": 7, "article": "The storm moved north overnight, forecasters said."}),
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code = summarize_cli.run(parse("--jsonl", "--sentences", "2"))
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["id"] for r in rows] == ["a1", 7]
    assert rows[0]["summary"] == [
        "Officials said the port will reopen on Monday.",
        "Ships were diverted for a week.",
    ]
    assert rows[1]["summary"] == ["The storm moved north overnight, forecasters said."]
    assert "line 2:" in captured.err and "line 3:" in captured.err
    assert code == 1  # some lines were bad


def test_summarize_jsonl_from_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": 1, "article": "It all went well in the end, he said."}))
    assert summarize_cli.run(parse("--jsonl", str(path))) == 0
    assert json.loads(capsys.readouterr().out) == {
        "id": 1,
        "summary": ["It all went well in the end, he said."],
    }
