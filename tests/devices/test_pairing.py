"""Pairing: a cart-pass scan makes a device scan into that shopper's cart, one device per cart,
until the cart closes or the pairing ends; a device never touches any other cart."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import IntegrityError, transaction
from django.urls import reverse

from carts.models import Cart, CartLine
from carts.services import cart_close, cart_get_for_user, cart_pass_issue, cart_pass_replace
from devices.admin import MESSAGE_UNPAIRED
from devices.models import Pairing, ScanEvent
from devices.selectors import pairing_get_active
from devices.services import device_pair, device_unpair
from devices.services.scans import (
    DISPLAY_CART_CLOSED,
    DISPLAY_PASS_INVALID,
    DISPLAY_PASS_REVOKED,
    DISPLAY_UNPAIRED,
)
from shopcart.core.qr import qr_png
from tests.devices.support import (
    EAN13,
    EAN13_GTIN,
    b64,
    check_answer,
    client_for_new_device,
    post_json,
    scan_body,
    scan_code,
    scan_pass,
)
from tests.factories import BarcodeFactory

pytestmark = pytest.mark.django_db


def _paired_shopper(device):
    pairing = pairing_get_active(device=device)
    assert pairing is not None
    return pairing.cart.owner


@pytest.fixture
def product(db):
    return BarcodeFactory(gtin=EAN13_GTIN).product


def test_a_photo_of_a_cart_pass_pairs_the_device_with_the_shoppers_open_cart(
    device_client, device, alice
):
    pass_text = cart_pass_issue(user=alice).text

    answer = check_answer(post_json(device_client, scan_body(image=b64(qr_png(pass_text)))))

    assert answer["result"] == "paired"
    assert answer["beep"] == "pair"
    assert answer["display"] == ["Hi Alice", "Ready to scan"]
    assert answer["cart"] == {"items": 0, "total": "0.00"}
    pairing = pairing_get_active(device=device)
    assert pairing is not None
    assert pairing.cart == cart_get_for_user(user=alice)
    assert pairing.cart.owner == alice


def test_pairing_creates_the_shoppers_cart_when_there_is_none(device_client, device, alice):
    assert not Cart.objects.filter(owner=alice).exists()

    scan_pass(device_client, cart_pass_issue(user=alice).text)

    assert _paired_shopper(device) == alice


def test_the_pass_text_is_not_logged(device_client, alice):
    scan_pass(device_client, cart_pass_issue(user=alice).text)

    assert ScanEvent.objects.get().code == ""


def test_a_revoked_pass_answers_not_paired(device_client, device, alice):
    old = cart_pass_issue(user=alice)
    cart_pass_replace(user=alice)

    answer = scan_pass(device_client, old.text)

    assert answer["result"] == "not_paired"
    assert answer["beep"] == "error"
    assert answer["display"] == list(DISPLAY_PASS_REVOKED)
    assert pairing_get_active(device=device) is None


def test_a_forged_pass_answers_not_paired(device_client, device, alice):
    text = cart_pass_issue(user=alice).text
    forged = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")

    answer = scan_pass(device_client, forged)

    assert answer["result"] == "not_paired"
    assert answer["display"] == list(DISPLAY_PASS_INVALID)
    assert pairing_get_active(device=device) is None


def test_a_device_only_ever_touches_its_paired_cart(device_client, device, alice, bob, product):
    _, other_client = client_for_new_device("Cart 2")
    scan_pass(device_client, cart_pass_issue(user=alice).text)
    scan_pass(other_client, cart_pass_issue(user=bob).text)

    scan_code(device_client, EAN13, qty=2)
    scan_code(other_client, EAN13, qty=5)

    alices, bobs = cart_get_for_user(user=alice), cart_get_for_user(user=bob)
    assert CartLine.objects.get(cart=alices).quantity == 2
    assert CartLine.objects.get(cart=bobs).quantity == 5


def test_pairing_a_second_device_with_a_cart_ends_the_first_pairing(
    device_client, device, alice, product
):
    other, other_client = client_for_new_device("Cart 2")
    pass_text = cart_pass_issue(user=alice).text
    scan_pass(device_client, pass_text)

    scan_pass(other_client, pass_text)

    assert pairing_get_active(device=device) is None
    assert _paired_shopper(other) == alice
    assert scan_code(device_client)["result"] == "not_paired"
    assert scan_code(other_client)["result"] == "added"


def test_pairing_with_another_shopper_ends_the_devices_previous_pairing(
    device_client, device, alice, bob, product
):
    scan_pass(device_client, cart_pass_issue(user=alice).text)

    scan_pass(device_client, cart_pass_issue(user=bob).text)

    assert _paired_shopper(device) == bob
    assert Pairing.objects.filter(device=device).count() == 2
    scan_code(device_client)
    assert not CartLine.objects.filter(cart__owner=alice).exists()


def test_pairing_again_with_the_same_cart_keeps_the_pairing(device, alice):
    first = device_pair(device=device, cart_pass=cart_pass_issue(user=alice))

    again = device_pair(device=device, cart_pass=cart_pass_issue(user=alice))

    assert again == first
    assert Pairing.objects.count() == 1


def test_a_closed_cart_answers_cart_closed_and_ends_the_pairing(
    device_client, device, alice, product
):
    cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart
    cart_close(cart=cart)

    answer = scan_code(device_client)

    assert answer["result"] == "cart_closed"
    assert answer["display"] == list(DISPLAY_CART_CLOSED)
    assert pairing_get_active(device=device) is None
    assert not CartLine.objects.exists()
    assert scan_code(device_client)["result"] == "not_paired"


def test_a_cart_being_checked_out_answers_cart_closed_but_stays_paired(
    device_client, device, alice, product
):
    cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart
    Cart.objects.filter(pk=cart.pk).update(status=Cart.Status.CHECKING_OUT)

    assert scan_code(device_client)["result"] == "cart_closed"
    assert pairing_get_active(device=device) is not None


def test_unpairing_ends_the_pairing_and_is_idempotent(device, alice):
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))

    assert device_unpair(device=device) is True
    assert device_unpair(device=device) is False
    assert pairing_get_active(device=device) is None
    assert Pairing.objects.get().ended_at is not None


def test_database_refuses_a_second_active_pairing_per_device_and_per_cart(device, alice, bob):
    pairing = device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    other, _ = client_for_new_device("Cart 2")

    bobs_pass = cart_pass_issue(user=bob)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(device=device, cart=cart_get_for_user(user=bob), cart_pass=bobs_pass)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(device=other, cart=pairing.cart, cart_pass=pairing.cart_pass)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.filter(pk=pairing.pk).update(active=None)  # ended needs ended_at
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.filter(pk=pairing.pk).update(cart_pass=None)  # active needs its pass


def test_the_heartbeat_tells_a_paired_device_whose_cart_it_is(device_client, device, alice):
    heartbeat = {
        "firmware_version": "1.4.2",
        "uptime_seconds": 1,
        "wifi_rssi": -60,
        "free_heap": 1000,
        "queue_depth": 0,
    }
    url = reverse("devices-api:heartbeat")
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))

    answer = device_client.post(url, heartbeat, content_type="application/json").json()

    assert answer["paired"] is True
    assert answer["display"] == ["Cart of Alice", "Scan a product"]
    device_unpair(device=device)
    answer = device_client.post(url, heartbeat, content_type="application/json").json()
    assert (answer["paired"], answer["display"]) == (False, list(DISPLAY_UNPAIRED))


def test_the_device_list_shows_each_paired_shopper_without_a_query_per_row(
    staff_client, device, alice, bob, django_assert_max_num_queries
):
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    for number in range(2, 6):
        other, _ = client_for_new_device(f"Cart {number}")
        if number == 2:
            device_pair(device=other, cart_pass=cart_pass_issue(user=bob))
    url = reverse("admin:devices_device_changelist")
    staff_client.get(url)  # warm the session and permission caches

    with django_assert_max_num_queries(9):
        response = staff_client.get(url)

    shoppers = {row.name: row.paired_shopper_email for row in response.context["cl"].result_list}
    assert shoppers == {
        "Cart 1": alice.email,
        "Cart 2": bob.email,
        "Cart 3": None,
        "Cart 4": None,
        "Cart 5": None,
    }
    assert alice.email in response.content.decode()


def test_staff_end_a_pairing_from_the_device_list(staff_client, device, alice):
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))
    data = {"action": "end_pairing", ACTION_CHECKBOX_NAME: [device.pk]}

    response = staff_client.post(reverse("admin:devices_device_changelist"), data, follow=True)

    assert pairing_get_active(device=device) is None
    assert MESSAGE_UNPAIRED.format(count=1) in [str(m) for m in response.context["messages"]]
