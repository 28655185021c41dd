"""The embedded SQLite database commits without waiting for the disk (shopcart/settings.py).

A rollback journal costs a few fsyncs per commit (several milliseconds each on an ordinary
disk) and every scan commits; WAL with synchronous=NORMAL writes the log and syncs only at
checkpoints. The test database is in memory, where journal modes do not apply, so the check
opens a file database with the same connection settings.
"""

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason=f"checks the embedded SQLite setup; this run uses {connection.vendor}",
)

SYNCHRONOUS_NORMAL = 1


@on_sqlite
def test_sqlite_file_database_uses_wal_and_normal_sync(tmp_path, django_db_blocker):
    settings = {**connection.settings_dict, "NAME": str(tmp_path / "store.sqlite3")}
    wrapper = DatabaseWrapper(settings, alias="wal_check")
    try:
        with django_db_blocker.unblock(), wrapper.cursor() as cursor:
            journal_mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
    finally:
        wrapper.close()

    assert (journal_mode, synchronous) == ("wal", SYNCHRONOUS_NORMAL)
