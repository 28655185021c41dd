"""The cart firmware's contract with the server, both ways.

``make -C firmware test`` builds and runs the firmware's host tests (firmware/test/). They parse
the server's golden answers in tests/fixtures/devices/ and check the display and beep each gives,
and they write every request the firmware builds, byte for byte, into a folder. Here those
requests are posted to the real endpoints by a registered, paired device, and must succeed.

A change on either side breaks a test: the server's answers are pinned to the golden files by
test_golden_payloads.py, the firmware reads those files; the firmware's requests come here.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from django.test import Client

from carts.models import CartLine
from carts.services import cart_pass_issue
from devices.models import ScanEvent
from devices.services import device_pair, device_provisioning_start
from devices.services.enrolment import enrolment_token_hash
from tests.devices.golden import FIXTURES, golden, shape
from tests.devices.support import EAN13_GTIN
from tests.factories import BarcodeFactory, ProductFactory

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
HOST_TESTS = FIRMWARE / "build" / "host_tests"
BUILD_TIMEOUT = 600  # seconds; a cold build takes well under a minute

# What each request the firmware emits must get, posted in this order to one paired cart.
SCAN_PAYLOADS = [
    ("scan_raw_jpeg", 201, "added"),
    ("scan_raw_jpeg_retry", 200, "added"),  # the same bytes again: answered from the stored scan
    ("scan_json_image", 201, "added"),
    ("scan_code", 201, "added"),
    ("scan_code_remove", 201, "removed"),
    ("scan_code_escaped", 201, "no_barcode"),
]
# A scan the server answered just before the cart lost power, and the same scan the cart sent
# again from its flash after the restart: both must add the product once.
POWER_CUT_PAYLOADS = [
    ("scan_before_power_cut", 201, "added"),
    ("scan_after_power_cut", 200, "added"),
]
# The text the firmware put into scan_code_escaped (a stray 0xFF byte becomes U+FFFD).
ESCAPED_CODE = 'A"B\\C\t\x01é\ufffd'
# Headers the test client sets itself, or that name the firmware's test server.
HEADERS_NOT_FORWARDED = {"host", "authorization", "content-type", "content-length", "connection"}


def toolchain_missing() -> str | None:
    """Why the firmware's host tests cannot be built here, or None when they can."""
    for tool in ("make", "g++"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install build-essential)"
    probe = subprocess.run(
        ["g++", "-std=c++11", "-E", "-x", "c++", "-"],  # noqa: S607 - a fixed compiler probe
        input="#include <doctest/doctest.h>\n",
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return "doctest is not installed (apt-get install doctest-dev)"
    return None


@pytest.fixture(scope="module")
def payloads(tmp_path_factory) -> Path:
    """Builds and runs the firmware's host tests once; the folder of requests they wrote."""
    reason = toolchain_missing()
    if reason is not None:
        pytest.skip(f"firmware host tests not run: {reason}")
    folder = tmp_path_factory.mktemp("firmware-payloads")
    result = subprocess.run(  # noqa: S603 - our own Makefile
        ["make", "-C", str(FIRMWARE), "test", f"PAYLOADS_DIR={folder}"],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-6000:]
    return folder


@dataclass(frozen=True)
class Payload:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def payload_read(path: Path) -> Payload:
    """An HTTP/1.1 request as the firmware wrote it to its socket."""
    head, separator, body = path.read_bytes().partition(b"\r\n\r\n")
    assert separator, f"{path.name}: no end of headers"
    request_line, *header_lines = head.decode("ascii").split("\r\n")
    method, target, version = request_line.split(" ")
    assert version == "HTTP/1.1"
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(": ")
        headers[name] = value
    assert int(headers["Content-Length"]) == len(body), f"{path.name}: Content-Length is wrong"
    return Payload(method=method, path=target, headers=headers, body=body)


def payload_post(client: Client, payload: Payload, key: str):
    """Posts payload as the cart would, with this test's device key."""
    assert payload.method == "POST"
    forwarded = {
        name: value
        for name, value in payload.headers.items()
        if name.lower() not in HEADERS_NOT_FORWARDED
    }
    assert payload.headers["Authorization"].startswith("Device ")
    return client.generic(
        "POST",
        payload.path,
        data=payload.body,
        content_type=payload.headers["Content-Type"],
        headers={**forwarded, "Authorization": f"Device {key}"},
    )


def assert_accepted(response, status: int, result: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["result"] == result


def json_shape(payload: Payload) -> dict:
    return shape(json.loads(payload.body))


@pytest.fixture
def paired_cart(device, alice):
    BarcodeFactory(gtin=EAN13_GTIN, product=ProductFactory(name="Oat milk 1 l"))
    return device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart


# --- Firmware → server ----------------------------------------------------------------------


def test_the_firmware_writes_every_request_shape(payloads):
    written = {path.stem for path in payloads.glob("*.http")}

    emitted = SCAN_PAYLOADS + POWER_CUT_PAYLOADS
    assert written == {name for name, _, _ in emitted} | {"heartbeat", "enrol"}


def test_every_scan_the_firmware_builds_is_accepted_by_the_server(
    payloads, paired_cart, device_key, alice
):
    client = Client()
    answers = {}
    for name, status, result in SCAN_PAYLOADS:
        response = payload_post(client, payload_read(payloads / f"{name}.http"), device_key)
        assert_accepted(response, status, result)
        answers[name] = response.json()

    assert answers["scan_raw_jpeg_retry"] == answers["scan_raw_jpeg"]
    line = CartLine.objects.get(cart=paired_cart)
    assert line.quantity == 2  # the photo once (its retry counted once), base64, code, remove
    assert ScanEvent.objects.get(code=ESCAPED_CODE).result == "no_barcode"


def test_a_scan_resent_from_flash_after_a_power_cut_is_added_once(
    payloads, paired_cart, device_key
):
    client = Client()
    answers = []
    for name, status, result in POWER_CUT_PAYLOADS:
        response = payload_post(client, payload_read(payloads / f"{name}.http"), device_key)
        assert_accepted(response, status, result)
        answers.append(response.json())

    assert answers[1] == answers[0]
    assert CartLine.objects.get(cart=paired_cart).quantity == 1
    assert ScanEvent.objects.count() == 1


def test_the_enrolment_the_firmware_builds_from_the_golden_qr_gets_a_key(payloads, db):
    payload = payload_read(payloads / "enrol.http")
    token = json.loads(payload.body)["token"]
    provisioning = device_provisioning_start(name="Cart 12")
    provisioning.device.enrolment_tokens.update(token_hash=enrolment_token_hash(token))
    assert "Authorization" not in payload.headers

    response = Client().generic(
        "POST", payload.path, data=payload.body, content_type=payload.headers["Content-Type"]
    )

    assert response.status_code == 201, response.content
    assert shape(response.json()) == shape(golden("response_enrol"))


def test_the_heartbeat_the_firmware_builds_is_accepted(payloads, paired_cart, device_key, device):
    response = payload_post(Client(), payload_read(payloads / "heartbeat.http"), device_key)

    assert response.status_code == 200, response.content
    assert response.json()["paired"] is True
    device.refresh_from_db()  # the health report, as the host tests' fake board gives it
    assert (device.reset_reason, device.camera_ok, device.failed_captures) == ("power_on", True, 0)
    assert device.free_psram == 3407872
    assert device.restarts.get().reason == "power_on"


def test_the_firmwares_json_bodies_have_the_golden_shapes(payloads):
    pairs = [
        ("scan_code", "request_scan_code"),
        ("scan_code_remove", "request_scan_code_remove"),
        ("scan_code_escaped", "request_scan_no_barcode"),
        ("scan_json_image", "request_scan_image"),
        ("heartbeat", "request_heartbeat"),
        ("enrol", "request_enrol"),
    ]
    for emitted, golden_name in pairs:
        assert json_shape(payload_read(payloads / f"{emitted}.http")) == shape(golden(golden_name))


def test_a_raw_photo_carries_its_scan_in_headers(payloads):
    payload = payload_read(payloads / "scan_raw_jpeg.http")

    assert payload.headers["Content-Type"] == "image/jpeg"
    assert payload.body.startswith(b"\xff\xd8\xff")
    assert payload.headers["X-Scan-Mode"] == "add"
    assert payload.headers["X-Scan-Qty"] == "1"
    assert len(payload.headers["X-Scan-Id"]) == 36


@pytest.mark.parametrize(
    ("name", "mutate"),
    [
        pytest.param(
            "scan_code",
            lambda p: replace(p, body=p.body.replace(b'"code"', b'"barcode"')),
            id="a JSON key renamed",
        ),
        pytest.param(
            "scan_raw_jpeg",
            lambda p: replace(
                p,
                headers={
                    ("X-Scan-Ident" if k == "X-Scan-Id" else k): v for k, v in p.headers.items()
                },
            ),
            id="a scan header renamed",
        ),
        pytest.param(
            "heartbeat",
            lambda p: replace(p, body=p.body.replace(b'"wifi_rssi":-61', b'"wifi_rssi":"-61dBm"')),
            id="a number sent as text",
        ),
        pytest.param(
            "heartbeat",
            lambda p: replace(
                p, body=p.body.replace(b'"reset_reason":"power_on"', b'"reset_reason":"POWERON"')
            ),
            id="a reset reason the server does not know",
        ),
    ],
)
def test_a_payload_changed_on_the_firmware_side_fails_the_check(
    payloads, paired_cart, device_key, name, mutate
):
    mutated = mutate(payload_read(payloads / f"{name}.http"))
    response = payload_post(Client(), mutated, device_key)

    assert response.status_code == 400
    with pytest.raises(AssertionError):
        assert_accepted(response, 201, "added")


# --- Server → firmware --------------------------------------------------------------------------


def host_tests_run(fixtures: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """The firmware's contract tests against the fixtures in fixtures (a copy)."""
    out = tmp_path / "payloads"
    out.mkdir(exist_ok=True)
    return subprocess.run(  # noqa: S603 - the binary make built
        [str(HOST_TESTS), "-ts=contract", "--no-colors"],
        env={"FIXTURES_DIR": str(fixtures), "PAYLOADS_DIR": str(out), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def fixtures_copy(payloads, tmp_path) -> Path:
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    return copy


def test_the_firmware_contract_tests_pass_on_the_golden_files(fixtures_copy, tmp_path):
    result = host_tests_run(fixtures_copy, tmp_path)

    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        pytest.param("response_added.json", '"beep"', '"buzzer"', id="answer key renamed"),
        pytest.param("response_paired.json", '"pair"', '"chime"', id="beep code changed"),
        pytest.param("response_no_barcode.json", '"No barcode read",', "", id="one display line"),
        pytest.param("request_scan_code.json", '"symbology"', '"format"', id="request key renamed"),
        pytest.param("cart/retry_script.json", '"delay_ms": 750', '"delay_ms": 700', id="retry"),
        pytest.param("response_enrol.json", '"device_key"', '"key"', id="enrol key renamed"),
        pytest.param("cart/provisioning.json", "provision/1", "provision/2", id="QR format"),
        pytest.param("cart/reset_reasons.json", '"brownout"', '"brown_out"', id="reset reason"),
        pytest.param(
            "cart/heartbeat_update_offer.json", '"sha256"', '"digest"', id="update offer key"
        ),
    ],
)
def test_a_fixture_changed_on_the_server_side_fails_the_firmware(
    fixtures_copy, tmp_path, file, old, new
):
    path = fixtures_copy / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))

    result = host_tests_run(fixtures_copy, tmp_path)

    assert result.returncode != 0, "the firmware did not notice the change"
    assert "Status: FAILURE" in result.stdout
