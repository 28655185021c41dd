"""Helpers shared by the device tests and others: barcode photos, the device API as a cart
calls it, the simulator's scripted transport, a signed firmware release."""

import base64
import hashlib
import io
import json
import struct
import uuid
import zlib

import zxingcpp
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from devices.models import FirmwareRelease
from devices.services import device_register
from devices.services.scans import (
    DISPLAY_LINE_MAX,
)
from devices.simulator import (
    HttpAnswer,
)

EAN13 = "4006381333931"
EAN13_GTIN = "04006381333931"


Format = zxingcpp.BarcodeFormat


def encoded(image: Image.Image, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def code_image(text: str, barcode_format: Format, scale: int = 3) -> Image.Image:
    barcode = zxingcpp.create_barcode(text, barcode_format)
    view = memoryview(zxingcpp.write_barcode_to_image(barcode, scale=scale))
    height, width = view.shape
    return Image.frombytes("L", (width, height), view.tobytes())


def ean13_image(code: str = EAN13) -> Image.Image:
    return code_image(code, Format.EAN13)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels but holds almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


URL = reverse("devices-api:scans")


OTHER_EAN13 = "9780804816632"


OTHER_GTIN = "0" + OTHER_EAN13


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def scan_body(**fields) -> dict:
    return {"scan_id": str(uuid.uuid4()), "mode": "add", "qty": 1, **fields}


def post_json(client: Client, body: dict | str):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data, content_type="application/json")


def check_answer(response, status: int = 201) -> dict:
    """The answer of a processed scan, checked for its shape and the display's width."""
    assert response.status_code == status, response.content
    answer = response.json()
    assert set(answer) == {"result", "product", "cart", "display", "beep"}
    assert len(answer["display"]) == 2
    assert all(len(line) <= DISPLAY_LINE_MAX for line in answer["display"])
    assert answer["beep"] in {"ok", "error", "pair"}
    return answer


def scan_code(client: Client, code: str = EAN13, *, status: int = 201, **fields) -> dict:
    body = scan_body(code=code, symbology=fields.pop("symbology", "EAN13"), **fields)
    return check_answer(post_json(client, body), status)


def scan_pass(client: Client, text: str) -> dict:
    return scan_code(client, text, symbology="QRCODE")


def client_for_new_device(name: str):
    device, key = device_register(name=name)
    return device, Client(headers={"Authorization": f"Device {key}"})


def two_codes_photo(second: str = OTHER_EAN13) -> bytes:
    """Two different EAN-13 codes, one above the other, as on a book's back cover."""
    first, other = ean13_image(), ean13_image(second)
    sheet = Image.new("L", (first.width, first.height * 2 + 40), 255)
    sheet.paste(first, (0, 0))
    sheet.paste(other, (0, first.height + 40))
    return encoded(sheet)


class ScriptedTransport:
    """Answers from a script, in order; an exception in the script is raised instead."""

    def __init__(self, *script):
        self.script = list(script)
        self.sent: list[tuple[str, dict, bytes]] = []

    def __call__(self, url, *, headers, body):
        self.sent.append((url, headers, body))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def answer(status: int, body: dict | None = None, **headers) -> HttpAnswer:
    return HttpAnswer(status, headers, json.dumps(body or {}).encode())


BINARY = b"\xe9" + b"smartcart firmware 1.2.0 " * 400


def release(private, version: str, *, percent: int = 0, devices=()) -> FirmwareRelease:
    sha256, signature = signed(private)
    made = FirmwareRelease.objects.create(
        version=version,
        binary=ContentFile(BINARY, name="firmware.bin"),
        size=len(BINARY),
        sha256=sha256,
        signature=signature,
        rollout_percent=percent,
    )
    made.target_devices.set(devices)
    return made


def signed(private, binary: bytes = BINARY) -> tuple[str, str]:
    digest = hashlib.sha256(binary).digest()
    return digest.hex(), base64.b64encode(private.sign(digest)).decode()
