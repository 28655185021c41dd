"""Catalog writes: products with barcodes in any GS1 form, stored canonically."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.barcodes import ERROR_CHECK_DIGIT
from catalog.models import Barcode, Product
from catalog.services import (
    ERROR_BARCODE_REPEATED,
    ERROR_BARCODE_TAKEN,
    CatalogError,
    product_create,
    product_deactivate,
    product_slug_unique,
    product_update,
)
from tests.factories import BarcodeFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_product_create_stores_barcodes_as_gtin14():
    product = product_create(
        name="Oat milk", price=Decimal("1.99"), stock=4, barcodes=["036602301467", "04252614"]
    )

    assert sorted(product.barcodes.values_list("gtin", flat=True)) == [
        "00036602301467",
        "00042100005264",
    ]
    assert product.slug == "oat-milk"
    assert product.price == Decimal("1.99")


def test_product_create_with_bad_barcode_creates_nothing():
    with pytest.raises(CatalogError) as excinfo:
        product_create(name="Oat milk", price=Decimal("1.99"), barcodes=["4006381333932"])

    assert str(excinfo.value) == ERROR_CHECK_DIGIT.format(value="4006381333932", expected=1)
    assert excinfo.value.field == "barcodes"
    assert not Product.objects.exists()


def test_product_create_refuses_a_barcode_of_another_product_in_any_form():
    other = BarcodeFactory(gtin="00036602301467").product

    with pytest.raises(CatalogError) as excinfo:
        product_create(name="Copy", price=Decimal("1"), barcodes=["0036602301467"])

    assert str(excinfo.value) == ERROR_BARCODE_TAKEN.format(
        gtin="00036602301467", product=other.name
    )
    assert Product.objects.count() == 1


def test_product_create_refuses_the_same_code_twice_in_different_forms():
    with pytest.raises(CatalogError) as excinfo:
        product_create(name="Twice", price=Decimal("1"), barcodes=["036602301467", "0036602301467"])

    assert str(excinfo.value) == ERROR_BARCODE_REPEATED.format(gtin="00036602301467")


def test_slugs_are_unique():
    ProductFactory(name="Milk", slug="milk")
    ProductFactory(name="Milk", slug="milk-2")

    assert product_slug_unique("Milk") == "milk-3"


def test_product_update_replaces_barcodes_and_keeps_the_slug():
    product = product_create(name="Tea", price=Decimal("3"), barcodes=["4006381333931"])

    product_update(product=product, barcodes=["96385074"], name="Green tea", price=Decimal("3.50"))

    product.refresh_from_db()
    assert list(product.barcodes.values_list("gtin", flat=True)) == ["00000096385074"]
    assert (product.name, product.slug, product.price) == ("Green tea", "tea", Decimal("3.50"))
    assert not Barcode.objects.filter(gtin="04006381333931").exists()


def test_product_update_may_keep_its_own_barcodes():
    product = product_create(name="Tea", price=Decimal("3"), barcodes=["4006381333931"])

    product_update(product=product, barcodes=["04006381333931", "96385074"])

    assert product.barcodes.count() == 2


def test_product_deactivate_keeps_the_row_and_is_idempotent():
    product = ProductFactory()

    product_deactivate(product=product)
    product_deactivate(product=product)

    product.refresh_from_db()
    assert product.active is False


@pytest.mark.parametrize(("price", "stock"), [(Decimal("-0.01"), 1), (Decimal("1"), -1)])
def test_database_refuses_negative_price_or_stock(price, stock):
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(price=price, stock=stock)


def test_database_refuses_a_barcode_that_is_not_14_characters():
    product = ProductFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Barcode.objects.create(product=product, gtin="4006381333931")
