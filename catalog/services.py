"""Writes to the catalog. Every barcode passes through ``gtin_normalise`` on its way in."""

from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify

from catalog.barcodes import BarcodeError, gtin_normalise
from catalog.models import Barcode, Category, Product

ERROR_BARCODE_TAKEN = "Barcode {gtin} already belongs to “{product}”."
ERROR_BARCODE_REPEATED = "Barcode {gtin} is listed twice."


class CatalogError(ValueError):
    """A catalog write was refused; ``field`` names the input at fault, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def barcodes_normalise(codes: Iterable[str], *, product: Product | None = None) -> list[str]:
    """Canonical GTIN-14s for ``codes``; refuses bad, repeated and already-used codes.

    ``product`` is the product the codes are for: its own barcodes are not "already used".
    """
    gtins: list[str] = []
    for code in codes:
        try:
            gtin = gtin_normalise(code).gtin
        except BarcodeError as exc:
            raise CatalogError(str(exc), field="barcodes") from exc
        if gtin in gtins:
            raise CatalogError(ERROR_BARCODE_REPEATED.format(gtin=gtin), field="barcodes")
        gtins.append(gtin)
    taken = Barcode.objects.filter(gtin__in=gtins).select_related("product")
    if product is not None:
        taken = taken.exclude(product=product)
    for barcode in taken[:1]:
        raise CatalogError(
            ERROR_BARCODE_TAKEN.format(gtin=barcode.gtin, product=barcode.product.name),
            field="barcodes",
        )
    return gtins


def product_slug_unique(name: str, *, exclude_pk: int | None = None) -> str:
    """A slug for ``name`` that no other product uses (``milk``, ``milk-2``, ...)."""
    base = slugify(name)[:200] or "product"
    others = Product.objects.all() if exclude_pk is None else Product.objects.exclude(pk=exclude_pk)
    # A name not taken yet (the usual case) costs one lookup in the slug index. The prefix
    # search below reads every product on SQLite, whose LIKE cannot use the index: a 100,000
    # row import spent most of its time there.
    if not others.filter(slug=base).exists():
        return base
    taken = set(others.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def product_create(
    *,
    name: str,
    price: Decimal,
    stock: int = 0,
    barcodes: Iterable[str] = (),
    category: Category | None = None,
    description: str = "",
    active: bool = True,
) -> Product:
    """Create a product with its barcodes (any GS1 form). Raises ``CatalogError``."""
    gtins = barcodes_normalise(barcodes)
    product = Product.objects.create(
        name=name,
        slug=product_slug_unique(name),
        price=price,
        stock=stock,
        category=category,
        description=description,
        active=active,
    )
    Barcode.objects.bulk_create(Barcode(gtin=gtin, product=product) for gtin in gtins)
    return product


@transaction.atomic
def product_update(
    *, product: Product, barcodes: Iterable[str] | None = None, **fields: object
) -> Product:
    """Change ``fields`` of ``product``; ``barcodes``, when given, replaces its barcode list.

    The slug stays as it was, so links to the product keep working after a rename.
    Raises ``CatalogError``. Past orders keep their own snapshot, so nothing else changes.
    """
    if barcodes is not None:
        gtins = barcodes_normalise(barcodes, product=product)
        product.barcodes.exclude(gtin__in=gtins).delete()
        existing = set(product.barcodes.values_list("gtin", flat=True))
        Barcode.objects.bulk_create(
            Barcode(gtin=gtin, product=product) for gtin in gtins if gtin not in existing
        )
    for name, value in fields.items():
        setattr(product, name, value)
    product.save()
    return product


def product_deactivate(*, product: Product) -> Product:
    """Hide ``product`` from shoppers and sale. Orders keep their history; idempotent."""
    Product.objects.filter(pk=product.pk).update(active=False)
    product.active = False
    return product
