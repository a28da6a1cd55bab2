"""A service's repository on the embedded store the services run on, for unit tests that
need its real behaviour (transactions, concurrent writers) rather than mongomock's."""

from contextlib import contextmanager

from gudang_common.store import open_database


@contextmanager
def embedded_repository(repository_class, service, data_dir):
    """`repository_class` on a fresh embedded store for `service` in `data_dir`."""
    client, db = open_database({"DATA_DIR": str(data_dir)}, service)
    repository_class.ensure_indexes(db)
    try:
        yield repository_class(db, lambda: None)
    finally:
        client.close()
