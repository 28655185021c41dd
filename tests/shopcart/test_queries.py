"""only_row: the row of a unique lookup, without the ORDER BY that .first() adds; row_update:
the ORM's one-row update() written out."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carts.models import Cart
from catalog.models import Product
from shopcart.core.queries import only_row, row_update
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_only_row_finds_the_row_without_ordering():
    product = ProductFactory()

    with CaptureQueriesContext(connection) as queries:
        found = only_row(Product.objects.filter(slug=product.slug))

    assert found == product
    assert "ORDER BY" not in queries.captured_queries[0]["sql"].upper()


def test_only_row_is_none_when_nothing_matches():
    assert only_row(Product.objects.filter(slug="no-such-product")) is None


def test_row_update_writes_what_the_orm_update_writes():
    ours, theirs = (Cart.objects.create(owner=UserFactory()) for _ in range(2))
    at = timezone.now()
    values = {"last_scan_outcome": "added", "last_scan_product": "Oat milk", "last_scan_at": at}

    with CaptureQueriesContext(connection) as queries:
        matched = row_update(Cart, ours.pk, values=values, increments=("version", "scan_count"))
    Cart.objects.filter(pk=theirs.pk).update(
        **values, version=F("version") + 1, scan_count=F("scan_count") + 1
    )

    assert (matched, len(queries.captured_queries)) == (1, 1)
    columns = ["version", "scan_count", "last_scan_outcome", "last_scan_product", "last_scan_at"]
    ours_now = Cart.objects.values(*columns).get(pk=ours.pk)
    assert ours_now == Cart.objects.values(*columns).get(pk=theirs.pk)
    assert ours_now["last_scan_at"] == at
    assert row_update(Cart, 0, values={"last_scan_product": "x"}) == 0
