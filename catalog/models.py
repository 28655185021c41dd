"""The store's catalog: categories, products and their barcodes."""

from decimal import Decimal

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.urls import reverse

from catalog.barcodes import GTIN_LENGTH

LOW_STOCK_THRESHOLD = 5


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
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)
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
                condition=models.Q(price__gte=Decimal("0")), name="product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(stock__gte=0), name="product_stock_not_negative"
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
                condition=Exact(Length("gtin"), GTIN_LENGTH), name="barcode_gtin_is_14_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.gtin
