"""Test support: throwaway servers (PostgreSQL, localstripe) and small helpers for tests.

Lives here: things tests and benchmarks start and stop. Not here: fixtures (tests/conftest.py)
and anything eventpay itself imports.
"""
