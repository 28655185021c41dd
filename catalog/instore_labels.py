"""In-store labels: barcodes a store prints itself, with a price or a weight inside.

GS1 leaves the prefixes ``02`` and ``20`` to ``29`` to each country. A scale or a price labeller
prints an EAN-13 that holds an item number and a price or a weight, laid out as that country's
GS1 office says. biip knows the layouts; ``settings.INSTORE_LABEL_REGION`` names the country
(biip's region code: "de", "se", "gb", ...). Empty turns labels off: such codes are then
looked up as ordinary barcodes.

The store registers an item once, as an ordinary barcode of its product: a label of that item
with the price or weight zeroed (biip's ``without_variable_measure``). Every label of the item
finds the product through it, however much each pack weighs or costs.

What a label costs (``instore_label_price``), honestly or not at all:

* a price label: the price printed in it;
* a weight label: the weight times the product's price per kg, rounded to the cent, when the
  product is sold by the kg;
* anything else (a weight label of a product sold by the piece, a zero price or weight, a
  count label): no price. The scan is refused and the shopper asked to see staff, rather than
  charged a price the label does not say.
"""

from dataclasses import dataclass
from decimal import Decimal

from biip import ParseConfig, ParseError
from biip.gtin import Gtin
from biip.rcn import Rcn, RcnRegion, RcnUsage
from django.conf import settings

from catalog.models import Product
from shopcart.core.money import money_round

ERROR_LABEL_CHECK_DIGIT = "The price or weight check digit of label {gtin} is wrong."

REGIONS = tuple(region.value for region in RcnRegion)


class InstoreLabelError(ValueError):
    """The code is an in-store label, but its price or weight does not pass its check digit."""


@dataclass(frozen=True)
class InstoreLabel:
    gtin: str  # the label as scanned, GTIN-14
    item_gtin: str  # the label with its price or weight zeroed: the product's registered barcode
    price: Decimal | None = None  # the price printed in a price label
    weight: Decimal | None = None  # the weight in kg printed in a weight label


def instore_label_parse(gtin: str) -> InstoreLabel | None:
    """The in-store label ``gtin`` (a valid GTIN-14) is, or None when it is none.

    None as well while labels are off, and for prefixes the region gives no layout (an
    ordinary GTIN for the store). Raises ``InstoreLabelError`` when the check digit of the
    embedded price or weight is wrong.
    """
    region = settings.INSTORE_LABEL_REGION
    if not region:
        return None
    try:
        parsed = Gtin.parse(gtin, config=ParseConfig(rcn_region=region))
    except ParseError as exc:
        raise InstoreLabelError(ERROR_LABEL_CHECK_DIGIT.format(gtin=gtin)) from exc
    if not isinstance(parsed, Rcn) or parsed.usage != RcnUsage.GEOGRAPHICAL:
        return None
    if parsed.price is None and parsed.weight is None and parsed.count is None:
        return None  # the region has no layout for this prefix
    return InstoreLabel(
        gtin=parsed.as_gtin_14(),
        item_gtin=parsed.without_variable_measure().as_gtin_14(),
        price=parsed.price,
        weight=parsed.weight,
    )


def instore_label_price(label: InstoreLabel, product: Product) -> Decimal | None:
    """What one item with ``label`` costs, or None when the label cannot say (see above)."""
    if label.price is not None and label.price > 0:
        return money_round(label.price)
    sold_by_kg = product.sold_by == Product.SoldBy.KG
    if label.weight is not None and label.weight > 0 and sold_by_kg:
        return money_round(label.weight * product.price)
    return None


def instore_label_describe(label_code: str) -> str:
    """A cart line's label as shoppers read it: "0.412 kg", or "" (a price label, labels off)."""
    try:
        label = instore_label_parse(label_code)
    except InstoreLabelError:
        return ""
    if label is None or label.weight is None:
        return ""
    return f"{label.weight:.3f} kg"
