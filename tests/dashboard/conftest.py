"""Fixtures of the dashboard tests: two shops with orders in several states, staff logged in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from huey.contrib.djhuey import HUEY
from tests.dashboard.factories import ShopWorld, build_world


@pytest.fixture(autouse=True)
def empty_task_queue() -> Iterator[None]:
    # The in-memory queue outlives a test; a task left by one must not run in the next.
    HUEY.flush()
    yield
    HUEY.flush()


@pytest.fixture
def world_a(db) -> ShopWorld:
    return build_world("garage-drones")


@pytest.fixture
def world_b(db) -> ShopWorld:
    return build_world("seoul-ceramics", currency="KRW")


@pytest.fixture
def staff_client(client, world_a):
    """A browser logged in as the owner of shop A (and of no other shop)."""
    client.force_login(world_a.owner)
    return client
