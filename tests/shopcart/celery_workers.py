"""A real `celery -A shopcart worker` process for tests, on this test's database and broker.

The worker is a second process: it must reach the same test database as the test, so these
tests run only on a database a second process can open (MariaDB/MySQL, or an SQLite file, not
the in-memory SQLite of the embedded run) and only when CELERY_BROKER_URL points at a broker
that answers; ``worker_skip_reason`` says why not otherwise.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from shopcart.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")  # the worker of this interpreter's venv
WAIT_SECONDS = 45
# No chatter with other workers: this one only takes tasks.
QUIET = ["--without-gossip", "--without-mingle", "--without-heartbeat"]


def database_url() -> str | None:
    """A URL for this test's database that a second process can open, or None."""
    db = settings.DATABASES["default"]
    if connection.vendor == "mysql":
        user, password = quote(db["USER"], safe=""), quote(db["PASSWORD"], safe="")
        return f"mysql://{user}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{db['NAME']}"
    return None


def worker_skip_reason() -> str:
    if not settings.CELERY_BROKER_URL:
        return "no CELERY_BROKER_URL: the embedded mode runs tasks eagerly, without a worker"
    if database_url() is None:
        return (
            f"the test database ({connection.vendor}, in memory) cannot be opened by a worker "
            "process; set DATABASE_URL=mysql://..."
        )
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:
        return f"the broker at CELERY_BROKER_URL does not answer ({type(exc).__name__})"
    return ""


class WorkerProcess:
    """One solo-pool worker; ``env`` overrides the environment it starts with."""

    def __init__(self, log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shopcart.settings",
            "DATABASE_URL": database_url() or "",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            **env,
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own venv's celery, fixed arguments
            [CELERY, "-A", "shopcart", "worker", "--pool=solo", "--loglevel=INFO", *QUIET],
            cwd=BASE_DIR,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        """Warm shutdown: the worker finishes the task in hand first."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def kill(self) -> None:
        """As a power cut would: no chance to finish or hand anything back."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def wait_until(condition: Callable[[], object], what: str, worker: WorkerProcess) -> object:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {WAIT_SECONDS} s; worker log:\n{worker.log_tail()}")
