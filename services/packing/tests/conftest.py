import mongomock
import pytest

from packing.store import PackingRepository


@pytest.fixture
def repo():
    """Packing's repository on an in-memory database with its indexes."""
    db = mongomock.MongoClient()["packing"]
    PackingRepository.ensure_indexes(db)
    return PackingRepository(db, lambda: None)
