"""Orders in the admin: read-only history, filters and search, daily totals, and refunds.

Refunds go through the real payment service and the built-in test gateway (no Stripe key is
set in tests), so a refund here is recorded exactly as one made in the store.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import Coupon
from orders.admin import (
    MESSAGE_CHOOSE_ONE,
    MESSAGE_NOTHING_TO_REFUND,
    MESSAGE_REFUNDED,
    REFUND_TEMPLATE,
)
from orders.forms import ERROR_REFUND_NOT_POSITIVE, ERROR_REFUND_TOO_MUCH
from orders.models import CouponRedemption, Order, Payment, Refund, WebhookEvent
from orders.services.payments import ERROR_REFUND_TOO_MUCH as SERVICE_REFUND_TOO_MUCH
from tests.orders.factories import (
    OrderFactory,
    OrderLineFactory,
    PaidOrderFactory,
    PaymentFactory,
)

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")


def change_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def paid_with_payment(total: str = "10.00", **fields) -> Order:
    order = PaidOrderFactory(subtotal=Decimal(total), **fields)
    PaymentFactory(order=order)
    return order


def refund_post(client, order: Order, *, confirmed: bool, follow: bool | None = None, **fields):
    data = {"action": "refund", ACTION_CHECKBOX_NAME: [order.pk], **fields}
    if confirmed:
        data["post"] = "yes"
    return client.post(ORDERS, data, follow=confirmed if follow is None else follow)


# --- The list ------------------------------------------------------------------------------


def test_the_list_shows_number_shopper_status_money_dates_and_audit_flag(staff_client, alice):
    order = PaidOrderFactory(
        user=alice, subtotal=Decimal("12.00"), flagged_for_audit=True, exited_at=timezone.now()
    )
    order.record_refund(Decimal("2.50"))
    order.save()

    response = staff_client.get(ORDERS)

    assert response.status_code == 200
    page = response.content.decode()
    for text in (order.number, "alice@example.com", "partially refunded", "€12.00", "€2.50"):
        assert text in page, text
    assert 'id="daily-totals"' in page
    assert response.context["cl"].date_hierarchy == "created_at"


def test_the_list_filters_by_status_and_searches_by_number_and_email(staff_client, alice, bob):
    alices = PaidOrderFactory(user=alice)
    bobs = OrderFactory(user=bob)

    by_status = staff_client.get(ORDERS, {"status__exact": "pending"})
    by_number = staff_client.get(ORDERS, {"q": alices.number})
    by_email = staff_client.get(ORDERS, {"q": "bob@example"})

    assert list(by_status.context["cl"].result_list) == [bobs]
    assert list(by_number.context["cl"].result_list) == [alices]
    assert list(by_email.context["cl"].result_list) == [bobs]


def test_the_list_filters_by_created_date(staff_client, time_machine):
    time_machine.move_to(datetime(2026, 6, 10, 23, 59, 59, tzinfo=UTC), tick=False)
    today = PaidOrderFactory()
    PaidOrderFactory(created_at=timezone.now() - timedelta(days=40))
    now = timezone.localtime()

    response = staff_client.get(
        ORDERS,
        {"created_at__year": now.year, "created_at__month": now.month, "created_at__day": now.day},
    )

    assert list(response.context["cl"].result_list) == [today]


def test_daily_totals_sum_paid_orders_per_day_of_payment(staff_client):
    today = timezone.now()
    yesterday = today - timedelta(days=1)
    PaidOrderFactory(subtotal=Decimal("10.00"), paid_at=today)
    refunded = PaidOrderFactory(subtotal=Decimal("5.50"), paid_at=today)
    refunded.record_refund(Decimal("1.25"))
    refunded.save()
    PaidOrderFactory(subtotal=Decimal("3.00"), paid_at=yesterday)
    OrderFactory(subtotal=Decimal("99.00"))  # never paid: not counted

    response = staff_client.get(ORDERS)

    totals = response.context["daily_totals"]
    assert [(row["count"], row["paid"], row["refunded"], row["kept"]) for row in totals] == [
        (2, Decimal("15.50"), Decimal("1.25"), Decimal("14.25")),
        (1, Decimal("3.00"), Decimal("0.00"), Decimal("3.00")),
    ]
    assert [row["day"] for row in totals] == [
        timezone.localdate(today),
        timezone.localdate(yesterday),
    ]
    assert "€14.25" in response.content.decode()


def test_daily_totals_follow_the_lists_search(staff_client, alice):
    PaidOrderFactory(user=alice, subtotal=Decimal("4.00"))
    PaidOrderFactory(subtotal=Decimal("6.00"))

    response = staff_client.get(ORDERS, {"q": "alice@"})

    [row] = response.context["daily_totals"]
    assert row["paid"] == Decimal("4.00")


def test_the_list_costs_the_same_queries_for_many_orders(staff_client):
    OrderLineFactory(order=paid_with_payment())
    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(ORDERS).status_code == 200
    for days in range(12):
        order = paid_with_payment(paid_at=timezone.now() - timedelta(days=days))
        OrderLineFactory(order=order)

    with CaptureQueriesContext(connection) as many:
        assert staff_client.get(ORDERS).status_code == 200

    assert len(many) == len(one)


# --- One order: history, never rewritten ------------------------------------------------------


def test_an_order_shows_its_snapshot_lines_and_payments_read_only(staff_client):
    order = paid_with_payment()
    OrderLineFactory(order=order, product_name="Oat milk", gtin="04000000000017")

    response = staff_client.get(change_url(order))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Oat milk" in page and "04000000000017" in page
    assert order.payments.get().external_id in page
    assert 'name="lines-0-product_name"' not in page
    assert 'name="status"' not in page and 'name="total"' not in page
    assert 'name="_save"' not in page


def test_an_order_cannot_be_changed_added_or_deleted(staff_client):
    order = paid_with_payment()

    assert staff_client.post(change_url(order), {"total": "0.01"}).status_code == 403
    assert staff_client.get(reverse("admin:orders_order_add")).status_code == 403
    delete = reverse("admin:orders_order_delete", args=[order.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    order.refresh_from_db()
    assert order.total == Decimal("10.00")


def action_names(response) -> set[str]:
    form = response.context["action_form"]
    return {name for name, _ in form.fields["action"].choices} if form else set()


def test_a_clerk_sees_orders_but_not_the_refund_action(clerk_client, staff_client):
    paid_with_payment()

    clerk_list = clerk_client.get(ORDERS)
    staff_list = staff_client.get(ORDERS)

    assert clerk_list.status_code == 200
    assert "refund" not in action_names(clerk_list)
    assert "refund" in action_names(staff_list)
    assert "Refund…" in staff_list.content.decode()


def test_a_clerk_cannot_refund_by_posting_the_action(clerk_client):
    order = paid_with_payment()

    refund_post(clerk_client, order, confirmed=True, amount="10.00")

    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    "url_name",
    ["orders_payment", "orders_refund", "orders_webhookevent", "orders_couponredemption"],
)
def test_payments_refunds_webhook_events_and_coupon_uses_are_listed_read_only(
    staff_client, url_name
):
    payment = PaymentFactory()
    Refund.objects.create(payment=payment, amount=Decimal("1.00"), status="succeeded")
    WebhookEvent.objects.create(
        gateway="test",
        event_id="evt_1",
        event_type="checkout.session.completed",
        order=payment.order,
    )
    coupon = Coupon.objects.create(code="SAVE1", amount_off=Decimal("1.00"))
    CouponRedemption.objects.create(coupon=coupon, order=payment.order)

    listing = staff_client.get(reverse(f"admin:{url_name}_changelist"))

    assert listing.status_code == 200
    assert payment.order.number in listing.content.decode()
    assert staff_client.get(reverse(f"admin:{url_name}_add")).status_code == 403


# --- The refund action -------------------------------------------------------------------------


def test_refund_asks_first_with_the_whole_refundable_amount_proposed(staff_client):
    order = paid_with_payment("10.00")
    order.record_refund(Decimal("3.00"))
    order.save()

    response = refund_post(staff_client, order, confirmed=False)

    assert response.status_code == 200
    assert response.templates[0].name == REFUND_TEMPLATE
    assert response.context["form"]["amount"].value() == Decimal("7.00")
    assert "€7.00" in response.content.decode()
    assert not Refund.objects.exists()


def test_refund_in_full_goes_through_the_gateway(staff_client, staff):
    order = paid_with_payment("10.00")

    response = refund_post(staff_client, order, confirmed=True, amount="10.00", reason="broken")

    assert MESSAGE_REFUNDED.format(amount="€10.00", number=order.number) in messages_of(response)
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.reason) == (
        Decimal("10.00"),
        "succeeded",
        "broken",
    )
    assert refund.requested_by == staff
    assert (refund.external_id or "").startswith("re_test_")
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.refunded_amount == Decimal("10.00")


def test_a_partial_refund_leaves_the_order_partially_refunded(staff_client):
    order = paid_with_payment("10.00")

    refund_post(staff_client, order, confirmed=True, amount="2.50")

    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert order.refunded_amount == Decimal("2.50")


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("10.01", ERROR_REFUND_TOO_MUCH.format(amount="€10.00")),
        ("0", ERROR_REFUND_NOT_POSITIVE),
        ("-5", ERROR_REFUND_NOT_POSITIVE),
    ],
)
def test_a_refund_amount_out_of_range_is_asked_again(staff_client, amount, error):
    order = paid_with_payment("10.00")

    response = refund_post(staff_client, order, confirmed=True, amount=amount)

    assert response.status_code == 200
    assert response.templates[0].name == REFUND_TEMPLATE
    assert error in response.content.decode()
    assert not Refund.objects.exists()


def test_a_refund_amount_that_is_not_a_number_is_asked_again(staff_client):
    order = paid_with_payment("10.00")

    response = refund_post(staff_client, order, confirmed=True, amount="ten")

    assert response.templates[0].name == REFUND_TEMPLATE
    assert response.context["form"].errors["amount"]
    assert not Refund.objects.exists()


def test_a_refund_the_service_refuses_shows_its_message(staff_client):
    order = paid_with_payment("10.00")
    # Another refund is still on its way to the gateway: only 4.00 is really left.
    Refund.objects.create(payment=order.payments.get(), amount=Decimal("6.00"))

    response = refund_post(staff_client, order, confirmed=True, amount="5.00")

    expected = SERVICE_REFUND_TOO_MUCH.format(number=order.number, left="€4.00")
    assert expected in messages_of(response)
    assert Refund.objects.count() == 1


def test_refund_takes_one_order_at_a_time(staff_client):
    first, second = paid_with_payment(), paid_with_payment()

    response = staff_client.post(
        ORDERS,
        {"action": "refund", ACTION_CHECKBOX_NAME: [first.pk, second.pk]},
        follow=True,
    )

    assert MESSAGE_CHOOSE_ONE in messages_of(response)
    assert not Refund.objects.exists()


def test_an_unpaid_order_has_nothing_to_refund(staff_client):
    order = OrderFactory()

    response = refund_post(staff_client, order, confirmed=False, follow=True)

    expected = MESSAGE_NOTHING_TO_REFUND.format(number=order.number, status="awaiting payment")
    assert expected in messages_of(response)
    assert not Refund.objects.exists()


def test_a_shopper_cannot_refund(alice_client):
    order = paid_with_payment()

    response = refund_post(alice_client, order, confirmed=True, follow=False, amount="10.00")

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert not Refund.objects.exists()
    assert Payment.objects.get().status == "succeeded"
