"""Fixtures shared by the gateway's unit tests."""

import pytest

from gateway.store import GatewayRepository
from tests.repositories import memory_repository


@pytest.fixture
def repo():
    """The gateway's read models on an empty in-memory database."""
    return memory_repository(GatewayRepository)


@pytest.fixture
def db(repo):
    return repo.db
