"""The payment confirmation email: receipt, totals and the exit QR code, one per paid order.

Built like the cart pass email (``carts.services.passes``): text with an HTML alternative, the
QR code as an inline image, queued in shopcart's outbox in the same transaction that marks the
order as emailed, so the outbox sends it once after commit.
"""

import io
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image

from orders.exit_codes import exit_code_for
from orders.models import Order
from shopcart.core.mail import email_attach_inline_image, email_queue
from shopcart.core.qr import qr_png

logger = logging.getLogger(__name__)

EMAIL_KIND_ORDER_CONFIRMATION = "order_confirmation"


def order_confirmation_email(*, order_id: int) -> bool:
    """Queue the payment confirmation of order ``order_id``, unless it was queued before.

    Locks the order, so two runs of the task at once queue one email. Sends nothing for an
    order that is not (or no longer) paid, or has no address. Returns whether it queued one.
    """
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.confirmation_emailed_at is not None or not order.is_paid:
            return False
        recipient = order.email or (order.user.email if order.user else "")
        if not recipient:
            logger.warning("order %s: no address for its confirmation", order.pk)
            return False
        email_queue(
            message=_confirmation_message(order, recipient),
            kind=EMAIL_KIND_ORDER_CONFIRMATION,
            user=order.user,
        )
        order.confirmation_emailed_at = timezone.now()
        order.save(update_fields=["confirmation_emailed_at"])
    return True


def _confirmation_message(order: Order, recipient: str) -> EmailMultiAlternatives:
    context = {
        "order": order,
        "lines": list(order.lines.all()),
        "store_name": settings.STORE_NAME,
        "order_url": settings.SITE_URL.rstrip("/") + order.get_absolute_url(),
        "exit_code": exit_code_for(order),
    }
    subject = render_to_string("emails/order_confirmation_subject.txt", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("emails/order_confirmation.txt", context),
        to=[recipient],
    )
    png = qr_png(context["exit_code"])
    cid = email_attach_inline_image(message, data=png, name="exit-code")
    # Shown at its own pixel size: scaled QR modules blur in mail programs.
    qr_size = Image.open(io.BytesIO(png)).width
    html = render_to_string(
        "emails/order_confirmation.html", {**context, "qr_cid": cid, "qr_size": qr_size}
    )
    message.attach_alternative(html, "text/html")
    return message
