"""devices.decoding: codes one reader's word is not enough for, and how pyzbar is asked.

A UPC-E (no check digit of its own) and a GTIN whose GS1 prefix no GS1 office issues are
*doubtful*: when zxing-cpp reads one, it stays only if pyzbar reads it too.
"""

from types import SimpleNamespace

import pytest
import zxingcpp
from PIL import Image

from devices import decoding
from devices.decoding import (
    DecodedCode,
    decode_image_timed,
    decode_with_pyzbar,
    is_doubtful,
    pyzbar_available,
    with_second_opinion,
)
from tests.devices.test_decoding import EAN13, EAN13_GTIN, Format, code_image, encoded

needs_libzbar = pytest.mark.skipif(
    not pyzbar_available(), reason="libzbar is not installed (apt-get install libzbar0)"
)

UPCE = "01234565"
UPCE_GTIN = "00012345000065"
# A valid EAN-13 under GS1 prefix 192, which no GS1 office issues: the price code printed
# under the ISBN of Japanese books looks like this.
UNASSIGNED = "1920081045006"

upce = DecodedCode(UPCE, "UPCE", UPCE_GTIN)
ean13 = DecodedCode(EAN13, "EAN13", EAN13_GTIN)
unassigned = DecodedCode(UNASSIGNED, "EAN13", "0" + UNASSIGNED)
qr = DecodedCode("SCP1:HELLO", "QRCODE")


def zxing_reads(monkeypatch, *found: tuple[str, zxingcpp.BarcodeFormat]) -> None:
    """zxing-cpp reads ``found`` in any image, whatever it shows."""
    barcodes = [SimpleNamespace(text=text, format=fmt, valid=True) for text, fmt in found]
    monkeypatch.setattr(zxingcpp, "read_barcodes", lambda image, **options: list(barcodes))


def pyzbar_reads(monkeypatch, *codes: DecodedCode) -> list[Image.Image]:
    """pyzbar reads ``codes`` in any image; returns the images it was asked about."""
    asked: list[Image.Image] = []

    def fake(image: Image.Image, **options: object) -> list[DecodedCode]:
        asked.append(image)
        return list(codes)

    monkeypatch.setattr(decoding, "decode_with_pyzbar", fake)
    return asked


def blank() -> bytes:
    return encoded(Image.new("L", (120, 90), 255))


@pytest.mark.parametrize(
    ("code", "doubtful"),
    [
        pytest.param(upce, True, id="UPC-E"),
        pytest.param(unassigned, True, id="EAN-13 with an unassigned GS1 prefix"),
        pytest.param(ean13, False, id="EAN-13 of a GS1 member"),
        pytest.param(DecodedCode("036000291452", "UPCA", "00036000291452"), False, id="UPC-A"),
        pytest.param(DecodedCode("96385074", "EAN8", "00000096385074"), False, id="EAN-8"),
        pytest.param(qr, False, id="QR"),
    ],
)
def test_which_codes_are_doubtful(code, doubtful):
    assert is_doubtful(code) is doubtful


def test_second_opinion_keeps_what_pyzbar_confirms_and_adds_what_it_read_besides():
    assert with_second_opinion([upce, ean13], [upce, qr]) == [upce, ean13, qr]


def test_second_opinion_drops_a_doubtful_code_pyzbar_did_not_read():
    assert with_second_opinion([upce, ean13], []) == [ean13]
    assert with_second_opinion([unassigned], [ean13]) == [ean13]


@needs_libzbar
def test_upce_read_by_zxing_and_pyzbar_is_read():
    found = decode_image_timed(encoded(code_image(UPCE, Format.UPCE)))

    assert [(code.symbology, code.gtin) for code in found.codes] == [("UPCE", UPCE_GTIN)]
    assert found.attempt == "zxing-cpp"


@needs_libzbar
def test_upce_only_zxing_reads_is_not_believed_from_any_attempt(monkeypatch):
    # zxing-cpp "reads" the UPC-E in the photo and in every variant of it; pyzbar sees nothing.
    zxing_reads(monkeypatch, (UPCE, Format.UPCE))
    asked = pyzbar_reads(monkeypatch)

    found = decode_image_timed(blank())

    assert (found.codes, found.attempt) == ((), "")
    assert len(asked) == 1  # asked once, about the whole photo


@needs_libzbar
def test_doubtful_code_gives_way_to_what_pyzbar_reads(monkeypatch):
    zxing_reads(monkeypatch, (UNASSIGNED, Format.EAN13))
    pyzbar_reads(monkeypatch, ean13)

    found = decode_image_timed(blank())

    assert (found.codes, found.attempt) == ((ean13,), "pyzbar")


@needs_libzbar
def test_pyzbar_is_not_asked_about_codes_that_are_not_doubtful(monkeypatch):
    zxing_reads(monkeypatch, (EAN13, Format.EAN13))
    asked = pyzbar_reads(monkeypatch)

    found = decode_image_timed(blank())

    assert (found.codes, found.attempt, asked) == ((ean13,), "zxing-cpp", [])


def test_without_libzbar_zxing_alone_is_believed_about_doubtful_codes(monkeypatch):
    monkeypatch.setattr(decoding, "pyzbar_module", lambda: None)
    zxing_reads(monkeypatch, (UPCE, Format.UPCE))

    found = decode_image_timed(blank())

    assert (found.codes, found.attempt) == ((upce,), "zxing-cpp")


@needs_libzbar
def test_pyzbar_leaves_out_a_1d_code_seen_on_a_single_scan_line(monkeypatch):
    # Two rows of an EAN-13's bars on white: pyzbar scans every second row, so it sees the
    # code once, and libzbar's own rule wants more than that from a 1D code.
    bars = code_image(EAN13, Format.EAN13)
    middle = bars.height // 2
    thin, tall = Image.new("L", (bars.width, 60), 255), Image.new("L", (bars.width, 60), 255)
    thin.paste(bars.crop((0, middle, bars.width, middle + 2)), (0, 30))
    tall.paste(bars.crop((0, middle, bars.width, middle + 20)), (0, 20))

    assert decode_with_pyzbar(thin) == []
    assert decode_with_pyzbar(tall) == [ean13]
    monkeypatch.setattr(decoding, "PYZBAR_MIN_SIGHTINGS", 1)
    assert decode_with_pyzbar(thin) == [ean13]
