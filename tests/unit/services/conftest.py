"""Fixtures for the service tests: a fresh in-memory world per test, nothing shared."""

from __future__ import annotations

import pytest

from .fakes import FakeClock, FakeProvider, FakeStore, FakeUnitOfWorkFactory
from .scenario import World


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def world(clock: FakeClock) -> World:
    """Fakes wired together, with the sample catalog seeded at the clock's start."""
    return World(clock=clock)


@pytest.fixture
def store(world: World) -> FakeStore:
    return world.store


@pytest.fixture
def uow_factory(world: World) -> FakeUnitOfWorkFactory:
    return world.uow_factory


@pytest.fixture
def provider(world: World) -> FakeProvider:
    return world.provider
