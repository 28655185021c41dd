"""only_row: the row of a unique lookup, without the ORDER BY that .first() adds; row_update
and row_insert: the ORM's one-row update() and save() written out."""

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carts.models import Cart
from catalog.models import Product
from devices.models import ScanEvent
from shopcart.core.queries import only_row, row_insert, row_update
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


def test_row_insert_writes_what_save_writes(device):
    answer = {"result": "added", "display": ["+1 Oat milk", "Total 1.49"], "price": "1.49"}
    fields = {"device": device, "body_hash": "ab" * 32, "result": "added", "answer": answer}
    ours = ScanEvent(scan_id=uuid.uuid4(), decode_ms=2.5, **fields)

    with CaptureQueriesContext(connection) as queries:
        row_insert(ours)
    theirs = ScanEvent.objects.create(scan_id=uuid.uuid4(), decode_ms=2.5, **fields)

    assert len(queries.captured_queries) == 1
    assert ours.pk is not None and not ours._state.adding
    columns = ["device", "body_hash", "cart", "result", "code", "status", "answer", "photo"]
    read = ScanEvent.objects.values(*columns, "decode_ms", "created_at", "scan_id")
    ours_row, theirs_row = read.get(pk=ours.pk), read.get(pk=theirs.pk)
    assert {c: ours_row[c] for c in columns} == {c: theirs_row[c] for c in columns}
    assert (ours_row["scan_id"], ours_row["decode_ms"]) == (ours.scan_id, 2.5)
    assert ours_row["created_at"] == ours.created_at
    assert theirs.created_at - ours.created_at < dt.timedelta(seconds=5)


def test_row_insert_raises_integrity_error_as_save_does(device):
    scan_id = uuid.uuid4()
    row_insert(ScanEvent(device=device, scan_id=scan_id, body_hash="a" * 64))

    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(ScanEvent(device=device, scan_id=scan_id, body_hash="b" * 64))
