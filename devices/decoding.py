"""Reading barcodes and QR codes from a photo, in memory.

The order, cheapest first, stopping at the first attempt that reads something:

1. zxing-cpp on the photo (retail formats EAN-13, EAN-8, UPC-A, UPC-E, and QR);
2. pyzbar, a second opinion built on libzbar; without libzbar the decoder logs that once and
   carries on with zxing-cpp alone;
3. zxing-cpp on cheap variants of the photo (``VARIANTS``: upscaled, turned 45°, adaptive
   threshold), while the CPU time spent stays under ``VARIANT_BUDGET_MS``.

Every 1D result goes through ``catalog.barcodes.gtin_normalise``: a code whose check digit fails
is not read at all, and the next attempt runs. What each variant adds, and what it costs, is
measured by ``python -m benchmarks.decode`` (see benchmarks/README.md).

Images are opened with Pillow, only as JPEG or PNG, and refused before any pixel is decoded
when they are larger than ``MAX_PIXELS`` (a small file can claim a huge canvas).
"""

import io
import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import zxingcpp
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
# turned: each variant stays within a few VGA frames' worth of pixels.
VGA_PIXELS = 640 * 480

ERROR_NOT_AN_IMAGE = "The data is not a JPEG or PNG image."
ERROR_TOO_MANY_PIXELS = "The image has more than {limit} pixels."

RETAIL_SYMBOLOGIES = frozenset({"EAN13", "EAN8", "UPCA", "UPCE"})
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
    codes = decode_with_zxing(image, try_downscale=image.width * image.height > VGA_PIXELS)
    if codes:
        return codes, "zxing-cpp"
    codes = decode_with_pyzbar(image)
    if codes:
        return codes, "pyzbar"
    for variant in VARIANTS:
        if time.thread_time() >= deadline:
            logger.debug("decode budget of %s ms spent before %s", budget_ms, variant.name)
            break
        varied = variant.make(image)
        codes = decode_with_zxing(varied, **variant.zxing_options) if varied is not None else []
        if codes:
            return codes, variant.name
    return [], ""


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


def decode_with_pyzbar(image: Image.Image) -> list[DecodedCode]:
    """Codes libzbar reads in ``image``; empty when libzbar is not installed."""
    pyzbar = pyzbar_module()
    if pyzbar is None:
        return []
    symbols = [pyzbar.ZBarSymbol[name] for name in PYZBAR_SYMBOLS]
    return checked_codes(
        (symbol.data.decode("utf-8", "replace"), symbology_name(symbol.type))
        for symbol in pyzbar.decode(image, symbols=symbols)
    )


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
    """Twice the size (bicubic) for frames smaller than VGA, whose thin bars are a pixel or two.

    Larger frames are not doubled: they have the pixels already, and four times as many cost
    more than they find.
    """
    if image.width * image.height >= VGA_PIXELS:
        return None
    return image.resize((image.width * 2, image.height * 2), Image.Resampling.BICUBIC)


def turned(image: Image.Image) -> Image.Image:
    """Turned 45° on white; zxing-cpp's own 90° tries then cover the other diagonal too.

    A frame larger than VGA is shrunk to about VGA first, which bounds the cost.
    """
    factor = math.ceil(math.sqrt(image.width * image.height / VGA_PIXELS))
    if factor > 1:
        image = image.reduce(factor)
    return image.rotate(45, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)


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
