"""One cart state, pushed: the live event's stamp moves with every part of the cart's state the
page shows, and the cart block (what an event or a poll fetches) renders each part.

Pairing and payment changes move the stamp too (``tests/devices/test_pairing_events.py`` for
the pairing services); here: the event payload, and the block in each state.
"""

import json
import re

import pytest
from django.urls import reverse

from carts.events import CartStamp
from carts.live import cart_event
from carts.models import Cart
from carts.selectors import EDIT_BLOCK_PAYING, cart_edit_block
from carts.services import cart_pass_issue
from devices.services import device_pair, device_register
from orders.services import order_mark_paid, order_place
from orders.services.payments import order_payment_start

pytestmark = pytest.mark.django_db

CART = reverse("carts:detail")
FRAGMENT = reverse("carts:fragment")
FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}


# --- The event payload --------------------------------------------------------------------------


def test_an_event_carries_the_whole_stamp_and_the_cart():
    event = cart_event(12, CartStamp(7, 3, 2))

    assert event.startswith("data: ") and event.endswith("\n\n")
    assert json.loads(event.removeprefix("data: ")) == {
        "cart": 12,
        "version": 7,
        "scans": 3,
        "pairings": 2,
    }


def test_a_stamp_with_pairings_goes_through_redis_as_text_and_back():
    stamp = CartStamp(7, 3, 2)

    assert stamp.text() == "7:3:2"
    assert CartStamp.parse(b"7:3:2") == stamp
    assert CartStamp.parse("7:3") == CartStamp(7, 3, 0)  # a node from before pairing counts


def test_the_newest_stamp_is_the_greatest_of_each_counter_pairings_included():
    assert CartStamp(5, 1, 0).newest(CartStamp(4, 1, 2)) == CartStamp(5, 1, 2)


def test_the_stream_sends_an_event_when_only_the_pairing_moves(
    alice, alice_client, alice_cart, local_broker, django_capture_on_commit_callbacks
):
    device, _key = device_register(name="Cart 07")
    response = alice_client.get(reverse("carts:events"))
    stream = iter(response.streaming_content)
    first = json.loads(next(stream).decode().split("data: ", 1)[1])

    with django_capture_on_commit_callbacks(execute=True):
        device_pair(device=device, cart_pass=cart_pass_issue(user=alice))

    heard = json.loads(next(stream).decode().removeprefix("data: "))
    assert first["pairings"] == 0
    assert heard == {**first, "pairings": 1}  # contents (version) and scans unchanged
    response.close()


def tag_of(html: str, element_id: str) -> str:
    """The opening tag of the element ``element_id`` in ``html``."""
    found = re.search(rf'<[^<>]*\bid="{re.escape(element_id)}"[^<>]*>', html)
    assert found, f"no #{element_id}"
    return found.group(0)


def test_the_stream_sends_an_event_when_payment_begins_and_when_the_paid_cart_closes(
    alice, alice_client, alice_cart, local_broker, django_capture_on_commit_callbacks
):
    response = alice_client.get(reverse("carts:events"))
    stream = iter(response.streaming_content)
    first = json.loads(next(stream).decode().split("data: ", 1)[1])

    with django_capture_on_commit_callbacks(execute=True):
        order = order_place(cart=alice_cart, user=alice)
    paying = json.loads(next(stream).decode().removeprefix("data: "))
    payment = order_payment_start(order=order, success_url="/s/", cancel_url="/c/")
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order=order, payment=payment)
    closed = json.loads(next(stream).decode().removeprefix("data: "))

    assert paying["version"] > first["version"]
    assert closed["version"] > paying["version"]
    assert Cart.objects.get(pk=alice_cart.pk).version == closed["version"]
    response.close()


# --- The block in each state ---------------------------------------------------------------------


def test_the_block_names_the_device_scanning_into_the_cart_and_offers_to_end_it(
    alice, alice_client, alice_cart
):
    device, _key = device_register(name="Cart 07")
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))

    block = alice_client.get(FRAGMENT, **FETCH).content.decode()

    assert "Scanning with <strong>Cart 07</strong>" in block
    assert reverse("devices:pairing_end") in block
    assert 'data-cart-pairings="1"' in block


def test_a_polling_page_gets_the_pairing_its_etag_no_longer_matches(
    alice, alice_client, alice_cart
):
    etag = alice_client.get(FRAGMENT, **FETCH)["ETag"]
    assert alice_client.get(FRAGMENT, HTTP_IF_NONE_MATCH=etag, **FETCH).status_code == 304
    device, _key = device_register(name="Cart 07")

    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))

    answer = alice_client.get(FRAGMENT, HTTP_IF_NONE_MATCH=etag, **FETCH)
    assert answer.status_code == 200
    assert "Scanning with" in answer.content.decode()


def test_while_paying_every_edit_is_disabled_with_the_reason_beside_it(
    alice, alice_client, alice_cart, milk
):
    order_place(cart=alice_cart, user=alice)

    block = alice_client.get(FRAGMENT, **FETCH).content.decode()

    assert EDIT_BLOCK_PAYING in block
    assert 'data-cart-status="checking_out"' in block
    line = alice_cart.lines.get()
    controls = ["more", "less", "delete", "quantity"]
    for control in [f"line-{line.pk}-{name}" for name in controls] + ["coupon-code"]:
        tag = tag_of(block, control)
        assert re.search(r"\sdisabled\s", tag), control
        assert 'aria-describedby="cart-edit-block"' in tag, control
    assert 'id="cart-edit-block"' in block


def test_cancelling_the_payment_moves_the_stamp_and_the_edits_come_back(
    alice, alice_client, alice_cart
):
    from orders.services import order_cancel

    order = order_place(cart=alice_cart, user=alice)
    paying = alice_client.get(FRAGMENT, **FETCH)
    assert EDIT_BLOCK_PAYING in paying.content.decode()

    order_cancel(order=order)

    again = alice_client.get(FRAGMENT, HTTP_IF_NONE_MATCH=paying["ETag"], **FETCH)
    assert again.status_code == 200  # a polling page hears it too
    block = again.content.decode()
    assert EDIT_BLOCK_PAYING not in block
    assert 'data-cart-status="open"' in block
    assert 'aria-describedby="cart-edit-block"' not in block


def test_an_open_cart_has_no_edit_block_and_nothing_disabled(alice_client, alice_cart):
    block = alice_client.get(FRAGMENT, **FETCH).content.decode()

    assert "data-cart-edit-block" not in block
    assert 'disabled aria-describedby="cart-edit-block"' not in block
    assert cart_edit_block(alice_cart) == ""
    assert cart_edit_block(None) == ""


def test_once_paid_the_page_says_the_cart_is_closed_and_links_the_order(
    alice, alice_client, alice_cart, bob_client, bob
):
    order = order_place(cart=alice_cart, user=alice)
    payment = order_payment_start(order=order, success_url="/s/", cancel_url="/c/")
    order_mark_paid(order=order, payment=payment)

    block = alice_client.get(FRAGMENT, **FETCH).content.decode()

    assert Cart.objects.get(pk=alice_cart.pk).status == Cart.Status.CLOSED
    assert "Paid — your last cart is closed." in block
    assert reverse("orders:detail", args=[order.number]) in block
    assert "Scanning with" not in block
    # Bob's page never names Alice's order.
    assert order.number not in bob_client.get(CART).content.decode()


def test_the_edit_refused_while_paying_stays_refused_on_the_server(
    alice, alice_client, alice_cart, milk
):
    order_place(cart=alice_cart, user=alice)

    answer = alice_client.post(reverse("carts:line_add", args=[milk.pk]), **FETCH)

    assert answer.status_code == 400
    assert alice_cart.lines.get().quantity == 1


def test_an_order_paid_long_ago_is_not_named_on_the_cart_page(alice, alice_client, alice_cart):
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import Order
    from orders.templatetags.order_display import PAID_NOTE_MINUTES

    order = order_place(cart=alice_cart, user=alice)
    order_mark_paid(
        order=order, payment=order_payment_start(order=order, success_url="/s/", cancel_url="/c/")
    )
    long_ago = timezone.now() - timedelta(minutes=PAID_NOTE_MINUTES + 1)
    Order.objects.filter(pk=order.pk).update(paid_at=long_ago)

    block = alice_client.get(FRAGMENT, **FETCH).content.decode()

    assert "data-cart-paid" not in block
    assert "Your cart is empty." in block
