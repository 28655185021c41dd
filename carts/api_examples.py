"""The cart API's examples for its OpenAPI schema (``carts.api``): what a cart answer and a
refusal look like, kept apart from the views they document."""

from drf_spectacular.utils import OpenApiExample

from catalog.suggestions import REASON_BOUGHT_WITH

EXAMPLE_CART = {
    "version": 7,
    "status": "open",
    "currency": "EUR",
    "lines": [
        {
            "id": 31,
            "product": 42,
            "name": "Oat milk 1 l",
            "slug": "oat-milk-1-l",
            "unit_price": "1.99",
            "quantity": 2,
            "scanned_quantity": 1,
            "status": "ok",
            "note": "",
            "subtotal": "3.98",
            "discount": "0.40",
            "total": "3.58",
        },
        {
            "id": 32,
            "product": None,
            "name": "Seasonal jam",
            "slug": None,
            "unit_price": "3.50",
            "quantity": 1,
            "scanned_quantity": 0,
            "status": "unavailable",
            "note": "No longer sold: not counted in the total. Remove it to check out.",
            "subtotal": "3.50",
            "discount": "0.00",
            "total": "3.50",
        },
    ],
    "coupon": {"code": "SPRING10", "applied": True, "problem": ""},
    "subtotal": "3.98",
    "discount": "0.40",
    "total": "3.58",
    "item_count": 2,
    "can_check_out": False,
    "messages": [],
    "suggestions": [
        {
            "product": 57,
            "name": "Granola 500 g",
            "slug": "granola-500-g",
            "price": "3.49",
            "reason": REASON_BOUGHT_WITH,
        }
    ],
}
EXAMPLE_REFUSED = {"detail": "“Oat milk 1 l” is out of stock.", "code": "out_of_stock"}
CART_EXAMPLE = OpenApiExample("A cart", value=EXAMPLE_CART, response_only=True)
