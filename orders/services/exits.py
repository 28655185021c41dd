"""The exit check: staff scan a shopper's exit QR at the door, once per paid order.

``order_exit_check`` reads the code (signature first, no query for a forgery), then locks the
order's row, so of two staff checking the same code at the same moment only one lets it
through. ``order_audit_flag_decide`` says whether a newly paid order is picked for a random
look into the cart at the exit; the payment service stores its answer when it marks the order
paid.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import dateformat, timezone
from django.utils.crypto import constant_time_compare

from orders.exit_codes import exit_code_read
from orders.models import Order

REASON_OK = "ok"
REASON_INVALID = "invalid"
REASON_NOT_PAID = "not_paid"
REASON_REFUNDED = "refunded"
REASON_ALREADY_USED = "already_used"

MESSAGE_OK = "OK: paid, let them through"
MESSAGE_AUDIT = "AUDIT: check this cart"
ERROR_INVALID = "Not a valid exit code"
ERROR_NOT_PAID = "Not paid"
ERROR_REFUNDED = "Refunded: not paid any more"
ERROR_ALREADY_USED = "Already used at {time}"

_MESSAGES = {
    REASON_OK: MESSAGE_OK,
    REASON_INVALID: ERROR_INVALID,
    REASON_NOT_PAID: ERROR_NOT_PAID,
    REASON_REFUNDED: ERROR_REFUNDED,
}

# One per process: SystemRandom draws from the operating system, so the pick is unpredictable.
_system_random = secrets.SystemRandom()


@dataclass(frozen=True)
class ExitCheckResult:
    """What the exit check decided. ``order`` is None when the code names no real order."""

    ok: bool
    reason: str
    order: Order | None = None

    @property
    def message(self) -> str:
        """The words shown in large letters at the door."""
        if self.reason == REASON_ALREADY_USED and self.order and self.order.exited_at:
            return ERROR_ALREADY_USED.format(time=exit_time_describe(self.order.exited_at))
        return _MESSAGES[self.reason]

    @property
    def audit(self) -> bool:
        return self.ok and self.order is not None and self.order.flagged_for_audit


def exit_time_describe(moment: datetime, now: datetime | None = None) -> str:
    """ "14:02" today, "14:02 on 3 March 2026" on another day (store's local time)."""
    local = timezone.localtime(moment)
    today = timezone.localtime(now or timezone.now()).date()
    if local.date() == today:
        return dateformat.format(local, "H:i")
    return dateformat.format(local, r"H:i \o\n j F Y")


def order_exit_check(*, code: str, staff: User) -> ExitCheckResult:
    """Let the order that ``code`` names out of the store, once.

    Refuses a code that is malformed, wrongly signed or whose nonce is not the order's
    (``REASON_INVALID``, without saying which order it named), an order that is not paid
    (``REASON_NOT_PAID``) or wholly refunded (``REASON_REFUNDED``), and one already let out
    (``REASON_ALREADY_USED``). Locks the order's row: concurrent checks of one code let it
    through once. Never raises for a refusal.
    """
    claim = exit_code_read(code)
    if claim is None:
        return ExitCheckResult(ok=False, reason=REASON_INVALID)
    with transaction.atomic(durable=True):
        order = Order.objects.select_for_update().filter(number=claim.number).first()
        if order is None or not constant_time_compare(order.exit_nonce, claim.nonce):
            return ExitCheckResult(ok=False, reason=REASON_INVALID)
        refusal = _exit_refusal(order)
        if refusal:
            return ExitCheckResult(ok=False, reason=refusal, order=order)
        order.mark_exited(timezone.now())
        order.exit_checked_by = staff
        order.save(update_fields=["exited_at", "exit_checked_by"])
    return ExitCheckResult(ok=True, reason=REASON_OK, order=order)


def _exit_refusal(order: Order) -> str:
    if order.status == Order.Status.REFUNDED:
        return REASON_REFUNDED
    if not order.is_paid:
        return REASON_NOT_PAID
    if order.exited_at is not None:
        return REASON_ALREADY_USED
    return ""


def order_audit_flag_decide(order: Order, *, chance: random.Random | None = None) -> bool:
    """Whether ``order``, being marked paid, is picked for a look into the cart at the exit.

    Always for the shopper's first paid order; otherwise with probability
    ``settings.EXIT_AUDIT_SHARE``. ``chance`` replaces the system's random source in tests.
    Reads only: the caller stores the answer in ``order.flagged_for_audit``.
    """
    user_id = order.user_id
    if user_id is not None and not _paid_before(order, user_id):
        return True
    return (chance or _system_random).random() < settings.EXIT_AUDIT_SHARE


def _paid_before(order: Order, user_id: int) -> bool:
    """Whether the shopper ``user_id`` has another order than ``order`` that was ever paid."""
    earlier = Order.objects.filter(user_id=user_id, paid_at__isnull=False)
    return earlier.exclude(pk=order.pk).exists()
