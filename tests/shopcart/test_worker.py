"""A real Celery worker, through a real Redis, sends a queued email (CI's MariaDB + Redis run).

The worker is a second process: it must reach the same test database as this test, so the test
runs only on a database a second process can open (MariaDB/MySQL, or an SQLite file, not the
in-memory SQLite of the embedded run) and only when CELERY_BROKER_URL points at a Redis that
answers. The worker writes with the embedded mode's EmlFileBackend (no EMAIL_HOST) into a
temporary folder, where the test waits for the .eml file.
"""

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection

from carts.selectors import cart_pass_resolve
from carts.services import cart_pass_email
from devices.decoding import decode_image
from shopcart.celery import app as celery_app
from shopcart.mail import email_queue
from shopcart.models import OutboundEmail
from shopcart.tasks import email_send

BASE_DIR = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")  # the worker of this interpreter's venv
WAIT_SECONDS = 45
# No chatter with other workers: this one only takes tasks.
QUIET = ["--without-gossip", "--without-mingle", "--without-heartbeat"]


def _database_url() -> str | None:
    """A URL for this test's database that a second process can open, or None."""
    db = settings.DATABASES["default"]
    if connection.vendor == "mysql":
        user, password = quote(db["USER"], safe=""), quote(db["PASSWORD"], safe="")
        return f"mysql://{user}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{db['NAME']}"
    return None


def _skip_reason() -> str:
    if not settings.CELERY_BROKER_URL:
        return "no CELERY_BROKER_URL: the embedded mode runs tasks eagerly, without a worker"
    if _database_url() is None:
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


pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(tmp_path) -> Iterator[Path]:
    """A `celery -A shopcart worker` on this test's database; yields its mail folder."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    mail_folder = tmp_path / "mail"
    log = (tmp_path / "worker.log").open("wb")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopcart.settings",
        "DATABASE_URL": _database_url() or "",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_HOST": "",  # the embedded mode's .eml files, whatever the environment says
        "EMAIL_FILE_PATH": str(mail_folder),
    }
    # Left over from an earlier, interrupted run: they would name rows of another database.
    celery_app.control.purge()
    process = subprocess.Popen(  # noqa: S603 - our own venv's celery, fixed arguments
        [CELERY, "-A", "shopcart", "worker", "--pool=solo", "--loglevel=INFO", *QUIET],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # tasks go through Redis to that worker
    try:
        yield mail_folder
    finally:
        celery_app.conf.task_always_eager = previous
        process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task in hand
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def wait_for_files(folder: Path, count: int, log: Path) -> list[Path]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
        if len(files) >= count:
            return files
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
    pytest.fail(f"no {count} .eml file(s) within {WAIT_SECONDS} s; worker log:\n{tail}")


def test_worker_sends_the_pass_email_once_through_redis(worker, alice, tmp_path):
    log = tmp_path / "worker.log"

    cart_pass = cart_pass_email(user=alice)  # commits, then hands the id to Redis

    [first] = wait_for_files(worker, 1, log)
    outbound = OutboundEmail.objects.get(user=alice)
    assert outbound.sent_at is not None
    assert outbound.attempts == 1
    parsed = email.message_from_bytes(first.read_bytes(), policy=email.policy.default)
    assert parsed["To"] == alice.email
    [image] = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    [code] = decode_image(image.get_content())
    assert code.text == cart_pass.text
    assert cart_pass_resolve(code.text).user == alice

    # Run the same task again, then a different email behind it: the solo worker takes them in
    # order, so once the second email's file exists the repeat has run, and sent nothing.
    email_send.delay(outbound.pk)
    email_queue(message=EmailMultiAlternatives("Marker", "x", to=["bob@example.com"]), kind="t")

    files = wait_for_files(worker, 2, log)
    time.sleep(1)
    assert len(sorted(worker.glob("*.eml"))) == len(files) == 2
    assert email.message_from_bytes(files[1].read_bytes())["Subject"] == "Marker"
    outbound.refresh_from_db()
    assert outbound.attempts == 1
