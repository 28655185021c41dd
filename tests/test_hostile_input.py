"""Hostile input at every way in: JSON nested a thousand levels deep, text holding a lone
surrogate (which UTF-8, and so the database, cannot store), a charset that smuggles one in.

Each answers the endpoint's documented 400 and changes nothing, never a 500: the device API
its ``{"detail", "request_id"}``, the cart and product APIs DRF's ``{"detail"}``, the webhooks
``{"error"}``. Bodies at the depth limit are still taken where the schema allows.
"""

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from carts.services import cart_pass_issue
from catalog.models import Product
from devices.models import ScanEvent
from devices.services import device_pair
from orders.gateways import gateway_get
from orders.gateways.base import ERROR_MALFORMED
from orders.models import Order, WebhookEvent
from orders.services.webhooks import OUTCOME_PAID
from shopcart.core.json_input import ERROR_TOO_DEEP, JSON_DEPTH_MAX
from shopcart.core.storable_text import ERROR_CHARSET, ERROR_SURROGATE
from tests.devices.refusals import refusal
from tests.factories import BarcodeFactory, ProductFactory
from tests.orders.payment_support import (
    STRIPE_WEBHOOK_SECRET,
    event_body,
    order_for,
    session_object,
    signed,
    stripe_payment,
    webhook_post,
)

pytestmark = pytest.mark.django_db

HEARTBEAT_URL = reverse("devices-api:heartbeat")
SCAN_URL = reverse("devices-api:scans")
LINES_URL = reverse("carts-api:lines")
COUPON_URL = reverse("carts-api:coupon")
PRODUCTS_URL = reverse("catalog-api:product_list")
EAN13 = "4006381333931"

DEPTH_BOMBS = {
    "array": "[" * 1000 + "]" * 1000,
    "object": '{"a": ' * 1000 + "1" + "}" * 1000,
    "inside a valid body": '{"scan_id": "x", "mode": "add", "qty": ' + "[" * 1000,
}
TOO_DEEP = f"JSON parse error - {ERROR_TOO_DEEP}"
UNSTORABLE = f"JSON parse error - {ERROR_SURROGATE}"
# JSON text (not a Python string): the six characters of the escape, as a client sends them.
SURROGATE = "\\ud800"


def nested(levels: int) -> list:
    """A value ``levels`` arrays deep: ``nested(2) == [[0]]``."""
    value: object = 0
    for _ in range(levels):
        value = [value]
    return value  # type: ignore[return-value]


def with_extra(body: dict, depth: int) -> dict:
    """``body`` plus a field the schema ignores, making the whole body ``depth`` levels deep."""
    return {**body, "extra": nested(depth - 1)}


def post(client: Client, url: str, body: str | dict, method: str = "post"):
    text = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(url, text, content_type="application/json")


@pytest.fixture(autouse=True)
def _stripe_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET


@pytest.fixture
def paired(device, alice):
    BarcodeFactory(gtin="0" + EAN13, product=ProductFactory(name="Oat milk 1 l", stock=10))
    return device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart


@pytest.fixture
def milk():
    return ProductFactory(name="Oat milk", price=Decimal("1.99"), stock=10)


HEARTBEAT = {
    "firmware_version": "1.4.2",
    "uptime_seconds": 86400,
    "wifi_rssi": -61,
    "free_heap": 141312,
    "queue_depth": 0,
}


def scan(**fields: object) -> dict:
    return {"scan_id": "7d0f8a52-1c1e-4b0e-9a43-5b8f8e3d2c11", "mode": "add", "qty": 1, **fields}


# --- Depth bombs: the documented 400, never a RecursionError ----------------------------------


@pytest.mark.parametrize("bomb", DEPTH_BOMBS.values(), ids=DEPTH_BOMBS)
@pytest.mark.parametrize("url", [HEARTBEAT_URL, SCAN_URL], ids=["heartbeat", "scan"])
def test_device_api_refuses_a_depth_bomb_with_its_refusal(device_client, paired, url, bomb):
    response = post(device_client, url, bomb)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == refusal(response, TOO_DEEP)
    assert not ScanEvent.objects.exists()


@pytest.mark.parametrize("bomb", DEPTH_BOMBS.values(), ids=DEPTH_BOMBS)
@pytest.mark.parametrize("url", [LINES_URL, COUPON_URL], ids=["lines", "coupon"])
def test_cart_api_refuses_a_depth_bomb(alice_client, url, bomb):
    response = post(alice_client, url, bomb)

    assert response.status_code == 400
    assert response.json() == {"detail": TOO_DEEP}


@pytest.mark.parametrize("method", ["post", "put", "patch"])
def test_product_api_refuses_a_depth_bomb(staff_client, milk, method):
    detail_url = reverse("catalog-api:product_detail", args=[milk.pk])
    url = PRODUCTS_URL if method == "post" else detail_url

    response = post(staff_client, url, DEPTH_BOMBS["array"], method)

    assert response.status_code == 400
    assert response.json() == {"detail": TOO_DEEP}
    assert Product.objects.get().name == "Oat milk"


def _event(data_object: object, event_id: str = "evt_hostile_1") -> bytes:
    prefix = f'{{"id": "{event_id}", "type": "checkout.session.completed", "data": {{"object": '
    return (prefix + json.dumps(data_object) + "}}").encode()


def _deliver(body: bytes, gateway: str) -> object:
    secret = gateway_get(gateway).webhook_secret() if gateway == "test" else STRIPE_WEBHOOK_SECRET
    return webhook_post(Client(), body, signed(body, secret=secret), gateway)


@pytest.mark.parametrize("gateway", ["stripe", "test"])
def test_a_signed_webhook_nested_a_thousand_levels_deep_is_malformed(gateway):
    bomb = b'{"id": "evt_1", "type": "x", "data": {"object": ' + b"[" * 1000 + b"]" * 1000 + b"}}"

    response = _deliver(bomb, gateway)

    assert response.status_code == 400
    assert response.json() == {"error": ERROR_MALFORMED}
    assert not WebhookEvent.objects.exists()


# --- At the limit, still taken ----------------------------------------------------------------


def test_heartbeat_at_the_depth_limit_is_taken(device_client):
    response = post(device_client, HEARTBEAT_URL, with_extra(HEARTBEAT, JSON_DEPTH_MAX))

    assert response.status_code == 200


def test_scan_at_the_depth_limit_is_taken(device_client, paired):
    body = with_extra(scan(code=EAN13, symbology="EAN13"), JSON_DEPTH_MAX)

    response = post(device_client, SCAN_URL, body)

    assert response.status_code == 201
    assert response.json()["result"] == "added"


def test_cart_line_at_the_depth_limit_is_taken(alice_client, milk):
    response = post(alice_client, LINES_URL, with_extra({"product": milk.pk}, JSON_DEPTH_MAX))

    assert response.status_code in (200, 201)


def test_product_at_the_depth_limit_is_taken(staff_client):
    body = with_extra({"name": "Rye bread", "price": "3.10"}, JSON_DEPTH_MAX)

    response = post(staff_client, PRODUCTS_URL, body)

    assert response.status_code == 201


def test_a_webhook_at_the_depth_limit_is_applied(alice, django_capture_on_commit_callbacks):
    payment = stripe_payment(order_for(alice))
    # The event, its data and the session are three levels; the extra field the rest.
    session = session_object(payment, extra=nested(JSON_DEPTH_MAX - 3))
    body = event_body("checkout.session.completed", session)

    with django_capture_on_commit_callbacks(execute=True):
        response = _deliver(body, "stripe")

    assert response.json() == {"received": True, "outcome": OUTCOME_PAID}
    payment.order.refresh_from_db()
    assert payment.order.status == Order.Status.PAID


def test_one_level_more_is_refused(alice):
    payment = stripe_payment(order_for(alice))
    session = session_object(payment, extra=nested(JSON_DEPTH_MAX - 2))

    response = _deliver(event_body("checkout.session.completed", session), "stripe")

    assert response.json() == {"error": ERROR_MALFORMED}


# --- Lone surrogates: refused before anything is stored ---------------------------------------


@pytest.mark.parametrize("gateway", ["stripe", "test"])
def test_a_signed_webhook_with_a_surrogate_in_its_event_id_is_malformed(alice, gateway):
    payment = stripe_payment(order_for(alice))
    body = _event(session_object(payment), event_id=f"evt_{SURROGATE}")

    response = _deliver(body, gateway)

    assert response.status_code == 400
    assert response.json() == {"error": ERROR_MALFORMED}
    assert not WebhookEvent.objects.exists()
    payment.order.refresh_from_db()
    assert payment.order.status == Order.Status.PENDING


def test_a_signed_webhook_with_a_surrogate_in_any_text_is_malformed(alice):
    # The decline message would be stored on the payment.
    payment = stripe_payment(order_for(alice))
    session = session_object(payment)
    session["last_payment_error"] = {"message": "Declined"}
    body = _event(session).replace(b"Declined", f"Declined {SURROGATE}".encode())

    response = _deliver(body, "stripe")

    assert response.json() == {"error": ERROR_MALFORMED}
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        f'{{"code": "{SURROGATE}"}}',  # a text field
        f'{{"code": "SAVE10", "{SURROGATE}": 1}}',  # a key no field reads
    ],
)
def test_cart_api_refuses_a_surrogate(alice_client, body):
    response = post(alice_client, COUPON_URL, body)

    assert response.status_code == 400
    assert response.json() == {"detail": UNSTORABLE}


def test_product_api_refuses_a_surrogate_in_a_name(staff_client):
    response = post(staff_client, PRODUCTS_URL, f'{{"name": "Jam {SURROGATE}", "price": "2.00"}}')

    assert response.status_code == 400
    assert response.json() == {"detail": UNSTORABLE}
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (SCAN_URL, json.dumps(scan(code="x")).replace('"x"', f'"{SURROGATE}"')),
        (HEARTBEAT_URL, json.dumps(HEARTBEAT).replace('"1.4.2"', f'"1.4.2{SURROGATE}"')),
    ],
    ids=["scan", "heartbeat"],
)
def test_device_api_refuses_a_surrogate_with_its_refusal(device_client, paired, url, body):
    response = post(device_client, url, body)

    assert response.status_code == 400
    assert response.json() == refusal(response, UNSTORABLE)


# --- A charset that decodes to surrogates: query strings and multipart forms -------------------

UTF7_MULTIPART = "multipart/form-data; boundary=BoUnDaRy; charset=utf-7"


def utf7_form(**fields: str) -> str:
    """A multipart body; the test client encodes it in the charset its content type names, so
    ``\\ud800`` reaches the server as UTF-7's ``+2AA-``, which Django decodes back to it."""
    parts = [
        f'--BoUnDaRy\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return "".join(parts) + "--BoUnDaRy--\r\n"


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/accounts/login/", {"login": "alice@example.com", "password": "x\ud800."}),
        ("/accounts/signup/", {"email": "z@example.com", "password1": "Xy-12\ud800."}),
        ("/accounts/password/reset/", {"email": "z\ud800.@example.com"}),
    ],
)
def test_a_form_posted_in_a_charset_other_than_utf_8_is_refused(alice, url, fields):
    response = Client().post(url, utf7_form(**fields), content_type=UTF7_MULTIPART)

    assert response.status_code == 400
    assert response.content.decode() == ERROR_CHARSET.format(charset="utf-7")


def test_a_shoppers_form_too(alice_client):
    response = alice_client.post(
        reverse("carts:coupon_apply"), utf7_form(code="\ud800."), content_type=UTF7_MULTIPART
    )

    assert response.status_code == 400


def test_a_query_string_in_a_charset_other_than_utf_8_is_refused(client):
    response = client.get("/?q=%2B2AA-", headers={"Content-Type": "text/plain; charset=utf-7"})

    assert response.status_code == 400


def test_an_api_query_string_is_refused_in_json(staff_client):
    response = staff_client.get(
        PRODUCTS_URL + "?search=%2B2AA-", headers={"Content-Type": "text/plain; charset=utf-7"}
    )

    assert response.status_code == 400
    assert response.json()["detail"] == ERROR_CHARSET.format(charset="utf-7")
    assert response.json()["request_id"] == response["X-Request-ID"]


@pytest.mark.parametrize("charset", ["utf-8", "UTF8", "utf_8"])
def test_utf_8_named_in_any_spelling_is_welcome(alice, charset):
    content_type = f"multipart/form-data; boundary=BoUnDaRy; charset={charset}"
    form = utf7_form(login="alice@example.com", password="wrong")

    assert Client().post("/accounts/login/", form, content_type=content_type).status_code == 200
    assert Client().get("/?q=milk", headers={"Content-Type": content_type}).status_code == 200


def test_a_json_body_in_another_charset_is_still_read(device_client):
    # The test client encodes the text in the charset named.
    response = device_client.post(
        HEARTBEAT_URL, json.dumps(HEARTBEAT), content_type="application/json; charset=utf-16"
    )

    assert response.status_code == 200
