"""Reads of the catalog, shaped for the pages and APIs that use them."""

from collections.abc import Collection

from django.db.models import Q

from catalog.barcodes import BarcodeError, gtin_candidates, gtin_normalise
from catalog.instore_labels import InstoreLabel, InstoreLabelError, instore_label_parse
from catalog.models import Barcode, Category, Product, ProductQuerySet


def product_search(
    *, query: str = "", category_slug: str = "", include_inactive: bool = False
) -> ProductQuerySet:
    """Products whose name contains ``query`` or that carry any barcode ``query`` can stand for.

    A barcode may be typed in any GS1 form: the UPC-A finds a product stored from its EAN-13.
    """
    products = Product.objects.select_related("category").prefetch_related("barcodes")
    if not include_inactive:
        products = products.active()
    if category_slug:
        products = products.filter(category__slug=category_slug)
    query = query.strip()
    if query:
        products = products.filter(product_search_condition(query)).distinct()
    return products


def product_search_condition(query: str) -> Q:
    """The name-or-barcode condition behind every product search (shop, admin, API)."""
    condition = Q(name__icontains=query)
    gtins = gtin_candidates(query)
    if gtins:
        condition |= Q(barcodes__gtin__in=gtins)
    return condition


def product_get_for_shoppers(*, slug: str) -> Product | None:
    return (
        Product.objects.active()
        .select_related("category")
        .prefetch_related("barcodes")
        .filter(slug=slug)
        .first()
    )


def product_get_by_barcode(*, text: str, symbology: str | None = None) -> Product | None:
    """The product carrying the barcode ``text`` (any GS1 form), or None.

    With the scanner's ``symbology`` the code has one reading; without it every valid reading
    of the digits is tried.
    """
    if symbology:
        try:
            gtins = [gtin_normalise(text, symbology=symbology).gtin]
        except BarcodeError:
            return None
    else:
        gtins = gtin_candidates(text)
    if not gtins:
        return None
    if len(gtins) == 1:  # a GTIN is on one product at most: nothing to order
        return product_get_by_gtin(gtin=gtins[0])
    return Product.objects.filter(barcodes__gtin__in=gtins).first()


# Written out rather than built by the ORM: every device scan runs it, and compiling
# ``Product.objects.filter(barcodes__gtin=...)`` cost about 0.2 ms of CPU more than this
# (benchmarks/README.md, "Scan CPU"; a test compares the two). Without the category: no
# caller needs it, and on a device scan the join and the extra model cost about as much as
# the look-up itself.
_PRODUCT_BY_GTIN_SQL = """
SELECT product.* FROM {products} product
INNER JOIN {barcodes} barcode ON barcode.product_id = product.id
WHERE barcode.gtin = %s
"""


def product_get_by_gtin(*, gtin: str) -> Product | None:
    """The product whose barcode is the GTIN-14 ``gtin`` (a whole product: every field
    loaded, as the ORM reads it), or None. One query."""
    sql = _PRODUCT_BY_GTIN_SQL.format(
        products=Product._meta.db_table, barcodes=Barcode._meta.db_table
    )
    return next(iter(Product.objects.raw(sql, [gtin])), None)


def barcode_gtins_sold(gtins: Collection[str]) -> set[str]:
    """Which of ``gtins`` (GTIN-14s) are on a product of the catalog, in one indexed look-up.

    An in-store label counts as sold when its item code (price or weight zeroed) is.
    """
    item_of = {gtin: _item_gtin(gtin) for gtin in gtins}
    registered = set(
        Barcode.objects.filter(gtin__in=set(item_of.values())).values_list("gtin", flat=True)
    )
    return {gtin for gtin, item in item_of.items() if item in registered}


def _item_gtin(gtin: str) -> str:
    try:
        label = instore_label_parse(gtin)
    except InstoreLabelError:
        return gtin
    return label.item_gtin if label is not None else gtin


def product_get_by_instore_label(*, label: InstoreLabel) -> Product | None:
    """The product whose registered barcode is ``label`` with its price or weight zeroed."""
    return product_get_by_gtin(gtin=label.item_gtin)


def category_list() -> list[Category]:
    return list(Category.objects.all())
