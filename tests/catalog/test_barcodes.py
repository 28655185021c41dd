"""Every GS1 retail form becomes one canonical GTIN-14; bad codes are refused with a reason."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.barcodes import (
    ERROR_CHECK_DIGIT,
    ERROR_EMPTY,
    ERROR_LENGTH,
    ERROR_NOT_DIGITS,
    ERROR_UPC_E,
    BarcodeError,
    gs1_check_digit,
    gtin_candidates,
    gtin_normalise,
)


@pytest.mark.parametrize(
    ("text", "gtin", "source_format"),
    [
        # UPC-A and its EAN-13 and GTIN-14 spellings are one product.
        ("036602301467", "00036602301467", "UPC-A"),
        ("0036602301467", "00036602301467", "EAN-13"),
        ("00036602301467", "00036602301467", "GTIN-14"),
        # EAN-13 from several GS1 prefixes, including ISBN-style 978.
        ("4006381333931", "04006381333931", "EAN-13"),
        ("9780804816632", "09780804816632", "EAN-13"),
        ("5901234123457", "05901234123457", "EAN-13"),
        # EAN-8.
        ("96385074", "00000096385074", "EAN-8"),
        ("12345670", "00000012345670", "EAN-8"),
        # GTIN-14 of a case (packaging level 1).
        ("10036602301464", "10036602301464", "GTIN-14"),
        # UPC-E: with number system and check digit, without check digit, bare six digits.
        ("04252614", "00042100005264", "UPC-E"),
        ("0425261", "00042100005264", "UPC-E"),
        ("425261", "00042100005264", "UPC-E"),
        # Spaces and hyphens a person might type are ignored.
        (" 4006381 333931 ", "04006381333931", "EAN-13"),
        ("0-36602-30146-7", "00036602301467", "UPC-A"),
    ],
)
def test_normalise_gives_canonical_gtin14(text, gtin, source_format):
    result = gtin_normalise(text)

    assert result.gtin == gtin
    assert result.source_format == source_format


@pytest.mark.parametrize(
    ("text", "symbology", "gtin"),
    [
        # 12345670 is a valid EAN-8 *and* a valid UPC-E: the scanner's symbology decides.
        ("12345670", "UPCE", "00123456000070"),
        ("12345670", "UPC_E", "00123456000070"),
        ("12345670", "EAN8", "00000012345670"),
        ("12345670", None, "00000012345670"),
        ("0036602301467", "EAN13", "00036602301467"),
    ],
)
def test_symbology_resolves_eight_digit_ambiguity(text, symbology, gtin):
    assert gtin_normalise(text, symbology=symbology).gtin == gtin


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4006381333932", ERROR_CHECK_DIGIT.format(value="4006381333932", expected=1)),
        ("036602301468", ERROR_CHECK_DIGIT.format(value="036602301468", expected=7)),
        ("96385075", ERROR_CHECK_DIGIT.format(value="96385075", expected=4)),
        ("10036602301465", ERROR_CHECK_DIGIT.format(value="10036602301465", expected=4)),
        ("", ERROR_EMPTY),
        ("   ", ERROR_EMPTY),
        ("40063813339x1", ERROR_NOT_DIGITS.format(value="40063813339x1")),
        ("٤٠٠٦٣٨١٣٣٣٩٣١", ERROR_NOT_DIGITS.format(value="٤٠٠٦٣٨١٣٣٣٩٣١")),
        ("12345", ERROR_LENGTH.format(value="12345", length=5)),
        ("1234567890", ERROR_LENGTH.format(value="1234567890", length=10)),
        ("123456789012345", ERROR_LENGTH.format(value="123456789012345", length=15)),
        # Eight digits valid as neither form: reported as the EAN-8 a person most likely typed.
        ("04252615", ERROR_CHECK_DIGIT.format(value="04252615", expected=0)),
        # Seven digits can only be UPC-E; its number system must be 0 or 1.
        ("2425261", ERROR_UPC_E.format(value="2425261")),
    ],
)
def test_invalid_codes_are_refused_with_a_reason(text, message):
    with pytest.raises(BarcodeError) as excinfo:
        gtin_normalise(text)

    assert str(excinfo.value) == message


def test_upc_e_symbology_refuses_an_invalid_upc_e():
    with pytest.raises(BarcodeError) as excinfo:
        gtin_normalise("04252615", symbology="UPCE")

    assert str(excinfo.value) == ERROR_UPC_E.format(value="04252615")


@pytest.mark.parametrize("text", ["042100005264", "0042100005264"])
def test_upc_e_already_expanded_by_the_scanner_is_read_as_its_upc_a(text):
    assert gtin_normalise(text, symbology="UPCE").gtin == "00042100005264"


@pytest.mark.parametrize(
    ("text", "candidates"),
    [
        ("12345670", ["00000012345670", "00123456000070"]),
        ("04252614", ["00042100005264"]),
        ("036602301467", ["00036602301467"]),
        ("4006381333932", []),
        ("milk", []),
        ("", []),
    ],
)
def test_candidates_list_every_valid_reading(text, candidates):
    assert gtin_candidates(text) == candidates


@pytest.mark.parametrize(
    ("payload", "digit"),
    [("400638133393", 1), ("03660230146", 7), ("9638507", 4), ("1003660230146", 4)],
)
def test_check_digit(payload, digit):
    assert gs1_check_digit(payload) == digit


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_any_ean13_normalises_to_its_padded_self(payload):
    ean13 = payload + str(gs1_check_digit(payload))

    result = gtin_normalise(ean13)

    assert result.gtin == "0" + ean13
    assert gtin_normalise(result.gtin).gtin == result.gtin


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(1, 9))
def test_any_single_digit_error_in_the_check_digit_is_caught(payload, offset):
    good = gs1_check_digit(payload)
    bad = payload + str((good + offset) % 10)

    with pytest.raises(BarcodeError):
        gtin_normalise(bad)
