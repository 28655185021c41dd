"""catalog.instore_labels: in-store price and weight labels, read by the configured country's
layout (biip), and what a pack with such a label costs."""

import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.instore_labels import (
    InstoreLabel,
    InstoreLabelError,
    instore_label_describe,
    instore_label_parse,
    instore_label_price,
)
from catalog.models import Product
from catalog.selectors import product_get_by_instore_label
from tests.catalog.support import add_form_data
from tests.factories import BarcodeFactory, ProductFactory
from tests.settings_probe import BASE_DIR, settings_refusal

# Germany: 28 weight (g), 22 price (cents), 25 count; a check digit for the value in position 7.
DE_WEIGHT_412 = "2812345004128"  # 0.412 kg of item 1234
DE_WEIGHT_250 = "2812343002508"  # 0.250 kg of the same item
DE_ITEM_WEIGHED = "02812340000002"  # both, zeroed: the barcode the store registers
DE_PRICE_349 = "2212346003494"
DE_PRICE_ZERO = "2212340000000"
DE_ITEM_PRICED = "02212340000000"
DE_COUNT_6 = "2512342000061"
DE_WEIGHT_BAD_CHECK = "2812346004127"  # valid EAN-13, wrong weight check digit
# Sweden: 20 price (2 decimals), 21 price (1 decimal), 23 weight (g); no value check digit.
SE_PRICE_349 = "2012345603493"
SE_PRICE_349_ONE_DECIMAL = "2112345603490"
SE_WEIGHT_412 = "2312345604125"
# Great Britain: 20 price, with a value check digit.
GB_PRICE_349 = "2012345703490"
GB_PRICE_BAD_CHECK = "2012345803497"


def gtin14(code: str) -> str:
    return code.zfill(14)


# (region, label, item GTIN-14, embedded price, embedded weight)
LABELS = [
    pytest.param("de", DE_WEIGHT_412, DE_ITEM_WEIGHED, None, "0.412", id="de-weight"),
    pytest.param("de", DE_WEIGHT_250, DE_ITEM_WEIGHED, None, "0.250", id="de-weight-2"),
    pytest.param("de", DE_PRICE_349, DE_ITEM_PRICED, "3.49", None, id="de-price"),
    pytest.param("de", gtin14(DE_PRICE_349), DE_ITEM_PRICED, "3.49", None, id="de-price-gtin14"),
    pytest.param("se", SE_PRICE_349, "02012345600003", "3.49", None, id="se-price"),
    pytest.param("se", SE_PRICE_349_ONE_DECIMAL, "02112345600000", "34.9", None, id="se-price-21"),
    pytest.param("se", SE_WEIGHT_412, "02312345600004", None, "0.412", id="se-weight"),
    pytest.param("gb", GB_PRICE_349, "02012345000001", "3.49", None, id="gb-price"),
]


@pytest.mark.parametrize(("region", "code", "item_gtin", "price", "weight"), LABELS)
def test_a_label_gives_its_item_and_its_price_or_weight(
    settings, region, code, item_gtin, price, weight
):
    settings.INSTORE_LABEL_REGION = region

    label = instore_label_parse(gtin14(code))

    assert label == InstoreLabel(
        gtin=gtin14(code),
        item_gtin=item_gtin,
        price=Decimal(price) if price else None,
        weight=Decimal(weight) if weight else None,
    )


@pytest.mark.parametrize(
    ("region", "code"),
    [
        pytest.param("de", DE_WEIGHT_BAD_CHECK, id="de-weight"),
        pytest.param("gb", GB_PRICE_BAD_CHECK, id="gb-price"),
    ],
)
def test_a_label_whose_value_check_digit_is_wrong_is_refused(settings, region, code):
    settings.INSTORE_LABEL_REGION = region

    with pytest.raises(InstoreLabelError):
        instore_label_parse(gtin14(code))


@pytest.mark.parametrize(
    ("region", "code"),
    [
        pytest.param("", DE_WEIGHT_412, id="labels-off"),
        pytest.param("de", "04006381333931", id="ordinary-gtin"),
        pytest.param("de", "02012345678903", id="prefix-without-layout-in-de"),
        pytest.param("gb", SE_WEIGHT_412, id="prefix-without-layout-in-gb"),
        pytest.param("de", "00000002345673", id="company-rcn-8"),
    ],
)
def test_codes_that_are_no_label_for_the_store_parse_to_none(settings, region, code):
    settings.INSTORE_LABEL_REGION = region

    assert instore_label_parse(gtin14(code)) is None


def test_a_count_label_is_a_label_with_neither_price_nor_weight(settings):
    settings.INSTORE_LABEL_REGION = "de"

    label = instore_label_parse(gtin14(DE_COUNT_6))

    assert label is not None
    assert (label.price, label.weight) == (None, None)


# --- Prices -----------------------------------------------------------------------------------


def label(price: str | None = None, weight: str | None = None) -> InstoreLabel:
    return InstoreLabel(
        gtin="02812345004128",
        item_gtin=DE_ITEM_WEIGHED,
        price=Decimal(price) if price is not None else None,
        weight=Decimal(weight) if weight is not None else None,
    )


BY_KG = Product.SoldBy.KG
EACH = Product.SoldBy.EACH


@pytest.mark.parametrize(
    ("the_label", "sold_by", "price_per_unit", "expected"),
    [
        pytest.param(label(price="3.49"), EACH, "9.99", "3.49", id="price-label"),
        pytest.param(label(price="3.49"), BY_KG, "9.99", "3.49", id="price-label-by-kg"),
        pytest.param(label(price="34.9"), EACH, "9.99", "34.90", id="price-one-decimal"),
        # 0.412 kg x 12.90 = 5.3148 -> 5.31; 0.250 x 12.90 = 3.225 -> 3.23 (half up)
        pytest.param(label(weight="0.412"), BY_KG, "12.90", "5.31", id="weight"),
        pytest.param(label(weight="0.250"), BY_KG, "12.90", "3.23", id="weight-half-up"),
        pytest.param(label(weight="0.412"), EACH, "12.90", None, id="weight-but-sold-each"),
        pytest.param(label(price="0.00"), EACH, "9.99", None, id="zero-price"),
        pytest.param(label(weight="0.000"), BY_KG, "12.90", None, id="zero-weight"),
        pytest.param(label(), EACH, "9.99", None, id="count-label"),
    ],
)
def test_what_a_labelled_pack_costs(the_label, sold_by, price_per_unit, expected):
    product = Product(name="Cheddar", price=Decimal(price_per_unit), sold_by=sold_by)

    price = instore_label_price(the_label, product)

    assert price == (Decimal(expected) if expected else None)


def test_a_weight_label_describes_its_weight(settings):
    settings.INSTORE_LABEL_REGION = "de"

    assert instore_label_describe(gtin14(DE_WEIGHT_250)) == "0.250 kg"
    assert instore_label_describe(gtin14(DE_PRICE_349)) == ""
    assert instore_label_describe(gtin14(DE_WEIGHT_BAD_CHECK)) == ""


# --- Finding the product ----------------------------------------------------------------------


def test_every_label_of_an_item_finds_the_product_registered_with_the_zeroed_code(db, settings):
    settings.INSTORE_LABEL_REGION = "de"
    cheddar = BarcodeFactory(gtin=DE_ITEM_WEIGHED, product=ProductFactory(name="Cheddar")).product
    BarcodeFactory(gtin=DE_ITEM_PRICED)

    for code in (DE_WEIGHT_412, DE_WEIGHT_250):
        parsed = instore_label_parse(gtin14(code))
        assert parsed is not None
        assert product_get_by_instore_label(label=parsed) == cheddar


def test_a_label_of_an_item_the_store_has_not_registered_finds_nothing(db, settings):
    settings.INSTORE_LABEL_REGION = "de"
    parsed = instore_label_parse(gtin14(DE_WEIGHT_412))
    assert parsed is not None

    assert product_get_by_instore_label(label=parsed) is None


# --- Settings ---------------------------------------------------------------------------------


def settings_value(name: str, **environment: str) -> str:
    """``settings.<name>`` as a fresh interpreter with only ``environment`` loads it."""
    probe = (
        "import environ; environ.Env.read_env = staticmethod(lambda *a, **k: None)\n"
        f"from django.conf import settings; print(repr(settings.{name}))"
    )
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "shopcart.settings"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", probe],
        cwd=BASE_DIR,
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_labels_are_off_by_default_and_the_region_is_read_in_any_case():
    assert settings_value("INSTORE_LABEL_REGION") == "''"
    assert settings_value("INSTORE_LABEL_REGION", INSTORE_LABEL_REGION=" DE ") == "'de'"


def test_an_unknown_region_refuses_to_start():
    stderr = settings_refusal(INSTORE_LABEL_REGION="fr")

    assert "INSTORE_LABEL_REGION='fr' is not known" in stderr
    assert "de, dk, ee, fi, gb, lt, lv, no, se" in stderr


# --- Products sold by weight ------------------------------------------------------------------


def test_the_product_page_and_list_say_a_price_is_per_kg(client, db):
    cheddar = ProductFactory(name="Cheddar", price=Decimal("12.90"), sold_by=BY_KG)
    ProductFactory(name="Oat milk", price=Decimal("1.99"))

    page = client.get(cheddar.get_absolute_url()).content.decode()
    listing = client.get(reverse("catalog:home")).content.decode()

    assert "€12.90 / kg" in page
    assert "€12.90 / kg" in listing
    assert "€1.99 / kg" not in listing


def test_staff_set_a_product_as_sold_by_the_kg_in_the_admin(staff_client):
    add = reverse("admin:catalog_product_add")
    assert 'name="sold_by"' in staff_client.get(add).content.decode()

    response = staff_client.post(add, add_form_data(sold_by="kg"))

    assert response.status_code == 302
    assert Product.objects.get(slug="oat-milk").sold_by == BY_KG


def test_a_product_form_without_sold_by_adds_a_product_sold_by_the_piece(staff_client):
    response = staff_client.post(reverse("admin:catalog_product_add"), add_form_data())

    assert response.status_code == 302
    assert Product.objects.get(slug="oat-milk").sold_by == EACH
