"""Every scan into a shopper's cart tells their cart page what it came to, through the device API.

A scan that changes nothing moves the cart's scan count (and so the live event and the
fragment's ETag) but never its version; a retried scan changes and publishes nothing again; a
scan with no cart shows nowhere.
"""

import pytest
from django.db import transaction
from django.urls import reverse
from PIL import Image

from carts import events
from carts.events import CartStamp, InProcessBroker
from carts.models import Cart
from carts.services import cart_checkout_begin, cart_close, cart_get_for_user, cart_pass_issue
from catalog.models import Product
from devices.services import device_pair
from devices.services.scans import (
    scan_outcome_show,
)
from tests.devices.support import (
    EAN13,
    EAN13_GTIN,
    OTHER_GTIN,
    b64,
    check_answer,
    encoded,
    post_json,
    scan_body,
    scan_code,
    two_codes_photo,
)
from tests.factories import BarcodeFactory, ProductFactory

pytestmark = pytest.mark.django_db

CHECKOUT = reverse("orders:checkout")
UNKNOWN_EAN13 = "5901234123457"  # a valid code the catalog lacks
BAD_CHECK_DIGIT = EAN13[:-1] + "2"


@pytest.fixture
def product(db):
    barcode = BarcodeFactory(gtin=EAN13_GTIN, product=ProductFactory(name="Oat milk 1 l"))
    return barcode.product


@pytest.fixture
def alice_cart(alice, device):
    return device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart


@pytest.fixture
def broker(monkeypatch):
    broker = InProcessBroker()
    monkeypatch.setattr(events, "broker", lambda: broker)
    return broker


def stamp(cart: Cart) -> CartStamp:
    cart.refresh_from_db()
    return CartStamp(cart.version, cart.scan_count, cart.pairing_count)


@pytest.mark.parametrize(
    ("setup", "code", "mode", "result", "outcome", "name"),
    [
        (None, BAD_CHECK_DIGIT, "add", "no_barcode", "no_barcode", ""),
        (None, UNKNOWN_EAN13, "add", "unknown_product", "unknown_product", ""),
        (None, EAN13, "remove", "not_in_cart", "not_in_cart", "Oat milk 1 l"),
        ("not_sold", EAN13, "add", "unknown_product", "not_sold", "Oat milk 1 l"),
    ],
)
def test_a_scan_that_changes_nothing_is_shown_without_moving_the_version(
    device_client,
    alice_cart,
    product,
    broker,
    django_capture_on_commit_callbacks,
    setup,
    code,
    mode,
    result,
    outcome,
    name,
):
    if setup == "not_sold":
        Product.objects.filter(pk=product.pk).update(active=False)
    before = stamp(alice_cart)
    listener = broker.subscribe(alice_cart.pk)

    with django_capture_on_commit_callbacks(execute=True) as published:
        assert scan_code(device_client, code, mode=mode)["result"] == result

    after = stamp(alice_cart)
    assert after == CartStamp(before.version, before.scans + 1, before.pairings)
    assert (alice_cart.last_scan_outcome, alice_cart.last_scan_product) == (outcome, name)
    assert len(published) == 1
    assert listener.get(timeout=1) == after


def test_a_photo_without_a_barcode_is_shown_as_not_read(device_client, alice_cart, broker):
    blank = encoded(Image.new("L", (320, 240), "white"))
    before = stamp(alice_cart)

    check_answer(post_json(device_client, scan_body(image=b64(blank))))

    assert stamp(alice_cart) == CartStamp(before.version, before.scans + 1, before.pairings)
    assert alice_cart.last_scan_outcome == "no_barcode"


@pytest.mark.parametrize(("mode", "outcome"), [("add", "added"), ("remove", "removed")])
def test_an_addition_or_removal_is_shown_with_one_event(
    device_client, alice_cart, product, broker, django_capture_on_commit_callbacks, mode, outcome
):
    scan_code(device_client)  # one in the cart, so that it can be removed
    before = stamp(alice_cart)
    listener = broker.subscribe(alice_cart.pk)

    with django_capture_on_commit_callbacks(execute=True) as published:
        assert scan_code(device_client, mode=mode)["result"] == outcome

    after = stamp(alice_cart)
    assert after == CartStamp(before.version + 1, before.scans + 1, before.pairings)
    assert (alice_cart.last_scan_outcome, alice_cart.last_scan_product) == (outcome, "Oat milk 1 l")
    assert len(published) == 1
    assert listener.get(timeout=1) == after


def test_a_retried_scan_publishes_nothing_and_leaves_the_marker(
    device_client, alice_cart, product, broker, django_capture_on_commit_callbacks
):
    body = scan_body(code=BAD_CHECK_DIGIT, symbology="EAN13")
    check_answer(post_json(device_client, body), 201)
    after_first = stamp(alice_cart)
    recorded_at = alice_cart.last_scan_at
    listener = broker.subscribe(alice_cart.pk)

    with django_capture_on_commit_callbacks(execute=True) as published:
        check_answer(post_json(device_client, body), 200)

    assert not published
    assert listener.get(timeout=0.05) is None
    assert stamp(alice_cart) == after_first
    assert alice_cart.last_scan_at == recorded_at


def test_a_retried_addition_publishes_nothing_again(
    device_client, alice_cart, product, broker, django_capture_on_commit_callbacks
):
    body = scan_body(code=EAN13, symbology="EAN13")
    check_answer(post_json(device_client, body), 201)
    after_first = stamp(alice_cart)

    with django_capture_on_commit_callbacks(execute=True) as published:
        check_answer(post_json(device_client, body), 200)

    assert not published
    assert stamp(alice_cart) == after_first


def test_an_unpaired_device_shows_nothing_anywhere(
    device_client, alice, product, broker, django_capture_on_commit_callbacks
):
    cart = cart_get_for_user(user=alice)

    with django_capture_on_commit_callbacks(execute=True) as published:
        assert scan_code(device_client, BAD_CHECK_DIGIT)["result"] == "not_paired"

    assert not published
    assert not Cart.objects.filter(scan_count__gt=0).exists()
    assert stamp(cart) == CartStamp(1, 0)


def test_a_scan_while_paying_is_shown_and_the_payment_page_still_pays(
    device_client, alice_client, alice_cart, product
):
    scan_code(device_client)
    alice_client.post(CHECKOUT, {"version": stamp(alice_cart).version})  # pays: checking out
    alice_cart.refresh_from_db()
    assert alice_cart.status == Cart.Status.CHECKING_OUT
    before = stamp(alice_cart)

    assert scan_code(device_client)["result"] == "cart_closed"

    assert stamp(alice_cart) == CartStamp(before.version, before.scans + 1, before.pairings)
    assert alice_cart.last_scan_outcome == "cart_paying"
    # "Continue to payment" carries the version the page shows: not refused after the scan.
    response = alice_client.post(CHECKOUT, {"version": before.version})
    assert response.status_code == 302


def test_a_scan_into_a_paid_cart_is_shown_on_the_shoppers_new_cart(
    device_client, alice, alice_cart, product, broker, django_capture_on_commit_callbacks
):
    scan_code(device_client)
    cart_checkout_begin(cart=alice_cart)
    cart_close(cart=alice_cart)
    new_cart = cart_get_for_user(user=alice)
    closed_before = stamp(alice_cart)

    with django_capture_on_commit_callbacks(execute=True):
        assert scan_code(device_client)["result"] == "cart_closed"

    # The closed cart's contents and scans stay; its pairing ended (its pairing count moved).
    assert stamp(alice_cart)[:2] == closed_before[:2]
    assert stamp(new_cart) == CartStamp(1, 1)
    assert new_cart.last_scan_outcome == "cart_closed"


def test_a_photo_with_two_codes_is_shown_as_two_codes_seen(
    device_client, alice_cart, broker, django_capture_on_commit_callbacks
):
    BarcodeFactory(gtin=EAN13_GTIN)
    BarcodeFactory(gtin=OTHER_GTIN)  # both sold: the photo cannot say which
    before = stamp(alice_cart)
    listener = broker.subscribe(alice_cart.pk)

    with django_capture_on_commit_callbacks(execute=True):
        body = scan_body(image=b64(two_codes_photo()))
        assert check_answer(post_json(device_client, body))["result"] == "ambiguous"

    assert stamp(alice_cart) == CartStamp(before.version, before.scans + 1, before.pairings)
    assert alice_cart.last_scan_outcome == "ambiguous"
    assert listener.get(timeout=1) == stamp(alice_cart)


@pytest.mark.parametrize("result", ["added", "removed", "paired", "not_paired"])
def test_outcomes_recorded_elsewhere_or_without_a_page_are_not_recorded_again(
    alice_cart, result, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as published, transaction.atomic():
        cart = Cart.objects.select_for_update().get(pk=alice_cart.pk)
        scan_outcome_show(cart=cart, answer={"result": result, "product": None})

    assert not published
    assert stamp(alice_cart).scans == 0


def test_a_scan_that_changes_nothing_costs_one_update_more_than_before(
    device_client, alice_cart, product, django_assert_max_num_queries
):
    scan_code(device_client, BAD_CHECK_DIGIT)  # the device was seen just now: no write of that
    # Device, BEGIN, cart and pairing locked, the lines for the answer, the scan's notice on
    # the cart, the scan stored with its answer, COMMIT (an addition's bound stays 11).
    with django_assert_max_num_queries(8):
        assert scan_code(device_client, BAD_CHECK_DIGIT)["result"] == "no_barcode"
