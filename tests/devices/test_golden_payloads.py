"""The golden payloads in tests/fixtures/devices/, the contract shared with the cart firmware.

Each request file is posted to the real endpoint; the answer must have exactly the keys and JSON
types of the matching response file (see the README there).
"""

import json
from typing import Any

import pytest
from django.urls import reverse

from carts.services import cart_close, cart_pass_issue
from devices.provisioning import provisioning_parse, provisioning_payload_for, provisioning_text
from devices.services import device_pair, device_provisioning_start
from devices.services.enrolment import enrolment_token_hash
from tests.devices.golden import FIXTURES, golden, shape
from tests.devices.support import EAN13_GTIN, OTHER_GTIN, b64, two_codes_photo
from tests.factories import BarcodeFactory, ProductFactory

PASS_PLACEHOLDER = "{{PASS}}"
SCANS = reverse("devices-api:scans")
HEARTBEAT = reverse("devices-api:heartbeat")
ENROL = reverse("devices-api:enrol")


def assert_same_shape(answer: dict[str, Any], expected: dict[str, Any]) -> None:
    assert shape(answer) == shape(expected)


def filled(request: dict[str, Any], **values: str) -> dict[str, Any]:
    text = json.dumps(request)
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    assert "{{" not in text, "a placeholder was left unfilled"
    return json.loads(text)


def post(client, url: str, body: dict[str, Any]):
    return client.post(url, json.dumps(body), content_type="application/json")


# --- Situations ----------------------------------------------------------------------------------


@pytest.fixture
def oat_milk(db):
    return BarcodeFactory(gtin=EAN13_GTIN, product=ProductFactory(name="Oat milk 1 l")).product


def unpaired(**_):
    return None


def paired(*, device, alice, **_):
    device_pair(device=device, cart_pass=cart_pass_issue(user=alice))


def paired_with_product(*, device, alice, request):
    request.getfixturevalue("oat_milk")
    paired(device=device, alice=alice)


def paired_cart_closed(*, device, alice, **_):
    cart_close(cart=device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart)


SCAN_CASES = [
    pytest.param("request_scan_pass", unpaired, "response_paired", id="paired"),
    pytest.param("request_scan_code", paired_with_product, "response_added", id="added-code"),
    pytest.param("request_scan_image", paired_with_product, "response_added", id="added-image"),
    pytest.param("request_scan_code", unpaired, "response_not_paired", id="not_paired"),
    pytest.param("request_scan_no_barcode", paired, "response_no_barcode", id="no_barcode"),
    pytest.param("request_scan_code", paired, "response_unknown_product", id="unknown_product"),
    pytest.param(
        "request_scan_code_remove", paired_with_product, "response_not_in_cart", id="not_in_cart"
    ),
    pytest.param("request_scan_code", paired_cart_closed, "response_cart_closed", id="cart_closed"),
]


@pytest.mark.parametrize(("request_name", "situation", "response_name"), SCAN_CASES)
def test_each_scan_request_gets_an_answer_shaped_like_its_golden_response(
    device_client, device, alice, request, request_name, situation, response_name
):
    situation(device=device, alice=alice, request=request)
    body = filled(golden(request_name), PASS=cart_pass_issue(user=alice).text)

    response = post(device_client, SCANS, body)

    assert response.status_code == 201, response.content
    answer, expected = response.json(), golden(response_name)
    assert answer["result"] == expected["result"]
    assert_same_shape(answer, expected)


def test_a_photo_with_two_codes_gets_the_ambiguous_answer(device_client, device, alice, oat_milk):
    BarcodeFactory(gtin=OTHER_GTIN)  # the store sells both codes in the photo
    paired(device=device, alice=alice)
    body = {**golden("request_scan_image"), "image": b64(two_codes_photo())}

    response = post(device_client, SCANS, body)

    assert response.status_code == 201, response.content
    answer, expected = response.json(), golden("response_ambiguous")
    assert answer == {**expected, "cart": answer["cart"]}  # the cart's figures are examples
    assert_same_shape(answer, expected)


@pytest.mark.parametrize("situation", [unpaired, paired], ids=["unpaired", "paired"])
def test_the_heartbeat_answer_is_shaped_like_its_golden_response(
    device_client, device, alice, situation
):
    situation(device=device, alice=alice)

    response = post(device_client, HEARTBEAT, golden("request_heartbeat"))

    assert response.status_code == 200, response.content
    assert_same_shape(response.json(), golden("response_heartbeat"))


def test_every_fixture_file_is_used():
    used = {name for case in SCAN_CASES for name in (case.values[0], case.values[2])}
    used |= {"request_heartbeat", "response_heartbeat", "response_ambiguous"}
    used |= {"request_enrol", "response_enrol"}

    assert {path.stem for path in FIXTURES.glob("*.json")} == used


def test_the_enrolment_answer_is_shaped_like_its_golden_response(client, db):
    request = golden("request_enrol")
    provisioning = device_provisioning_start(name="Cart 12")
    provisioning.device.enrolment_tokens.update(token_hash=enrolment_token_hash(request["token"]))

    response = post(client, ENROL, request)

    assert response.status_code == 201, response.content
    assert_same_shape(response.json(), golden("response_enrol"))


def test_the_provisioning_qr_is_shaped_like_the_golden_one(settings, db):
    settings.CART_SERVER_URL = "https://shop.example.com"
    provisioning = device_provisioning_start(name="Cart 12")

    text = provisioning_text(provisioning_payload_for(token=provisioning.token))

    expected = json.loads((FIXTURES / "cart" / "provisioning.json").read_text())
    assert shape(json.loads(text)) == shape(expected)
    assert json.loads(text)["smartcart"] == expected["smartcart"]
    assert provisioning_parse(json.dumps(expected)).token == expected["token"]


# --- The check bites ------------------------------------------------------------------------------


def test_a_renamed_key_fails_the_shape_check():
    expected = golden("response_added")
    mutated = {("buzzer" if key == "beep" else key): value for key, value in expected.items()}

    assert_same_shape(expected, expected)
    with pytest.raises(AssertionError):
        assert_same_shape(mutated, expected)


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda a: a["product"].update(price=2.5), id="price a number"),
        pytest.param(lambda a: a["cart"].pop("items"), id="nested key missing"),
        pytest.param(lambda a: a.update(extra=True), id="extra key"),
        pytest.param(lambda a: a.update(display=["one line"]), id="one display line"),
        pytest.param(lambda a: a.update(product=None), id="null for an object"),
    ],
)
def test_a_changed_type_or_key_fails_the_shape_check(mutate):
    expected = golden("response_added")
    mutated = golden("response_added")
    mutate(mutated)

    with pytest.raises(AssertionError):
        assert_same_shape(mutated, expected)


def test_a_request_with_a_renamed_key_is_refused(device_client, device, alice, oat_milk):
    paired(device=device, alice=alice)
    body = golden("request_scan_code")
    body["barcode"] = body.pop("code")

    response = post(device_client, SCANS, body)

    assert response.status_code == 400
