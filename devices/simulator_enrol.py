"""The simulated cart's provisioning: read a provisioning QR from a photo, enrol, get a key.

What the firmware does with its camera (``firmware/core/provisioning.cpp``), done with the
server's own decoder (``devices.decoding``) on an image file, so the whole flow runs in CI:
staff "Add a cart" in the admin, save the QR, ``manage.py simulate_cart --enrol qr.png``.
"""

from dataclasses import dataclass

from devices.decoding import DecodeError, decode_image
from devices.provisioning import ProvisioningInvalid, ProvisioningPayload, provisioning_parse
from devices.simulator import (
    ERROR_NOT_RUNNING,
    USER_AGENT,
    SimulatorError,
    Transport,
    TransportError,
    _detail,
    _json_bytes,
    urllib_transport,
)

ENROL_PATH = "/api/devices/v1/enrol/"
FIRMWARE_VERSION = "simulator"
ERROR_NO_PROVISIONING_QR = "No smartcart provisioning QR could be read in {name}."
ERROR_ENROL_REFUSED = "The server refused the enrolment with {status}: {detail}"


@dataclass(frozen=True)
class Enrolment:
    server: str
    device_name: str
    key: str  # shown once to the person running the simulator, as the admin shows a new key


def provisioning_read(image: bytes, *, name: str = "the image") -> ProvisioningPayload:
    """The provisioning payload of the first provisioning QR in ``image`` (JPEG or PNG)."""
    try:
        codes = decode_image(image)
    except DecodeError as exc:
        raise SimulatorError(f"{name}: {exc}") from exc
    for code in codes:
        if code.symbology != "QRCODE":
            continue
        try:
            return provisioning_parse(code.text)
        except ProvisioningInvalid:
            continue
    raise SimulatorError(ERROR_NO_PROVISIONING_QR.format(name=name))


def enrol(
    payload: ProvisioningPayload,
    *,
    server: str | None = None,
    transport: Transport = urllib_transport,
) -> Enrolment:
    """Exchange the payload's enrolment code for a device key at ``server`` (default: the
    address in the QR). Not retried: the code works once, and a retry after a lost answer
    would be refused as used (the installer asks staff for a new QR)."""
    base = (server or payload.server_url).rstrip("/")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    body = _json_bytes({"token": payload.token, "firmware_version": FIRMWARE_VERSION})
    try:
        answer = transport(
            base + ENROL_PATH, headers={**headers, "User-Agent": USER_AGENT}, body=body
        )
    except TransportError as exc:
        raise SimulatorError(ERROR_NOT_RUNNING.format(server=base)) from exc
    if answer.status != 201:
        raise SimulatorError(
            ERROR_ENROL_REFUSED.format(status=answer.status, detail=_detail(answer))
        )
    data = answer.json()
    return Enrolment(server=base, device_name=data["device_name"], key=data["device_key"])
