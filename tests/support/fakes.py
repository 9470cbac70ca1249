"""Recording fakes for the delivery engine's parts: a repository that logs what it is asked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class _Area:
    """One storage area (`outbox`, `readers`, `budget`): every method call is recorded."""

    def __init__(self, name: str, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self._name = name
        self._calls = calls
        self.fail: dict[str, BaseException] = {}  # method -> error to raise
        self.returns: dict[str, Any] = {}  # method -> value to return

    def __getattr__(self, method: str) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if args:
                kwargs["args"] = args
            self._calls.append((f"{self._name}.{method}", kwargs))
            if method in self.fail:
                raise self.fail[method]
            return self.returns.get(method)

        return call


class RecordingRepo:
    """Stands in for `Repository` where only the calls matter, not the stored state."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.outbox = _Area("outbox", self.calls)
        self.readers = _Area("readers", self.calls)
        self.budget = _Area("budget", self.calls)
        self.activity = _Area("activity", self.calls)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def last(self, name: str) -> dict[str, Any]:
        return [kwargs for called, kwargs in self.calls if called == name][-1]
