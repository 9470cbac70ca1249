"""OPML: reading safely (no entity expansion), writing, and `newswire sources import/export`."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.sources.opml import OpmlError, Outline, parse_opml, write_opml
from content.sources.registry import import_specs
from content.storage import Repository, SourceKind, SourceState
from tests.support.cli import cli_env, run_cli
from tests.support.ingest import T0

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="News" title="News">
      <outline type="rss" text="Harbour Times" title="Harbour Times"
               xmlUrl="https://harbourtimes.example/feed/" htmlUrl="https://harbourtimes.example/"/>
      <outline type="rss" text="Mothership" xmlUrl="https://mothership.example/feed"/>
    </outline>
    <outline type="link" text="A page, not a feed" url="https://example.com/"/>
    <outline type="rss" text="Broken" xmlUrl="javascript:alert(1)"/>
  </body>
</opml>
"""

# Each level ten times the one before: expanded, lol9 is 10^9 "lol"s (3 GB).
BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE opml [\n<!ENTITY lol "lol">\n'
    + b"".join(
        b'<!ENTITY lol%d "%s">\n'
        % (n, b"".join(b"&lol%s;" % (b"" if n == 1 else b"%d" % (n - 1)) for _ in range(10)))
        for n in range(1, 10)
    )
    + b']>\n<opml version="2.0"><head/><body><outline text="&lol9;" xmlUrl="https://x.example/&lol9;"/></body></opml>\n'
)

XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    b'<opml version="2.0"><body><outline xmlUrl="https://x.example/&secret;"/></body></opml>\n'
)


def test_every_outline_with_an_xml_url_at_any_depth() -> None:
    assert parse_opml(READER_EXPORT) == [
        Outline("https://harbourtimes.example/feed/", "Harbour Times"),
        Outline("https://mothership.example/feed", "Mothership"),
        Outline("javascript:alert(1)", "Broken"),  # refused by the import, counted invalid
    ]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (BILLION_LAUGHS, "entity declarations are not allowed"),
        (XXE, "entity declarations are not allowed"),
        (b"<opml><body><outline", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "root element is <rss>"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
        (b"", "not well-formed XML"),
    ],
)
def test_hostile_or_broken_files_are_refused(data: bytes, words: str) -> None:
    with pytest.raises(OpmlError, match=words) as raised:
        parse_opml(data)
    assert "\n" not in str(raised.value)


async def test_export_then_import_is_the_same_list(repo: Repository, tmp_path: Path) -> None:
    specs = [
        "https://harbourtimes.example/feed/",
        "wordpress:https://wp.example",
        "https://gone.example/feed",
    ]
    await import_specs(repo, specs, now=T0, interval=300)
    harbour, _wp, gone = await repo.sources.all()
    await repo.sources.update(
        harbour.id, title='Harbour "Times" & Co', url="https://ht.example/rss"
    )
    await repo.sources.update(gone.id, state=SourceState.DISABLED)

    document = write_opml(await repo.sources.all(), now=T0, title="Newswire sources")
    assert '<opml version="2.0"' in document
    assert 'xmlUrl="https://wp.example/feed/" htmlUrl="https://wp.example/"' in document
    assert "gone.example" not in document  # disabled sources are not exported
    outlines = parse_opml(document.encode())
    assert outlines == [
        Outline("https://harbourtimes.example/feed/", 'Harbour "Times" & Co'),
        Outline("wordpress:https://wp.example/", "https://wp.example/"),
    ]
    assert 'xmlUrl="https://ht.example/rss"' in document  # where the feed is fetched now

    # Into the same database: all there already.
    again = await import_specs(repo, [o.spec for o in outlines], now=T0, interval=300)
    assert (again.added, again.already, again.invalid) == (0, 2, [])
    # Into a new one: the same sources, of the same kinds.
    fresh = Repository.open(f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    await fresh.migrate()
    try:
        report = await import_specs(fresh, [o.spec for o in outlines], now=T0, interval=300)
        assert report.added == 2
        kinds = [(s.kind, s.url) for s in await fresh.sources.all()]
    finally:
        await fresh.close()
    assert kinds == [
        (SourceKind.FEED, "https://harbourtimes.example/feed/"),
        (SourceKind.WORDPRESS, "https://wp.example/"),
    ]


async def test_import_counts_added_already_invalid_and_the_limit(repo: Repository) -> None:
    specs = ["https://a.example/feed", "https://a.example/feed/", "not a url", "https://b/f"]
    report = await import_specs(repo, specs, now=T0, interval=300, limit=1)
    assert (report.added, report.already, report.invalid, report.over_limit) == (
        1,
        1,
        ["not a url"],
        1,
    )


@pytest.mark.e2e
async def test_the_command_line_imports_and_exports(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(READER_EXPORT)
    first = await run_cli("sources", "import", str(opml), env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "2 added, 0 already there, 1 invalid" in first.stdout
    assert "invalid: javascript:alert(1)" in first.stdout
    again = await run_cli("sources", "import", str(opml), env=env, cwd=tmp_path)
    assert "0 added, 2 already there, 1 invalid" in again.stdout

    exported = await run_cli("sources", "export", env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert [o.spec for o in parse_opml(exported.stdout.encode())] == [
        "https://harbourtimes.example/feed/",
        "https://mothership.example/feed",
    ]
    (tmp_path / "export.opml").write_text(exported.stdout)
    round_trip = await run_cli(
        "sources", "import", str(tmp_path / "export.opml"), env=env, cwd=tmp_path
    )
    assert "0 added, 2 already there, 0 invalid" in round_trip.stdout


@pytest.mark.e2e
@pytest.mark.parametrize(("name", "data"), [("bomb.opml", BILLION_LAUGHS), ("bad.opml", b"<opml")])
async def test_the_command_line_refuses_a_bad_file_in_one_line(
    tmp_path: Path, name: str, data: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    finished = await run_cli("sources", "import", str(path), env=cli_env(tmp_path), cwd=tmp_path)
    assert finished.returncode == 1
    assert finished.stderr.strip().count("\n") == 0 and name in finished.stderr
    assert finished.stdout == ""
    missing = await run_cli(
        "sources", "import", str(tmp_path / "none.opml"), env=cli_env(tmp_path), cwd=tmp_path
    )
    assert missing.returncode == 1 and "No such file" in missing.stderr
