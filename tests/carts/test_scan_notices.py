"""The cart's last scan: recorded without moving the version, carried by the live stream and the
fragment's ETag, shown on the cart page while it is fresh."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from carts import scan_notices
from carts.events import CartStamp
from carts.models import Cart
from carts.scan_notices import scan_notice
from carts.services import (
    cart_add_product,
    cart_close,
    cart_get_for_user,
    cart_lock,
    cart_remove_product,
    cart_scan_record,
)

pytestmark = pytest.mark.django_db

EVENTS = reverse("carts:events")
FRAGMENT = reverse("carts:fragment")
CART = reverse("carts:detail")
Outcome = Cart.ScanOutcome


def scan_record(cart: Cart, outcome: str, name: str = "") -> None:
    """What the scan service does for a scan that changed nothing: lock, record, commit."""
    with transaction.atomic():
        cart_scan_record(cart=cart_lock(cart), outcome=Outcome(outcome), product_name=name)


def scanned_ago(cart: Cart, seconds: float) -> None:
    Cart.objects.filter(pk=cart.pk).update(last_scan_at=timezone.now() - timedelta(seconds=seconds))


# --- Recording ------------------------------------------------------------------------------


def test_a_scan_that_changed_nothing_moves_the_scan_count_and_not_the_version(
    alice_cart, local_broker, django_capture_on_commit_callbacks
):
    listener = local_broker.subscribe(alice_cart.pk)

    with django_capture_on_commit_callbacks(execute=True):
        scan_record(alice_cart, "not_in_cart", "Rye bread")

    cart = Cart.objects.get(pk=alice_cart.pk)
    assert cart.version == alice_cart.version
    assert cart.updated_at == alice_cart.updated_at
    assert cart.scan_count == alice_cart.scan_count + 1
    assert (cart.last_scan_outcome, cart.last_scan_product) == ("not_in_cart", "Rye bread")
    assert listener.get(timeout=1) == CartStamp(cart.version, cart.scan_count)


def test_nothing_is_published_before_the_commit_nor_after_a_rollback(alice_cart, local_broker):
    listener = local_broker.subscribe(alice_cart.pk)

    with pytest.raises(RuntimeError), transaction.atomic():
        scan_record(alice_cart, "no_barcode")
        assert listener.get(timeout=0.01) is None
        raise RuntimeError("the scan's insert failed: a retry")

    assert listener.get(timeout=0.05) is None
    assert Cart.objects.get(pk=alice_cart.pk).scan_count == alice_cart.scan_count


def test_a_scanned_addition_records_the_scan_in_the_versions_own_update(
    alice_cart, milk, local_broker, django_capture_on_commit_callbacks
):
    listener = local_broker.subscribe(alice_cart.pk)
    with CaptureQueriesContext(connection) as by_web:
        cart_add_product(cart=alice_cart, product=milk)
    with (
        CaptureQueriesContext(connection) as by_scan,
        django_capture_on_commit_callbacks(execute=True) as published,
    ):
        cart_add_product(cart=alice_cart, product=milk, scanned=True)

    assert len(by_scan) == len(by_web)
    cart = Cart.objects.get(pk=alice_cart.pk)
    assert (cart.version, cart.scan_count) == (alice_cart.version + 2, alice_cart.scan_count + 1)
    assert (cart.last_scan_outcome, cart.last_scan_product) == ("added", "Milk")
    assert len(published) == 1
    assert listener.get(timeout=1) == CartStamp(cart.version, cart.scan_count)


def test_a_scanned_removal_is_recorded_and_a_web_edit_is_not(alice_cart, milk):
    cart_remove_product(cart=alice_cart, product=milk, scanned=True)
    cart_add_product(cart=alice_cart, product=milk)  # the shopper, on the website

    cart = Cart.objects.get(pk=alice_cart.pk)
    assert cart.scan_count == alice_cart.scan_count + 1
    assert (cart.last_scan_outcome, cart.last_scan_product) == ("removed", "Milk")


def test_a_scan_into_a_closed_cart_shows_on_its_shoppers_current_cart_after_commit(
    alice, alice_cart, local_broker, django_capture_on_commit_callbacks
):
    cart_close(cart=alice_cart)
    current = cart_get_for_user(user=alice)
    listener = local_broker.subscribe(current.pk)

    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        scan_record(alice_cart, "cart_closed")
    current.refresh_from_db()
    assert current.scan_count == 0  # not while the scan's transaction holds its locks
    with django_capture_on_commit_callbacks(execute=True):
        for callback in after_commit:
            callback()  # the recording on the current cart; it publishes after its own commit

    current.refresh_from_db()
    assert (current.scan_count, current.last_scan_outcome) == (1, "cart_closed")
    assert current.version == 1
    assert Cart.objects.get(pk=alice_cart.pk).scan_count == alice_cart.scan_count
    assert listener.get(timeout=1) == CartStamp(1, 1)


def test_a_scan_into_a_closed_cart_makes_the_shoppers_next_cart_to_show_it_on(
    alice, alice_cart, local_broker, django_capture_on_commit_callbacks
):
    # Just paid: the page has not made the next cart yet; the notice must wait for it there.
    cart_close(cart=alice_cart)

    with django_capture_on_commit_callbacks(execute=True):
        scan_record(alice_cart, "cart_closed")

    current = Cart.objects.get(owner=alice, current=True)
    assert (current.scan_count, current.last_scan_outcome) == (1, "cart_closed")
    assert Cart.objects.get(pk=alice_cart.pk).scan_count == alice_cart.scan_count


# --- The notice -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "name", "text", "good"),
    [
        ("added", "Braeburn apples", "Added: Braeburn apples", True),
        ("removed", "Braeburn apples", "Removed: Braeburn apples", True),
        ("no_barcode", "", scan_notices.NOTICE_NO_BARCODE, False),
        ("ambiguous", "", scan_notices.NOTICE_AMBIGUOUS, False),
        ("unknown_product", "", scan_notices.NOTICE_UNKNOWN_PRODUCT, False),
        ("not_sold", "Old cola", "Can’t add Old cola — ask staff", False),  # noqa: RUF001
        ("not_in_cart", "Rye bread", "Not in your cart: Rye bread", False),
        ("cart_paying", "", scan_notices.NOTICE_CART_PAYING, False),
        ("cart_closed", "", scan_notices.NOTICE_CART_CLOSED, False),
    ],
)
def test_each_outcome_has_its_notice(alice_cart, outcome, name, text, good):
    scan_record(alice_cart, outcome, name)

    notice = scan_notice(Cart.objects.get(pk=alice_cart.pk))

    assert notice is not None
    assert (notice.text, notice.good) == (text, good)
    assert notice.number == alice_cart.scan_count + 1


def test_the_notice_lasts_while_the_scan_is_fresh(alice_cart):
    scan_record(alice_cart, "no_barcode")
    cart = Cart.objects.get(pk=alice_cart.pk)
    assert cart.last_scan_at is not None
    fresh_until = cart.last_scan_at + timedelta(seconds=scan_notices.FRESH_SECONDS)

    assert scan_notice(cart, now=fresh_until) is not None
    assert scan_notice(cart, now=fresh_until + timedelta(milliseconds=1)) is None
    assert scan_notice(alice_cart) is None  # never scanned
    assert scan_notice(None) is None


# --- The fragment and the page --------------------------------------------------------------


def test_the_fragment_shows_the_notice_while_fresh_and_not_after(alice_client, alice_cart):
    scan_record(alice_cart, "not_in_cart", "Rye bread")

    fresh = alice_client.get(FRAGMENT)
    scanned_ago(alice_cart, scan_notices.FRESH_SECONDS + 1)
    stale = alice_client.get(FRAGMENT)

    assert "Not in your cart: Rye bread" in fresh.text
    assert f'data-scan-notice="{alice_cart.scan_count + 1}"' in fresh.text
    assert f'data-cart-scans="{alice_cart.scan_count + 1}"' in fresh.text
    assert "Rye bread" not in stale.text
    assert "data-scan-notice" not in stale.text


def test_a_scan_that_changed_nothing_moves_the_fragments_etag(alice_client, alice_cart):
    etag = alice_client.get(FRAGMENT)["ETag"]
    assert alice_client.get(FRAGMENT, headers={"If-None-Match": etag}).status_code == 304

    scan_record(alice_cart, "no_barcode")

    changed = alice_client.get(FRAGMENT, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    scans = alice_cart.scan_count + 1
    assert changed["ETag"].startswith(f'W/"cart-{alice_cart.pk}-v{alice_cart.version}-s{scans}-p0-')
    assert f'data-cart-version="{alice_cart.version}"' in changed.text
    assert escape(scan_notices.NOTICE_NO_BARCODE) in changed.text
    again = alice_client.get(FRAGMENT, headers={"If-None-Match": changed["ETag"]})
    assert again.status_code == 304


def test_the_notice_escapes_the_product_name(alice_client, alice_cart):
    scan_record(alice_cart, "not_in_cart", '<img src=x onerror="alert(1)">')

    response = alice_client.get(FRAGMENT)

    assert "<img src=x" not in response.text
    assert "Not in your cart: &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in response.text


def test_the_cart_page_shows_a_fresh_notice_and_never_a_stale_one(alice_client, alice_cart):
    scan_record(alice_cart, "ambiguous")
    assert scan_notices.NOTICE_AMBIGUOUS in alice_client.get(CART).text

    scanned_ago(alice_cart, scan_notices.FRESH_SECONDS + 1)

    assert scan_notices.NOTICE_AMBIGUOUS not in alice_client.get(CART).text


def test_bob_never_sees_alices_scans(bob_client, alice_cart):
    scan_record(alice_cart, "not_in_cart", "Rye bread")

    assert "Rye bread" not in bob_client.get(FRAGMENT).text
    assert "Rye bread" not in bob_client.get(CART).text


# --- The stream -----------------------------------------------------------------------------


def data_of(chunk: bytes) -> str:
    return next(line for line in chunk.decode().splitlines() if line.startswith("data: "))


def test_the_stream_sends_an_event_when_only_the_scan_count_moves(
    alice_client, alice_cart, local_broker, quick_stream, django_capture_on_commit_callbacks
):
    response = alice_client.get(EVENTS)
    stream = iter(response.streaming_content)
    version, scans = alice_cart.version, alice_cart.scan_count
    assert data_of(next(stream)).endswith(
        f'"version": {version}, "scans": {scans}, "pairings": 0}}'
    )

    with django_capture_on_commit_callbacks(execute=True):
        scan_record(alice_cart, "no_barcode")

    assert data_of(next(stream)).endswith(
        f'"version": {version}, "scans": {scans + 1}, "pairings": 0}}'
    )
    response.close()


def test_the_stream_finds_a_scan_no_event_announced(
    alice_client, alice_cart, local_broker, quick_stream
):
    # Recorded in another process: no in-process listener hears it; the heartbeat's read does.
    response = alice_client.get(EVENTS)
    stream = iter(response.streaming_content)
    next(stream)
    Cart.objects.filter(pk=alice_cart.pk).update(scan_count=alice_cart.scan_count + 1)

    assert data_of(next(stream)).endswith(f'"scans": {alice_cart.scan_count + 1}, "pairings": 0}}')
    response.close()
