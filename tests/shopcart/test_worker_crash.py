"""A worker killed in the middle of sending an email: the email still goes out exactly once.

Real Celery worker processes through the real broker (CI's MariaDB + Redis run; skipped with
the reason elsewhere) and a loopback SMTP server that hangs the first worker mid-send. The
worker is killed as a power cut would (SIGKILL). The outbox claim keeps anyone else from
sending while it lasts; once it runs out the sweeper hands the email to a second worker, and a
late redelivery of the first task finds it sent.
"""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from shopcart.celery import app as celery_app
from shopcart.core.mail import email_queue
from shopcart.models import OutboundEmail
from shopcart.tasks import email_outbox_sweep, email_send
from tests.shopcart.celery_workers import WorkerProcess, wait_until, worker_skip_reason

pytestmark = pytest.mark.django_db(transaction=True)

CLAIM_SECONDS = 2


@pytest.fixture
def start_worker(tmp_path, smtp_server, settings) -> Iterator:
    reason = worker_skip_reason()
    if reason:
        pytest.skip(reason)
    celery_app.control.purge()
    env = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(settings.EMAIL_PORT),
        "EMAIL_USE_TLS": "false",
        "EMAIL_CLAIM_SECONDS": str(CLAIM_SECONDS),
    }
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        started.append(WorkerProcess(tmp_path / f"{name}.log", env))
        return started[-1]

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield start
    finally:
        celery_app.conf.task_always_eager = previous
        smtp_server.release.set()
        for worker in started:
            worker.stop()


def queue_one_email(subject: str = "Receipt") -> OutboundEmail:
    with transaction.atomic():
        return email_queue(
            message=EmailMultiAlternatives(subject, "Thank you", to=["alice@example.com"]),
            kind="test",
        )


def test_an_email_whose_worker_died_mid_send_goes_out_exactly_once(start_worker, smtp_server):
    smtp_server.holding = True
    first = start_worker("first")

    outbound = queue_one_email()  # committed: the task goes to the first worker
    wait_until(lambda: smtp_server.connections == 1, "the first worker connecting", first)
    first.kill()
    smtp_server.holding = False
    smtp_server.release.set()

    outbound.refresh_from_db()
    assert (outbound.sent_at, outbound.attempts) == (None, 1)
    assert smtp_server.messages == []
    assert outbound.claimed_until is not None
    assert outbound.claimed_until > timezone.now()  # nobody else may send it yet

    second = start_worker("second")
    # Older than the sweeper's grace period, and the dead worker's claim has run out.
    OutboundEmail.objects.filter(pk=outbound.pk).update(
        created_at=timezone.now() - timedelta(minutes=10),
        claimed_until=timezone.now() - timedelta(seconds=1),
    )
    assert email_outbox_sweep() == 1

    wait_until(
        lambda: OutboundEmail.objects.filter(pk=outbound.pk, sent_at__isnull=False).exists(),
        "the second worker sending the email",
        second,
    )
    # The broker redelivering the dead worker's task later changes nothing. The solo worker
    # takes tasks in order: once the marker email is out, the redelivery has run.
    email_send.delay(outbound.pk)
    queue_one_email("Marker")
    wait_until(lambda: len(smtp_server.messages) == 2, "the marker email", second)
    assert email_outbox_sweep() == 0
    assert [b"Subject: Receipt" in m for m in smtp_server.messages] == [True, False]
    outbound.refresh_from_db()
    assert outbound.attempts == 2
