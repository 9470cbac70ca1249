"""Loads the shared fixtures from tests/support/; the helpers themselves live there."""

from __future__ import annotations

import os

# python-telegram-bot then gives durations as timedelta instead of warning about ints.
os.environ.setdefault("PTB_TIMEDELTA", "1")

pytest_plugins = [
    "tests.support.isolation",  # global state a test must not leave behind
    "tests.support.sandbox",  # sandbox, server, bot, client, clock, http
    "tests.support.stack",  # content_dir, stack, database_url, pg_cluster, pg_url
    "tests.support.storage",  # repo: a migrated SQLite repository; any_repo: on each backend
    "tests.support.push",  # pusher: signed pushes to the stack's web server
]
