"""A real Celery worker, through a real Redis, sends a queued email (CI's MariaDB + Redis run).

The worker (tests/shopcart/celery_workers.py says when one can run) writes with the embedded
mode's EmlFileBackend (no EMAIL_HOST) into a temporary folder, where the test waits for the .eml
file.
"""

import email
import email.policy
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.mail import EmailMultiAlternatives

from carts.selectors import cart_pass_resolve
from carts.services import cart_pass_email
from devices.decoding import decode_image
from shopcart.celery import app as celery_app
from shopcart.core.mail import email_queue
from shopcart.models import OutboundEmail
from shopcart.tasks import email_send
from tests.shopcart.celery_workers import (
    WAIT_SECONDS,
    WorkerProcess,
    worker_skip_reason,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(tmp_path) -> Iterator[Path]:
    """A worker writing .eml files into a temporary folder; yields that folder."""
    reason = worker_skip_reason()
    if reason:
        pytest.skip(reason)
    mail_folder = tmp_path / "mail"
    # Left over from an earlier, interrupted run: they would name rows of another database.
    celery_app.control.purge()
    process = WorkerProcess(
        tmp_path / "worker.log",
        # The embedded mode's .eml files, whatever the environment says.
        {"EMAIL_HOST": "", "EMAIL_FILE_PATH": str(mail_folder)},
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # tasks go through Redis to that worker
    try:
        yield mail_folder
    finally:
        celery_app.conf.task_always_eager = previous
        process.stop()


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
