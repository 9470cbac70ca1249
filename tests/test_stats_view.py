"""The /stats view's sending lines: each worker state and queue age in words."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.delivery.liveness import WorkerHealth
from bot.rendering import stats
from bot.rendering.admin import SendingHealth
from content.storage import OutboxCounts


def sending_lines(worker: WorkerHealth | None, oldest: timedelta | None) -> list[str]:
    html = stats(
        OutboxCounts({}, 0, 0), subscribers=0, dead=[], sending=SendingHealth(worker, oldest)
    ).html
    return html.splitlines()[-2:]


def test_without_sending_health_the_view_is_unchanged() -> None:
    plain = stats(OutboxCounts({}, 0, 0), subscribers=0, dead=[]).html
    assert "Worker" not in plain and "Oldest pending" not in plain


@pytest.mark.parametrize(
    ("worker", "expected"),
    [
        (WorkerHealth(True, 2.4, 0, None, 5), "Worker: alive, last round 2s ago"),
        (WorkerHealth(True, None, 0, None, 0), "Worker: alive, starting"),
        (WorkerHealth(False, 80.0, 0, None, 5), "Worker: <b>not running</b>"),
        (
            WorkerHealth(True, 40.0, 3, "OperationalError: database is <locked>", 5),
            "Worker: <b>failing</b>, 3× in a row: OperationalError: database is &lt;locked&gt;",
        ),
        (None, "Worker: none in this process (run with --role worker elsewhere)"),
    ],
)
def test_worker_states(worker: WorkerHealth | None, expected: str) -> None:
    assert sending_lines(worker, None) == [expected, "Oldest pending: none"]


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (timedelta(seconds=0.4), "0s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(minutes=4, seconds=10), "4m 10s"),
        (timedelta(hours=2, minutes=5, seconds=9), "2h 5m"),
        (timedelta(days=3, hours=4), "3d 4h"),
    ],
)
def test_oldest_pending_age(age: timedelta, shown: str) -> None:
    assert sending_lines(None, age)[-1] == f"Oldest pending: {shown}"
