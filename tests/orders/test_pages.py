"""Shopper order pages: history, one order, its exit QR and its printable receipt.

Only the owner reaches an order: another shopper gets the same 404 as for a number that does
not exist, a visitor the sign-in page.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from devices.decoding import decode_image
from orders.exit_codes import exit_code_for
from orders.models import Order
from orders.views import ORDERS_PER_PAGE
from tests.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory, PaidOrderFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("orders:list")
# The pages write amounts taken off with a real minus sign, and quantities with a times sign.
MINUS = "\N{MINUS SIGN}"
TIMES = "\N{MULTIPLICATION SIGN}"
ORDERS_CSS = Path(settings.BASE_DIR) / "static" / "css" / "orders.css"


def detail_url(order: Order) -> str:
    return reverse("orders:detail", args=[order.number])


def qr_url(order: Order) -> str:
    return reverse("orders:exit_qr", args=[order.number])


def receipt_url(order: Order) -> str:
    return reverse("orders:receipt", args=[order.number])


@pytest.fixture
def alices_order(alice):
    """Paid: 2 Oat milk at 2.00 and 1 Rye bread at 3.50, 10 % coupon: 7.50 less 0.75."""
    order = PaidOrderFactory(
        user=alice,
        subtotal=Decimal("7.50"),
        discount=Decimal("0.75"),
        coupon_code="TEN",
        paid_at=timezone.now() - timedelta(minutes=5),
    )
    OrderLineFactory(
        order=order,
        product_name="Oat milk",
        unit_price=Decimal("2.00"),
        quantity=2,
        discount=Decimal("0.40"),
    )
    OrderLineFactory(
        order=order,
        product_name="Rye bread",
        unit_price=Decimal("3.50"),
        discount=Decimal("0.35"),
    )
    return order


def assert_login_redirect(response, url: str) -> None:
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert f"next={url}" in response.url.replace("%2F", "/")


# --- History -----------------------------------------------------------------------------------


def test_history_lists_the_shoppers_orders_newest_first_with_status_total_and_items(
    alice_client, alices_order, alice
):
    older = OrderFactory(
        user=alice, subtotal=Decimal("4.00"), created_at=timezone.now() - timedelta(days=3)
    )
    OrderLineFactory(order=older, quantity=4, unit_price=Decimal("1.00"))

    response = alice_client.get(LIST_URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert [order.number for order in response.context["orders"]] == [
        alices_order.number,
        older.number,
    ]
    assert page.index(alices_order.number) < page.index(older.number)
    assert 'class="status-badge status-badge--paid">Paid<' in page
    assert 'class="status-badge status-badge--pending">Awaiting payment<' in page
    assert "€6.75" in page and "€4.00" in page
    assert "3 items" in page and "4 items" in page
    assert f'href="{detail_url(alices_order)}"' in page


def test_history_never_shows_another_shoppers_orders(bob_client, alices_order):
    response = bob_client.get(LIST_URL)

    assert response.status_code == 200
    assert alices_order.number not in response.content.decode()
    assert "No orders yet." in response.content.decode()


def test_history_costs_the_same_queries_for_many_orders(alice_client, alice):
    OrderLineFactory(order=PaidOrderFactory(user=alice))
    with CaptureQueriesContext(connection) as one:
        assert alice_client.get(LIST_URL).status_code == 200
    for _ in range(12):
        order = PaidOrderFactory(user=alice)
        OrderLineFactory(order=order)
        OrderLineFactory(order=order, quantity=3)

    with CaptureQueriesContext(connection) as many:
        assert alice_client.get(LIST_URL).status_code == 200

    assert len(many) == len(one)


def test_history_is_paginated_and_a_bad_page_number_shows_a_page(alice_client, alice):
    for _ in range(ORDERS_PER_PAGE + 1):
        OrderFactory(user=alice)

    first = alice_client.get(LIST_URL)
    second = alice_client.get(LIST_URL, {"page": 2})
    nonsense = alice_client.get(LIST_URL, {"page": "abc"})

    assert len(first.context["orders"]) == ORDERS_PER_PAGE
    assert len(second.context["orders"]) == 1
    assert "Page 2 of 2" in second.content.decode()
    assert nonsense.status_code == 200
    assert nonsense.context["page"].number == 1


def test_history_asks_a_visitor_to_sign_in(client):
    assert_login_redirect(client.get(LIST_URL), LIST_URL)


def test_history_refuses_post(alice_client):
    assert alice_client.post(LIST_URL).status_code == 405


# --- One order ---------------------------------------------------------------------------------


def test_order_page_shows_lines_discount_total_status_payment_date_and_exit_qr(
    alice_client, alices_order
):
    response = alice_client.get(detail_url(alices_order))

    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Oat milk",
        "Rye bread",
        f"2 {TIMES} €2.00",
        "€3.15",
        "€7.50",
        f"{MINUS}€0.75",
        "€6.75",
        "TEN",
    ):
        assert text in page, text
    assert "status-badge--paid" in page
    assert "data-order-paid" in page
    assert f'src="{qr_url(alices_order)}"' in page
    assert f'href="{receipt_url(alices_order)}"' in page
    assert "no-store" in response["Cache-Control"]


def test_order_page_after_the_exit_says_when_and_shows_no_qr(alice_client, alices_order):
    alices_order.exited_at = timezone.now()
    alices_order.save()

    page = alice_client.get(detail_url(alices_order)).content.decode()

    assert "Used at the exit at" in page
    assert qr_url(alices_order) not in page


def test_order_page_shows_refunded_amounts(alice_client, alices_order):
    alices_order.record_refund(Decimal("2.00"))
    alices_order.save()

    page = alice_client.get(detail_url(alices_order)).content.decode()

    assert "Partially refunded" in page
    assert "Refunded" in page and f"{MINUS}€2.00" in page
    assert qr_url(alices_order) in page  # what is left is still paid for


def test_a_fully_refunded_order_has_no_exit_qr(alice_client, alices_order):
    alices_order.record_refund(alices_order.total)
    alices_order.save()

    page = alice_client.get(detail_url(alices_order)).content.decode()

    assert "refunded in full" in page
    assert qr_url(alices_order) not in page


def test_an_unpaid_order_has_no_exit_qr_and_no_receipt(alice_client, alice):
    order = OrderFactory(user=alice)

    page = alice_client.get(detail_url(order)).content.decode()

    assert "Awaiting payment" in page
    assert qr_url(order) not in page
    assert receipt_url(order) not in page


def test_another_shoppers_order_is_not_found(bob_client, alices_order):
    assert bob_client.get(detail_url(alices_order)).status_code == 404


def test_an_order_number_that_does_not_exist_is_not_found(alice_client):
    assert alice_client.get(reverse("orders:detail", args=["ZZZZ-ZZZZ"])).status_code == 404


def test_order_page_asks_a_visitor_to_sign_in(client, alices_order):
    url = detail_url(alices_order)
    assert_login_redirect(client.get(url), url)


def test_order_page_refuses_post(alice_client, alices_order):
    assert alice_client.post(detail_url(alices_order)).status_code == 405


# --- Exit QR -----------------------------------------------------------------------------------


def test_exit_qr_decodes_to_the_orders_exit_code_and_is_never_stored(alice_client, alices_order):
    response = alice_client.get(qr_url(alices_order))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    [code] = decode_image(response.content)
    assert code.text == exit_code_for(alices_order)


@pytest.mark.parametrize("status", [Order.Status.PENDING, Order.Status.CANCELLED])
def test_an_unpaid_order_has_no_exit_qr_image(alice_client, alice, status):
    order = OrderFactory(user=alice, status=status)

    assert alice_client.get(qr_url(order)).status_code == 404


def test_another_shoppers_exit_qr_is_not_found(bob_client, alices_order):
    assert bob_client.get(qr_url(alices_order)).status_code == 404


def test_exit_qr_asks_a_visitor_to_sign_in(client, alices_order):
    url = qr_url(alices_order)
    assert_login_redirect(client.get(url), url)


def test_exit_qr_refuses_post(alice_client, alices_order):
    assert alice_client.post(qr_url(alices_order)).status_code == 405


# --- Receipt -----------------------------------------------------------------------------------


def test_receipt_has_store_number_date_lines_and_totals(alice_client, alices_order):
    response = alice_client.get(receipt_url(alices_order))

    assert response.status_code == 200
    page = response.content.decode()
    assert settings.STORE_NAME in page
    assert alices_order.number in page
    assert date_format(timezone.localtime(alices_order.paid_at), "j F Y, H:i") in page
    for text in ("Oat milk", "Rye bread", "€3.60", "€3.15", "€7.50", f"{MINUS}€0.75", "€6.75"):
        assert text in page, text
    assert "Total paid" in page


def test_receipt_prints_without_the_sites_navigation(alice_client, alices_order):
    page = alice_client.get(receipt_url(alices_order)).content.decode()
    css = ORDERS_CSS.read_text()

    assert "css/orders.css" in page
    print_rules = css[css.index("@media print") :]
    for selector in (".site-header", ".site-footer", ".messages", ".receipt__actions"):
        assert selector in print_rules.split("}", 1)[0], selector
    assert "data-print" in page  # the Print button, shown by static/js/receipt.js


def test_receipt_shows_refunds(alice_client, alices_order):
    alices_order.record_refund(Decimal("1.00"))
    alices_order.save()

    page = alice_client.get(receipt_url(alices_order)).content.decode()

    assert "Refunded" in page and f"{MINUS}€1.00" in page


def test_an_order_never_paid_has_no_receipt(alice_client, alice):
    assert alice_client.get(receipt_url(OrderFactory(user=alice))).status_code == 404


def test_another_shoppers_receipt_is_not_found(bob_client, alices_order):
    assert bob_client.get(receipt_url(alices_order)).status_code == 404


def test_receipt_asks_a_visitor_to_sign_in(client, alices_order):
    url = receipt_url(alices_order)
    assert_login_redirect(client.get(url), url)


def test_receipt_refuses_post(alice_client, alices_order):
    assert alice_client.post(receipt_url(alices_order)).status_code == 405


# --- Header links ------------------------------------------------------------------------------


def test_signed_in_shoppers_see_an_orders_link_and_visitors_do_not(alice_client, client):
    home = reverse("catalog:home")

    assert f'href="{LIST_URL}"' in alice_client.get(home).content.decode()
    assert f'href="{LIST_URL}"' not in client.get(home).content.decode()


def test_only_staff_who_check_exits_see_the_exit_check_link(alice_client, clerk_client, client):
    home = reverse("catalog:home")
    exit_url = reverse("orders_staff:exit_check")
    no_permission = UserFactory(is_staff=True)
    client.force_login(no_permission)

    assert f'href="{exit_url}"' in clerk_client.get(home).content.decode()
    assert f'href="{exit_url}"' not in alice_client.get(home).content.decode()
    assert f'href="{exit_url}"' not in client.get(home).content.decode()
    # A shopper given the permission by mistake is still not staff.
    shopper = UserFactory()
    shopper.user_permissions.add(Permission.objects.get(codename="check_exit"))
    client.force_login(shopper)
    assert f'href="{exit_url}"' not in client.get(home).content.decode()
