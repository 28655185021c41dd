"""Background work of the shopcart package: sending the outbox's emails, sweeping stalled ones."""

from celery import Task, shared_task

from shopcart.core import mail

# With the first attempt, as many attempts as the outbox sweeper allows.
EMAIL_MAX_RETRIES = mail.EMAIL_MAX_ATTEMPTS - 1
# Retries wait 1, 2, 4, ... 32 minutes: about an hour in all, long enough for an SMTP server to
# come back from a restart or a greylisting delay.
EMAIL_RETRY_BASE_SECONDS = 60


def email_retry_countdown(retries: int) -> int:
    """Seconds to wait before retry number ``retries + 1`` (exponential backoff)."""
    return EMAIL_RETRY_BASE_SECONDS * 2**retries


@shared_task(bind=True, acks_late=True, max_retries=EMAIL_MAX_RETRIES)
def email_send(self: Task, outbound_email_id: int) -> bool:
    """Send one outbox email; safe to run any number of times (it sends at most once).

    Late acknowledgement: a worker that dies mid-send leaves the message on the broker for
    another worker, and the outbox claim keeps the two from both sending.
    """
    try:
        return mail.email_deliver(outbound_email_id=outbound_email_id)
    except mail.EmailDeliveryError as exc:
        if not exc.retryable:
            raise
        raise self.retry(exc=exc, countdown=email_retry_countdown(self.request.retries)) from None


@shared_task
def email_outbox_sweep() -> int:
    """Queue every stalled outbox row again (see ``mail.email_outbox_stalled``); returns how
    many. Run by celery beat; sending stays at most once per row, so a sweep that races a
    late delivery is harmless."""
    stalled = mail.email_outbox_stalled()
    for outbound_email_id in stalled:
        email_send.delay(outbound_email_id)
    return len(stalled)
