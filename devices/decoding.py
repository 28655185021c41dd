"""Reading barcodes and QR codes from a photo, in memory.

Two libraries read: zxing-cpp (retail formats EAN-13, EAN-8, UPC-A, UPC-E, and QR) and pyzbar,
a second opinion built on libzbar (every second scan line); without libzbar the decoder logs
that once and carries on with zxing-cpp alone. When neither reads the photo, they read cheap
variants of it (``VARIANTS``: upscaled, turned 45°, adaptive threshold). Which of these runs,
in what order, when the decoder stops and which codes it believes is the policy's business
(``devices.read_policy``); this module makes the images and runs the readers (``Attempts``).

Every 1D result goes through ``catalog.barcodes.gtin_normalise``: a code whose check digit fails
is not read at all.

What each step adds, and what it costs, is measured by ``python -m benchmarks.decode`` (see
benchmarks/README.md).

Images are opened with Pillow, only as JPEG or PNG, and refused before any pixel is decoded
when they are larger than ``MAX_PIXELS`` (a small file can claim a huge canvas).

Size: kept in one module: opening a photo safely and every read attempt on it belong together.
"""

import ctypes
import io
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from types import ModuleType
from typing import Any, Protocol

import zxingcpp
from PIL import Image, ImageChops, ImageFilter, UnidentifiedImageError

from catalog.barcodes import BarcodeError, gtin_normalise
from devices.read_policy import (
    ORIGINAL,
    POLICY,
    PYZBAR,
    THRESHOLDED,
    TURNED,
    UPSCALED,
    ZXING,
    ReadPolicy,
    Sighting,
    believed,
    unconfirmed,
)

logger = logging.getLogger(__name__)

# A UXGA (1600 x 1200) photo, the largest an ESP32-CAM takes, with room to spare.
MAX_PIXELS = 4_000_000
IMAGE_FORMATS = ("JPEG", "PNG")

# The cart's own frame size. Smaller frames are upscaled, larger ones shrunk before they are
# turned: no variant has more pixels than a VGA frame.
VGA_PIXELS = 640 * 480
UPSCALE_MIN_FACTOR = 1.2

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
# libzbar scans every row and column by default, and then drops a 1D symbol seen on fewer
# than 4 of them ("filter bad EAN results", zbar 0.23), a filter it turns off for any other
# density. Every second line costs half as much and reads as well; the filter is kept here,
# scaled to the half as many lines.
PYZBAR_DENSITY = 2
PYZBAR_MIN_SIGHTINGS = 2
ZBAR_GREY = int.from_bytes(b"Y800", "little")  # the fourcc of 8-bit greyscale


class DecodeError(ValueError):
    """The data could not be decoded as an image (not the same as "no barcode found")."""


class NotAnImage(DecodeError):
    """Not a JPEG or PNG the decoder can open."""


class TooManyPixels(DecodeError):
    """An image larger than the decoder opens (checked from the header, before decoding)."""


@dataclass(frozen=True)
class DecodedCode:
    text: str
    symbology: str  # upper case, letters and digits: "EAN13", "UPCA", "UPCE", "EAN8", "QRCODE"
    gtin: str | None = None  # canonical GTIN-14 of a retail 1D code; None for QR


@dataclass(frozen=True)
class Decoding:
    codes: tuple[DecodedCode, ...]  # the codes believed, in the order first seen
    attempt: str  # the attempt after which the decoder stopped (``Attempts.name``); "" for none
    decode_ms: float  # wall-clock time from the bytes to the codes, opening the image included
    sightings: tuple[Sighting, ...] = ()  # every code every attempt read, believed or not


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> list[DecodedCode]:
    """Every code believed in the JPEG or PNG ``data``; empty when there is none.

    Raises ``DecodeError`` for data that is not such an image or has too many pixels.
    """
    return list(decode_image_timed(data, max_pixels=max_pixels).codes)


def decode_image_timed(
    data: bytes, *, max_pixels: int = MAX_PIXELS, policy: ReadPolicy = POLICY
) -> Decoding:
    """``decode_image`` with what read the codes and how long it took; raises ``DecodeError``."""
    started = time.perf_counter()
    decoding = read_codes(image_open(data, max_pixels=max_pixels), policy=policy)
    return replace(decoding, decode_ms=(time.perf_counter() - started) * 1000)


def image_open(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The image in ``data`` as 8-bit greyscale, checked for size before it is decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        # Opening reads the header only: refuse before the pixels are decompressed.
        if image.width * image.height > max_pixels:
            raise TooManyPixels(ERROR_TOO_MANY_PIXELS.format(limit=max_pixels))
        image.draft("L", image.size)  # JPEG: decode the luma only, at full size (PNG: no-op)
        return _greyscale(image)
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(ERROR_TOO_MANY_PIXELS.format(limit=max_pixels)) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise NotAnImage(ERROR_NOT_AN_IMAGE) from exc


def _greyscale(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # A transparent background may hide any colour: put the code on white paper.
        paper = Image.new("RGBA", image.size, "white")
        return Image.alpha_composite(paper, image.convert("RGBA")).convert("L")
    return image.convert("L")


def read_codes(image: Image.Image, *, policy: ReadPolicy = POLICY) -> Decoding:
    """The codes believed in the greyscale ``image`` under ``policy`` (``devices.read_policy``)."""
    if not pyzbar_available():
        policy = policy.with_one_reader()
    return read_attempts(Attempts(image), policy)


class AttemptRunner(Protocol):
    def run(
        self, reader: str, image_name: str, policy: ReadPolicy
    ) -> tuple[list[DecodedCode], float] | None:
        """What ``reader`` read on image ``image_name`` (as ``policy`` has it read) and its CPU
        ms; None: no such image."""


def read_attempts(attempts: AttemptRunner, policy: ReadPolicy) -> Decoding:
    """Run ``policy``'s plan on ``attempts`` until a code is believed or the plan runs out.

    A variant is tried only while the attempts so far have used less than ``policy.budget_ms``
    of CPU time; pyzbar reads a variant only when some code still waits for a second witness.
    """
    sightings: list[Sighting] = []
    spent_ms = 0.0
    for reader, image_name in policy.plan():
        on_variant = image_name != ORIGINAL
        if on_variant and reader == ZXING and spent_ms >= policy.budget_ms:
            logger.debug("decode budget of %s ms spent before %s", policy.budget_ms, image_name)
            break
        if on_variant and reader == PYZBAR and not unconfirmed(sightings, policy):
            continue
        ran = attempts.run(reader, image_name, policy)
        if ran is None:  # the variant is not worth making for this image
            continue
        codes, cpu_ms = ran
        spent_ms += cpu_ms
        sightings.extend(Sighting(code, reader, image_name) for code in codes)
        found = believed(sightings, policy)
        if found:
            return Decoding(tuple(found), Attempts.name(reader, image_name), 0.0, tuple(sightings))
    return Decoding((), "", 0.0, tuple(sightings))


class Attempts:
    """One photo read by each reader, on the photo itself or on a variant made on demand.

    ``run`` gives what one reader read on one image and the CPU milliseconds it took (making the
    variant included); each variant is made once and shared by the readers.
    """

    def __init__(self, image: Image.Image) -> None:
        self._photo = image
        self._images: dict[str, Image.Image | None] = {ORIGINAL: image}

    @staticmethod
    def name(reader: str, image_name: str) -> str:
        """ "zxing-cpp" or "pyzbar" on the photo; a variant's name, "+ pyzbar" when it read."""
        if image_name == ORIGINAL:
            return reader
        return image_name if reader == ZXING else f"{image_name} + {reader}"

    def run(
        self, reader: str, image_name: str, policy: ReadPolicy
    ) -> tuple[list[DecodedCode], float] | None:
        started = time.thread_time()
        image = self._image(image_name)
        if image is None:
            return None
        if reader == PYZBAR:
            codes = decode_with_pyzbar(image)
        elif image_name == ORIGINAL:
            # Downscaling finds big blurred codes in large photos; at VGA size or below it only
            # costs.
            large = image.width * image.height > VGA_PIXELS
            codes = decode_with_zxing(
                image, try_downscale=large, try_invert=False, try_rotate=policy.zxing_turns_photo
            )
        else:
            codes = decode_with_zxing(image, **VARIANTS_BY_NAME[image_name].zxing_options)
        return codes, (time.thread_time() - started) * 1000

    def _image(self, name: str) -> Image.Image | None:
        if name not in self._images:
            self._images[name] = VARIANTS_BY_NAME[name].make(self._photo)
        return self._images[name]


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


# Variants: each is made only when the policy asks for it (``Attempts``).


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
        UPSCALED,
        upscaled,
        {"binarizer": zxingcpp.Binarizer.GlobalHistogram, "try_downscale": False},
    ),
    Variant(
        TURNED,
        turned,
        {"binarizer": zxingcpp.Binarizer.GlobalHistogram, "try_downscale": False},
    ),
    Variant(THRESHOLDED, thresholded, {"binarizer": zxingcpp.Binarizer.BoolCast}),
)
VARIANTS_BY_NAME = {variant.name: variant for variant in VARIANTS}
