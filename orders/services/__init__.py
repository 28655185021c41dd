"""Order services: placement, payments and refunds, and the exit check.

Each topic lives in its own module; import from here.
"""

from orders.services.exits import (
    ExitCheckResult,
    order_audit_flag_decide,
    order_exit_check,
)
from orders.services.payments import (
    order_mark_paid,
    order_payment_abandon,
    order_payment_fail,
    order_payment_start,
    order_refund,
    payment_late_refund,
)
from orders.services.placement import order_cancel, order_place, orders_expire_pending
from orders.services.webhooks import webhook_process

__all__ = [
    "ExitCheckResult",
    "order_audit_flag_decide",
    "order_cancel",
    "order_exit_check",
    "order_mark_paid",
    "order_payment_abandon",
    "order_payment_fail",
    "order_payment_start",
    "order_place",
    "order_refund",
    "orders_expire_pending",
    "payment_late_refund",
    "webhook_process",
]
