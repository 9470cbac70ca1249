"""Full-text search in the database: SQLite FTS5 or PostgreSQL tsvector, ranked the same way.

The order is the README's: most of the query's words matched, then most of them in the title,
then newest (published, else first seen). Readers' words never reach a query language as
syntax: `content.search.search_terms` keeps letters, digits and marks only, and each word is
quoted here (FTS5 phrase, tsquery lexeme).

SQLite: `articles_fts` holds each story's title words and text, keyed by a rowid that grows
with the story's date (`dated_key`), so FTS5 walks matches newest first and can stop after a
page. Ranks are tiers (m words matched, t of them in the title); each tier is one FTS5
expression read newest first and cut at offset + limit rows, all tiers in one statement: a
page costs about a page of rows per tier, however many stories match. Rows are written in
the upsert's transaction. PostgreSQL: generated columns kept in step by the database,
`search_vector` (title and text, title weighted A) and `title_vector` (title only), each under
a GIN index; the same tiers, one query per pattern of words (in the title, in the text only,
absent) ordered by date and cut at offset + limit, so the planner walks `ix_articles_dated`
backwards for a common pattern and reads the GIN index for a rare one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnClause,
    Integer,
    Subquery,
    bindparam,
    case,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from content.search import words
from content.storage.tables import articles

FTS_TABLE = "articles_fts"
PG_VECTOR = "search_vector"
PG_INDEX = "ix_articles_search"
PG_TITLE_VECTOR = "title_vector"
PG_TITLE_INDEX = "ix_articles_title_search"

# Slots per microsecond of date: stories dated the same instant get consecutive keys.
_SLOTS = 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Tiers enumerate each word's state (title, text only, absent): 3^n patterns. Past this many
# words present in the archive, one scored query over all matches is used instead.
_MAX_TIERED_TERMS = 4

# unicode61 with marks inside words (Tamil vowel signs), the same classes as search_terms.
SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(article_id UNINDEXED, title, body, "
    "tokenize = \"unicode61 remove_diacritics 0 categories 'L* N* Co M*'\")"
)
PG_COLUMN_DDL = (
    f"ALTER TABLE articles ADD COLUMN {PG_VECTOR} tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, search_text), 'D')) STORED"
)
# fastupdate off: searches run on every keystroke and each reads several index entries; a
# pending list (up to 4 MB, emptied only by vacuum) would be scanned in full by every one.
PG_INDEX_DDL = (
    f"CREATE INDEX {PG_INDEX} ON articles USING gin ({PG_VECTOR}) WITH (fastupdate = off)"
)
# The title on its own: "in the title" needs its own statistics and index, as a weight filter
# (`'w':A`) on search_vector is estimated like the word anywhere and checked row by row.
PG_TITLE_COLUMN_DDL = (
    f"ALTER TABLE articles ADD COLUMN {PG_TITLE_VECTOR} tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple'::regconfig, title)) STORED"
)
PG_TITLE_INDEX_DDL = (
    f"CREATE INDEX {PG_TITLE_INDEX} ON articles USING gin ({PG_TITLE_VECTOR})"
    " WITH (fastupdate = off)"
)
# A word missing from the statistics' most common lexemes is estimated at half the rarest
# one's frequency: with the default target that is ~0.5 % of stories, enough for the planner
# to walk the date index for a word that twenty stories hold. A longer list makes it ~0.05 %.
PG_STATISTICS_DDL = tuple(
    f"ALTER TABLE articles ALTER COLUMN {name} SET STATISTICS 1000"
    for name in (PG_VECTOR, PG_TITLE_VECTOR)
)

# Title words are indexed as their own terms, each word behind this letter (a click consonant,
# Lo: part of the word for unicode61), beside the plain text in `body`. A column filter
# (`title : "w"`) would read the word's whole list of stories to find the few titles; a
# term of its own is a short list. Readers can type it: they then search titles only.
TITLE_MARK = "\u01c2"

_fts = table(FTS_TABLE, column("rowid", Integer), column("article_id"))


def managed_here(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic `include_name`: False for the search index's objects (not in tables.py)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(FTS_TABLE)
    return name not in (PG_VECTOR, PG_INDEX, PG_TITLE_VECTOR, PG_TITLE_INDEX)


def dated_key(dated_at: datetime) -> int:
    """The first FTS rowid a story dated `dated_at` may take (rowid order is date order)."""
    return ((dated_at - _EPOCH) // timedelta(microseconds=1)) * _SLOTS


def _phrase(word: str) -> str:
    # Words hold letters, digits and marks only (search_terms): no quote can end the phrase.
    return f'"{word}"'


def _title_phrase(word: str) -> str:
    return _phrase(TITLE_MARK + word)


def title_terms(title: str) -> str:
    """The title as the index holds it: each word marked (see TITLE_MARK)."""
    return " ".join(TITLE_MARK + word for word in words(title))


# -- writing (inside the caller's transaction) ----------------------------------


async def index_article(
    conn: AsyncConnection,
    *,
    article_id: str,
    title: str,
    body: str,
    dated_at: datetime,
    previous_dated_at: datetime | None,
) -> None:
    """Keep the index in step with a stored story (PostgreSQL's column keeps itself)."""
    if conn.dialect.name != "sqlite":
        return
    if previous_dated_at is not None:
        await _unindex(conn, article_id, previous_dated_at)
    values = {"id": article_id, "t": title_terms(title), "b": body}
    base = dated_key(dated_at)
    # One statement in the usual case: the next free key of the story's instant.
    taken = await conn.execute(
        text(
            f"INSERT INTO {FTS_TABLE} (rowid, article_id, title, body) "
            f"SELECT k, :id, :t, :b FROM (SELECT coalesce(max(rowid) + 1, :lo) AS k "
            f"FROM {FTS_TABLE} WHERE rowid >= :lo AND rowid < :hi) WHERE k < :hi"
        ),
        {"lo": base, "hi": base + _SLOTS, **values},
    )
    if not taken.rowcount:
        key = await _free_key(conn, base + _SLOTS)
        await conn.execute(
            text(
                f"INSERT INTO {FTS_TABLE} (rowid, article_id, title, body) VALUES (:k, :id, :t, :b)"
            ),
            {"k": key, **values},
        )


async def _unindex(conn: AsyncConnection, article_id: str, dated_at: datetime) -> None:
    base = dated_key(dated_at)
    window = f"DELETE FROM {FTS_TABLE} WHERE rowid >= :lo AND rowid < :hi AND article_id = :id"
    done = await conn.execute(text(window), {"lo": base, "hi": base + _SLOTS, "id": article_id})
    if not done.rowcount:  # the rare story pushed past its window (see _free_key)
        await conn.execute(
            text(f"DELETE FROM {FTS_TABLE} WHERE article_id = :id"), {"id": article_id}
        )


async def _free_key(conn: AsyncConnection, base: int) -> int:
    while True:
        top = await conn.scalar(
            text(f"SELECT max(rowid) FROM {FTS_TABLE} WHERE rowid >= :lo AND rowid < :hi"),
            {"lo": base, "hi": base + _SLOTS},
        )
        if top is None:
            return base
        if top + 1 < base + _SLOTS:
            return int(top) + 1
        base += _SLOTS  # over 1,024 stories on one microsecond: borrow the next one's slots


def populate_sqlite(connection: Connection) -> None:
    """Index every stored story (migration 0007; rows already carry dated_at)."""
    rows = connection.execute(
        select(
            articles.c.id, articles.c.title, articles.c.search_text, articles.c.dated_at
        ).order_by(articles.c.dated_at, articles.c.id)
    ).all()
    taken: dict[int, int] = {}
    batch: list[dict[str, Any]] = []
    insert = text(
        f"INSERT INTO {FTS_TABLE} (rowid, article_id, title, body) VALUES (:k, :id, :t, :b)"
    )
    for row in rows:
        base = dated_key(row.dated_at)
        while taken.get(base, 0) >= _SLOTS:
            base += _SLOTS
        key = base + taken.get(base, 0)
        taken[base] = taken.get(base, 0) + 1
        batch.append({"k": key, "id": row.id, "t": title_terms(row.title), "b": row.search_text})
        if len(batch) >= 500:
            connection.execute(insert, batch)
            batch = []
    if batch:
        connection.execute(insert, batch)


# -- searching ----------------------------------------------------------------------


def _score(matched: int, in_title: int) -> float:
    # Words matched count first, then words in the title (as the SQL scores: m * 1000 + t).
    return matched * 1000.0 + in_title


async def ranked_page(
    conn: AsyncConnection,
    terms: Sequence[str],
    *,
    visible: Any,
    limit: int,
    offset: int,
) -> Subquery | None:
    """One page of the visible stories matching any of `terms`: article_id, score, key.

    Ordered by score, then key (descending); None when nothing can match.
    """
    if not terms or limit <= 0:
        return None
    if conn.dialect.name == "postgresql":
        found = await _pg_present(conn, terms)
        if not found:
            return None
        if len(found) > _MAX_TIERED_TERMS:
            return _pg_page([w for w, _ in found], visible=visible, limit=limit, offset=offset)
        return _pg_tiered(found, visible=visible, limit=limit, offset=offset)
    present = await _present(conn, terms)
    if not present:
        return None
    if len(present) > _MAX_TIERED_TERMS:
        return _sqlite_scored(present, visible=visible, limit=limit, offset=offset)
    return _sqlite_tiered(present, visible=visible, limit=limit, offset=offset)


async def _present(conn: AsyncConnection, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """The words found anywhere in the index, each with whether any title has it."""
    probes = [(_phrase(w), _title_phrase(w)) for w in terms]
    expressions = [e for pair in probes for e in pair]
    found = (
        await conn.execute(
            text(
                "SELECT "
                + ", ".join(
                    f"(SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :e{n} LIMIT 1)"
                    for n in range(len(expressions))
                )
            ),
            {f"e{n}": e for n, e in enumerate(expressions)},
        )
    ).one()
    return [
        (word, found[2 * n + 1] is not None)
        for n, word in enumerate(terms)
        if found[2 * n] is not None
    ]


def _pattern(states: Sequence[tuple[str, str]]) -> str:
    """One FTS5 expression: each word in the title ("t"), in the text only ("b") or absent."""
    present: list[str] = []
    absent: list[str] = []
    for word, state in states:
        phrase = _phrase(word)
        if state == "t":
            present.append(_title_phrase(word))
        elif state == "b":
            present.append(f"({phrase} NOT {_title_phrase(word)})")
        else:
            absent.append(phrase)
    expression = " AND ".join(present)
    if absent:
        expression = f"({expression}) NOT ({' OR '.join(absent)})"
    return f"({expression})"


def _tiers(present: Sequence[tuple[str, bool]]) -> list[tuple[float, str]]:
    """(score, FTS5 expression) per tier of (words matched, words in the title), best first."""
    choices = [("t", "b", "n") if in_title else ("b", "n") for _, in_title in present]
    tiers: dict[tuple[int, int], list[str]] = {}
    for states in itertools.product(*choices):
        matched = sum(s != "n" for s in states)
        if matched:
            in_title = sum(s == "t" for s in states)
            pairs = [(word, s) for (word, _), s in zip(present, states, strict=True)]
            tiers.setdefault((matched, in_title), []).append(_pattern(pairs))
    return [(_score(*rank), " OR ".join(tiers[rank])) for rank in sorted(tiers, reverse=True)]


def _sqlite_tiered(
    present: Sequence[tuple[str, bool]], *, visible: Any, limit: int, offset: int
) -> Subquery:
    # Each tier is read newest first and stops after `offset + limit` rows: a page costs
    # about a page per tier, however many stories match. One statement for all tiers.
    arms = []
    for n, (score, expression) in enumerate(_tiers(present)):
        arm = (
            select(
                _fts.c.article_id.label("article_id"),
                literal(score).label("score"),
                _fts.c.rowid.label("key"),
            )
            .join(articles, articles.c.id == _fts.c.article_id)
            .where(text(f"{FTS_TABLE} MATCH :t{n}").bindparams(**{f"t{n}": expression}), visible)
            .order_by(_fts.c.rowid.desc())
            .limit(offset + limit)
            .subquery(f"tier{n}")
        )
        arms.append(select(arm))
    tiers = union_all(*arms).subquery("tiers")
    return (
        select(tiers)
        .order_by(tiers.c.score.desc(), tiers.c.key.desc())
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )


def _sqlite_scored(
    present: Sequence[tuple[str, bool]], *, visible: Any, limit: int, offset: int
) -> Subquery:
    """Many words: score every match in one query (slower, but rare and exact)."""
    hit = _fts.alias("hit")
    names = (f"p{n}" for n in itertools.count())

    def matches(expression: str) -> Any:
        name = next(names)
        match = text(f"{FTS_TABLE} MATCH :{name}").bindparams(**{name: expression})
        return case((hit.c.rowid.in_(select(_fts.c.rowid).where(match)), 1), else_=0)

    matched = sum((matches(_phrase(w)) for w, _ in present), literal(0))
    in_title = sum((matches(_title_phrase(w)) for w, t in present if t), literal(0))
    anywhere = " OR ".join(_phrase(w) for w, _ in present)
    score = (matched * 1000 + in_title).label("score")
    return (
        select(hit.c.article_id.label("article_id"), score, hit.c.rowid.label("key"))
        .join(articles, articles.c.id == hit.c.article_id)
        .where(text(f"hit.{FTS_TABLE} MATCH :anywhere").bindparams(anywhere=anywhere), visible)
        .order_by(text("score DESC"), hit.c.rowid.desc())
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )


def _tsquery(expression: str) -> Any:
    """A tsquery of quoted lexemes (search_terms leaves no quote, backslash or operator)."""
    # Rendered as a literal, not a bound parameter: the plan depends on how common the words
    # are, and a prepared statement's generic plan would not see them.
    return func.to_tsquery(
        literal_column("'simple'::regconfig"), bindparam(None, expression, literal_execute=True)
    )


def _pg_matches(vector: str, expression: str) -> Any:
    return column(vector).op("@@", is_comparison=True)(_tsquery(expression))


async def _pg_present(conn: AsyncConnection, terms: Sequence[str]) -> list[tuple[str, bool]]:
    """The words found in any story, each with whether any title has it (GIN probes)."""

    def probe(vector: str, word: str) -> Any:
        return (
            (select(literal(1)).select_from(articles).where(_pg_matches(vector, f"'{word}'")))
            .limit(1)
            .scalar_subquery()
        )

    probes = [p for w in terms for p in (probe(PG_VECTOR, w), probe(PG_TITLE_VECTOR, w))]
    found = (await conn.execute(select(*probes))).one()
    return [
        (word, found[2 * n + 1] is not None)
        for n, word in enumerate(terms)
        if found[2 * n] is not None
    ]


def _pg_tiered(
    present: Sequence[tuple[str, bool]], *, visible: Any, limit: int, offset: int
) -> Subquery:
    # One arm per pattern of words (in the title, in the text only, absent), each a plain
    # conjunction the planner can estimate: read newest first and cut at `offset + limit`,
    # it walks ix_articles_dated backwards when the pattern is common and stops early.
    choices = [("t", "b", "n") if in_title else ("b", "n") for _, in_title in present]
    arms: list[Any] = []
    for states in itertools.product(*choices):
        pairs = [(word, s) for (word, _), s in zip(present, states, strict=True)]
        anywhere = [f"'{w}'" for w, s in pairs if s != "n"]
        if not anywhere:
            continue
        anywhere += [f"!'{w}'" for w, s in pairs if s == "n"]
        title = [f"'{w}'" for w, s in pairs if s == "t"] + [f"!'{w}'" for w, s in pairs if s == "b"]
        score = _score(sum(s != "n" for s in states), sum(s == "t" for s in states))
        arm = (
            select(
                articles.c.id.label("article_id"),
                literal(score).label("score"),
                articles.c.dated_at.label("key"),
            )
            .where(
                _pg_matches(PG_VECTOR, " & ".join(anywhere)),
                _pg_matches(PG_TITLE_VECTOR, " & ".join(title)),
                visible,
            )
            .order_by(articles.c.dated_at.desc(), articles.c.id)
            .limit(offset + limit)
            .subquery(f"tier{len(arms)}")
        )
        arms.append(select(arm))
    tiers = union_all(*arms).subquery("tiers")
    return (
        select(tiers)
        .order_by(tiers.c.score.desc(), tiers.c.key.desc(), tiers.c.article_id)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )


def _pg_page(terms: Sequence[str], *, visible: Any, limit: int, offset: int) -> Subquery:
    """Many words: score every match in one query (slower, but rare and exact)."""
    vector: ColumnClause[Any] = column(PG_VECTOR)
    names = (f"q{n}" for n in itertools.count())

    def matches(lexeme: str) -> Any:
        # A quoted lexeme: search_terms leaves no quote, backslash or operator inside it.
        name = next(names)
        query = text(f"to_tsquery('simple'::regconfig, :{name})").bindparams(**{name: lexeme})
        return case((vector.op("@@")(query), 1), else_=0)

    matched = sum((matches(f"'{w}'") for w in terms), literal(0))
    in_title = sum((matches(f"'{w}':A") for w in terms), literal(0))
    anywhere = " | ".join(f"'{w}'" for w in terms)
    score = (matched * 1000 + in_title).label("score")
    return (
        select(articles.c.id.label("article_id"), score, articles.c.dated_at.label("key"))
        .where(
            vector.op("@@")(
                text("to_tsquery('simple'::regconfig, :anywhere)").bindparams(anywhere=anywhere)
            ),
            visible,
        )
        .order_by(text("score DESC"), articles.c.dated_at.desc(), articles.c.id)
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
