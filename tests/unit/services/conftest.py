"""Fixtures for the service tests: a fresh in-memory world per test, nothing shared."""

from __future__ import annotations

import pytest

from .fakes import FakeClock
from .scenario import World


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def world(clock: FakeClock) -> World:
    """Fakes wired together, with the sample catalog seeded at the clock's start."""
    return World(clock=clock)
