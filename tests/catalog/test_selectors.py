"""Catalog reads: search by name or by any barcode form, barcode lookup."""

from decimal import Decimal

import pytest

from catalog.models import Product
from catalog.selectors import (
    product_get_by_barcode,
    product_get_by_gtin,
    product_get_for_shoppers,
    product_search,
)
from tests.factories import BarcodeFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_search_by_upc_a_finds_product_stored_from_ean13():
    product = BarcodeFactory(gtin="00036602301467").product
    ProductFactory()

    assert list(product_search(query="036602301467")) == [product]
    assert list(product_search(query="0036602301467")) == [product]


def test_search_by_upc_e_finds_the_expanded_gtin():
    product = BarcodeFactory(gtin="00042100005264").product

    assert list(product_search(query="04252614")) == [product]


def test_search_by_name_is_case_insensitive_and_skips_inactive():
    milk = ProductFactory(name="Whole milk")
    ProductFactory(name="Skimmed milk", active=False)
    ProductFactory(name="Bread")

    assert list(product_search(query="MILK")) == [milk]
    assert len(product_search(query="milk", include_inactive=True)) == 2


def test_search_filters_by_category():
    dairy = CategoryFactory(slug="dairy")
    milk = ProductFactory(name="Milk", category=dairy)
    ProductFactory(name="Bread")

    assert list(product_search(category_slug="dairy")) == [milk]


def test_search_lists_a_product_with_several_matching_barcodes_once():
    product = ProductFactory(name="12345670 bundle")
    BarcodeFactory(product=product, gtin="00000012345670")
    BarcodeFactory(product=product, gtin="00123456000070")

    assert list(product_search(query="12345670")) == [product]


def test_get_by_barcode_uses_symbology_when_given():
    ean8 = BarcodeFactory(gtin="00000012345670").product
    upce = BarcodeFactory(gtin="00123456000070").product

    assert product_get_by_barcode(text="12345670", symbology="EAN8") == ean8
    assert product_get_by_barcode(text="12345670", symbology="UPCE") == upce
    assert product_get_by_barcode(text="4006381333932") is None
    assert product_get_by_barcode(text="4006381333932", symbology="EAN13") is None


def test_product_page_lookup_hides_inactive_products():
    ProductFactory(slug="gone", active=False)

    assert product_get_for_shoppers(slug="gone") is None


def test_product_by_gtin_is_the_whole_product_the_orm_reads(django_assert_num_queries):
    product = BarcodeFactory(gtin="04006381333931", product__price=Decimal("1234.50")).product
    BarcodeFactory(product=product, gtin="00036602301467")
    BarcodeFactory(gtin="00042100005264")
    expected = Product.objects.get(pk=product.pk)

    with django_assert_num_queries(1):
        found = product_get_by_gtin(gtin="04006381333931")

    assert found is not None
    assert found.get_deferred_fields() == set()
    for field in Product._meta.concrete_fields:
        read, orm = getattr(found, field.attname), getattr(expected, field.attname)
        assert (read, type(read)) == (orm, type(orm)), field.name
    assert str(found.price) == "1234.50"


def test_product_by_gtin_is_none_for_a_gtin_no_product_has():
    BarcodeFactory(gtin="04006381333931")

    assert product_get_by_gtin(gtin="04006381333948") is None
