"""Orders (snapshots of a cart at checkout), their payments and refunds, and webhook events.

An order's status changes only through its ``mark_*``/``record_*`` methods, which refuse
illegal transitions with ``OrderStateError``; services call them under the order's row lock.

    pending ──► paid ──► partially_refunded ──► refunded
       │          └──────────────────────────────► refunded
       ├──► cancelled   (declined payment, or the shopper went back to the cart)
       └──► expired     (never paid within ORDER_PENDING_MINUTES)

Size: kept in one module: the orders app's models together, as Django keeps an app's models.
"""

import base64
import secrets
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from carts.models import Cart
from catalog.models import Coupon, Product
from shopcart.core.money import LINE_TOTAL_MAX, ORDER_TOTAL_MAX, PRICE_MAX, QUANTITY_MAX

# Unambiguous to read aloud or type from a receipt: no 0/O, 1/I/L, U.
NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
NUMBER_LENGTH = 8

# What staff read when a form breaks one of the constraints below (in words, not by name).
ERROR_ORDER_ONE_PER_CART_VERSION = "This cart, as it is now, already has an order."
ERROR_ORDER_TOTAL_NEGATIVE = "An order's total cannot be negative."
ERROR_ORDER_SUBTOTAL_BOUNDS = f"An order's subtotal is between 0 and {ORDER_TOTAL_MAX}."
ERROR_ORDER_TOTAL_TOO_HIGH = f"An order's total is at most {ORDER_TOTAL_MAX}."
ERROR_ORDER_REFUND_TOO_HIGH = "No more than the order's total can be refunded."
ERROR_ORDER_LINE_QUANTITY = "The quantity must be at least 1."
ERROR_ORDER_LINE_QUANTITY_TOO_HIGH = f"A line holds at most {QUANTITY_MAX} units."
ERROR_ORDER_LINE_PRICE_BOUNDS = f"The unit price is between 0 and {PRICE_MAX}."
ERROR_ORDER_LINE_AMOUNTS_BOUNDS = f"A line's subtotal and total are between 0 and {LINE_TOTAL_MAX}."
ERROR_PAYMENT_ONCE = "The gateway already has a payment with this id."
ERROR_PAYMENT_AMOUNT_BOUNDS = f"A payment is between 0 and {ORDER_TOTAL_MAX}."
ERROR_REFUND_ONCE = "This payment already has a refund with this id."
ERROR_REFUND_AMOUNT = "A refund must be more than 0."
ERROR_REFUND_TOO_HIGH = f"A refund is at most {ORDER_TOTAL_MAX}."
ERROR_WEBHOOK_EVENT_ONCE = "This gateway event was received before."

ERROR_TRANSITION = "Order {number} is {status}; it cannot be {action}."
ERROR_REFUND_TOO_MUCH = "Order {number} has only {left} left to refund."
ERROR_REFUND_NOT_POSITIVE = "A refund must be more than zero."
ERROR_EXITED = "Order {number} already left the store."


class OrderStateError(ValueError):
    """An illegal status change; the message says why, for staff or a log."""


def order_number_new() -> str:
    """A fresh random order number such as ``K7M2-QX9P`` (uniqueness is the caller's job)."""
    chars = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(NUMBER_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def exit_nonce_new() -> str:
    """80 random bits in base32: upper case and digits, so the exit QR stays compact."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii")


class OrderQuerySet(models.QuerySet["Order"]):
    def for_user(self, user: object) -> "OrderQuerySet":
        return self.filter(user=user)

    def pending_expired(self, now: datetime) -> "OrderQuerySet":
        return self.filter(status=Order.Status.PENDING, expires_at__lte=now)


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "awaiting payment"
        PAID = "paid", "paid"
        PARTIALLY_REFUNDED = "partially_refunded", "partially refunded"
        REFUNDED = "refunded", "refunded"
        CANCELLED = "cancelled", "cancelled"
        EXPIRED = "expired", "expired"

    number = models.CharField(max_length=16, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # The books keep the order when an account is deleted; ``email`` says who it was.
        on_delete=models.SET_NULL,
        related_name="orders",
        null=True,
    )
    email = models.EmailField(blank=True)
    cart = models.ForeignKey(
        Cart, on_delete=models.SET_NULL, related_name="orders", null=True, blank=True
    )
    # The cart's version when the order was placed: placing the same cart version again
    # (a double click, a retry) finds this order instead of making a second one.
    cart_version = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=10, decimal_places=2)
    refunded_amount = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0.00"), editable=False
    )
    coupon = models.ForeignKey(
        Coupon, on_delete=models.SET_NULL, related_name="orders", null=True, blank=True
    )
    coupon_code = models.CharField(max_length=40, blank=True)
    coupon_description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # cancelled or expired
    exited_at = models.DateTimeField(null=True, blank=True)
    exit_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="exit_checks",
        null=True,
        blank=True,
    )
    # Part of what the exit QR signs: a code for this order cannot be made from its number.
    exit_nonce = models.CharField(max_length=32, default=exit_nonce_new, editable=False)
    flagged_for_audit = models.BooleanField(default=False)
    # When the payment confirmation went into the email outbox: one email per order, however
    # often the task that sends it runs.
    confirmation_emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        permissions = [
            ("check_exit", "Can check orders at the store exit"),
            ("refund_order", "Can refund orders"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "cart_version"],
                name="order_one_per_cart_version",
                violation_error_message=ERROR_ORDER_ONE_PER_CART_VERSION,
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=Decimal("0")),
                name="order_total_not_negative",
                violation_error_message=ERROR_ORDER_TOTAL_NEGATIVE,
            ),
            # The bounds of shopcart.core.money: placement refuses a larger order before writing.
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=Decimal("0"), subtotal__lte=ORDER_TOTAL_MAX),
                name="order_subtotal_within_bounds",
                violation_error_message=ERROR_ORDER_SUBTOTAL_BOUNDS,
            ),
            models.CheckConstraint(
                condition=models.Q(total__lte=ORDER_TOTAL_MAX),
                name="order_total_within_max",
                violation_error_message=ERROR_ORDER_TOTAL_TOO_HIGH,
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__lte=models.F("total")),
                name="order_refund_within_total",
                violation_error_message=ERROR_ORDER_REFUND_TOO_HIGH,
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("orders:detail", kwargs={"number": self.number})

    @property
    def is_paid(self) -> bool:
        """Paid, and not wholly refunded: the goods may leave the store."""
        return self.status in (self.Status.PAID, self.Status.PARTIALLY_REFUNDED)

    @property
    def refundable_amount(self) -> Decimal:
        return self.total - self.refunded_amount if self.is_paid else Decimal("0.00")

    # --- Transitions (call with the row locked; the caller saves) --------------------------

    def mark_paid(self, now: datetime) -> None:
        self._require({self.Status.PENDING}, "paid")
        self.status = self.Status.PAID
        self.paid_at = now

    def mark_cancelled(self, now: datetime) -> None:
        self._require({self.Status.PENDING}, "cancelled")
        self.status = self.Status.CANCELLED
        self.closed_at = now

    def mark_expired(self, now: datetime) -> None:
        self._require({self.Status.PENDING}, "expired")
        self.status = self.Status.EXPIRED
        self.closed_at = now

    def record_refund(self, amount: Decimal) -> None:
        """Count ``amount`` as refunded: partially refunded until the whole total is back."""
        self._require({self.Status.PAID, self.Status.PARTIALLY_REFUNDED}, "refunded")
        if amount <= 0:
            raise OrderStateError(ERROR_REFUND_NOT_POSITIVE)
        if amount > self.refundable_amount:
            raise OrderStateError(
                ERROR_REFUND_TOO_MUCH.format(number=self.number, left=self.refundable_amount)
            )
        self.refunded_amount += amount
        fully = self.refunded_amount == self.total
        self.status = self.Status.REFUNDED if fully else self.Status.PARTIALLY_REFUNDED

    def mark_exited(self, now: datetime) -> None:
        self._require({self.Status.PAID, self.Status.PARTIALLY_REFUNDED}, "checked out at the exit")
        if self.exited_at is not None:
            raise OrderStateError(ERROR_EXITED.format(number=self.number))
        self.exited_at = now

    def _require(self, allowed: set["Order.Status"], action: str) -> None:
        if self.status not in allowed:
            raise OrderStateError(
                ERROR_TRANSITION.format(
                    number=self.number, status=self.get_status_display(), action=action
                )
            )


class CouponRedemption(models.Model):
    """An order's use of a coupon, kept while the order holds it (placement writes it,
    cancelling or expiring the order deletes it).

    The coupon's per-shopper limit counts them by their order's shopper
    (``catalog.coupons.coupon_check``, through ``Coupon.redemptions``).
    """

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="redemptions")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="coupon_redemption")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.coupon} on order {self.order.number}"


class OrderLine(models.Model):
    """A snapshot of one cart line: editing the catalog never changes a past order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, related_name="order_lines", null=True, blank=True
    )
    product_name = models.CharField(max_length=200)
    gtin = models.CharField(max_length=14, blank=True)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    # How many of ``quantity`` were scanned in the store (the rest were added on the website).
    scanned_quantity = models.PositiveIntegerField(default=0)
    # Units taken off the product's recorded stock at placement; given back if the order expires.
    stock_taken = models.PositiveIntegerField(default=0)
    subtotal = models.DecimalField(max_digits=10, decimal_places=2)
    discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    total = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0),
                name="order_line_quantity_positive",
                violation_error_message=ERROR_ORDER_LINE_QUANTITY,
            ),
            # The bounds of shopcart.core.money, as on cart lines.
            models.CheckConstraint(
                condition=models.Q(quantity__lte=QUANTITY_MAX),
                name="order_line_quantity_within_max",
                violation_error_message=ERROR_ORDER_LINE_QUANTITY_TOO_HIGH,
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=Decimal("0"), unit_price__lte=PRICE_MAX),
                name="order_line_price_within_bounds",
                violation_error_message=ERROR_ORDER_LINE_PRICE_BOUNDS,
            ),
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=Decimal("0"), subtotal__lte=LINE_TOTAL_MAX)
                & models.Q(total__gte=Decimal("0"), total__lte=LINE_TOTAL_MAX),
                name="order_line_amounts_within_bounds",
                violation_error_message=ERROR_ORDER_LINE_AMOUNTS_BOUNDS,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name}"


class Payment(models.Model):
    """One attempt to collect an order's total through a gateway."""

    class Gateway(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        TEST = "test", "test gateway"

    class Status(models.TextChoices):
        CREATED = "created", "created"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=16, choices=Gateway.choices)
    # The gateway's id (Checkout Session / PaymentIntent); NULL until the gateway answers,
    # and NULLs never collide in the unique pair below.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    redirect_url = models.URLField(max_length=2000, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "external_id"],
                name="payment_unique_external_id",
                violation_error_message=ERROR_PAYMENT_ONCE,
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=Decimal("0"), amount__lte=ORDER_TOTAL_MAX),
                name="payment_amount_within_bounds",
                violation_error_message=ERROR_PAYMENT_AMOUNT_BOUNDS,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_gateway_display()} payment {self.external_id or self.pk}"


class Refund(models.Model):
    """Money given back on a payment, asked for by staff or reported by the gateway."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "requested"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    reason = models.CharField(max_length=255, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        related_name="refunds_requested",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "external_id"],
                name="refund_unique_external_id",
                violation_error_message=ERROR_REFUND_ONCE,
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=Decimal("0")),
                name="refund_amount_positive",
                violation_error_message=ERROR_REFUND_AMOUNT,
            ),
            models.CheckConstraint(
                condition=models.Q(amount__lte=ORDER_TOTAL_MAX),
                name="refund_amount_within_max",
                violation_error_message=ERROR_REFUND_TOO_HIGH,
            ),
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount} on {self.payment}"


class WebhookEvent(models.Model):
    """A gateway event already processed: a replay of the same id changes nothing."""

    gateway = models.CharField(max_length=16, choices=Payment.Gateway.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, related_name="webhook_events", null=True, blank=True
    )
    outcome = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "event_id"],
                name="webhook_event_once",
                violation_error_message=ERROR_WEBHOOK_EVENT_ONCE,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event_type} {self.event_id}"
