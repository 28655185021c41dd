"""Sending email: into the outbox with the caller's transaction, out through Celery after commit.

``email_queue`` stores a rendered message as an ``OutboundEmail`` row and, once the caller's
transaction commits, hands its id to the ``shopcart.tasks.email_send`` task. A rolled-back
transaction therefore sends nothing, and a committed message is on record even when the send
fails: the row stays unsent, with its attempts and last error, for staff to see in the admin.

``email_deliver`` is what the task runs: it claims the row with one conditional UPDATE, so of
two workers given the same id only one sends, and a row already sent is never sent again.

Log lines name the row's id and kind only, never an address or a body.
"""

import base64
import logging
import secrets
import smtplib
from datetime import datetime, timedelta
from email.mime.base import MIMEBase
from email.mime.image import MIMEImage
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from shopcart.models import OutboundEmail

logger = logging.getLogger(__name__)

KIND_ACCOUNT = "account"
# Rows younger than this are still on their way through on_commit and the broker: the sweeper
# leaves them alone.
SWEEP_AFTER = timedelta(minutes=2)
# After this, a failed row's own retries (about an hour of backoff) are over or were lost with
# the broker: the sweeper tries it again, up to the attempt limit.
RETRY_WINDOW = timedelta(hours=2)
EMAIL_MAX_ATTEMPTS = 7
CID_DOMAIN = "smartcart.invalid"

ERROR_ONE_RECIPIENT = "An outbox email goes to exactly one address (no cc, bcc or reply-to)."
ERROR_ATTACHMENT = "Only inline images with a Content-ID can go through the outbox."
ERROR_HEADERS = "Extra headers cannot go through the outbox."


class EmailDeliveryError(Exception):
    """Sending failed. Carries only the error's class and code: SMTP errors quote addresses.

    ``retryable`` is true for network and SMTP errors, which a later attempt may get past.
    """

    def __init__(self, description: str, *, retryable: bool = False) -> None:
        super().__init__(description)
        self.retryable = retryable


def email_attach_inline_image(
    message: EmailMultiAlternatives, *, data: bytes, name: str, mimetype: str = "image/png"
) -> str:
    """Attach ``data`` as an inline image; returns the Content-ID for ``src="cid:..."``."""
    # Short enough that the header is never folded; unique, as RFC 2392 asks.
    cid = f"{name}.{secrets.token_hex(8)}@{CID_DOMAIN}"
    message.attach(_inline_image(data=data, mimetype=mimetype, cid=cid))
    # multipart/related keeps mail programs from listing the image as a separate attachment.
    message.mixed_subtype = "related"  # type: ignore[attr-defined]  # missing from the stubs
    return cid


def _inline_image(*, data: bytes, mimetype: str, cid: str) -> MIMEImage:
    subtype = mimetype.split("/", 1)[1]
    image = MIMEImage(data, _subtype=subtype)
    image.add_header("Content-ID", f"<{cid}>")
    name = cid.split(".", 1)[0]  # "cart-pass" in "cart-pass.1a2b...@smartcart.invalid"
    image.add_header("Content-Disposition", "inline", filename=f"{name}.{subtype}")
    return image


def email_queue(*, message: EmailMessage, kind: str, user: Any = None) -> OutboundEmail:
    """Store ``message`` in the outbox and send it through Celery once the transaction commits.

    ``message`` is an ``EmailMultiAlternatives`` (text with an HTML alternative) or a plain
    ``EmailMessage``; attachments must be inline images made by ``email_attach_inline_image``.
    Raises ``ValueError`` for anything the outbox could not reproduce faithfully.
    """
    if len(message.to) != 1 or message.cc or message.bcc or message.reply_to:
        raise ValueError(ERROR_ONE_RECIPIENT)
    if message.extra_headers:
        raise ValueError(ERROR_HEADERS)
    text_body, html_body = _bodies(message)
    outbound = OutboundEmail.objects.create(
        kind=kind,
        recipient=message.to[0],
        user=user,
        from_email=message.from_email,
        subject=str(message.subject),
        text_body=text_body,
        html_body=html_body,
        inline_images=[_inline_image_record(part) for part in message.attachments],
    )
    transaction.on_commit(lambda: _email_send_later(outbound.pk))
    logger.info("email %s (%s) queued", outbound.pk, kind)
    return outbound


def _email_send_later(outbound_email_id: int) -> None:
    # Imported here: the task module imports this one.
    from shopcart.tasks import email_send

    try:
        email_send.delay(outbound_email_id)
    except Exception as exc:
        # The caller's data is committed: a broker outage (or, with eager tasks, a failed send)
        # must not turn the request into an error page. The row stays unsent in the outbox.
        # Logged without the message, which may quote the address.
        logger.error("email %s not sent now (%s)", outbound_email_id, error_describe(exc))


def _bodies(message: EmailMessage) -> tuple[str, str]:
    if message.content_subtype == "html":
        return "", str(message.body)
    html = ""
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype != "text/html" or html:
            raise ValueError("Only one text/html alternative can go through the outbox.")
        html = str(content)
    return str(message.body), html


def _inline_image_record(part: Any) -> dict[str, str]:
    if not isinstance(part, MIMEBase) or part.get_content_maintype() != "image":
        raise ValueError(ERROR_ATTACHMENT)
    content_id = part.get("Content-ID", "")
    if not content_id:
        raise ValueError(ERROR_ATTACHMENT)
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        raise ValueError(ERROR_ATTACHMENT)
    return {
        "cid": content_id.strip("<>"),
        "mimetype": part.get_content_type(),
        "base64": base64.b64encode(data).decode("ascii"),
    }


def email_message_build(outbound: OutboundEmail) -> EmailMultiAlternatives:
    """The message stored in ``outbound``, ready to send (the inverse of ``email_queue``)."""
    message = EmailMultiAlternatives(
        subject=outbound.subject,
        body=outbound.text_body or outbound.html_body,
        from_email=outbound.from_email,
        to=[outbound.recipient],
    )
    if not outbound.text_body:
        message.content_subtype = "html"
    elif outbound.html_body:
        message.attach_alternative(outbound.html_body, "text/html")
    for image in outbound.inline_images:
        data = base64.b64decode(image["base64"])
        message.attach(_inline_image(data=data, mimetype=image["mimetype"], cid=image["cid"]))
        message.mixed_subtype = "related"  # type: ignore[attr-defined]  # missing from the stubs
    return message


def email_deliver(*, outbound_email_id: int) -> bool:
    """Send the outbox row ``outbound_email_id`` unless it was sent or is being sent.

    Returns whether this call sent it. The claim is one conditional UPDATE, so concurrent calls
    send once. On any error the claim is released, the attempt and the error's class are
    recorded, and ``EmailDeliveryError`` is raised: the task decides whether to retry.
    """
    claimed = (
        OutboundEmail.objects.claimable()
        .filter(pk=outbound_email_id)
        .update(claimed_until=timezone.now() + _claim_duration(), attempts=F("attempts") + 1)
    )
    if not claimed:
        logger.info("email %s: already sent or being sent, nothing to do", outbound_email_id)
        return False
    outbound = OutboundEmail.objects.get(pk=outbound_email_id)
    try:
        email_message_build(outbound).send()
    except Exception as exc:
        description = error_describe(exc)
        OutboundEmail.objects.filter(pk=outbound.pk).update(
            claimed_until=None, last_error=description
        )
        logger.warning("email %s (%s) failed: %s", outbound.pk, outbound.kind, description)
        retryable = isinstance(exc, smtplib.SMTPException | OSError)
        # "from None": the original's message (with addresses) stays out of logged tracebacks.
        raise EmailDeliveryError(description, retryable=retryable) from None
    OutboundEmail.objects.filter(pk=outbound.pk).update(
        sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    logger.info("email %s (%s) sent", outbound.pk, outbound.kind)
    return True


def _claim_duration() -> timedelta:
    # Longer than any SMTP conversation (EMAIL_TIMEOUT is 20 s): a claim that runs out means
    # the worker holding it died, and another run may take the row over.
    return timedelta(seconds=settings.EMAIL_CLAIM_SECONDS)


def email_outbox_stalled(*, now: datetime | None = None) -> list[int]:
    """Ids of outbox rows that nothing is going to send unless someone queues them again.

    Three ways a row stalls: the broker was down when it was queued (never attempted); the
    worker sending it died (its claim ran out); its retries ran out of time or were lost with
    the broker (failed, and older than ``RETRY_WINDOW``). Rows that failed
    ``EMAIL_MAX_ATTEMPTS`` times are left for staff to look at.
    """
    now = now or timezone.now()
    stalled = Q(attempts=0) | Q(claimed_until__isnull=False) | Q(created_at__lt=now - RETRY_WINDOW)
    return list(
        OutboundEmail.objects.claimable(now)
        .filter(created_at__lt=now - SWEEP_AFTER, attempts__lt=EMAIL_MAX_ATTEMPTS)
        .filter(stalled)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def error_describe(exc: BaseException) -> str:
    """The error's class and code, never its message: SMTP errors quote addresses."""
    code = getattr(exc, "smtp_code", None) or getattr(exc, "errno", None)
    name = type(exc).__name__
    return f"{name} {code}" if code else name
