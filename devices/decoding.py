"""Reading barcodes and QR codes from a photo, in memory.

The order, cheapest first, stopping at the first attempt that reads something:

1. zxing-cpp on the photo (retail formats EAN-13, EAN-8, UPC-A, UPC-E, and QR);
2. pyzbar, a second opinion built on libzbar (every second scan line); without libzbar the
   decoder logs that once and carries on with zxing-cpp alone;
3. zxing-cpp on cheap variants of the photo (``VARIANTS``: upscaled, turned 45°, adaptive
   threshold), while the CPU time spent stays under ``VARIANT_BUDGET_MS``.

Every 1D result goes through ``catalog.barcodes.gtin_normalise``: a code whose check digit fails
is not read at all, and the next attempt runs. Some codes pass that check too easily to take
one reader's word for them (``is_doubtful``: a UPC-E, a GTIN whose GS1 prefix nobody issues):
when zxing-cpp reads one, pyzbar is asked as well and the code stays only if pyzbar reads it
too; a code pyzbar did not confirm is not believed from a variant either. Without libzbar
there is nobody to ask, and zxing-cpp's word stands.

What each step adds, and what it costs, is measured by ``python -m benchmarks.decode`` (see
benchmarks/README.md).

Images are opened with Pillow, only as JPEG or PNG, and refused before any pixel is decoded
when they are larger than ``MAX_PIXELS`` (a small file can claim a huge canvas).
"""

import ctypes
import io
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import zxingcpp
from biip import ParseError
from biip.gtin import Gtin
from PIL import Image, ImageChops, ImageFilter, UnidentifiedImageError

from catalog.barcodes import BarcodeError, gtin_normalise

logger = logging.getLogger(__name__)

# A UXGA (1600 x 1200) photo, the largest an ESP32-CAM takes, with room to spare.
MAX_PIXELS = 4_000_000
IMAGE_FORMATS = ("JPEG", "PNG")

# CPU time (of the calling thread) after which no further variant is tried: it bounds what an
# unreadable frame costs. A VGA photo usually gets every variant; a UXGA one stops after the
# two libraries.
VARIANT_BUDGET_MS = 30.0
# The cart's own frame size. Smaller frames are upscaled, larger ones shrunk before they are
# turned: no variant has more pixels than a VGA frame.
VGA_PIXELS = 640 * 480
UPSCALE_MIN_FACTOR = 1.2

ERROR_NOT_AN_IMAGE = "The data is not a JPEG or PNG image."
ERROR_TOO_MANY_PIXELS = "The image has more than {limit} pixels."

RETAIL_SYMBOLOGIES = frozenset({"EAN13", "EAN8", "UPCA", "UPCE"})
# A UPC-E holds six digits and no check digit of its own (the check is implied by the bars'
# parity pattern): a stray or partial read passes for one more easily than for any other code.
WEAK_SYMBOLOGIES = frozenset({"UPCE"})
ZXING_FORMATS = zxingcpp.BarcodeFormats(
    [
        zxingcpp.BarcodeFormat.EAN13,
        zxingcpp.BarcodeFormat.EAN8,
        zxingcpp.BarcodeFormat.UPCA,
        zxingcpp.BarcodeFormat.UPCE,
        zxingcpp.BarcodeFormat.QRCode,
    ]
)
PYZBAR_SYMBOLS = ("EAN13", "EAN8", "UPCA", "UPCE", "QRCODE")
# libzbar scans every row and column by default, and then drops a 1D symbol seen on fewer
# than 4 of them ("filter bad EAN results", zbar 0.23), a filter it turns off for any other
# density. Every second line costs half as much and reads as well; the filter is kept here,
# scaled to the half as many lines.
PYZBAR_DENSITY = 2
PYZBAR_MIN_SIGHTINGS = 2
ZBAR_GREY = int.from_bytes(b"Y800", "little")  # the fourcc of 8-bit greyscale


class DecodeError(ValueError):
    """The data could not be decoded as an image (not the same as "no barcode found")."""


@dataclass(frozen=True)
class DecodedCode:
    text: str
    symbology: str  # upper case, letters and digits: "EAN13", "UPCA", "UPCE", "EAN8", "QRCODE"
    gtin: str | None = None  # canonical GTIN-14 of a retail 1D code; None for QR


@dataclass(frozen=True)
class Decoding:
    codes: tuple[DecodedCode, ...]
    attempt: str  # what read them: "zxing-cpp", "pyzbar" or a variant's name; "" for nothing
    decode_ms: float  # wall-clock time from the bytes to the codes, opening the image included


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> list[DecodedCode]:
    """Every code found in the JPEG or PNG ``data``; empty when there is none.

    Raises ``DecodeError`` for data that is not such an image or has too many pixels.
    """
    return list(decode_image_timed(data, max_pixels=max_pixels).codes)


def decode_image_timed(
    data: bytes, *, max_pixels: int = MAX_PIXELS, budget_ms: float = VARIANT_BUDGET_MS
) -> Decoding:
    """``decode_image`` with what read the codes and how long it took; raises ``DecodeError``."""
    started = time.perf_counter()
    codes, attempt = read_codes(image_open(data, max_pixels=max_pixels), budget_ms=budget_ms)
    return Decoding(tuple(codes), attempt, (time.perf_counter() - started) * 1000)


def image_open(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The image in ``data`` as 8-bit greyscale, checked for size before it is decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        # Opening reads the header only: refuse before the pixels are decompressed.
        if image.width * image.height > max_pixels:
            raise DecodeError(ERROR_TOO_MANY_PIXELS.format(limit=max_pixels))
        image.draft("L", image.size)  # JPEG: decode the luma only, at full size (PNG: no-op)
        return _greyscale(image)
    except Image.DecompressionBombError as exc:
        raise DecodeError(ERROR_TOO_MANY_PIXELS.format(limit=max_pixels)) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise DecodeError(ERROR_NOT_AN_IMAGE) from exc


def _greyscale(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # A transparent background may hide any colour: put the code on white paper.
        paper = Image.new("RGBA", image.size, "white")
        return Image.alpha_composite(paper, image.convert("RGBA")).convert("L")
    return image.convert("L")


def read_codes(
    image: Image.Image, *, budget_ms: float = VARIANT_BUDGET_MS
) -> tuple[list[DecodedCode], str]:
    """The codes in the greyscale ``image`` and the name of the attempt that read them.

    Variants are tried only while this call has used less than ``budget_ms`` of CPU time.
    """
    deadline = time.thread_time() + budget_ms / 1000
    # Downscaling finds big blurred codes in large photos; at VGA size or below it only costs.
    first = decode_with_zxing(
        image, try_downscale=image.width * image.height > VGA_PIXELS, try_invert=False
    )
    if first and not (pyzbar_available() and any(map(is_doubtful, first))):
        return first, "zxing-cpp"
    second = decode_with_pyzbar(image)
    codes = with_second_opinion(first, second)
    if codes:
        return codes, "zxing-cpp" if codes[0] in first else "pyzbar"
    # What pyzbar did not confirm is not believed from a variant either.
    doubted = {code.gtin for code in first if code.gtin is not None}
    for variant in VARIANTS:
        if time.thread_time() >= deadline:
            logger.debug("decode budget of %s ms spent before %s", budget_ms, variant.name)
            break
        varied = variant.make(image)
        if varied is None:
            continue
        found = decode_with_zxing(varied, **variant.zxing_options)
        codes = [code for code in found if code.gtin is None or code.gtin not in doubted]
        if codes:
            return codes, variant.name
    return [], ""


def is_doubtful(code: DecodedCode) -> bool:
    """Whether one reader's word is not enough for ``code``: a weak symbology (UPC-E), or a
    GTIN whose GS1 prefix no GS1 office issues, which is on no product but may be the other
    code of a package (the price code beside a Japanese book's ISBN, for one)."""
    if code.symbology in WEAK_SYMBOLOGIES:
        return True
    if code.gtin is None:
        return False
    try:
        return Gtin.parse(code.gtin).prefix is None
    except ParseError:  # pragma: no cover - gtin_normalise has checked it already
        return True


def with_second_opinion(first: list[DecodedCode], second: list[DecodedCode]) -> list[DecodedCode]:
    """zxing-cpp's codes ``first`` that pyzbar's ``second`` leaves standing, then pyzbar's own.

    A doubtful code of ``first`` stays only when ``second`` read it too; the others stay.
    """
    confirmed = {code.gtin or code.text for code in second}
    kept = [code for code in first if not is_doubtful(code) or code.gtin in confirmed]
    known = {code.gtin or code.text for code in kept}
    return kept + [code for code in second if (code.gtin or code.text) not in known]


def decode_with_zxing(image: Image.Image, **options: Any) -> list[DecodedCode]:
    """Codes zxing-cpp reads in ``image``; ``options`` go to ``zxingcpp.read_barcodes``."""
    # Plain text mode gives the code's own characters; the default (HRI) spells out control
    # characters as "<GS>" and the like.
    barcodes = zxingcpp.read_barcodes(
        image, formats=ZXING_FORMATS, text_mode=zxingcpp.TextMode.Plain, **options
    )
    return checked_codes(
        (barcode.text, symbology_name(barcode.format.name)) for barcode in barcodes if barcode.valid
    )


def decode_with_pyzbar(image: Image.Image, *, density: int = PYZBAR_DENSITY) -> list[DecodedCode]:
    """Codes libzbar reads in ``image``, scanning every ``density``-th row and column; empty
    when libzbar is not installed."""
    if pyzbar_module() is None:
        return []
    return checked_codes(_zbar_scan(image, density))


def _zbar_scan(image: Image.Image, density: int) -> list[tuple[str, str]]:
    # pyzbar.decode() scans every row and column and has no setting for it: its ctypes
    # bindings (pyzbar.wrapper) do, so the scan is set up here.
    from pyzbar import wrapper as zbar

    pixels = image.tobytes()  # referenced until the scan is over: zbar does not copy it
    scanner = zbar.zbar_image_scanner_create()
    zbar_image = zbar.zbar_image_create()
    try:
        zbar.zbar_image_scanner_set_config(scanner, 0, zbar.ZBarConfig.CFG_ENABLE, 0)
        for name in PYZBAR_SYMBOLS:
            enable = zbar.ZBarConfig.CFG_ENABLE
            zbar.zbar_image_scanner_set_config(scanner, zbar.ZBarSymbol[name], enable, 1)
        for axis in (zbar.ZBarConfig.CFG_X_DENSITY, zbar.ZBarConfig.CFG_Y_DENSITY):
            zbar.zbar_image_scanner_set_config(scanner, 0, axis, density)
        zbar.zbar_image_set_format(zbar_image, ZBAR_GREY)
        zbar.zbar_image_set_size(zbar_image, image.width, image.height)
        zbar.zbar_image_set_data(zbar_image, ctypes.c_char_p(pixels), len(pixels), None)
        zbar.zbar_scan_image(scanner, zbar_image)
        return list(_zbar_symbols(zbar, zbar_image))
    finally:
        zbar.zbar_image_destroy(zbar_image)
        zbar.zbar_image_scanner_destroy(scanner)


def _zbar_symbols(zbar: ModuleType, zbar_image: Any) -> Iterator[tuple[str, str]]:
    """``(text, symbology)`` of each symbol zbar found; 1D ones seen on too few lines left out."""
    symbol = zbar.zbar_image_first_symbol(zbar_image)
    while symbol:
        name = symbology_name(zbar.ZBarSymbol(symbol.contents.type).name)
        if name == "QRCODE" or zbar.zbar_symbol_get_quality(symbol) >= PYZBAR_MIN_SIGHTINGS:
            length = zbar.zbar_symbol_get_data_length(symbol)
            data = ctypes.string_at(zbar.zbar_symbol_get_data(symbol), length)
            yield data.decode("utf-8", "replace"), name
        symbol = zbar.zbar_symbol_next(symbol)


def checked_codes(found: Iterable[tuple[str, str]]) -> list[DecodedCode]:
    """``(text, symbology)`` pairs as codes, each once; retail codes failing their check go."""
    codes: list[DecodedCode] = []
    seen: set[object] = set()
    for text, symbology in found:
        code = checked_code(text, symbology)
        if code is None:
            continue
        key = code.gtin or (code.symbology, code.text)
        if key not in seen:
            seen.add(key)
            codes.append(code)
    return codes


def checked_code(text: str, symbology: str) -> DecodedCode | None:
    """The code with its GTIN-14 when it is a retail code; None when its check digit fails."""
    if symbology not in RETAIL_SYMBOLOGIES:
        return DecodedCode(text=text, symbology=symbology)
    try:
        gtin = gtin_normalise(text, symbology=symbology).gtin
    except BarcodeError as exc:
        logger.debug("not read: %s", exc)
        return None
    return DecodedCode(text=text, symbology=symbology, gtin=gtin)


@cache
def pyzbar_module() -> ModuleType | None:
    """``pyzbar.pyzbar``, or None (logged once per process) when libzbar cannot be loaded."""
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError) as exc:
        logger.warning("pyzbar unavailable (%s): decoding with zxing-cpp only", type(exc).__name__)
        return None
    return pyzbar


def pyzbar_available() -> bool:
    return pyzbar_module() is not None


def symbology_name(name: str) -> str:
    # zxing-cpp says "EAN13", "QRCode", "UPCE"; pyzbar "EAN13", "QRCODE", "UPCE".
    return re.sub(r"[^A-Z0-9]", "", name.upper())


# Variants: each is made only when the libraries have read nothing, in this order.


def upscaled(image: Image.Image) -> Image.Image | None:
    """Enlarged (bicubic) for frames smaller than VGA, whose thin bars are a pixel or two:
    twice the size at most, and no more pixels than VGA.

    A frame that would not grow by at least a fifth is left alone: it has the pixels already.
    """
    factor = min(2.0, math.sqrt(VGA_PIXELS / (image.width * image.height)))
    if factor < UPSCALE_MIN_FACTOR:
        return None
    size = (round(image.width * factor), round(image.height * factor))
    return image.resize(size, Image.Resampling.BICUBIC)


def turned(image: Image.Image) -> Image.Image:
    """Turned 45° on white; zxing-cpp's own 90° tries then cover the other diagonal too.

    The frame grows to hold the turned corners (where a QR code's finder patterns may be) as
    long as it stays within VGA's pixel count. A larger frame keeps its size, its corners cut:
    a code along a diagonal ends up level or upright across the middle, still in view. A
    frame larger than VGA is shrunk to about VGA first.
    """
    factor = math.ceil(math.sqrt(image.width * image.height / VGA_PIXELS))
    if factor > 1:
        image = image.reduce(factor)
    side = math.ceil((image.width + image.height) / math.sqrt(2))
    expand = side * side <= VGA_PIXELS
    return image.rotate(45, resample=Image.Resampling.BILINEAR, expand=expand, fillcolor=255)


def thresholded(image: Image.Image) -> Image.Image:
    """Black and white by the local mean (Bradley and Roth, 2007), for uneven light and glare.

    A pixel is black when it is darker than 85 % of the mean of a window an eighth of the
    frame wide around it: the paper's defaults.
    """
    radius = max(1, max(image.size) // 16)
    darker_mean = image.filter(ImageFilter.BoxBlur(radius)).point(lambda v: v * 85 // 100)
    # image - 0.85 * mean, shifted by 128 so that the sign survives in 8 bits
    difference = ImageChops.subtract(image, darker_mean, scale=1, offset=128)
    return difference.point(lambda v: 255 if v >= 128 else 0)


@dataclass(frozen=True)
class Variant:
    name: str
    make: Callable[[Image.Image], Image.Image | None]  # None: not worth trying on this image
    zxing_options: dict[str, Any]


# GlobalHistogram is zxing's binarizer for 1D codes: one threshold per row, good on smooth
# (upscaled or interpolated) edges. Downscaling a variant made larger or turned would only undo it.
VARIANTS = (
    Variant(
        "upscaled 2x",
        upscaled,
        {"binarizer": zxingcpp.Binarizer.GlobalHistogram, "try_downscale": False},
    ),
    Variant(
        "turned 45°",
        turned,
        {"binarizer": zxingcpp.Binarizer.GlobalHistogram, "try_downscale": False},
    ),
    Variant("adaptive threshold", thresholded, {"binarizer": zxingcpp.Binarizer.BoolCast}),
)
