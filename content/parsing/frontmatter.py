"""YAML front matter, loaded defensively: no aliases, bounded size and depth, typed values.

A front matter block is a handful of short fields. Anything else (an alias bomb that expands to
gigabytes, a thousand nested brackets, a mapping where a title should be) is refused with a
reason that names the field, before any value is built or printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import Node

from content.models import ArticleParseError

MAX_FRONT_MATTER_CHARS = 64 * 1024
MAX_DEPTH = 8  # a field holding a list is depth 2; unknown fields may nest a little
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

# What a known field may hold once loaded (timestamps stay text, see the loader).
Scalar = str | int | float
FieldValue = Scalar | list[Scalar]


class _Refused(yaml.YAMLError):
    """The front matter uses a YAML feature articles have no need of."""


class FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader without aliases or anchors and with a nesting limit; timestamps stay text."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        # Refused while composing, before anything is built: an alias bomb never expands.
        if isinstance(event, AliasEvent):
            raise _Refused("aliases (*name) are not allowed")
        if isinstance(event, NodeEvent) and event.anchor is not None:
            raise _Refused("anchors (&name) are not allowed")
        nested = isinstance(event, CollectionStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1


# A bad date should name its key, not be a YAML error, so timestamps are left as text.
FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_front_matter(text: str, source: str) -> dict[str, Any]:
    """The front matter as a dict with lower-cased keys; ArticleParseError if it is refused."""
    if len(text) > MAX_FRONT_MATTER_CHARS:
        raise ArticleParseError(
            source, f"front matter is longer than {MAX_FRONT_MATTER_CHARS // 1024} KB"
        )
    try:
        data = yaml.load(text, Loader=FrontMatterLoader)  # a SafeLoader subclass: safe
    except _Refused as exc:
        raise ArticleParseError(source, f"front matter refused: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 2})" if mark is not None else ""
        reason = exc.problem or exc.context or "syntax error"
        raise ArticleParseError(
            source, f"front matter is not valid YAML: {reason}{where}"
        ) from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "syntax error"
        raise ArticleParseError(source, f"front matter is not valid YAML: {first}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ArticleParseError(source, "front matter is not a mapping of keys to values")
    return {str(key).strip().lower(): value for key, value in data.items()}


def field_value(meta: Mapping[str, Any], key: str, source: str) -> FieldValue | None:
    """A known field's value: text, a number, or a list of those; ArticleParseError otherwise."""
    value = meta.get(key)
    if value is None or _is_scalar(value):
        return value
    if isinstance(value, list):
        bad = next((item for item in value if item is not None and not _is_scalar(item)), None)
        if bad is None:
            return [item for item in value if item is not None]
        raise ArticleParseError(
            source,
            f"front matter '{key}' must be text or a list of texts, not {_kind(bad)} in a list",
        )
    raise ArticleParseError(source, f"front matter '{key}' must be text, not {_kind(value)}")


def _is_scalar(value: object) -> bool:
    # bool is an int, but "title: yes" read as True is never what the editor meant.
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false (put it in quotes)"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, datetime | date):
        return "a date"
    return type(value).__name__
