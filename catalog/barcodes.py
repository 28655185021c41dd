"""Retail barcodes in, one canonical GTIN-14 out.

Every barcode the store stores or looks up is a 14-digit GTIN with a valid GS1 mod-10 check
digit. Scanned and typed forms are turned into it here:

* EAN-13, UPC-A (12 digits), EAN-8 and GTIN-14 are left-padded with zeros;
* UPC-E (6, 7 or 8 digits) is expanded to its UPC-A form first.

An 8-digit code is both a possible EAN-8 and a possible UPC-E. The scanner's symbology decides
when it is known; otherwise the form whose check digit holds wins, EAN-8 first. A UPC-E the
scanner has already expanded (12 or 13 digits) is read as the UPC-A it is.

The GS1 arithmetic is biip's; this module adds the store's rules and clear messages.
"""

from dataclasses import dataclass

from biip import ParseError
from biip.gtin import Gtin
from biip.upc import Upc

GTIN_LENGTH = 14

ERROR_EMPTY = "Enter a barcode."
ERROR_NOT_DIGITS = "A barcode has digits only; '{value}' has other characters."
ERROR_LENGTH = "A barcode has 6, 7, 8, 12, 13 or 14 digits; '{value}' has {length}."
ERROR_CHECK_DIGIT = "The check digit of '{value}' is wrong: it should end in {expected}."
ERROR_UPC_E = "'{value}' is not a valid UPC-E code."

UPC_E_SYMBOLOGIES = frozenset({"UPCE", "UPC_E", "UPC-E"})
_SEPARATORS = str.maketrans("", "", " -")


class BarcodeError(ValueError):
    """The text is not a valid retail barcode; the message tells the person why."""


@dataclass(frozen=True)
class NormalisedBarcode:
    gtin: str  # canonical 14 digits
    source_format: str  # "GTIN-14", "EAN-13", "UPC-A", "EAN-8" or "UPC-E"


def gs1_check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit for ``payload`` (all digits but the last)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def gtin_normalise(text: str, *, symbology: str | None = None) -> NormalisedBarcode:
    """Validate ``text`` and return its canonical GTIN-14.

    ``symbology`` is the scanner's name for the code (``"EAN13"``, ``"UPCE"``, ...), when known.
    Raises ``BarcodeError`` with a message naming what is wrong.
    """
    value = _clean(text)
    upc_e_hint = (symbology or "").upper() in UPC_E_SYMBOLOGIES
    # Scanners report a UPC-E either as printed (6-8 digits) or already expanded to UPC-A.
    if len(value) in (6, 7) or (upc_e_hint and len(value) == 8):
        return _from_upc_e(value)
    if len(value) == 8:
        try:
            return _from_gtin(value)
        except BarcodeError:
            try:
                return _from_upc_e(value)
            except BarcodeError:
                pass
            raise
    return _from_gtin(value)


def gtin_candidates(text: str) -> list[str]:
    """Every canonical GTIN-14 that ``text`` could stand for (empty when none is valid).

    Search uses this: a typed 8-digit code may be an EAN-8 or a UPC-E.
    """
    try:
        value = _clean(text)
    except BarcodeError:
        return []
    found = []
    for parse in (_from_gtin, _from_upc_e):
        try:
            gtin = parse(value).gtin
        except BarcodeError:
            continue
        if gtin not in found:
            found.append(gtin)
    return found


def _clean(text: str) -> str:
    value = (text or "").strip().translate(_SEPARATORS)
    if not value:
        raise BarcodeError(ERROR_EMPTY)
    if not (value.isascii() and value.isdigit()):
        raise BarcodeError(ERROR_NOT_DIGITS.format(value=value))
    return value


_FORMAT_BY_LENGTH = {8: "EAN-8", 12: "UPC-A", 13: "EAN-13", 14: "GTIN-14"}


def _from_gtin(value: str) -> NormalisedBarcode:
    if len(value) not in _FORMAT_BY_LENGTH:
        raise BarcodeError(ERROR_LENGTH.format(value=value, length=len(value)))
    expected = gs1_check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise BarcodeError(ERROR_CHECK_DIGIT.format(value=value, expected=expected))
    try:
        gtin = Gtin.parse(value).as_gtin_14()
    except ParseError as exc:  # pragma: no cover - biip agrees with the check above
        raise BarcodeError(str(exc)) from exc
    return NormalisedBarcode(gtin=gtin, source_format=_FORMAT_BY_LENGTH[len(value)])


def _from_upc_e(value: str) -> NormalisedBarcode:
    if len(value) not in (6, 7, 8):
        raise BarcodeError(ERROR_UPC_E.format(value=value))
    try:
        upc_a = Upc.parse(value).as_upc_a()
    except ParseError as exc:
        raise BarcodeError(ERROR_UPC_E.format(value=value)) from exc
    return NormalisedBarcode(gtin=upc_a.zfill(GTIN_LENGTH), source_format="UPC-E")
