"""A service's repository for unit tests: in memory (mongomock), or on the embedded store
the services run on where a test needs its real behaviour (transactions, concurrent
writers)."""

from contextlib import contextmanager

import mongomock

from gudang_common.store import open_database


def memory_repository(repository_class):
    """`repository_class` on an empty in-memory database, its indexes built."""
    db = mongomock.MongoClient()["t"]
    repository_class.ensure_indexes(db)
    return repository_class(db, lambda: None)


@contextmanager
def embedded_repository(repository_class, service, data_dir):
    """`repository_class` on a fresh embedded store for `service` in `data_dir`."""
    client, db = open_database({"DATA_DIR": str(data_dir)}, service)
    repository_class.ensure_indexes(db)
    try:
        yield repository_class(db, lambda: None)
    finally:
        client.close()
