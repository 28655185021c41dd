"""Write transactions on a file SQLite database queue on ``<database>.writelock``.

SQLite's busy handler sleeps up to 100 ms between tries for the write lock; the backend in
shopcart/sqlite_backend takes an exclusive flock before ``BEGIN`` instead (the next writer
wakes within milliseconds of a commit), bounded by the connection's timeout.
"""

import fcntl
import multiprocessing
import os
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from shopcart.sqlite_backend.base import LOCK_SUFFIX, LOCK_TIMEOUT_MESSAGE, DatabaseWrapper

on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason=f"checks the embedded SQLite setup; this run uses {connection.vendor}",
)

HOLD_SECONDS = 0.3


def file_wrapper(path, timeout=20):
    options = {**connection.settings_dict.get("OPTIONS", {}), "timeout": timeout}
    settings = {**connection.settings_dict, "NAME": str(path), "OPTIONS": options}
    return DatabaseWrapper(settings, alias=f"lock_check_{os.getpid()}")


def lock_is_free(lock_path):
    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


@pytest.fixture
def database(tmp_path, django_db_blocker):
    path = tmp_path / "store.sqlite3"
    with django_db_blocker.unblock():
        setup = file_wrapper(path)
        with setup.cursor() as cursor:
            cursor.execute("CREATE TABLE log (process INTEGER, step TEXT, at REAL)")
        setup.close()
        yield path


@on_sqlite
def test_default_database_uses_the_queueing_backend():
    assert isinstance(connections["default"], DatabaseWrapper)


@on_sqlite
@pytest.mark.parametrize("ending", ["commit", "rollback"])
def test_write_lock_held_for_the_transaction_only(database, django_db_blocker, ending):
    lock_path = f"{database}{LOCK_SUFFIX}"
    wrapper = file_wrapper(database)
    with django_db_blocker.unblock():
        try:
            with _atomic(wrapper):
                with wrapper.cursor() as cursor:
                    cursor.execute("INSERT INTO log VALUES (1, 'x', 0)")
                held_inside = (wrapper.write_lock_held, lock_is_free(lock_path))
                if ending == "rollback":
                    raise _Abort
        except _Abort:
            pass
        released = (wrapper.write_lock_held, lock_is_free(lock_path))
        with wrapper.cursor() as cursor:
            rows = cursor.execute("SELECT count(*) FROM log").fetchone()[0]
        wrapper.close()

    assert held_inside == (True, False)
    assert released == (False, True)
    assert rows == (1 if ending == "commit" else 0)


@on_sqlite
def test_closing_the_connection_releases_the_lock(database, django_db_blocker):
    lock_path = f"{database}{LOCK_SUFFIX}"
    wrapper = file_wrapper(database)
    with django_db_blocker.unblock():
        wrapper.ensure_connection()
        wrapper.write_lock_acquire()
        held = lock_is_free(lock_path)
        wrapper.close()

    assert held is False
    assert lock_is_free(lock_path) is True
    assert wrapper.write_lock_held is False


@on_sqlite
def test_waiting_past_the_timeout_answers_database_is_locked(database, django_db_blocker):
    holder = file_wrapper(database)
    waiter = file_wrapper(database, timeout=0.2)
    with django_db_blocker.unblock():
        holder.ensure_connection()
        holder.write_lock_acquire()
        started = time.monotonic()
        with pytest.raises(OperationalError, match=LOCK_TIMEOUT_MESSAGE), _atomic(waiter):
            pass
        waited = time.monotonic() - started
        holder.close()
        waiter.close()

    assert 0.2 <= waited < 2
    assert waiter.write_lock_held is False


@on_sqlite
def test_in_memory_database_takes_no_lock(db, tmp_path):
    assert connection.is_in_memory_db()
    assert connection.write_lock_path() is None
    with transaction.atomic():
        assert connection.write_lock_held is False


def _hold_write_lock(path, started):
    # Runs in a child process: holds the write lock, without any SQLite lock, for a while.
    import django

    django.setup()
    wrapper = file_wrapper(path)
    wrapper.ensure_connection()
    wrapper.write_lock_acquire()
    started.set()
    time.sleep(HOLD_SECONDS)
    wrapper.close()


@on_sqlite
def test_a_transaction_waits_for_another_process_holding_the_lock(database, django_db_blocker):
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    holder = context.Process(target=_hold_write_lock, args=(database, started))
    holder.start()
    assert started.wait(60)
    with django_db_blocker.unblock():
        writer = file_wrapper(database)
        began = time.monotonic()
        with _atomic(writer):
            waited = time.monotonic() - began
            with writer.cursor() as cursor:
                cursor.execute("INSERT INTO log VALUES (2, 'after', 0)")
        writer.close()
    holder.join(60)

    assert holder.exitcode == 0
    assert waited >= HOLD_SECONDS / 2


class _Abort(Exception):
    pass


class _atomic:
    """transaction.atomic on a wrapper that is not in django.db.connections."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def __enter__(self):
        self.wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.wrapper.commit()
        else:
            self.wrapper.rollback()
        self.wrapper.set_autocommit(True)
        return False
