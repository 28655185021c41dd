"""The photos, the three ways they are sent, and the store catalog the "in a store" view uses."""

import csv
import io
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from catalog.barcodes import gs1_check_digit
from devices import decoding
from devices.cart_photos import cart_jpeg_from_bytes, fitted_jpeg

STRESS_FRAME = (640, 480)
STRESS_JPEG_QUALITY = 12


@dataclass(frozen=True)
class Photo:
    set: str
    file: str
    is_qr: bool
    expected: str  # the GTIN-14 for 1D, the text (line breaks as "\n") for QR
    data: bytes

    @property
    def kind(self) -> str:
        return "QR" if self.is_qr else "1D"


def photos_load(corpus: Path) -> list[Photo]:
    with open(corpus / "manifest.csv", newline="", encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest))
    photos = []
    for row in rows:
        is_qr = row["format"] == "QR_CODE"
        expected = lines(row["expected"]) if is_qr else gtin(row["expected"], row["format"])
        if expected is None:
            raise SystemExit(f"{row['set']}/{row['file']}: expected {row['expected']!r} is no GTIN")
        data = (corpus / row["set"] / row["file"]).read_bytes()
        photos.append(Photo(row["set"], row["file"], is_qr, expected, data))
    return photos


def gtin(text: str, manifest_format: str) -> str | None:
    code = decoding.checked_code(text, manifest_format.replace("_", ""))
    return code.gtin if code else None


def lines(text: str) -> str:
    """QR texts compared with "\\n" line breaks: the manifest stores "\\n", symbols "\\r\\n"."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def stress_jpeg(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return fitted_jpeg(image, frame=STRESS_FRAME, quality=STRESS_JPEG_QUALITY)


# What each column sends the decoder.
QUALITIES: dict[str, Callable[[bytes], bytes]] = {
    "original": lambda data: data,
    "cart": cart_jpeg_from_bytes,
    "stress": stress_jpeg,
}


@dataclass(frozen=True)
class FrameSizes:
    median_kib: float
    median_bits_per_pixel: float

    @property
    def svga_kib(self) -> float:
        """The median bits per pixel as the size of an 800 x 600 frame."""
        return self.median_bits_per_pixel * 800 * 600 / 8 / 1024


def frame_sizes(photos: list[Photo], encode: Callable[[bytes], bytes]) -> FrameSizes:
    sizes, densities = [], []
    for photo in photos:
        data = encode(photo.data)
        with Image.open(io.BytesIO(data)) as image:
            pixels = image.width * image.height
        sizes.append(len(data) / 1024)
        densities.append(len(data) * 8 / pixels)
    return FrameSizes(statistics.median(sizes), statistics.median(densities))


# --- The store's catalog ----------------------------------------------------------------------

# GS1 prefixes of a European grocery's shelves: US/Canada (UPC), France, Germany, Japan, the UK,
# Italy, Spain, the Netherlands, books.
SHELF_PREFIXES = ("00", "03", "30", "37", "40", "42", "49", "50", "80", "84", "87", "978")
RANDOM_GTINS = 3000
NEIGHBOURS_PER_CODE = 20  # products of the same company (same company prefix) as each code
COMPANY_PREFIX_DIGITS = 8  # of the GTIN-13


def store_catalog(photos: list[Photo], seed: int = 20261206) -> frozenset[str]:
    """The corpus's expected GTINs, products of the same companies, and random shelf codes."""
    rng = random.Random(seed)
    expected = {photo.expected for photo in photos if not photo.is_qr}
    catalog = set(expected)
    for code in sorted(expected):
        company = code[1 : 1 + COMPANY_PREFIX_DIGITS]  # GTIN-14 without its leading packaging 0
        for _ in range(NEIGHBOURS_PER_CODE):
            catalog.add(_gtin14(company + _digits(rng, 12 - COMPANY_PREFIX_DIGITS)))
    while len(catalog) < len(expected) * (NEIGHBOURS_PER_CODE + 1) + RANDOM_GTINS:
        prefix = rng.choice(SHELF_PREFIXES)
        catalog.add(_gtin14(prefix + _digits(rng, 12 - len(prefix))))
    return frozenset(catalog)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _gtin14(payload12: str) -> str:
    return "0" + payload12 + str(gs1_check_digit(payload12))
