"""The store's catalog: categories, products and their barcodes.

Size: kept in one module: the catalog app's models together, as Django keeps an app's models.
"""

import secrets
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone

from catalog.barcodes import GTIN_LENGTH
from shopcart.core.money import ERROR_PRICE_TOO_HIGH, ERROR_STOCK_TOO_HIGH, PRICE_MAX, STOCK_MAX

LOW_STOCK_THRESHOLD = 5

# What staff read when a form breaks one of the constraints below (in words, not by name).
ERROR_PRODUCT_PRICE_NEGATIVE = "The price cannot be negative."
ERROR_PRODUCT_PRICE_TOO_HIGH = ERROR_PRICE_TOO_HIGH
ERROR_PRODUCT_STOCK_NEGATIVE = "The stock cannot be negative."
ERROR_BARCODE_GTIN_LENGTH = (
    "A barcode is kept as its 14-digit GTIN: enter an EAN-13, UPC-A, EAN-8 or GTIN-14."
)
ERROR_COUPON_NO_DISCOUNT = "Give the coupon a percentage off, an amount off, or both."
ERROR_COUPON_PERCENT = "The percentage off must be more than 0 and at most 100."
ERROR_COUPON_AMOUNT = "The amount off must be more than 0 (leave it empty for none)."
ERROR_COUPON_CAP = "The maximum discount must be more than 0 (leave it empty for no maximum)."
ERROR_COUPON_MIN_SUBTOTAL = "The minimum subtotal cannot be negative (0 for none)."
ERROR_PAIR_SCORE_ONCE = "These two products already have a score."
ERROR_PAIR_SCORE_ITSELF = "A product is not suggested with itself: choose another product."


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class ProductQuerySet(models.QuerySet["Product"]):
    def active(self) -> "ProductQuerySet":
        return self.filter(active=True)

    def in_stock(self) -> "ProductQuerySet":
        return self.filter(stock__gt=0)

    def low_stock(self) -> "ProductQuerySet":
        return self.filter(stock__lte=LOW_STOCK_THRESHOLD)

    def with_gtin(self, gtins: list[str]) -> "ProductQuerySet":
        return self.filter(barcodes__gtin__in=gtins).distinct()


class Product(models.Model):
    class SoldBy(models.TextChoices):
        EACH = "each", "each"
        KG = "kg", "per kg"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category,
        # A category with products cannot be deleted by accident; move the products first.
        on_delete=models.PROTECT,
        related_name="products",
        null=True,
        blank=True,
    )
    # Bounded (shopcart.core.money) so that no cart of it can overflow a total: the validator
    # speaks in forms and imports, the check constraint holds in the database.
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MaxValueValidator(PRICE_MAX, message=ERROR_PRICE_TOO_HIGH)],
    )
    sold_by = models.CharField(
        max_length=4,
        choices=SoldBy.choices,
        default=SoldBy.EACH,
        help_text="Per kg: the price is per kilogram, and each weighed pack's in-store label "
        "gives its weight.",
    )
    # No upper check in the database: units given back by a cancelled order may pass the
    # maximum a person may enter (see shopcart.core.money.STOCK_MAX).
    stock = models.IntegerField(
        default=0, validators=[MaxValueValidator(STOCK_MAX, message=ERROR_STOCK_TOO_HIGH)]
    )
    active = models.BooleanField(
        default=True, help_text="Inactive products are hidden from shoppers and cannot be sold."
    )
    image = models.ImageField(upload_to="products/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(price__gte=Decimal("0")),
                name="product_price_not_negative",
                violation_error_message=ERROR_PRODUCT_PRICE_NEGATIVE,
            ),
            models.CheckConstraint(
                condition=models.Q(price__lte=PRICE_MAX),
                name="product_price_within_max",
                violation_error_message=ERROR_PRODUCT_PRICE_TOO_HIGH,
            ),
            models.CheckConstraint(
                condition=models.Q(stock__gte=0),
                name="product_stock_not_negative",
                violation_error_message=ERROR_PRODUCT_STOCK_NEGATIVE,
            ),
        ]
        permissions = [("adjust_stock", "Can adjust product stock")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:product_detail", kwargs={"slug": self.slug})

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def price_unit(self) -> str:
        """What the price is for, after the amount: "/ kg" for goods sold by weight, else ""."""
        return "/ kg" if self.sold_by == self.SoldBy.KG else ""

    @property
    def is_low_stock(self) -> bool:
        return self.stock <= LOW_STOCK_THRESHOLD


class Barcode(models.Model):
    """One barcode of a product, stored as its canonical GTIN-14 (see ``catalog.barcodes``)."""

    gtin = models.CharField("GTIN-14", max_length=GTIN_LENGTH, unique=True)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="barcodes")

    class Meta:
        ordering = ["gtin"]
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("gtin"), GTIN_LENGTH),
                name="barcode_gtin_is_14_digits",
                violation_error_message=ERROR_BARCODE_GTIN_LENGTH,
            ),
        ]

    def __str__(self) -> str:
        return self.gtin


class CouponQuerySet(models.QuerySet["Coupon"]):
    def by_code(self, code: str) -> "CouponQuerySet":
        return self.filter(code=Coupon.normalise_code(code))


class Coupon(models.Model):
    """A discount staff hand out as a code. ``carts.pricing`` is the only place that applies it.

    A coupon takes a percentage off (optionally capped), a flat amount off, or both; only lines
    of ``category`` count when it is set. Validity window and usage limits are checked when the
    code is applied and again when the order is placed.
    """

    code = models.CharField(max_length=40, unique=True, help_text="Shoppers type this; any case.")
    description = models.CharField(max_length=200, blank=True)
    percent_off = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="For example 20 for 20 %."
    )
    max_discount = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The most this coupon takes off a cart, whatever the percentage gives.",
    )
    amount_off = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="A flat amount off."
    )
    category = models.ForeignKey(
        Category,
        # Deleting a category must not silently widen a coupon to the whole store.
        on_delete=models.PROTECT,
        related_name="coupons",
        null=True,
        blank=True,
        help_text="Only lines of this category are discounted. Empty: every line.",
    )
    min_subtotal = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text="The cart's subtotal must reach this before the coupon applies.",
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(
        null=True, blank=True, help_text="Paid orders that may use it in all. Empty: no limit."
    )
    max_uses_per_shopper = models.PositiveIntegerField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=0, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CouponQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent_off__isnull=False) | models.Q(amount_off__isnull=False),
                name="coupon_has_a_discount",
                violation_error_message=ERROR_COUPON_NO_DISCOUNT,
            ),
            models.CheckConstraint(
                condition=models.Q(percent_off__gt=0, percent_off__lte=100)
                | models.Q(percent_off__isnull=True),
                name="coupon_percent_between_0_and_100",
                violation_error_message=ERROR_COUPON_PERCENT,
            ),
            models.CheckConstraint(
                condition=models.Q(amount_off__gt=0) | models.Q(amount_off__isnull=True),
                name="coupon_amount_positive",
                violation_error_message=ERROR_COUPON_AMOUNT,
            ),
            models.CheckConstraint(
                condition=models.Q(max_discount__gt=0) | models.Q(max_discount__isnull=True),
                name="coupon_cap_positive",
                violation_error_message=ERROR_COUPON_CAP,
            ),
            models.CheckConstraint(
                condition=models.Q(min_subtotal__gte=0),
                name="coupon_min_subtotal_not_negative",
                violation_error_message=ERROR_COUPON_MIN_SUBTOTAL,
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.code = self.normalise_code(self.code)
        super().save(*args, **kwargs)

    @staticmethod
    def normalise_code(code: str) -> str:
        return code.strip().upper()


# --- Recommendations (written only by orders.recommendations, read by catalog.suggestions) ---


class ProductPairScore(models.Model):
    """How strongly an order holding ``product`` suggests ``other`` too: the EASE model's
    weight (positive, higher more; a cart sums its products' weights).

    Each product keeps only its best few neighbours, products it was bought with;
    ``recommendations_rebuild`` replaces every row at once.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="pair_scores")
    other = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="suggested_by")
    score = models.FloatField()
    together = models.PositiveIntegerField(help_text="Paid orders holding both.")

    class Meta:
        ordering = ["product", "-score", "other"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "other"],
                name="pair_score_once",
                violation_error_message=ERROR_PAIR_SCORE_ONCE,
            ),
            models.CheckConstraint(
                condition=~models.Q(product=models.F("other")),
                name="pair_score_not_itself",
                violation_error_message=ERROR_PAIR_SCORE_ITSELF,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} → {self.other_id}: {self.score:.3f}"


class ProductPopularity(models.Model):
    """In how many paid orders of the history ``product`` was: the fallback suggestions."""

    product = models.OneToOneField(
        Product, on_delete=models.CASCADE, primary_key=True, related_name="popularity"
    )
    orders = models.PositiveIntegerField()

    class Meta:
        verbose_name_plural = "product popularity"

    def __str__(self) -> str:
        return f"{self.product_id}: {self.orders} orders"


def recommendation_version_new() -> str:
    return uuid.uuid4().hex


class RecommendationBuild(models.Model):
    """One run of ``recommendations_rebuild``: what it learnt from, and how long it took.

    ``version`` names the neighbours it wrote in the cache (``catalog.suggestions``): a new
    build's entries never mix with an old one's.
    """

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    history_from = models.DateTimeField(help_text="Orders paid from this time on were used.")
    orders = models.PositiveIntegerField()
    lines = models.PositiveIntegerField(
        help_text="Products over all the orders, each once per order."
    )
    products = models.PositiveIntegerField(help_text="Products sold at least once.")
    pairs = models.PositiveIntegerField(help_text="Neighbour rows written.")
    seconds = models.FloatField()
    version = models.CharField(max_length=32, default=recommendation_version_new, editable=False)

    class Meta:
        ordering = ["-finished_at", "-pk"]
        get_latest_by = "finished_at"

    def __str__(self) -> str:
        return f"Recommendations from {self.orders} orders ({self.finished_at:%Y-%m-%d %H:%M})"


# --- AI shopping tips (optional; written by catalog.tips and by staff) ---------------------

TIP_MAX_CHARS = 200


class ProductTipQuerySet(models.QuerySet["ProductTip"]):
    def shown(self) -> "ProductTipQuerySet":
        return self.filter(status__in=[ProductTip.Status.APPROVED, ProductTip.Status.EDITED])


class ProductTip(models.Model):
    """One short shopping tip for a product, written by the AI provider or by staff.

    A tip the AI wrote is *pending* until staff approve it; shoppers see approved and edited
    tips only. ``source_hash`` is the digest of the catalog fields the tip was written from:
    when they change, the AI writes the tip again and it waits for approval again. Staff edits
    and hidden tips are never replaced.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "written by AI, waiting for approval"
        APPROVED = "approved", "written by AI, approved"
        EDITED = "edited", "edited by staff"
        HIDDEN = "hidden", "hidden"

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="tip")
    text = models.CharField(max_length=TIP_MAX_CHARS)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    model = models.CharField(max_length=100, blank=True, editable=False)
    generated_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductTipQuerySet.as_manager()

    class Meta:
        ordering = ["product__name", "pk"]

    def __str__(self) -> str:
        return f"Tip for {self.product}"

    @property
    def written_by_ai(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.APPROVED)


class ProductTipFailure(models.Model):
    """Why the last requests for a product's tip failed, and when to ask again.

    Written by ``catalog.tips`` after a failure the product may cause (a timeout, a provider
    error, an unusable answer); removed when a tip is written. Until ``retry_at`` the product
    is skipped, and after it, products that never failed go first.
    """

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="tip_failure")
    failures = models.PositiveIntegerField(help_text="Failed requests in a row.")
    last_error = models.CharField(max_length=40)
    failed_at = models.DateTimeField()
    retry_at = models.DateTimeField()

    class Meta:
        ordering = ["retry_at"]

    def __str__(self) -> str:
        return f"{self.failures} failed tip request(s) for product {self.product_id}"


# --- CSV imports of products (run in the background by catalog.imports) --------------------


def product_import_path(product_import: "ProductImport", filename: str) -> str:
    """Where an uploaded file is kept under MEDIA_ROOT: a folder per day, a random name (media
    may be served to anyone who has the address, so the address must not be guessable)."""
    return f"product-imports/{timezone.now():%Y/%m/%d}/{secrets.token_urlsafe(24)}.csv"


# An unclaimed import younger than this may have its task still on the way to a worker.
PRODUCT_IMPORT_QUEUE_GRACE = timedelta(minutes=2)


class ProductImportQuerySet(models.QuerySet["ProductImport"]):
    def unfinished(self) -> "ProductImportQuerySet":
        return self.filter(status__in=ProductImport.UNFINISHED)

    def stalled(self, now: datetime) -> "ProductImportQuerySet":
        """Unfinished, nobody working on it (no claim, or one that ran out), and older than
        ``PRODUCT_IMPORT_QUEUE_GRACE``."""
        unclaimed = models.Q(claimed_until__isnull=True) | models.Q(claimed_until__lt=now)
        return self.unfinished().filter(unclaimed, created_at__lt=now - PRODUCT_IMPORT_QUEUE_GRACE)


class ProductImport(models.Model):
    """One uploaded CSV file of products and how far its import got (``catalog.imports``).

    ``rows_checked`` counts the rows of the check (all or nothing, check only), ``rows_done``
    the rows of the writing pass, committed with them. ``message`` says how it ended (counts,
    or why it stopped). ``problems`` keeps the first
    ``catalog.imports.runs.PROBLEMS_KEPT`` problems as ``{"line", "column", "message"}``;
    ``problem_count`` counts them all. ``claimed_until`` and ``attempts``: the run under way
    and how many runs have claimed it.
    """

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", "all or nothing"
        GOOD_ROWS = "good", "good rows only"
        CHECK_ONLY = "check", "check only (dry run)"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        CHECKING = "checking", "checking"
        IMPORTING = "importing", "importing"
        IMPORTED = "imported", "imported"
        REFUSED = "refused", "refused: nothing imported"
        CHECKED = "checked", "checked, nothing imported"
        FAILED = "failed", "failed"

    UNFINISHED = (Status.QUEUED, Status.CHECKING, Status.IMPORTING)

    # Emptied when the import finishes: the stored file is deleted then.
    file = models.FileField(upload_to=product_import_path, max_length=200, blank=True)
    file_name = models.CharField(max_length=255, blank=True, help_text="As uploaded.")
    file_size = models.PositiveBigIntegerField("size in bytes", default=0)
    mode = models.CharField(
        max_length=5,
        choices=Mode.choices,
        default=Mode.ALL_OR_NOTHING,
        help_text="All or nothing checks every row first and imports only a file without "
        "problems. Good rows only imports each valid row and lists the others. Check only "
        "lists the problems and imports nothing.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # The import is the store's record of what changed the catalog; it outlives the account.
        on_delete=models.SET_NULL,
        related_name="product_imports",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_checked = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    problem_count = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=500, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Import of {self.file_name or 'a file'} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_unfinished(self) -> bool:
        return self.status in self.UNFINISHED

    @property
    def is_stalled(self) -> bool:
        """Unfinished, and nobody is working on it (see ``ProductImportQuerySet.stalled``)."""
        now = timezone.now()
        idle = self.claimed_until is None or self.claimed_until < now
        old = self.created_at < now - PRODUCT_IMPORT_QUEUE_GRACE
        return self.is_unfinished and idle and old

    @property
    def rows_progress(self) -> int:
        """Rows through the pass under way (or the last one): the check, or the writing."""
        writing = self.status == self.Status.IMPORTING or self.rows_done > 0
        return self.rows_done if writing or self.mode == self.Mode.GOOD_ROWS else self.rows_checked

    @property
    def progress(self) -> str:
        """How far it got, for staff: "1,200 of 100,000 rows"."""
        if self.rows_total is None:
            return "not started"
        return f"{self.rows_progress:,} of {self.rows_total:,} rows"
