"""devices.decoding: codes read from images made here (qrcode for QR, zxing-cpp for EAN-13)."""

import io
import logging
import sys

import pytest
import zxingcpp
from PIL import Image

from devices import decoding
from devices.decoding import (
    ERROR_NOT_AN_IMAGE,
    ERROR_TOO_MANY_PIXELS,
    DecodedCode,
    DecodeError,
    decode_image,
    decode_with_pyzbar,
    image_open,
    pyzbar_available,
)
from shopcart.qr import qr_png

needs_libzbar = pytest.mark.skipif(
    not pyzbar_available(), reason="libzbar is not installed (apt-get install libzbar0)"
)

EAN13 = "4006381333931"


def encoded(image: Image.Image, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def ean13_image(code: str = EAN13) -> Image.Image:
    barcode = zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.EAN13)
    view = memoryview(zxingcpp.write_barcode_to_image(barcode, scale=3))
    height, width = view.shape
    return Image.frombytes("L", (width, height), view.tobytes())


def test_qr_code_is_read():
    assert decode_image(qr_png("SCP1:HELLO")) == [DecodedCode("SCP1:HELLO", "QRCODE")]


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_ean13_is_read_from_png_and_jpeg(image_format):
    image = ean13_image().convert("RGB")

    assert decode_image(encoded(image, image_format)) == [DecodedCode(EAN13, "EAN13")]


@needs_libzbar
def test_pyzbar_reads_the_same_codes():
    assert decode_with_pyzbar(image_open(encoded(ean13_image()))) == [DecodedCode(EAN13, "EAN13")]
    assert decode_with_pyzbar(image_open(qr_png("SCP1:HELLO"))) == [
        DecodedCode("SCP1:HELLO", "QRCODE")
    ]


@needs_libzbar
def test_pyzbar_is_asked_only_when_zxing_finds_nothing(monkeypatch):
    asked: list[Image.Image] = []

    def pyzbar_spy(image: Image.Image) -> list[DecodedCode]:
        asked.append(image)
        return []

    monkeypatch.setattr(decoding, "decode_with_pyzbar", pyzbar_spy)
    decode_image(qr_png("FOUND BY ZXING"))
    assert asked == []

    monkeypatch.undo()
    monkeypatch.setattr(decoding, "decode_with_zxing", lambda image: [])
    assert decode_image(qr_png("FOUND BY ZBAR")) == [DecodedCode("FOUND BY ZBAR", "QRCODE")]


def test_image_without_a_code_gives_an_empty_list():
    blank = Image.new("L", (320, 240), color=255)

    assert decode_image(encoded(blank)) == []


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", encoded(Image.new("RGB", (10, 10)), "GIF"), qr_png("X")[:60]],
)
def test_data_that_is_not_a_jpeg_or_png_is_refused(data):
    with pytest.raises(DecodeError, match=ERROR_NOT_AN_IMAGE):
        decode_image(data)


def test_too_many_pixels_are_refused_before_decoding(monkeypatch):
    big = encoded(Image.new("L", (2500, 2000), color=255))  # 5 MP, a few kB of PNG
    monkeypatch.setattr(zxingcpp, "read_barcodes", pytest.fail)

    with pytest.raises(DecodeError, match=ERROR_TOO_MANY_PIXELS.format(limit=4_000_000)):
        decode_image(big)
    with pytest.raises(DecodeError):
        decode_image(qr_png("SMALL"), max_pixels=100 * 100)


def test_without_libzbar_it_logs_once_and_uses_zxing_alone(monkeypatch, caplog):
    decoding.pyzbar_module.cache_clear()
    # None in sys.modules makes the import fail as it does without the shared library.
    monkeypatch.setitem(sys.modules, "pyzbar.pyzbar", None)
    monkeypatch.setitem(sys.modules, "pyzbar", None)
    blank = encoded(Image.new("L", (64, 64), color=255))
    try:
        with caplog.at_level(logging.WARNING, logger="devices.decoding"):
            assert decode_image(blank) == []
            assert decode_image(blank) == []
            assert decode_image(qr_png("STILL READ")) == [DecodedCode("STILL READ", "QRCODE")]
        assert not pyzbar_available()
    finally:
        decoding.pyzbar_module.cache_clear()

    [record] = caplog.records
    assert "zxing-cpp only" in record.getMessage()
