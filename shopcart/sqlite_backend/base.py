"""Django's SQLite backend, with write transactions queued on a file lock across processes.

SQLite lets one connection write at a time. With ``BEGIN IMMEDIATE`` the others wait in
SQLite's busy handler, which sleeps in steps of up to 100 ms instead of waking when the lock
is free: under load (32 carts scanning) the workers spent most of their time asleep while
the database was idle, and the server used about one core of two.

Here a connection to a file database takes an exclusive ``flock`` on ``<database>.writelock``
just before ``BEGIN`` and lets it go at commit, rollback or close; waiters poll it every
millisecond or so, so the next writer starts almost as soon as the previous one commits.
The wait is bounded by the connection's ``timeout`` option (as SQLite's own wait is) and
then ends in ``OperationalError("database is locked")``, which the app answers as 503.
In-memory databases (the test suite's) have no file to lock and are left as Django has them.
Only transactions opened by ``atomic`` queue here; a lone statement in autocommit still
relies on SQLite's busy handler.
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import Any

from django.db.backends.sqlite3 import base as sqlite3_base
from django.db.utils import OperationalError

LOCK_SUFFIX = ".writelock"
LOCK_TIMEOUT_MESSAGE = "database is locked"
DEFAULT_TIMEOUT_SECONDS = 5.0  # the sqlite3 module's own default
FIRST_POLL_SECONDS = 0.0005
LONGEST_POLL_SECONDS = 0.005


class DatabaseWrapper(sqlite3_base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_lock_fd: int | None = None
        self._write_lock_pid: int | None = None
        self.write_lock_held = False

    def write_lock_path(self) -> str | None:
        """The lock file beside a file database; None for an in-memory one."""
        if self.is_in_memory_db():
            return None
        return f"{self.settings_dict['NAME']}{LOCK_SUFFIX}"

    def _write_lock_timeout(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", DEFAULT_TIMEOUT_SECONDS))

    def _write_lock_file(self, path: str) -> int:
        # A descriptor inherited over fork shares its lock with the parent: open our own.
        if self._write_lock_fd is not None and self._write_lock_pid != os.getpid():
            self._write_lock_fd = None
        if self._write_lock_fd is None:
            self._write_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._write_lock_pid = os.getpid()
        return self._write_lock_fd

    def write_lock_acquire(self) -> None:
        """Wait for the write lock, up to the connection's timeout."""
        path = self.write_lock_path()
        if path is None or self.write_lock_held:
            return
        fd = self._write_lock_file(path)
        deadline = time.monotonic() + self._write_lock_timeout()
        pause = FIRST_POLL_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError(LOCK_TIMEOUT_MESSAGE) from None
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_POLL_SECONDS)
            else:
                self.write_lock_held = True
                return

    def write_lock_release(self) -> None:
        if self.write_lock_held and self._write_lock_fd is not None:
            self.write_lock_held = False
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_UN)

    def _start_transaction_under_autocommit(self) -> None:
        self.write_lock_acquire()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private: not in django-stubs
        except BaseException:
            self.write_lock_release()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # private: not in django-stubs
        finally:
            self.write_lock_release()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # private: not in django-stubs
        finally:
            self.write_lock_release()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # private: not in django-stubs
        finally:
            self.write_lock_release()
            if self._write_lock_fd is not None and self._write_lock_pid == os.getpid():
                os.close(self._write_lock_fd)
            self._write_lock_fd = None
