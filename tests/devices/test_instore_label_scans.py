"""Scanning in-store price and weight labels through the device API, end to end: the item's
zeroed code finds the product, each distinct label is a cart line at the label's price, and a
label that cannot say a price is refused without touching the cart."""

from decimal import Decimal

import pytest

from carts.models import CartLine
from carts.services import cart_pass_issue
from catalog.models import Product
from devices.models import ScanEvent, UnknownCode
from devices.services import device_pair
from devices.services.scans import (
    DISPLAY_LABEL_INVALID,
    DISPLAY_LABEL_NO_PRICE,
    DISPLAY_UNKNOWN_PRODUCT,
)
from tests.devices.support import (
    b64,
    check_answer,
    ean13_image,
    encoded,
    post_json,
    scan_body,
    scan_code,
)
from tests.factories import BarcodeFactory, ProductFactory

pytestmark = pytest.mark.django_db

# Germany: prefix 28 carries a weight in grams, 22 a price in cents (each with a check digit).
WEIGHT_412_G = "2812345004128"
WEIGHT_250_G = "2812343002508"
WEIGHT_BAD_CHECK = "2812346004127"
WEIGHED_ITEM = "02812340000002"  # what the store registers for every weighed pack of the item
PRICE_349 = "2212346003494"
PRICED_ITEM = "02212340000000"
# Sweden: prefix 23 is a weight in grams, without a check digit.
SE_WEIGHT_412_G = "2312345604125"
SE_WEIGHED_ITEM = "02312345600004"


@pytest.fixture(autouse=True)
def _labels_german(settings):
    settings.INSTORE_LABEL_REGION = "de"


@pytest.fixture
def alice_cart(alice, device):
    return device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart


@pytest.fixture
def cheddar():
    product = ProductFactory(name="Cheddar", price=Decimal("12.90"), sold_by=Product.SoldBy.KG)
    BarcodeFactory(gtin=WEIGHED_ITEM, product=product)
    return product


@pytest.fixture
def cake():
    """Sold by the piece; each cake's label carries its own price."""
    product = ProductFactory(name="Cake", price=Decimal("4.00"))
    BarcodeFactory(gtin=PRICED_ITEM, product=product)
    return product


def lines(cart) -> list[tuple[str, str, int]]:
    return [
        (line.label_code, str(line.unit_price), line.quantity) for line in cart.lines.order_by("pk")
    ]


def test_a_price_label_adds_the_item_at_the_labels_price(device_client, alice_cart, cake):
    answer = scan_code(device_client, PRICE_349)

    assert answer["result"] == "added"
    assert answer["beep"] == "ok"
    assert answer["product"] == {"id": cake.pk, "name": "Cake", "price": "3.49"}
    assert answer["cart"] == {"items": 1, "total": "3.49"}
    assert answer["display"] == ["+1 Cake", "Total 3.49"]
    assert lines(alice_cart) == [("0" + PRICE_349, "3.49", 1)]
    assert ScanEvent.objects.get().gtin == "0" + PRICE_349


def test_a_weight_label_adds_weight_times_price_per_kg(device_client, alice_cart, cheddar):
    answer = scan_code(device_client, WEIGHT_412_G)

    # 0.412 kg x 12.90 per kg = 5.3148
    assert answer["product"]["price"] == "5.31"
    assert answer["cart"] == {"items": 1, "total": "5.31"}
    line = CartLine.objects.get(cart=alice_cart)
    assert (line.label_code, line.unit_price, line.scanned_quantity) == (
        "0" + WEIGHT_412_G,
        Decimal("5.31"),
        1,
    )


def test_the_same_label_twice_is_one_line_of_two(device_client, alice_cart, cheddar):
    scan_code(device_client, WEIGHT_412_G)
    answer = scan_code(device_client, WEIGHT_412_G)

    assert answer["cart"] == {"items": 2, "total": "10.62"}
    assert lines(alice_cart) == [("0" + WEIGHT_412_G, "5.31", 2)]


def test_two_packs_of_different_weight_are_two_lines(device_client, alice_cart, cheddar):
    scan_code(device_client, WEIGHT_412_G)
    answer = scan_code(device_client, WEIGHT_250_G)

    # 0.250 kg x 12.90 = 3.225, rounded half up
    assert answer["cart"] == {"items": 2, "total": "8.54"}
    assert lines(alice_cart) == [("0" + WEIGHT_412_G, "5.31", 1), ("0" + WEIGHT_250_G, "3.23", 1)]


def test_the_items_own_barcode_still_adds_an_ordinary_line(device_client, alice_cart, cake):
    scan_code(device_client, PRICE_349)
    answer = scan_code(device_client, "4006381333931")  # unrelated code: unknown
    assert answer["result"] == "unknown_product"

    BarcodeFactory(gtin="04006381333931", product=cake)
    scan_code(device_client, "4006381333931")

    assert lines(alice_cart) == [("0" + PRICE_349, "3.49", 1), ("", "4.00", 1)]


def test_remove_mode_takes_from_that_labels_line(device_client, alice_cart, cheddar):
    scan_code(device_client, WEIGHT_412_G, qty=2)
    scan_code(device_client, WEIGHT_250_G)

    answer = scan_code(device_client, WEIGHT_412_G, mode="remove")

    assert answer["result"] == "removed"
    assert answer["display"] == ["-1 Cheddar", "Total 8.54"]
    assert lines(alice_cart) == [("0" + WEIGHT_412_G, "5.31", 1), ("0" + WEIGHT_250_G, "3.23", 1)]


def test_removing_a_label_that_is_not_in_the_cart_says_not_in_cart(
    device_client, alice_cart, cheddar
):
    scan_code(device_client, WEIGHT_412_G)

    answer = scan_code(device_client, WEIGHT_250_G, mode="remove")

    assert answer["result"] == "not_in_cart"
    assert answer["beep"] == "error"
    assert lines(alice_cart) == [("0" + WEIGHT_412_G, "5.31", 1)]


def test_a_weight_label_of_a_product_sold_by_the_piece_is_refused(
    device_client, alice_cart, cheddar
):
    cheddar.sold_by = Product.SoldBy.EACH
    cheddar.save()

    answer = scan_code(device_client, WEIGHT_412_G)

    assert answer["result"] == "unknown_product"
    assert answer["beep"] == "error"
    assert answer["display"] == list(DISPLAY_LABEL_NO_PRICE)
    assert answer["product"]["id"] == cheddar.pk
    assert not alice_cart.lines.exists()
    assert not UnknownCode.objects.exists()  # the product is known: nothing for staff to add


def test_a_label_whose_weight_check_digit_is_wrong_is_refused(device_client, alice_cart, cheddar):
    answer = scan_code(device_client, WEIGHT_BAD_CHECK)

    assert answer["result"] == "unknown_product"
    assert answer["display"] == list(DISPLAY_LABEL_INVALID)
    assert answer["product"] is None
    assert not alice_cart.lines.exists()
    assert not UnknownCode.objects.exists()


def test_a_label_of_an_unregistered_item_collects_the_items_code_for_staff(
    device_client, alice_cart
):
    answer = scan_code(device_client, WEIGHT_412_G)

    assert answer["result"] == "unknown_product"
    assert answer["display"] == [DISPLAY_UNKNOWN_PRODUCT[0], WEIGHED_ITEM]
    assert UnknownCode.objects.get().gtin == WEIGHED_ITEM


def test_with_labels_off_a_label_is_an_ordinary_barcode(
    settings, device_client, alice_cart, cheddar
):
    settings.INSTORE_LABEL_REGION = ""

    answer = scan_code(device_client, WEIGHT_412_G)

    assert answer["result"] == "unknown_product"
    assert UnknownCode.objects.get().gtin == "0" + WEIGHT_412_G
    assert not alice_cart.lines.exists()


def test_with_labels_off_a_label_registered_as_a_barcode_adds_at_the_catalog_price(
    settings, device_client, alice_cart, cheddar
):
    settings.INSTORE_LABEL_REGION = ""
    BarcodeFactory(gtin="0" + WEIGHT_412_G, product=cheddar)

    answer = scan_code(device_client, WEIGHT_412_G)

    assert answer["product"]["price"] == "12.90"
    assert lines(alice_cart) == [("", "12.90", 1)]


def test_swedish_labels_follow_the_swedish_layout(settings, device_client, alice_cart):
    settings.INSTORE_LABEL_REGION = "se"
    ham = ProductFactory(name="Ham", price=Decimal("20.00"), sold_by=Product.SoldBy.KG)
    BarcodeFactory(gtin=SE_WEIGHED_ITEM, product=ham)

    answer = scan_code(device_client, SE_WEIGHT_412_G)

    assert answer["product"] == {"id": ham.pk, "name": "Ham", "price": "8.24"}
    assert lines(alice_cart) == [("0" + SE_WEIGHT_412_G, "8.24", 1)]


def test_a_photo_of_a_weight_label_adds_the_pack(device_client, alice_cart, cheddar):
    body = scan_body(image=b64(encoded(ean13_image(WEIGHT_412_G))))

    answer = check_answer(post_json(device_client, body))

    assert answer["result"] == "added"
    assert answer["product"]["price"] == "5.31"
    assert lines(alice_cart) == [("0" + WEIGHT_412_G, "5.31", 1)]


def test_a_label_scan_costs_a_fixed_number_of_queries(
    device_client, alice_cart, cheddar, django_assert_max_num_queries
):
    scan_code(device_client, WEIGHT_412_G)

    with django_assert_max_num_queries(22):
        assert scan_code(device_client, WEIGHT_412_G)["result"] == "added"
