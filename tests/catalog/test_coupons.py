"""Coupons: stored codes, database rules, and the staff admin."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.models import Coupon

pytestmark = pytest.mark.django_db


def test_code_is_stored_in_upper_case_and_found_in_any_case():
    Coupon.objects.create(code=" spring10 ", percent_off=Decimal("10"))

    assert Coupon.objects.by_code("Spring10").get().code == "SPRING10"


@pytest.mark.parametrize(
    "terms",
    [
        {},  # no discount at all
        {"percent_off": Decimal("0")},
        {"percent_off": Decimal("100.01")},
        {"amount_off": Decimal("-1")},
        {"percent_off": Decimal("10"), "max_discount": Decimal("0")},
        {"amount_off": Decimal("1"), "min_subtotal": Decimal("-1")},
    ],
)
def test_database_refuses_coupons_that_make_no_sense(terms):
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.create(code="BAD", **terms)


def test_admin_lists_coupons_with_a_readable_discount(staff_client):
    Coupon.objects.create(
        code="CAPPED",
        percent_off=Decimal("20"),
        amount_off=Decimal("5"),
        max_discount=Decimal("50"),
    )

    page = staff_client.get("/admin/catalog/coupon/").content.decode()

    assert "CAPPED" in page
    assert "20 % + €5.00 (at most €50.00)" in page
    assert "0 / ∞" in page


def test_store_managers_may_manage_coupons(staff):
    assert staff.has_perm("catalog.add_coupon")
    assert staff.has_perm("catalog.change_coupon")
