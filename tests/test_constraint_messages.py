"""Every database constraint speaks to staff in words (issue 19, item 7).

A form that breaks a constraint shows the constraint's ``violation_error_message``; without one
Django shows "Constraint “coupon_has_a_discount” is violated." (check constraints) or
"Cart with this Owner and Current already exists." (unique constraints on fields).
"""

import pytest
from django.apps import apps
from django.db.models import BaseConstraint, UniqueConstraint
from django.urls import reverse

from catalog.models import (
    ERROR_COUPON_NO_DISCOUNT,
    ERROR_COUPON_PERCENT,
    ERROR_PRODUCT_PRICE_NEGATIVE,
    Coupon,
    Product,
)
from tests.catalog.support import ADD as PRODUCT_ADD
from tests.catalog.support import add_form_data

OUR_APPS = ("shopcart", "catalog", "carts", "orders", "devices")
CONSTRAINTS = [
    pytest.param(model, constraint, id=f"{model._meta.label}.{constraint.name}")
    for app in OUR_APPS
    for model in apps.get_app_config(app).get_models()
    for constraint in model._meta.constraints
]
DJANGO_DEFAULT = BaseConstraint.default_violation_error_message


def test_the_apps_have_constraints_to_check():
    assert len(CONSTRAINTS) >= 40


@pytest.mark.parametrize(("model", "constraint"), CONSTRAINTS)
def test_every_constraint_has_a_message_in_words(model, constraint):
    message = constraint.get_violation_error_message()

    assert constraint.violation_error_message != DJANGO_DEFAULT
    assert constraint.name not in message
    assert "_" not in message and "violated" not in message
    assert message[:1].isupper() and message.endswith(".")
    if isinstance(constraint, UniqueConstraint):
        # Only a message of its own replaces "<Model> with this <A> and <B> already exists."
        assert (
            constraint.violation_error_message != UniqueConstraint.default_violation_error_message
        )


COUPON_ADD = reverse("admin:catalog_coupon_add")


def coupon_form(**overrides: str) -> dict[str, str]:
    return {
        "code": "SPRING",
        "description": "",
        "active": "on",
        "percent_off": "",
        "max_discount": "",
        "amount_off": "",
        "category": "",
        "min_subtotal": "0",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
        "max_uses": "",
        "max_uses_per_shopper": "",
        **overrides,
    }


def page_errors(response) -> str:
    assert response.status_code == 200, "the form was accepted"
    return response.content.decode()


def test_a_coupon_with_no_discount_says_so_in_words(staff_client):
    page = page_errors(staff_client.post(COUPON_ADD, coupon_form()))

    assert ERROR_COUPON_NO_DISCOUNT in page
    assert "coupon_has_a_discount" not in page and "is violated" not in page
    assert not Coupon.objects.exists()


def test_a_coupon_over_a_hundred_percent_says_so_in_words(staff_client):
    page = page_errors(staff_client.post(COUPON_ADD, coupon_form(percent_off="120")))

    assert ERROR_COUPON_PERCENT in page
    assert "is violated" not in page


def test_a_coupon_with_a_discount_is_saved(staff_client):
    response = staff_client.post(COUPON_ADD, coupon_form(percent_off="10"))

    assert response.status_code == 302
    assert Coupon.objects.get().code == "SPRING"


def test_a_product_with_a_negative_price_says_so_in_words(staff_client):
    page = page_errors(staff_client.post(PRODUCT_ADD, add_form_data(price="-1.00")))

    assert ERROR_PRODUCT_PRICE_NEGATIVE in page
    assert "is violated" not in page
    assert not Product.objects.exists()
