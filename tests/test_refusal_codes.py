"""Refusals carry typed codes: no service raises a ``Refused`` with a bare code string, and no
caller compares a refusal's ``code`` with one (issue 21; ``shopcart/core/refusals.py``)."""

import ast
from pathlib import Path

from carts.services import CartErrorCode, NotInCart
from catalog.coupons import CouponRefusalCode
from orders.errors import OrderErrorCode, OrderPaidMeanwhile

ROOT = Path(__file__).resolve().parent.parent
APPS = ("carts", "catalog", "orders", "devices", "shopcart")


def bare_codes(source: str) -> list[int]:
    """Lines where a call passes ``code="..."`` to an error, or a ``.code`` is compared with a
    string. Django's ``ValidationError`` codes are form codes, Django's own convention."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            is_refusal = name.endswith(("Error", "Refused", "Closed")) and name != "ValidationError"
            for keyword in node.keywords:
                if is_refusal and keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                    found.append(node.lineno)
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            reads_code = any(isinstance(s, ast.Attribute) and s.attr == "code" for s in sides)
            if reads_code and any(isinstance(s, ast.Constant) for s in sides):
                found.append(node.lineno)
    return found


def test_no_refusal_is_raised_or_told_apart_by_a_bare_code_string():
    places = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            lines = bare_codes(path.read_text(encoding="utf-8"))
            places += [f"{path.relative_to(ROOT)}:{line}" for line in lines]

    assert places == []


def test_the_check_finds_a_bare_code_raised_or_compared():
    source = (
        'raise CartError("No.", code="quantity")\n'
        "raise CartError('No.', code=CartErrorCode.QUANTITY)\n"
        'if exc.code == "not_in_cart":\n    pass\n'
        'forms.ValidationError("x", code="invalid")\n'
    )

    assert bare_codes(source) == [1, 3]


def test_the_codes_apis_answer_with_stay_the_words_they_were():
    # The enums are strings: API bodies and devices keep reading the same words.
    assert NotInCart("x").code == "not_in_cart" == CartErrorCode.NOT_IN_CART
    assert OrderPaidMeanwhile("x").code == "paid" == OrderErrorCode.PAID
    assert CouponRefusalCode.USED_BY_YOU == "coupon_used_by_you"
