"""``manage.py simulate_cart --enrol QR_IMAGE``: the simulated cart reads a provisioning QR with
the server's decoder, enrols with its code and runs with the key it gets."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from carts.models import CartLine
from carts.services import cart_pass_issue
from devices import simulator_enrol
from devices.provisioning import ProvisioningPayload, provisioning_qr_png
from devices.services import device_provisioning_start
from devices.simulator import SimulatorError
from tests.devices.support import EAN13, EAN13_GTIN, ScriptedTransport, answer, ean13_image, encoded
from tests.factories import BarcodeFactory, ProductFactory

PAYLOAD = ProvisioningPayload(
    wifi_ssid="Store-Carts",
    wifi_password="the-wifi-password",
    server_url="https://shop.example.com",
    token="sce_" + "Q" * 32,
    ca_sha256="ef" * 32,
)


def test_the_payload_is_read_from_a_photo_of_the_qr():
    assert simulator_enrol.provisioning_read(provisioning_qr_png(PAYLOAD)) == PAYLOAD


def test_a_photo_without_a_provisioning_qr_is_refused():
    with pytest.raises(SimulatorError, match="No smartcart provisioning QR"):
        simulator_enrol.provisioning_read(encoded(ean13_image(EAN13)), name="shelf.png")


def test_enrolling_posts_the_code_without_a_device_key_and_returns_the_key():
    transport = ScriptedTransport(
        answer(201, {"device_key": "scd_1_x", "device_name": "Cart 12", "server_time": "now"})
    )

    enrolment = simulator_enrol.enrol(PAYLOAD, transport=transport)

    (url, headers, body) = transport.sent[0]
    assert url == "https://shop.example.com/api/devices/v1/enrol/"
    assert "Authorization" not in headers
    assert json.loads(body) == {"token": PAYLOAD.token, "firmware_version": "simulator"}
    assert (enrolment.key, enrolment.device_name) == ("scd_1_x", "Cart 12")


def test_a_refused_enrolment_says_why():
    transport = ScriptedTransport(answer(403, {"detail": "This enrolment code was used already"}))

    with pytest.raises(SimulatorError, match="403: This enrolment code was used already"):
        simulator_enrol.enrol(PAYLOAD, transport=transport)

    assert len(transport.sent) == 1  # not retried: the code works once


def simulate(*args: str) -> str:
    out = io.StringIO()
    call_command("simulate_cart", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_cart_enrols_from_the_admins_qr_then_pairs_and_scans(live_server, alice, tmp_path):
    product = ProductFactory(name="Oat milk 1 l")
    BarcodeFactory(gtin=EAN13_GTIN, product=product)
    provisioning = device_provisioning_start(name="Cart 21")
    qr = tmp_path / "qr.png"
    qr.write_bytes(provisioning_qr_png(simulator_enrol_payload(provisioning.token)))
    pass_text = cart_pass_issue(user=alice).text

    output = simulate("--enrol", str(qr), "--server", live_server.url, "--pass", pass_text, EAN13)

    assert "Enrolled as “Cart 21”" in output
    assert CartLine.objects.get(cart__owner=alice, product=product).quantity == 1
    with pytest.raises(CommandError, match="refused the enrolment with 403"):
        simulate("--enrol", str(qr), "--server", live_server.url)  # the code works once


def simulator_enrol_payload(token: str) -> ProvisioningPayload:
    return ProvisioningPayload(
        wifi_ssid="Store-Carts",
        wifi_password="pw",
        server_url="https://shop.example.com",
        token=token,
        ca_sha256="ef" * 32,
    )
