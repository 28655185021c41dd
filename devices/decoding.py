"""Reading barcodes and QR codes from a photo, in memory.

zxing-cpp reads first (every format it knows, QR included); pyzbar, a second opinion built on
libzbar, runs only when zxing-cpp finds nothing. Without libzbar the decoder logs that once and
carries on with zxing-cpp alone.

Images are opened with Pillow, only as JPEG or PNG, and refused before any pixel is decoded
when they are larger than ``MAX_PIXELS`` (a small file can claim a huge canvas).
"""

import io
import logging
import re
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import zxingcpp
from PIL import Image, UnidentifiedImageError

logger = logging.getLogger(__name__)

# A UXGA (1600 x 1200) photo, the largest an ESP32-CAM takes, with room to spare.
MAX_PIXELS = 4_000_000
IMAGE_FORMATS = ("JPEG", "PNG")

ERROR_NOT_AN_IMAGE = "The data is not a JPEG or PNG image."
ERROR_TOO_MANY_PIXELS = "The image has more than {limit} pixels."


class DecodeError(ValueError):
    """The data could not be decoded as an image (not the same as "no barcode found")."""


@dataclass(frozen=True)
class DecodedCode:
    text: str
    symbology: str  # upper case, letters and digits: "EAN13", "UPCA", "QRCODE", "CODE128"


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> list[DecodedCode]:
    """Every code found in the JPEG or PNG ``data``; empty when there is none.

    Raises ``DecodeError`` for data that is not such an image or has too many pixels.
    """
    image = image_open(data, max_pixels=max_pixels)
    return decode_with_zxing(image) or decode_with_pyzbar(image)


def image_open(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The image in ``data`` as 8-bit greyscale, checked for size before it is decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
        # Opening reads the header only: refuse before the pixels are decompressed.
        if image.width * image.height > max_pixels:
            raise DecodeError(ERROR_TOO_MANY_PIXELS.format(limit=max_pixels))
        return image.convert("L")
    except Image.DecompressionBombError as exc:
        raise DecodeError(ERROR_TOO_MANY_PIXELS.format(limit=max_pixels)) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise DecodeError(ERROR_NOT_AN_IMAGE) from exc


def decode_with_zxing(image: Image.Image) -> list[DecodedCode]:
    return [
        DecodedCode(text=result.text, symbology=_symbology(result.format.name))
        for result in zxingcpp.read_barcodes(image)
        if result.valid
    ]


def decode_with_pyzbar(image: Image.Image) -> list[DecodedCode]:
    """Codes libzbar finds in ``image``; empty when libzbar is not installed."""
    pyzbar = pyzbar_module()
    if pyzbar is None:
        return []
    return [
        DecodedCode(text=symbol.data.decode("utf-8", "replace"), symbology=_symbology(symbol.type))
        for symbol in pyzbar.decode(image)
    ]


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


def _symbology(name: str) -> str:
    # zxing-cpp says "EAN13", "QRCode", "Code128"; pyzbar "EAN13", "QRCODE", "CODE128".
    return re.sub(r"[^A-Z0-9]", "", name.upper())
