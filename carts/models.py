"""Carts and their lines, stock mismatches, and the shopper's cart pass."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from carts import pass_codes
from catalog.models import Coupon, Product
from shopcart.core.money import PRICE_MAX, QUANTITY_MAX

PRODUCT_NAME_MAX_LENGTH = 200  # as catalog.Product.name: a line or a scan keeps it whole

# What staff read when a form breaks one of the constraints below (in words, not by name).
ERROR_CART_ONE_CURRENT_PER_OWNER = (
    "This shopper already has a cart in use: close it before giving them another."
)
ERROR_CART_ONE_CURRENT_PER_SESSION = (
    "This browser session already has a cart in use: close it first."
)
ERROR_CART_OWNER_OR_SESSION = (
    "A cart belongs to a shopper or to a browser session: choose its owner."
)
ERROR_CART_CURRENT_UNLESS_CLOSED = (
    "A closed cart is no longer in use, and a cart that is not closed is."
)
ERROR_CART_LINE_ONCE = (
    "This cart already has a line for this product (and label): change its quantity instead."
)
ERROR_CART_LINE_QUANTITY = "The quantity must be at least 1."
ERROR_CART_LINE_SCANNED = "The scanned quantity cannot be more than the quantity."
ERROR_CART_LINE_PRICE_NEGATIVE = "The unit price cannot be negative."
ERROR_CART_LINE_PRICE_TOO_HIGH = f"The unit price is at most {PRICE_MAX}."
ERROR_CART_LINE_QUANTITY_TOO_HIGH = f"A line holds at most {QUANTITY_MAX} units."
# Messages, not passwords (S105).
ERROR_CART_PASS_ONE_ACTIVE = "This shopper has an active cart pass: replace it."  # noqa: S105
ERROR_CART_PASS_ACTIVE_OR_REVOKED = "A cart pass is active or revoked, never both."  # noqa: S105


class Cart(models.Model):
    """A shopper's cart: one unclosed cart per shopper (or per anonymous browser session).

    ``version`` goes up by one with every change, under the cart's row lock; the live cart page
    and the JSON API use it to tell whether what they show is current.

    ``scan_count`` goes up by one with every scan a cart device sent into the cart, whatever it
    came to, and ``last_scan_*`` say what that was: the cart page shows it for a few seconds
    (``carts.scan_notices``). A scan that changed nothing leaves ``version`` as it was, so a
    shopper paying for the cart is not told that it changed.

    ``pairing_count`` goes up by one each time a cart device pairs with the cart or its pairing
    ends (``devices.services.pairing``), so the cart page hears it and says which device is
    scanning. Neither count touches ``version``: checkout refuses a pay button of an older one.

    ``current`` is True until the cart closes, then NULL: the unique pairs (owner, current) and
    (session_key, current) allow any number of closed carts but one unclosed one. (A
    conditional unique constraint would say the same on SQLite, but MariaDB ignores it.)
    """

    class Status(models.TextChoices):
        OPEN = "open", "open"
        CHECKING_OUT = "checking_out", "checking out"
        CLOSED = "closed", "closed"

    class ScanOutcome(models.TextChoices):
        """What a device's scan into the cart came to, as the shopper is told it."""

        ADDED = "added", "added"
        REMOVED = "removed", "removed"
        NO_BARCODE = "no_barcode", "no barcode"
        AMBIGUOUS = "ambiguous", "two codes"
        UNKNOWN_PRODUCT = "unknown_product", "unknown product"
        NOT_SOLD = "not_sold", "not sold"
        NOT_IN_CART = "not_in_cart", "not in cart"
        CART_PAYING = "cart_paying", "cart being paid for"
        CART_CLOSED = "cart_closed", "cart closed"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="carts",
        null=True,
        blank=True,
    )
    # NULL, not "", for shoppers' carts: NULLs never collide in the unique pair below.
    session_key = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    current = models.BooleanField(null=True, default=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    scan_count = models.PositiveIntegerField(default=0, editable=False)
    pairing_count = models.PositiveIntegerField(default=0, editable=False)
    last_scan_outcome = models.CharField(
        max_length=16, choices=ScanOutcome.choices, blank=True, editable=False
    )
    last_scan_product = models.CharField(
        max_length=PRODUCT_NAME_MAX_LENGTH, blank=True, editable=False
    )
    last_scan_at = models.DateTimeField(null=True, blank=True, editable=False)
    coupon = models.ForeignKey(
        Coupon, on_delete=models.SET_NULL, related_name="carts", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "current"],
                name="cart_one_current_per_owner",
                violation_error_message=ERROR_CART_ONE_CURRENT_PER_OWNER,
            ),
            models.UniqueConstraint(
                fields=["session_key", "current"],
                name="cart_one_current_per_session",
                violation_error_message=ERROR_CART_ONE_CURRENT_PER_SESSION,
            ),
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False) | models.Q(session_key__isnull=False),
                name="cart_has_owner_or_session",
                violation_error_message=ERROR_CART_OWNER_OR_SESSION,
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(current__isnull=False, current=True) & ~models.Q(status="closed")
                )
                | models.Q(current__isnull=True, status="closed"),
                name="cart_current_unless_closed",
                violation_error_message=ERROR_CART_CURRENT_UNLESS_CLOSED,
            ),
        ]

    def __str__(self) -> str:
        return f"Cart {self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CartLine(models.Model):
    """One product in a cart. ``unit_price`` is the price when the product was first added.

    ``scanned_quantity`` is the part the cart's device scanned in the store (the goods are
    physically in the cart, so stock does not limit it); the rest was added on the website.

    ``label_code`` is empty for ordinary lines (one per product). A pack scanned by its
    in-store price or weight label (``catalog.instore_labels``) has a line of its own, keyed by
    the label's GTIN-14 and priced by the label: two packs of different weight are two lines,
    the same label twice one line of two. Empty, not NULL, so that the unique triple holds on
    MariaDB too (NULLs would never collide).

    Unit price and quantity are bounded (``shopcart.core.money``); how many lines a cart holds and
    what they come to are checked by the cart services, which alone write lines.
    """

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        # A product deleted from the catalog leaves its line behind as "unavailable".
        Product,
        on_delete=models.SET_NULL,
        related_name="cart_lines",
        null=True,
    )
    product_name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    scanned_quantity = models.PositiveIntegerField(default=0)
    label_code = models.CharField(max_length=14, blank=True, default="")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "product", "label_code"],
                name="cart_line_one_per_product_label",
                violation_error_message=ERROR_CART_LINE_ONCE,
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0),
                name="cart_line_quantity_positive",
                violation_error_message=ERROR_CART_LINE_QUANTITY,
            ),
            models.CheckConstraint(
                condition=models.Q(scanned_quantity__lte=models.F("quantity")),
                name="cart_line_scanned_within_quantity",
                violation_error_message=ERROR_CART_LINE_SCANNED,
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=Decimal("0")),
                name="cart_line_price_not_negative",
                violation_error_message=ERROR_CART_LINE_PRICE_NEGATIVE,
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__lte=PRICE_MAX),
                name="cart_line_price_within_max",
                violation_error_message=ERROR_CART_LINE_PRICE_TOO_HIGH,
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__lte=QUANTITY_MAX),
                name="cart_line_quantity_within_max",
                violation_error_message=ERROR_CART_LINE_QUANTITY_TOO_HIGH,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name}"

    @property
    def web_quantity(self) -> int:
        return self.quantity - self.scanned_quantity

    @property
    def is_labelled(self) -> bool:
        """Priced by an in-store label: changed only by scanning, or removed as a whole."""
        return bool(self.label_code)


class StockMismatch(models.Model):
    """A cart in the store holds more of a product than the recorded stock: staff should count."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_mismatches")
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="stock_mismatches")
    quantity_in_cart = models.PositiveIntegerField()
    stock_recorded = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["resolved", "-created_at"]
        verbose_name_plural = "stock mismatches"

    def __str__(self) -> str:
        return f"{self.product}: {self.quantity_in_cart} in cart {self.cart_id}"


class CartPassQuerySet(models.QuerySet["CartPass"]):
    def active(self) -> "CartPassQuerySet":
        return self.filter(active=True)

    def in_force(self) -> "CartPassQuerySet":
        """Passes that work: active, of an active account (``CartPass.in_force``)."""
        return self.filter(active=True, user__is_active=True)


class CartPass(models.Model):
    """A shopper's cart pass: the QR code that makes a cart theirs (text in ``carts.pass_codes``).

    A shopper has at most one active pass. Revoking keeps the row (so an old QR code resolves
    to "revoked", not "unknown") and turns ``active`` from True to NULL: the unique pair
    (user, active) then allows any number of revoked passes but one active one. A conditional
    unique constraint would say the same on SQLite, but MariaDB ignores such conditions.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_passes"
    )
    token = models.CharField(
        max_length=32, unique=True, default=pass_codes.pass_token_new, editable=False
    )
    active = models.BooleanField(null=True, default=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CartPassQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "cart passes"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "active"],
                name="cart_pass_one_active_per_user",
                violation_error_message=ERROR_CART_PASS_ONE_ACTIVE,
            ),
            models.CheckConstraint(
                # "active IS NOT NULL" spelled out: "NULL = true" is unknown, and a CHECK
                # lets unknown through.
                condition=(
                    models.Q(active__isnull=False, active=True, revoked_at__isnull=True)
                    | models.Q(active__isnull=True, revoked_at__isnull=False)
                ),
                name="cart_pass_active_or_revoked",
                violation_error_message=ERROR_CART_PASS_ACTIVE_OR_REVOKED,
            ),
        ]

    def __str__(self) -> str:
        return f"Cart pass {self.pk} ({'active' if self.active else 'revoked'})"

    @property
    def text(self) -> str:
        """What the QR code says."""
        return pass_codes.pass_text(self.token)

    @property
    def in_force(self) -> bool:
        """Whether the pass works: not revoked (replacing revokes), and its shopper's account
        is active. A pairing made with it lasts only as long (``devices.models.Pairing``)."""
        return bool(self.active) and self.user.is_active
