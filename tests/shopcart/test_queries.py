"""only_row: the row of a unique lookup, without the ORDER BY that .first() adds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from shopcart.core.queries import only_row
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_only_row_finds_the_row_without_ordering():
    product = ProductFactory()

    with CaptureQueriesContext(connection) as queries:
        found = only_row(Product.objects.filter(slug=product.slug))

    assert found == product
    assert "ORDER BY" not in queries.captured_queries[0]["sql"].upper()


def test_only_row_is_none_when_nothing_matches():
    assert only_row(Product.objects.filter(slug="no-such-product")) is None
