"""A story's publish options from its fields (front matter, push body): one reading for both.

`breaking`, `silent`, `protect_content`: true or false; `link_preview`: off, above or below;
`status`: published or withdrawn. Absent fields leave the decision to the channel's options.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from content.models import LinkPreview, PublishOptions

FIELDS = ("breaking", "silent", "protect_content", "link_preview", "status")
_TRUE = frozenset({"true", "yes", "on"})
_FALSE = frozenset({"false", "no", "off"})
_STATUSES = {"published": False, "withdrawn": True}


class OptionError(ValueError):
    """A publish option with a value it cannot have; names the field and what it expects."""

    def __init__(self, field: str, expected: str, value: object) -> None:
        super().__init__(f"{field}: expected {expected}")
        self.field = field
        self.expected = expected
        self.value = value


def read_options(fields: Mapping[str, Any]) -> PublishOptions:
    """The publish options among these fields (lower-case names); OptionError when one is bad."""
    return PublishOptions(
        breaking=bool(_flag(fields, "breaking")),
        silent=_flag(fields, "silent"),
        protect_content=_flag(fields, "protect_content"),
        link_preview=_preview(fields),
        withdrawn=_status(fields),
    )


def _flag(fields: Mapping[str, Any], name: str) -> bool | None:
    value = fields.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise OptionError(name, "true or false", value)


def _preview(fields: Mapping[str, Any]) -> LinkPreview | None:
    value = fields.get("link_preview")
    if value is None:
        return None
    if value is False:
        return LinkPreview.OFF  # YAML reads a bare `off` (or `no`) as false
    if isinstance(value, str):
        try:
            return LinkPreview(value.strip().lower())
        except ValueError:
            pass
    raise OptionError("link_preview", "off, above or below", value)


def _status(fields: Mapping[str, Any]) -> bool:
    value = fields.get("status")
    if value is None:
        return False
    if isinstance(value, str) and value.strip().lower() in _STATUSES:
        return _STATUSES[value.strip().lower()]
    raise OptionError("status", "published or withdrawn", value)
