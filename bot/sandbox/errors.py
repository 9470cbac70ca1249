"""What the sandbox answers when a call is refused: Bot API errors and control-API refusals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


class ApiError(Exception):
    """A Bot API refusal: HTTP status, description and optional response parameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        """The JSON body Telegram answers with."""
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class Refused(ValueError):
    """A control request the sandbox refuses (bad argument); the control API answers 400."""


def bad_request(description: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, "Bad Request: " + description)


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class Params:
    """Typed access to Bot API parameters that may be form strings or JSON values."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def value(self, name: str) -> Any:
        value = self.raw.get(name)
        return None if value == "" else value

    def text(self, name: str) -> str | None:
        value = self.value(name)
        if value is None or isinstance(value, UploadedFile):
            return None
        return value if isinstance(value, str) else str(value)

    def integer(self, name: str, *, error: str | None = None) -> int | None:
        value = self.value(name)
        if value is None:
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                return int(value)
            return int(value) if isinstance(value, int) else int(str(value).strip())
        except ValueError:
            raise bad_request(error or f"{name} is invalid") from None

    def number(self, name: str) -> float | None:
        value = self.value(name)
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"{name} is invalid") from None

    def flag(self, name: str) -> bool:
        value = self.value(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def json(self, name: str, *, error: str) -> Any:
        value = self.value(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error) from None
        return value
