"""Helpers shared by the tests and the benchmarks: clock, builders, waiting, sandbox, PostgreSQL.

Tests get the fixtures through `pytest_plugins` in tests/conftest.py; benchmarks import the
modules directly. A test never imports another test module.
"""
