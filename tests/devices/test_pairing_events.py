"""Pairing and ending a pairing move the cart's pairing count and tell the cart's page (after
commit), and leave its contents' version alone (a pay button carries it)."""

import pytest

from carts.events import CartStamp
from carts.models import Cart
from carts.services import cart_get_for_user, cart_pass_issue, cart_pass_replace
from devices.services import cart_pairing_end, device_pair, device_register, device_unpair

pytestmark = pytest.mark.django_db


@pytest.fixture
def cart07(db):
    device, _key = device_register(name="Cart 07")
    return device


def stamp(cart: Cart) -> CartStamp:
    cart.refresh_from_db()
    return CartStamp(cart.version, cart.scan_count, cart.pairing_count)


def test_pairing_tells_the_carts_page_after_commit(
    alice, cart07, local_broker, django_capture_on_commit_callbacks
):
    cart = cart_get_for_user(user=alice)
    before = stamp(cart)
    listener = local_broker.subscribe(cart.pk)

    with django_capture_on_commit_callbacks(execute=False) as pending:
        device_pair(device=cart07, cart_pass=cart_pass_issue(user=alice))
    assert listener.get(timeout=0) is None  # nothing before the commit
    for callback in pending:
        callback()

    after = CartStamp(before.version, before.scans, before.pairings + 1)
    assert stamp(cart) == after
    assert listener.get(timeout=1) == after


def test_pairing_again_with_the_same_pass_changes_nothing(
    alice, cart07, local_broker, django_capture_on_commit_callbacks
):
    cart_pass = cart_pass_issue(user=alice)
    cart = device_pair(device=cart07, cart_pass=cart_pass).cart
    before = stamp(cart)

    with django_capture_on_commit_callbacks(execute=True) as published:
        device_pair(device=cart07, cart_pass=cart_pass)

    assert stamp(cart) == before
    assert published == []


@pytest.mark.parametrize("end", ["device", "cart"])
def test_ending_a_pairing_tells_the_carts_page(
    alice, cart07, local_broker, django_capture_on_commit_callbacks, end
):
    cart = device_pair(device=cart07, cart_pass=cart_pass_issue(user=alice)).cart
    before = stamp(cart)
    listener = local_broker.subscribe(cart.pk)

    with django_capture_on_commit_callbacks(execute=True):
        ended = device_unpair(device=cart07) if end == "device" else cart_pairing_end(cart=cart)

    assert ended
    after = CartStamp(before.version, before.scans, before.pairings + 1)
    assert stamp(cart) == after
    assert listener.get(timeout=1) == after


def test_a_device_moving_to_another_shoppers_cart_tells_both_pages(
    alice, bob, cart07, local_broker, django_capture_on_commit_callbacks
):
    alices = device_pair(device=cart07, cart_pass=cart_pass_issue(user=alice)).cart
    alice_before = stamp(alices)
    bobs = cart_get_for_user(user=bob)
    alice_listener = local_broker.subscribe(alices.pk)
    bob_listener = local_broker.subscribe(bobs.pk)

    with django_capture_on_commit_callbacks(execute=True):
        device_pair(device=cart07, cart_pass=cart_pass_issue(user=bob))

    assert alice_listener.get(timeout=1) == stamp(alices)
    assert stamp(alices).pairings == alice_before.pairings + 1
    assert bob_listener.get(timeout=1) == stamp(bobs)
    assert stamp(bobs).pairings == 1


def test_replacing_the_pass_tells_the_page_its_pairing_ended(
    alice, cart07, local_broker, django_capture_on_commit_callbacks
):
    cart = device_pair(device=cart07, cart_pass=cart_pass_issue(user=alice)).cart
    before = stamp(cart)
    listener = local_broker.subscribe(cart.pk)

    with django_capture_on_commit_callbacks(execute=True):
        cart_pass_replace(user=alice)

    assert listener.get(timeout=1) == CartStamp(before.version, before.scans, before.pairings + 1)
