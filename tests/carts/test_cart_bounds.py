"""The cart services keep every cart within the bounds of ``shopcart.core.money``: a change past one
is refused with ``CartError`` before anything is written; lowering is always allowed."""

from decimal import Decimal

import pytest

from carts.models import Cart, CartLine
from carts.services import (
    CartError,
    cart_add_labelled_product,
    cart_add_product,
    cart_get_for_session,
    cart_get_for_user,
    cart_merge,
    cart_set_quantity,
)
from carts.services.carts import (
    CART_TOTAL_MAX,
    ERROR_CART_FULL,
    ERROR_CART_TOTAL,
    ERROR_LINE_FULL,
    ERROR_PRICE_TOO_HIGH,
)
from catalog.models import Product
from shopcart.core.money import LINES_MAX, PRICE_MAX, QUANTITY_MAX, money_format
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

LABEL_CODE = "00201234001232"  # an in-store price label's GTIN-14 (the line's own code)


def refused(change, **kwargs) -> CartError:
    with pytest.raises(CartError) as caught:
        change(**kwargs)
    return caught.value


def state(cart: Cart) -> tuple[int, list[tuple]]:
    lines = cart.lines.order_by("pk").values_list("product_id", "label_code", "quantity")
    return Cart.objects.values_list("version", flat=True).get(pk=cart.pk), list(lines)


def full_cart(user) -> Cart:
    """``user``'s cart holding ``LINES_MAX`` lines of one unit each."""
    cart = cart_get_for_user(user=user)
    products = Product.objects.bulk_create(
        Product(name=f"Item {n}", slug=f"item-{n}", price=Decimal("1.00"), stock=5)
        for n in range(LINES_MAX)
    )
    CartLine.objects.bulk_create(
        CartLine(cart=cart, product=p, product_name=p.name, unit_price=p.price, quantity=1)
        for p in products
    )
    return cart


def test_a_product_more_than_a_full_cart_holds_is_refused_and_the_lines_there_still_grow(alice):
    cart = full_cart(alice)
    before = state(cart)
    extra = ProductFactory(name="One too many")

    for scanned in (False, True):
        error = refused(cart_add_product, cart=cart, product=extra, scanned=scanned)
        assert (str(error), error.code) == (ERROR_CART_FULL, "cart_full")
    assert refused(cart_set_quantity, cart=cart, product=extra, quantity=1).code == "cart_full"
    assert state(cart) == before

    first = cart.lines.order_by("pk")[0]
    cart_add_product(cart=cart, product=first.product)
    assert cart.lines.get(pk=first.pk).quantity == 2


def test_a_line_holds_at_most_the_maximum_quantity_however_it_is_added(alice):
    rice = ProductFactory(name="Rice", stock=500)
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=rice, quantity=QUANTITY_MAX - 1)
    before = state(cart)

    for scanned in (False, True):
        error = refused(cart_add_product, cart=cart, product=rice, quantity=2, scanned=scanned)
        assert (str(error), error.code) == (ERROR_LINE_FULL.format(product="Rice"), "quantity")
    assert state(cart) == before
    cart_add_product(cart=cart, product=rice, scanned=True)
    assert cart.lines.get().quantity == QUANTITY_MAX


def test_packs_past_the_maximum_price_or_quantity_are_refused(alice):
    ham = ProductFactory(name="Ham", sold_by=Product.SoldBy.KG, price=PRICE_MAX)
    cart = cart_get_for_user(user=alice)
    too_dear = PRICE_MAX + Decimal("0.01")

    error = refused(
        cart_add_labelled_product,
        cart=cart,
        product=ham,
        label_code=LABEL_CODE,
        unit_price=too_dear,
    )

    limit = money_format(PRICE_MAX)
    assert (str(error), error.code) == (
        ERROR_PRICE_TOO_HIGH.format(product="Ham", limit=limit),
        "price",
    )
    assert not cart.lines.exists()
    cart_add_labelled_product(
        cart=cart, product=ham, label_code=LABEL_CODE, unit_price=Decimal("3.00"), quantity=99
    )
    assert (
        refused(
            cart_add_labelled_product,
            cart=cart,
            product=ham,
            label_code=LABEL_CODE,
            unit_price=Decimal("3.00"),
        ).code
        == "quantity"
    )


def test_a_cart_worth_the_most_an_order_may_be_takes_nothing_more(alice):
    gold = ProductFactory(name="Gold bar", price=PRICE_MAX, stock=500)
    silver = ProductFactory(name="Silver bar", price=PRICE_MAX)
    gum = ProductFactory(name="Gum", price=Decimal("0.01"))
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=gold, quantity=QUANTITY_MAX)  # 989,999.01
    cart_add_product(cart=cart, product=silver)  # 999,999.00
    cart_add_product(cart=cart, product=gum)  # 999,999.01: a cent under the most, 999,999.99
    before = state(cart)

    error = refused(cart_set_quantity, cart=cart, product=silver, quantity=2)

    limit = money_format(CART_TOTAL_MAX)
    assert (str(error), error.code) == (ERROR_CART_TOTAL.format(limit=limit), "cart_total")
    assert state(cart) == before
    cart_set_quantity(cart=cart, product=gold, quantity=1)  # lowering is always allowed


def test_a_merge_past_the_bounds_moves_what_fits_and_says_why(alice):
    gold = ProductFactory(name="Gold bar", price=PRICE_MAX, stock=500)
    rice = ProductFactory(name="Rice")
    anonymous = cart_get_for_session(session_key="s" * 32)
    cart_add_product(cart=anonymous, product=gold, quantity=QUANTITY_MAX)
    cart_add_product(cart=anonymous, product=rice)
    shopper = cart_get_for_user(user=alice)
    cart_add_product(cart=shopper, product=gold, quantity=1)

    messages = cart_merge(source=anonymous, target=shopper)

    assert ERROR_LINE_FULL.format(product="Gold bar") in messages
    assert sorted(shopper.lines.values_list("product__name", "quantity")) == [
        ("Gold bar", 1),
        ("Rice", 1),
    ]
