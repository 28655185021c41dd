"""The embedded SQLite database on Django's own backend: ``transaction_mode=IMMEDIATE`` and a
busy timeout (shopcart/settings.py).

A transaction takes SQLite's write lock at ``BEGIN``, so two writers never both read and then
fail to upgrade ("database is locked" in the middle of a scan); a second writer waits for the
first to commit, up to the connection's ``timeout``, and only then fails. The test database
is in memory, where there is no lock to wait for, so these open a file database with the same
connection settings, one connection per thread (as one per worker process in production).
"""

import threading
import time

import pytest
from django.db import OperationalError, connection, connections
from django.db.backends.sqlite3.base import DatabaseWrapper

on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason=f"checks the embedded SQLite setup; this run uses {connection.vendor}",
)

HOLD_SECONDS = 0.4


def file_wrapper(path, *, timeout: float = 20) -> DatabaseWrapper:
    options = {**connection.settings_dict.get("OPTIONS", {}), "timeout": timeout}
    settings = {**connection.settings_dict, "NAME": str(path), "OPTIONS": options}
    return DatabaseWrapper(settings, alias=f"immediate_check_{threading.get_ident()}")


class Transaction:
    """``transaction.atomic`` for a wrapper that is not in ``django.db.connections``: Django's
    own ``BEGIN`` (``BEGIN IMMEDIATE`` here), then commit or roll back."""

    def __init__(self, wrapper: DatabaseWrapper) -> None:
        self.wrapper = wrapper

    def __enter__(self) -> DatabaseWrapper:
        self.wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        return self.wrapper

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.wrapper.commit()
        else:
            self.wrapper.rollback()
        self.wrapper.set_autocommit(True)


@pytest.fixture
def database(tmp_path, django_db_blocker):
    path = tmp_path / "store.sqlite3"
    with django_db_blocker.unblock():
        setup = file_wrapper(path)
        with setup.cursor() as cursor:
            cursor.execute("CREATE TABLE line (writer TEXT)")
        setup.close()
        yield path


def hold_a_transaction(path, began: threading.Event, *, write: bool) -> threading.Thread:
    """In a thread of its own: begin a transaction (reading, or writing too), hold it for
    ``HOLD_SECONDS``, commit."""

    def hold() -> None:
        wrapper = file_wrapper(path)
        try:
            with Transaction(wrapper), wrapper.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM line")
                if write:
                    cursor.execute("INSERT INTO line VALUES ('first')")
                began.set()
                time.sleep(HOLD_SECONDS)
        finally:
            wrapper.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert began.wait(10)
    return thread


def write_line(path, *, timeout: float = 20) -> float:
    """Insert a line in a transaction of its own; the seconds it took."""
    wrapper = file_wrapper(path, timeout=timeout)
    started = time.monotonic()
    try:
        with Transaction(wrapper), wrapper.cursor() as cursor:
            cursor.execute("INSERT INTO line VALUES ('second')")
    finally:
        wrapper.close()
    return time.monotonic() - started


def lines(path) -> list[str]:
    wrapper = file_wrapper(path)
    try:
        with wrapper.cursor() as cursor:
            return [row[0] for row in cursor.execute("SELECT writer FROM line ORDER BY rowid")]
    finally:
        wrapper.close()


@on_sqlite
def test_the_store_runs_on_djangos_own_sqlite_backend_with_immediate_transactions():
    options = connections["default"].settings_dict["OPTIONS"]

    assert type(connections["default"]) is DatabaseWrapper
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    assert "journal_mode=WAL" in options["init_command"]


@on_sqlite
def test_a_second_writer_waits_for_the_first_to_commit_and_then_succeeds(
    database, django_db_blocker
):
    with django_db_blocker.unblock():
        holder = hold_a_transaction(database, threading.Event(), write=True)
        waited = write_line(database)
        holder.join(10)

        assert lines(database) == ["first", "second"]
    assert waited >= HOLD_SECONDS / 2


@on_sqlite
def test_a_transaction_that_has_only_read_already_holds_the_write_lock(database, django_db_blocker):
    # BEGIN IMMEDIATE, not a deferred BEGIN: a scan reads before it writes, and must never be
    # the one that cannot upgrade its lock when another writer got there first.
    with django_db_blocker.unblock():
        holder = hold_a_transaction(database, threading.Event(), write=False)
        with pytest.raises(OperationalError, match="database is locked"):
            write_line(database, timeout=0.1)
        holder.join(10)

        assert lines(database) == []


@on_sqlite
def test_a_writer_waiting_past_its_timeout_is_told_the_database_is_locked(
    database, django_db_blocker
):
    with django_db_blocker.unblock():
        holder = hold_a_transaction(database, threading.Event(), write=True)
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            write_line(database, timeout=0.1)
        waited = time.monotonic() - started
        holder.join(10)

    assert 0.1 <= waited < HOLD_SECONDS
