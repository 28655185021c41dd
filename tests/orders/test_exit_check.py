"""The exit check: a paid order's code lets it out once; everything else is refused loudly.

Also the audit flag: every shopper's first paid order, and EXIT_AUDIT_SHARE of the others.
"""

import random
import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.exit_codes import PREFIX, exit_code_for
from orders.forms import ERROR_CODE_BLANK
from orders.models import Order
from orders.services import order_audit_flag_decide, order_exit_check
from orders.services.exits import (
    ERROR_ALREADY_USED,
    ERROR_INVALID,
    ERROR_NOT_PAID,
    ERROR_REFUNDED,
    MESSAGE_AUDIT,
    MESSAGE_OK,
    REASON_ALREADY_USED,
    REASON_INVALID,
    REASON_NOT_PAID,
    REASON_OK,
    REASON_REFUNDED,
    exit_time_describe,
)
from tests.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory, PaidOrderFactory

pytestmark = pytest.mark.django_db

EXIT_URL = reverse("orders_staff:exit_check")


@pytest.fixture
def paid_order(alice):
    order = PaidOrderFactory(user=alice, subtotal=Decimal("5.50"))
    OrderLineFactory(order=order, product_name="Oat milk", unit_price=Decimal("2.00"))
    OrderLineFactory(order=order, product_name="Rye bread", unit_price=Decimal("3.50"))
    return order


def forged(code: str) -> str:
    """The same code with the last character of its signature changed."""
    return code[:-1] + ("A" if code[-1] != "A" else "B")


# --- The service -------------------------------------------------------------------------------


def test_a_paid_orders_code_lets_it_out_and_records_who_checked(paid_order, clerk):
    result = order_exit_check(code=exit_code_for(paid_order), staff=clerk)

    assert (result.ok, result.reason, result.order) == (True, REASON_OK, paid_order)
    assert result.message == MESSAGE_OK
    paid_order.refresh_from_db()
    assert paid_order.exited_at is not None
    assert paid_order.exit_checked_by == clerk


def test_a_second_check_is_refused_with_the_time_of_the_first(paid_order, clerk):
    order_exit_check(code=exit_code_for(paid_order), staff=clerk)
    paid_order.refresh_from_db()
    first_exit = paid_order.exited_at

    result = order_exit_check(code=exit_code_for(paid_order), staff=clerk)

    assert (result.ok, result.reason) == (False, REASON_ALREADY_USED)
    expected_time = timezone.localtime(first_exit).strftime("%H:%M")
    assert result.message == ERROR_ALREADY_USED.format(time=expected_time)
    paid_order.refresh_from_db()
    assert paid_order.exited_at == first_exit


def test_a_partially_refunded_order_still_leaves(paid_order, clerk):
    paid_order.record_refund(Decimal("1.00"))
    paid_order.save()

    assert order_exit_check(code=exit_code_for(paid_order), staff=clerk).ok


@pytest.mark.parametrize(
    ("status", "reason", "message"),
    [
        (Order.Status.PENDING, REASON_NOT_PAID, ERROR_NOT_PAID),
        (Order.Status.CANCELLED, REASON_NOT_PAID, ERROR_NOT_PAID),
        (Order.Status.EXPIRED, REASON_NOT_PAID, ERROR_NOT_PAID),
        (Order.Status.REFUNDED, REASON_REFUNDED, ERROR_REFUNDED),
    ],
)
def test_an_order_not_paid_is_refused(alice, clerk, status, reason, message):
    order = OrderFactory(user=alice, status=status)

    result = order_exit_check(code=exit_code_for(order), staff=clerk)

    assert (result.ok, result.reason, result.message) == (False, reason, message)
    order.refresh_from_db()
    assert order.exited_at is None


@pytest.mark.parametrize(
    "text",
    ["", "hello", f"{PREFIX}ABCD-EFGH", "SCP1:something", "x" * 500],
)
def test_text_that_is_no_exit_code_is_refused(clerk, text):
    result = order_exit_check(code=text, staff=clerk)

    assert (result.ok, result.reason, result.order) == (False, REASON_INVALID, None)
    assert result.message == ERROR_INVALID


def test_a_forged_signature_is_refused_without_naming_the_order(paid_order, clerk):
    result = order_exit_check(code=forged(exit_code_for(paid_order)), staff=clerk)

    assert (result.ok, result.reason, result.order) == (False, REASON_INVALID, None)
    paid_order.refresh_from_db()
    assert paid_order.exited_at is None


def test_a_code_whose_nonce_is_no_longer_the_orders_is_refused(paid_order, clerk):
    old_code = exit_code_for(paid_order)
    Order.objects.filter(pk=paid_order.pk).update(exit_nonce="ABCDEFGHIJKLMNOP")

    result = order_exit_check(code=old_code, staff=clerk)

    assert (result.ok, result.reason) == (False, REASON_INVALID)


def test_a_signed_code_for_an_order_that_does_not_exist_is_refused(clerk):
    ghost = Order(number="ZZZZ-ZZZZ", exit_nonce="ABCDEFGHIJKLMNOP")

    result = order_exit_check(code=exit_code_for(ghost), staff=clerk)

    assert (result.ok, result.reason) == (False, REASON_INVALID)


def test_a_code_typed_in_lower_case_with_spaces_works(paid_order, clerk):
    assert order_exit_check(code=f"  {exit_code_for(paid_order).lower()} ", staff=clerk).ok


def test_exit_times_say_the_day_when_it_is_not_today():
    now = datetime(2026, 3, 5, 15, 0, tzinfo=timezone.get_current_timezone())

    assert exit_time_describe(now - timedelta(minutes=58), now=now) == "14:02"
    assert exit_time_describe(now - timedelta(days=2), now=now) == "15:00 on 3 March 2026"


@pytest.mark.mysql
@pytest.mark.django_db(transaction=True)
def test_two_staff_checking_one_code_at_once_let_it_out_once(alice, clerk):
    order = PaidOrderFactory(user=alice)
    code = exit_code_for(order)
    barrier = threading.Barrier(6)
    results: list = []

    def check() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(order_exit_check(code=code, staff=clerk))
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 6
    assert [result.reason for result in results].count(REASON_OK) == 1
    assert {result.reason for result in results} == {REASON_OK, REASON_ALREADY_USED}


# --- The audit flag ----------------------------------------------------------------------------


class FixedChance(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_a_shoppers_first_paid_order_is_always_audited(alice, settings):
    settings.EXIT_AUDIT_SHARE = 0
    OrderFactory(user=alice, status=Order.Status.CANCELLED)  # never paid: does not count
    order = OrderFactory(user=alice)

    assert order_audit_flag_decide(order, chance=FixedChance(0.99)) is True


def test_later_orders_are_audited_with_the_configured_share(alice, settings):
    settings.EXIT_AUDIT_SHARE = 0.05
    PaidOrderFactory(user=alice)
    order = OrderFactory(user=alice)

    assert order_audit_flag_decide(order, chance=FixedChance(0.049)) is True
    assert order_audit_flag_decide(order, chance=FixedChance(0.05)) is False


def test_an_order_refunded_before_still_counts_as_paid_before(alice, settings):
    settings.EXIT_AUDIT_SHARE = 0
    PaidOrderFactory(user=alice, status=Order.Status.REFUNDED)

    assert order_audit_flag_decide(OrderFactory(user=alice)) is False


def test_the_share_of_audited_orders_follows_the_setting(alice, settings):
    settings.EXIT_AUDIT_SHARE = 0.25
    PaidOrderFactory(user=alice)
    order = OrderFactory(user=alice)
    chance = random.Random(1234)

    picked = sum(order_audit_flag_decide(order, chance=chance) for _ in range(4000))

    assert 850 < picked < 1150


def test_an_order_whose_account_is_gone_is_audited_by_chance_only(settings):
    settings.EXIT_AUDIT_SHARE = 0
    order = OrderFactory(user=None)

    assert order_audit_flag_decide(order) is False


# --- The page ----------------------------------------------------------------------------------


def test_the_page_has_a_focused_code_box_and_a_camera_button_hidden_until_supported(
    clerk_client,
):
    response = clerk_client.get(EXIT_URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="code"' in page and "autofocus" in page
    assert "data-exit-camera-start hidden" in page
    assert "js/exit-check.js" in page
    assert "<script>" not in page  # no inline script, no library


def test_a_paid_order_is_shown_ok_in_green_with_its_lines_and_total(clerk_client, paid_order):
    response = clerk_client.post(EXIT_URL, {"code": exit_code_for(paid_order)})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="exit-result exit-result--ok"' in page
    assert MESSAGE_OK in page
    for text in (paid_order.number, "Oat milk", "Rye bread", "€5.50"):
        assert text in page
    assert MESSAGE_AUDIT not in page
    paid_order.refresh_from_db()
    assert paid_order.exited_at is not None


def test_an_order_flagged_for_audit_says_so_prominently(clerk_client, paid_order):
    paid_order.flagged_for_audit = True
    paid_order.save()

    page = clerk_client.post(EXIT_URL, {"code": exit_code_for(paid_order)}).content.decode()

    assert f"data-exit-audit>{MESSAGE_AUDIT}<" in page


def test_a_second_check_is_refused_in_red(clerk_client, paid_order):
    clerk_client.post(EXIT_URL, {"code": exit_code_for(paid_order)})

    response = clerk_client.post(EXIT_URL, {"code": exit_code_for(paid_order)})

    page = response.content.decode()
    assert 'class="exit-result exit-result--refused"' in page
    assert "Already used at " in page
    assert "Oat milk" not in page  # the cart's contents are shown only when it may leave


@pytest.mark.parametrize(
    ("make_code", "message"),
    [
        (lambda order: forged(exit_code_for(order)), ERROR_INVALID),
        (lambda order: "not a code", ERROR_INVALID),
    ],
)
def test_a_bad_code_is_refused_in_red(clerk_client, paid_order, make_code, message):
    response = clerk_client.post(EXIT_URL, {"code": make_code(paid_order)})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'exit-result--refused" role="alert" data-exit-result="invalid"' in page
    assert message in page
    assert paid_order.number not in page


def test_an_unpaid_order_is_refused_in_red(clerk_client, alice):
    order = OrderFactory(user=alice)

    page = clerk_client.post(EXIT_URL, {"code": exit_code_for(order)}).content.decode()

    assert 'data-exit-result="not_paid"' in page and ERROR_NOT_PAID in page


@pytest.mark.parametrize("code", ["", "   ", "S" * 201])
def test_an_empty_or_absurd_input_is_a_form_error(clerk_client, code):
    response = clerk_client.post(EXIT_URL, {"code": code})

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    if not code.strip():
        assert ERROR_CODE_BLANK in response.content.decode()


def test_a_visitor_is_asked_to_sign_in(client):
    response = client.get(EXIT_URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_shopper_is_forbidden(alice_client, paid_order):
    assert alice_client.get(EXIT_URL).status_code == 403
    assert alice_client.post(EXIT_URL, {"code": exit_code_for(paid_order)}).status_code == 403
    paid_order.refresh_from_db()
    assert paid_order.exited_at is None


def test_staff_without_the_permission_are_forbidden(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(EXIT_URL).status_code == 403


def test_a_store_manager_may_check_exits(staff_client):
    assert staff_client.get(EXIT_URL).status_code == 200


def test_the_page_refuses_other_methods(clerk_client):
    assert clerk_client.put(EXIT_URL).status_code == 405
    assert clerk_client.delete(EXIT_URL).status_code == 405


def test_a_check_without_the_csrf_token_is_refused(clerk, paid_order):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)

    response = client.post(EXIT_URL, {"code": exit_code_for(paid_order)})

    assert response.status_code == 403
    paid_order.refresh_from_db()
    assert paid_order.exited_at is None
