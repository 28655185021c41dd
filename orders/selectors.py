"""Reads of orders, each scoped to whoever may see them."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from orders.models import Order, Payment


def order_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Order]:
    """The shopper's orders, newest first, each with ``item_count`` (units in all its lines)."""
    if not user.is_authenticated:
        return Order.objects.none()
    return (
        Order.objects.for_user(user)
        .annotate(item_count=Coalesce(Sum("lines__quantity"), 0))
        .order_by("-created_at", "-pk")
    )


def order_get_for_user(*, user: User | AnonymousUser, number: str) -> Order | None:
    """The shopper's order ``number`` (any case) with its lines and payments; None when there
    is no such order *or it is someone else's*: callers answer both with the same 404."""
    if not user.is_authenticated:
        return None
    orders = Order.objects.for_user(user).select_related("coupon")
    orders = orders.prefetch_related("lines", "payments")
    return orders.filter(number=_number_normalise(number)).first()


def order_get_by_number(*, number: str) -> Order | None:
    """Any order by its number (any case), for staff, the exit check and gateways; not scoped
    to a shopper, so never call it with a shopper's request alone."""
    orders = Order.objects.select_related("user").prefetch_related("lines", "payments")
    return orders.filter(number=_number_normalise(number)).first()


def _number_normalise(number: str) -> str:
    return number.strip().upper()


def order_recently_paid_for_user(*, user: User | AnonymousUser, since: datetime) -> Order | None:
    """The shopper's newest order paid at or after ``since`` (the cart page names it once
    that cart has closed), or None."""
    if not user.is_authenticated:
        return None
    paid = Order.objects.for_user(user).filter(status=Order.Status.PAID, paid_at__gte=since)
    return paid.order_by("-paid_at", "-pk").first()


def order_get_pending_for_cart(*, user: User | AnonymousUser, cart_id: int) -> Order | None:
    """The shopper's order waiting for payment of their cart ``cart_id`` (one at most)."""
    if not user.is_authenticated:
        return None
    pending = Order.objects.for_user(user).filter(cart_id=cart_id, status=Order.Status.PENDING)
    return pending.order_by("-pk").first()


def payment_get_for_user(
    *, user: User | AnonymousUser, gateway: str, external_id: str
) -> Payment | None:
    """A payment of the shopper's own order by its gateway id (the test gateway's page), with
    its order; None for anyone else's, so callers answer 404."""
    if not user.is_authenticated:
        return None
    payments = Payment.objects.select_related("order").filter(order__user=user, gateway=gateway)
    return payments.filter(external_id=external_id).first()


@dataclass(frozen=True)
class SalesSummary:
    orders_paid: int
    revenue: Decimal  # paid totals less refunds
    orders_pending: int


def sales_summary(*, since: datetime) -> SalesSummary:
    """Orders paid since ``since`` and what they brought in, for the staff dashboard (one
    query)."""
    paid = Q(paid_at__gte=since)
    totals = Order.objects.aggregate(
        orders_paid=Count("pk", filter=paid),
        revenue=Coalesce(
            Sum(F("total") - F("refunded_amount"), filter=paid),
            Value(Decimal("0.00")),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        ),
        orders_pending=Count("pk", filter=Q(status=Order.Status.PENDING)),
    )
    return SalesSummary(**totals)
