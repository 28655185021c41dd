"""The outbox sweeper: stalled emails are queued again, and still sent only once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.utils import timezone

from shopcart.core.mail import (
    EMAIL_MAX_ATTEMPTS,
    RETRY_WINDOW,
    SWEEP_AFTER,
    email_outbox_stalled,
    email_queue,
)
from shopcart.models import OutboundEmail
from shopcart.tasks import email_outbox_sweep

pytestmark = pytest.mark.django_db

# The stall rules are asked about this fixed moment; rows are aged relative to it.
NOW = timezone.now()


def outbox_row(*, age: timedelta, **fields) -> OutboundEmail:
    """An unsent row as a committed email_queue leaves it, ``age`` old."""
    outbound = email_queue(
        message=EmailMultiAlternatives("Hello", "body", to=["alice@example.com"]), kind="test"
    )
    OutboundEmail.objects.filter(pk=outbound.pk).update(created_at=NOW - age, **fields)
    return outbound


def test_a_row_queued_while_the_broker_was_down_is_swept():
    lost = outbox_row(age=SWEEP_AFTER + timedelta(seconds=1))

    assert email_outbox_stalled(now=NOW) == [lost.pk]


def test_a_fresh_row_is_left_to_its_own_delivery():
    outbox_row(age=SWEEP_AFTER - timedelta(seconds=5))

    assert email_outbox_stalled(now=NOW) == []


def test_a_row_whose_worker_died_is_swept_once_the_claim_runs_out():
    held = outbox_row(
        age=timedelta(minutes=10), attempts=1, claimed_until=NOW + timedelta(seconds=30)
    )
    assert email_outbox_stalled(now=NOW) == []

    OutboundEmail.objects.filter(pk=held.pk).update(claimed_until=NOW - timedelta(seconds=1))

    assert email_outbox_stalled(now=NOW) == [held.pk]


def test_a_failed_row_waits_for_its_own_retries_before_the_sweeper_takes_it():
    failed = outbox_row(age=RETRY_WINDOW - timedelta(minutes=1), attempts=2, last_error="X 451")
    assert email_outbox_stalled(now=NOW) == []

    OutboundEmail.objects.filter(pk=failed.pk).update(created_at=NOW - RETRY_WINDOW * 2)

    assert email_outbox_stalled(now=NOW) == [failed.pk]


def test_sent_rows_and_rows_out_of_attempts_are_never_swept():
    outbox_row(age=timedelta(days=1), sent_at=NOW - timedelta(days=1), attempts=1)
    outbox_row(age=timedelta(days=1), attempts=EMAIL_MAX_ATTEMPTS)

    assert email_outbox_stalled(now=NOW) == []


def test_sweeping_sends_each_stalled_email_once():
    lost = outbox_row(age=timedelta(minutes=5))

    assert email_outbox_sweep() == 1
    assert email_outbox_sweep() == 0

    assert len(mail.outbox) == 1
    lost.refresh_from_db()
    assert lost.sent_at is not None and lost.attempts == 1


def test_the_command_sweeps_and_says_how_many():
    outbox_row(age=timedelta(minutes=5))
    output = StringIO()

    call_command("email_outbox_sweep", stdout=output)

    assert output.getvalue().strip() == "1 stalled email(s) queued again."
    assert len(mail.outbox) == 1


def test_beat_runs_the_sweeper(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert "shopcart.tasks.email_outbox_sweep" in schedule
