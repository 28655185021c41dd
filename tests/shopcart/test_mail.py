"""The email outbox: stored with the caller's transaction, sent once after commit, retried."""

import logging
import re
import threading
from datetime import timedelta

import pytest
from celery.signals import task_retry
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone

from shopcart.celery import app as celery_app
from shopcart.core.mail import (
    ERROR_ATTACHMENT,
    ERROR_HEADERS,
    ERROR_ONE_RECIPIENT,
    EmailDeliveryError,
    email_attach_inline_image,
    email_deliver,
    email_queue,
)
from shopcart.core.qr import qr_png
from shopcart.models import OutboundEmail
from shopcart.tasks import EMAIL_MAX_RETRIES, email_retry_countdown, email_send

pytestmark = pytest.mark.django_db


ADDRESS = "alice@example.com"


def a_message(to: str = ADDRESS) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives("Hello", "Plain text body", to=[to])
    cid = email_attach_inline_image(message, data=qr_png("HELLO"), name="greeting")
    message.attach_alternative(f'<p>HTML body</p><img src="cid:{cid}">', "text/html")
    return message


def queue_committed(django_capture_on_commit_callbacks, **kwargs) -> OutboundEmail:
    with django_capture_on_commit_callbacks(execute=True):
        return email_queue(message=a_message(), kind="test", **kwargs)


def test_email_is_stored_at_once_and_sent_only_after_commit(
    alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outbound = email_queue(message=a_message(), kind="test", user=alice)

        assert OutboundEmail.objects.filter(pk=outbound.pk, sent_at=None).exists()
        assert mail.outbox == []

    assert len(mail.outbox) == 1
    outbound.refresh_from_db()
    assert outbound.sent_at is not None
    assert (outbound.attempts, outbound.claimed_until, outbound.user) == (1, None, alice)


def test_rolled_back_transaction_stores_and_sends_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        email_queue(message=a_message(), kind="test")
        raise RuntimeError("the caller's transaction fails")

    assert callbacks == []
    assert not OutboundEmail.objects.exists()
    assert mail.outbox == []


def test_sent_message_is_the_queued_one_with_its_inline_image(django_capture_on_commit_callbacks):
    queued = a_message()
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(message=queued, kind="test")

    sent = mail.outbox[0]
    assert isinstance(sent, EmailMultiAlternatives)
    assert (sent.subject, sent.body, sent.to) == ("Hello", "Plain text body", [ADDRESS])
    assert sent.alternatives == queued.alternatives
    [(html, _)] = sent.alternatives
    parsed = sent.message()
    assert parsed.get_content_type() == "multipart/related"
    [image] = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    [original] = queued.attachments
    assert image["Content-ID"] == original["Content-ID"]
    assert image["Content-ID"].strip("<>") in str(html)
    assert image.get_payload(decode=True) == original.get_payload(decode=True)
    assert image.get_content_disposition() == "inline"


def test_html_only_message_goes_through_as_html(django_capture_on_commit_callbacks):
    message = EmailMessage("Hi", "<p>Only HTML</p>", to=[ADDRESS])
    message.content_subtype = "html"
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(message=message, kind="test")

    assert mail.outbox[0].message().get_content_type() == "text/html"
    assert mail.outbox[0].body == "<p>Only HTML</p>"


@pytest.mark.parametrize(
    "changes",
    [{"to": [ADDRESS, "bob@example.com"]}, {"cc": ["bob@example.com"]}, {"bcc": ["x@example.com"]}],
)
def test_outbox_takes_one_recipient_only(changes):
    message = a_message()
    for name, value in changes.items():
        setattr(message, name, value)

    with pytest.raises(ValueError, match=re.escape(ERROR_ONE_RECIPIENT)):
        email_queue(message=message, kind="test")


def test_outbox_refuses_extra_headers_it_would_drop():
    message = a_message()
    message.extra_headers = {"X-Campaign": "spring"}

    with pytest.raises(ValueError, match=re.escape(ERROR_HEADERS)):
        email_queue(message=message, kind="test")


def test_outbox_refuses_file_attachments_it_cannot_reproduce():
    message = a_message()
    message.attach("list.csv", "a,b\n", "text/csv")

    with pytest.raises(ValueError, match=re.escape(ERROR_ATTACHMENT)):
        email_queue(message=message, kind="test")
    assert not OutboundEmail.objects.exists()


def test_task_run_again_after_success_sends_nothing(django_capture_on_commit_callbacks):
    outbound = queue_committed(django_capture_on_commit_callbacks)

    result = email_send.delay(outbound.pk)

    assert result.get() is False
    assert len(mail.outbox) == 1
    outbound.refresh_from_db()
    assert outbound.attempts == 1


def test_row_claimed_by_another_worker_is_left_alone_until_the_claim_expires():
    outbound = email_queue(message=a_message(), kind="test")  # never committed: no task ran
    OutboundEmail.objects.filter(pk=outbound.pk).update(
        claimed_until=timezone.now() + timedelta(minutes=1)
    )

    assert email_deliver(outbound_email_id=outbound.pk) is False
    assert mail.outbox == []

    # The worker holding the claim died: once the claim runs out another run sends.
    OutboundEmail.objects.filter(pk=outbound.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert email_deliver(outbound_email_id=outbound.pk) is True
    assert len(mail.outbox) == 1


@pytest.mark.mysql(reason="SQLite's in-memory test database locks whole tables")
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_the_same_email_send_it_once():
    # Made directly: email_queue in autocommit mode would send it at once.
    outbound = OutboundEmail.objects.create(
        kind="test", recipient=ADDRESS, from_email="shop@example.com", subject="Hi", text_body="."
    )
    runners = 8
    barrier = threading.Barrier(runners)
    results: list[bool] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(email_deliver(outbound_email_id=outbound.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [False] * (runners - 1) + [True]
    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.get(pk=outbound.pk).attempts == 1


def test_smtp_failure_releases_the_claim_and_records_the_attempt(smtp_server):
    outbound = email_queue(message=a_message(), kind="test")
    smtp_server.refuse_connections = 1

    with pytest.raises(EmailDeliveryError) as raised:
        email_deliver(outbound_email_id=outbound.pk)

    assert raised.value.retryable is True
    outbound.refresh_from_db()
    assert (outbound.sent_at, outbound.claimed_until, outbound.attempts) == (None, None, 1)
    assert outbound.last_error == "SMTPConnectError 421"
    # The next run gets through.
    assert email_deliver(outbound_email_id=outbound.pk) is True
    assert len(smtp_server.messages) == 1


@pytest.fixture
def tasks_run_like_a_worker():
    """Eager tasks keep their errors in the result and retry at once, as a worker would retry
    them later, instead of raising into the caller (the project's eager setting)."""
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


@pytest.mark.usefixtures("tasks_run_like_a_worker")
def test_task_retries_smtp_errors_with_exponential_backoff_then_sends(smtp_server):
    outbound = email_queue(message=a_message(), kind="test")
    smtp_server.refuse_connections = 3
    countdowns: list[float] = []

    def on_retry(request, reason, **kwargs) -> None:
        countdowns.append(reason.when)

    task_retry.connect(on_retry)
    try:
        assert email_send.apply(args=[outbound.pk]).get() is True
    finally:
        task_retry.disconnect(on_retry)

    assert countdowns == [60, 120, 240]
    assert len(smtp_server.messages) == 1
    outbound.refresh_from_db()
    assert outbound.sent_at is not None
    assert (outbound.attempts, outbound.last_error) == (4, "")


@pytest.mark.usefixtures("tasks_run_like_a_worker")
def test_task_gives_up_after_max_retries_and_keeps_the_row_unsent(smtp_server):
    outbound = email_queue(message=a_message(), kind="test")
    smtp_server.refuse_connections = 100

    result = email_send.apply(args=[outbound.pk])

    assert result.failed()
    assert isinstance(result.result, EmailDeliveryError)
    outbound.refresh_from_db()
    assert outbound.sent_at is None
    assert outbound.attempts == EMAIL_MAX_RETRIES + 1
    assert smtp_server.connections == EMAIL_MAX_RETRIES + 1


def test_backoff_doubles_from_one_minute():
    assert [email_retry_countdown(n) for n in range(EMAIL_MAX_RETRIES)] == [
        60,
        120,
        240,
        480,
        960,
        1920,
    ]


def test_logs_never_contain_the_address_or_the_body(
    smtp_server, caplog, django_capture_on_commit_callbacks
):
    smtp_server.reject_recipients = True  # SMTPRecipientsRefused quotes the address
    caplog.set_level(logging.DEBUG)

    outbound = queue_committed(django_capture_on_commit_callbacks)

    outbound.refresh_from_db()
    assert outbound.sent_at is None
    assert outbound.last_error == "SMTPRecipientsRefused"
    assert caplog.records, "expected the failure to be logged"
    logged = caplog.text + "".join(str(record.exc_info) for record in caplog.records)
    for secret in (ADDRESS, "alice", "Plain text body", "HTML body"):
        assert secret not in logged


def test_status_follows_the_row():
    outbound = OutboundEmail(kind="test", recipient=ADDRESS)
    assert outbound.status == "queued"

    outbound.claimed_until = timezone.now() + timedelta(minutes=1)
    outbound.attempts = 1
    assert outbound.status == "sending"

    outbound.claimed_until = None
    assert outbound.status == "retrying"

    outbound.sent_at = timezone.now()
    assert outbound.status == "sent"
