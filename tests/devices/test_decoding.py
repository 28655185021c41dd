"""devices.decoding: codes read from images made here (zxing-cpp's writer, qrcode, bars drawn).

No test uses the photo corpus: its rates are measured by ``python -m benchmarks.decode``.
"""

import logging
import sys
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFile, ImageFilter, ImageOps

from devices import decoding
from devices.decoding import (
    ERROR_NOT_AN_IMAGE,
    ERROR_TOO_MANY_PIXELS,
    DecodedCode,
    DecodeError,
    Variant,
    checked_codes,
    decode_image,
    decode_image_timed,
    decode_with_pyzbar,
    image_open,
    pyzbar_available,
    thresholded,
    turned,
    upscaled,
)
from devices.read_policy import POLICY, ReadPolicy
from shopcart.core.qr import qr_png
from tests.devices.support import (
    EAN13,
    EAN13_GTIN,
    Format,
    code_image,
    ean13_image,
    encoded,
    png_header,
)

needs_libzbar = pytest.mark.skipif(
    not pyzbar_available(), reason="libzbar is not installed (apt-get install libzbar0)"
)

# (text to encode, format, the GTIN-14 it stands for)
RETAIL_CODES = [
    pytest.param(EAN13, Format.EAN13, EAN13_GTIN, id="EAN-13"),
    pytest.param("036000291452", Format.UPCA, "00036000291452", id="UPC-A"),
    pytest.param("96385074", Format.EAN8, "00000096385074", id="EAN-8"),
    pytest.param("01234565", Format.UPCE, "00012345000065", id="UPC-E"),
]


LIBRARIES_ONLY = replace(POLICY, budget_ms=0)


def spied(**changes: object) -> ReadPolicy:
    """The store's policy with one variant, "spy" (put into ``VARIANTS_BY_NAME`` by the test)."""
    return replace(POLICY, variants=("spy",), **changes)


# EAN-13 drawn bar by bar, so that a wrong check digit can be drawn too (writers refuse it).
L_CODES = ["0001101", "0011001", "0010011", "0111101", "0100011",
           "0110001", "0101111", "0111011", "0110111", "0001011"]  # fmt: skip
PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
          "LGGLLG", "LGGGLG", "LGLGLG", "LGLGGL", "LGGLGL"]  # fmt: skip


def ean13_modules(digits: str) -> str:
    def right(d: int) -> str:
        return "".join("1" if m == "0" else "0" for m in L_CODES[d])

    left = "".join(
        L_CODES[int(d)] if parity == "L" else right(int(d))[::-1]
        for d, parity in zip(digits[1:7], PARITY[int(digits[0])], strict=True)
    )
    return "101" + left + "01010" + "".join(right(int(d)) for d in digits[7:]) + "101"


def drawn_ean13(digits: str, module: int = 3, height: int = 120) -> Image.Image:
    modules = ean13_modules(digits)
    quiet = 12 * module
    image = Image.new("L", (len(modules) * module + 2 * quiet, height + 2 * quiet), 255)
    draw = ImageDraw.Draw(image)
    for i, bar in enumerate(modules):
        if bar == "1":
            x = quiet + i * module
            draw.rectangle([x, quiet, x + module - 1, quiet + height], fill=0)
    return image


def turned_short_ean13() -> Image.Image:
    """An EAN-13 with bars half as tall, at 45°: no row or column of pixels crosses it all."""
    code = ean13_image()
    short = ImageOps.expand(code.resize((code.width, code.height // 2)), 20, fill=255)
    return short.rotate(45, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)


def dim_ean13() -> Image.Image:
    """Grey bars on grey paper, the light falling to an eighth across the code, slightly blurred."""
    code = ImageOps.expand(code_image(EAN13, Format.EAN13, scale=1), 10, fill=255)
    grey = code.point(lambda v: 170 if v > 127 else 60)
    light = (
        Image.linear_gradient("L").rotate(90).resize(code.size).point(lambda v: 255 - v * 7 // 8)
    )
    return ImageChops.multiply(grey, light).filter(ImageFilter.GaussianBlur(0.7))


def test_qr_code_is_read():
    assert decode_image(qr_png("SCP1:HELLO")) == [DecodedCode("SCP1:HELLO", "QRCODE")]


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_ean13_is_read_from_png_and_jpeg(image_format):
    image = ean13_image().convert("RGB")

    assert decode_image(encoded(image, image_format)) == [DecodedCode(EAN13, "EAN13", EAN13_GTIN)]


@pytest.mark.parametrize(("text", "barcode_format", "gtin"), RETAIL_CODES)
def test_each_retail_code_is_read_with_its_gtin_14(text, barcode_format, gtin):
    [code] = decode_image(encoded(code_image(text, barcode_format)))

    assert code.gtin == gtin


@needs_libzbar
@pytest.mark.parametrize(("text", "barcode_format", "gtin"), RETAIL_CODES)
def test_pyzbar_gives_the_same_gtin(text, barcode_format, gtin):
    [code] = decode_with_pyzbar(code_image(text, barcode_format))

    assert code.gtin == gtin


@needs_libzbar
def test_pyzbar_reads_the_same_codes():
    assert decode_with_pyzbar(image_open(encoded(ean13_image()))) == [
        DecodedCode(EAN13, "EAN13", EAN13_GTIN)
    ]
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
    monkeypatch.setattr(decoding, "decode_with_zxing", lambda image, **options: [])
    assert decode_image(qr_png("FOUND BY ZBAR")) == [DecodedCode("FOUND BY ZBAR", "QRCODE")]


def test_variants_are_made_only_when_the_libraries_find_nothing(monkeypatch):
    made: list[tuple[int, int]] = []

    def spy(image: Image.Image) -> None:
        made.append(image.size)

    monkeypatch.setitem(decoding.VARIANTS_BY_NAME, "spy", Variant("spy", spy, {}))
    decode_image_timed(qr_png("FOUND AT ONCE"), policy=spied())
    assert made == []

    decode_image_timed(encoded(Image.new("L", (64, 48), color=255)), policy=spied())
    assert made == [(64, 48)]


@needs_libzbar
def test_code_turned_45_degrees_is_read_by_the_turned_variant_and_confirmed_by_pyzbar():
    data = encoded(turned_short_ean13())

    found = decode_image_timed(data)
    libraries_only = decode_image_timed(data, policy=LIBRARIES_ONLY)

    assert (found.codes, found.attempt) == (
        (DecodedCode(EAN13, "EAN13", EAN13_GTIN),),
        "turned 45° + pyzbar",
    )
    assert (libraries_only.codes, libraries_only.attempt) == ((), "")


@needs_libzbar
def test_low_contrast_code_in_uneven_light_is_read_by_the_adaptive_threshold():
    data = encoded(dim_ean13())

    found = decode_image_timed(data)

    assert found.attempt == "adaptive threshold + pyzbar"
    assert [code.gtin for code in found.codes] == [EAN13_GTIN]
    assert decode_image_timed(data, policy=LIBRARIES_ONLY).codes == ()


def test_no_variant_is_tried_once_the_budget_is_spent(monkeypatch):
    made: list[str] = []
    monkeypatch.setitem(decoding.VARIANTS_BY_NAME, "spy", Variant("spy", made.append, {}))

    decode_image_timed(encoded(Image.new("L", (64, 48), color=255)), policy=spied(budget_ms=0))

    assert made == []


def test_time_spent_by_the_libraries_counts_against_the_budget(monkeypatch):
    def slow_pyzbar(image: Image.Image) -> list[DecodedCode]:
        end = time.thread_time() + 0.02  # 20 ms of CPU
        while time.thread_time() < end:
            pass
        return []

    made: list[str] = []
    monkeypatch.setattr(decoding, "decode_with_pyzbar", slow_pyzbar)
    monkeypatch.setitem(decoding.VARIANTS_BY_NAME, "spy", Variant("spy", made.append, {}))

    decode_image_timed(encoded(Image.new("L", (64, 48), color=255)), policy=spied(budget_ms=10))

    assert made == []


def test_without_libzbar_a_code_one_variant_reads_is_not_believed(monkeypatch):
    # Only the turned variant reads this code, and there is no second library to confirm it.
    monkeypatch.setattr(decoding, "pyzbar_module", lambda: None)

    found = decode_image_timed(encoded(turned_short_ean13()))

    assert (found.codes, found.attempt) == ((), "")
    assert {(s.image, s.code.gtin) for s in found.sightings} == {("turned 45°", EAN13_GTIN)}


def test_symbol_with_a_wrong_check_digit_is_never_returned():
    good, bad = EAN13, EAN13[:-1] + "2"

    assert [code.gtin for code in decode_image(encoded(drawn_ean13(good)))] == [EAN13_GTIN]
    assert decode_image(encoded(drawn_ean13(bad))) == []


@needs_libzbar
def test_failed_check_digit_counts_as_nothing_read_and_pyzbar_is_asked(monkeypatch):
    misread = SimpleNamespace(text=EAN13[:-1] + "2", format=Format.EAN13, valid=True)
    monkeypatch.setattr(zxingcpp, "read_barcodes", lambda image, **options: [misread])

    found = decode_image_timed(encoded(ean13_image()))

    assert (found.codes, found.attempt) == ((DecodedCode(EAN13, "EAN13", EAN13_GTIN),), "pyzbar")


def test_checked_codes_drop_bad_check_digits_and_repeats():
    found = [
        ("4006381333932", "EAN13"),  # check digit should be 1
        ("036000291452", "UPCA"),
        ("0036000291452", "EAN13"),  # the same GTIN as the UPC-A
        ("01234565", "UPCE"),
        ("0012345000065", "UPCE"),  # the same UPC-E, spelled out
        ("SCP1:HELLO", "QRCODE"),
        ("SCP1:HELLO", "QRCODE"),
    ]

    assert checked_codes(found) == [
        DecodedCode("036000291452", "UPCA", "00036000291452"),
        DecodedCode("01234565", "UPCE", "00012345000065"),
        DecodedCode("SCP1:HELLO", "QRCODE"),
    ]


def test_two_different_codes_in_one_photo_are_both_returned():
    first, second = ean13_image(), ean13_image("9780804816632")
    sheet = Image.new("L", (first.width, first.height * 2 + 40), 255)
    sheet.paste(first, (0, 0))
    sheet.paste(second, (0, first.height + 40))

    assert [code.gtin for code in decode_image(encoded(sheet))] == [
        EAN13_GTIN,
        "09780804816632",
    ]


def test_timed_decoding_says_what_read_the_codes_and_how_long_it_took():
    found = decode_image_timed(qr_png("SCP1:HELLO"))

    assert found.attempt == "zxing-cpp"
    assert found.decode_ms > 0


def test_transparent_png_is_read_as_if_on_white_paper():
    modules = code_image("SCP1:HELLO", Format.QRCode, scale=6)
    transparent = Image.new("RGBA", modules.size, (0, 0, 0, 0))  # invisible black
    black = Image.new("RGBA", modules.size, (0, 0, 0, 255))
    qr = Image.composite(black, transparent, modules.point(lambda v: 255 if v < 128 else 0))

    assert decode_image(encoded(qr)) == [DecodedCode("SCP1:HELLO", "QRCODE")]


def test_upscaled_doubles_small_frames_and_grows_larger_ones_only_up_to_vga():
    doubled = upscaled(Image.new("L", (240, 240)))
    grown = upscaled(Image.new("L", (480, 360)))

    assert doubled is not None and doubled.size == (480, 480)
    assert grown is not None and grown.size == (640, 480)
    assert upscaled(Image.new("L", (600, 450))) is None  # would grow by less than a fifth
    assert upscaled(Image.new("L", (640, 480))) is None


def test_turned_grows_small_frames_to_hold_their_corners_and_keeps_large_ones_in_size():
    # 100 x 100 turned needs 142 x 142: within VGA's pixels, so the corners stay in view.
    assert turned(Image.new("L", (100, 100))).size == (142, 142)
    # VGA turned would need 792 x 792, twice the pixels: the frame keeps its size instead.
    assert turned(Image.new("L", (640, 480))).size == (640, 480)


def test_turned_shrinks_frames_larger_than_vga_before_turning():
    uxga = turned(Image.new("L", (1600, 1200)))

    assert uxga.width * uxga.height <= 640 * 480


def test_thresholded_is_black_and_white_by_the_local_mean():
    # A pale bar on bright paper, and a dark bar on paper in shadow that is darker still than
    # the pale bar: no single threshold separates both, a local one does.
    image = Image.new("L", (400, 100), 200)
    draw = ImageDraw.Draw(image)
    draw.rectangle([200, 0, 399, 99], fill=60)
    draw.rectangle([90, 0, 99, 99], fill=150)
    draw.rectangle([290, 0, 299, 99], fill=30)

    result = thresholded(image)

    assert sorted(value for _, value in result.getcolors() or []) == [0, 255]
    assert [result.getpixel((x, 50)) for x in (50, 95, 150, 250, 295, 350)] == [
        255,
        0,
        255,
        255,
        0,
        255,
    ]


def test_image_without_a_code_gives_an_empty_list():
    blank = Image.new("L", (320, 240), color=255)

    assert decode_image(encoded(blank)) == []


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        encoded(Image.new("RGB", (10, 10)), "GIF"),
        encoded(Image.new("RGB", (10, 10)), "BMP"),
        qr_png("X")[:60],
    ],
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


@pytest.mark.parametrize("side", [3000, 100_000])  # over our limit; over Pillow's bomb limit too
def test_huge_canvas_is_refused_from_its_header_without_decompressing(monkeypatch, side):
    monkeypatch.setattr(ImageFile.ImageFile, "load", pytest.fail)

    with pytest.raises(DecodeError, match=ERROR_TOO_MANY_PIXELS.format(limit=4_000_000)):
        decode_image(png_header(side, side))


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


@needs_libzbar
def test_an_upright_code_is_read_by_pyzbar_unless_zxing_turns_the_photo():
    upright = encoded(ean13_image().rotate(90, expand=True, fillcolor=255))
    turning = replace(POLICY, zxing_turns_photo=True)

    assert decode_image_timed(upright).attempt == "pyzbar"
    assert decode_image_timed(upright, policy=turning).attempt == "zxing-cpp"
    assert [code.gtin for code in decode_image(upright)] == [EAN13_GTIN]
