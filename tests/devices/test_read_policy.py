"""devices.read_policy: which codes the decoder believes, and which one a scan acts on.

The decoder's loop is tested on fake attempts (``FakeAttempts``: what each reader reads on each
image), and end to end on images made here.
"""

from dataclasses import replace
from types import SimpleNamespace

import pytest
import zxingcpp
from PIL import Image

from devices import decoding
from devices.decoding import (
    DecodedCode,
    decode_image_timed,
    decode_with_pyzbar,
    pyzbar_available,
    read_attempts,
)
from devices.read_policy import (
    ORIGINAL,
    POLICY,
    PYZBAR,
    THRESHOLDED,
    TURNED,
    UPSCALED,
    ZXING,
    ReadDecision,
    ReadOutcome,
    ReadPolicy,
    is_doubtful,
    read_decide,
)
from tests.devices.support import EAN13, EAN13_GTIN, Format, code_image, encoded

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


def test_each_doubtful_rule_can_be_turned_off():
    assert not is_doubtful(upce, replace(POLICY, confirm_weak_symbologies=False))
    assert not is_doubtful(unassigned, replace(POLICY, confirm_unissued_prefixes=False))


class FakeAttempts:
    """What each reader reads on each image; every image exists, each run costs ``cpu_ms``."""

    def __init__(self, reads: dict[tuple[str, str], list[DecodedCode]], cpu_ms: float = 1.0):
        self.reads, self.cpu_ms = reads, cpu_ms
        self.ran: list[tuple[str, str]] = []

    def run(self, reader: str, image: str, policy: ReadPolicy) -> tuple[list[DecodedCode], float]:
        self.ran.append((reader, image))
        return list(self.reads.get((reader, image), [])), self.cpu_ms


def test_a_code_read_on_the_photo_is_believed_at_once():
    attempts = FakeAttempts({(ZXING, ORIGINAL): [ean13]})

    found = read_attempts(attempts, POLICY)

    assert (found.codes, found.attempt, attempts.ran) == ((ean13,), ZXING, [(ZXING, ORIGINAL)])


def test_a_code_only_one_variant_reads_is_never_believed():
    attempts = FakeAttempts({(ZXING, UPSCALED): [ean13]})

    found = read_attempts(attempts, POLICY)

    assert found.codes == ()
    # pyzbar was asked about the upscaled variant to confirm it; nothing else read it.
    assert (PYZBAR, UPSCALED) in attempts.ran
    assert [s.image for s in found.sightings] == [UPSCALED]


def test_a_variant_read_is_believed_when_pyzbar_reads_the_same_variant():
    attempts = FakeAttempts({(ZXING, UPSCALED): [ean13], (PYZBAR, UPSCALED): [ean13]})

    found = read_attempts(attempts, POLICY)

    assert (found.codes, found.attempt) == ((ean13,), "upscaled 2x + pyzbar")


def test_a_variant_read_is_believed_when_another_variant_reads_it_too():
    attempts = FakeAttempts({(ZXING, UPSCALED): [ean13], (ZXING, THRESHOLDED): [ean13]})

    found = read_attempts(attempts, POLICY)

    assert (found.codes, found.attempt) == ((ean13,), THRESHOLDED)


def test_pyzbar_reads_a_variant_only_when_a_code_waits_for_a_witness():
    attempts = FakeAttempts({})

    read_attempts(attempts, POLICY)

    assert attempts.ran == [(ZXING, ORIGINAL), (PYZBAR, ORIGINAL)] + [
        (ZXING, variant) for variant in POLICY.variants
    ]


def test_a_qr_code_one_variant_reads_is_believed():
    attempts = FakeAttempts({(ZXING, TURNED): [qr]})

    assert read_attempts(attempts, POLICY).codes == (qr,)


def test_no_variant_is_tried_once_the_budget_is_spent():
    attempts = FakeAttempts({(ZXING, UPSCALED): [ean13]}, cpu_ms=5.0)

    read_attempts(attempts, replace(POLICY, budget_ms=10.0))

    assert attempts.ran == [(ZXING, ORIGINAL), (PYZBAR, ORIGINAL)]


def test_a_doubtful_code_is_believed_from_variants_when_both_libraries_read_it():
    attempts = FakeAttempts({(ZXING, UPSCALED): [upce], (PYZBAR, THRESHOLDED): [upce]})

    assert read_attempts(attempts, POLICY).codes == (upce,)
    # Two variants are not enough for a doubtful code: only one library read it.
    twice = FakeAttempts({(ZXING, UPSCALED): [upce], (ZXING, THRESHOLDED): [upce]})
    assert read_attempts(twice, POLICY).codes == ()


def test_a_doubtful_code_pyzbar_reads_alone_is_not_believed():
    attempts = FakeAttempts({(PYZBAR, ORIGINAL): [upce]})

    assert read_attempts(attempts, POLICY).codes == ()


def test_the_decoder_stops_at_the_first_believed_code_and_ignores_unconfirmed_ones():
    attempts = FakeAttempts({(ZXING, ORIGINAL): [ean13, unassigned], (PYZBAR, ORIGINAL): [upce]})

    found = read_attempts(attempts, POLICY)

    assert (found.codes, attempts.ran) == ((ean13,), [(ZXING, ORIGINAL)])


# --- What a scan acts on -----------------------------------------------------------------------

other = DecodedCode("9780804816632", "EAN13", "09780804816632")


def is_pass(text: str) -> bool:
    return text.startswith("SCP1:")


def never_asked(gtins):
    raise AssertionError("the catalog is asked only about two codes or more")


@pytest.mark.parametrize(
    ("codes", "decision"),
    [
        pytest.param([], ReadDecision(ReadOutcome.NOTHING), id="nothing"),
        pytest.param(
            [ean13], ReadDecision(ReadOutcome.CODE, EAN13, EAN13_GTIN), id="one retail code"
        ),
        pytest.param(
            [DecodedCode("HELLO", "QRCODE")],
            ReadDecision(ReadOutcome.NOTHING, "HELLO"),
            id="a QR code that is no pass",
        ),
        pytest.param([ean13, qr, other], ReadDecision(ReadOutcome.PAIR, qr.text), id="a pass wins"),
        pytest.param(
            [qr, DecodedCode("SCP1:OTHER", "QRCODE")],
            ReadDecision(ReadOutcome.AMBIGUOUS),
            id="two passes",
        ),
    ],
)
def test_read_decide(codes, decision):
    assert read_decide(codes, is_pass=is_pass, in_catalog=never_asked) == decision


def test_two_retail_codes_are_ambiguous_without_a_catalog():
    decision = read_decide([ean13, other], is_pass=is_pass)

    assert decision == ReadDecision(ReadOutcome.AMBIGUOUS, f"{EAN13} {other.text}")


@pytest.mark.parametrize(
    ("sold", "outcome", "gtin"),
    [
        pytest.param({EAN13_GTIN}, ReadOutcome.CODE, EAN13_GTIN, id="one sold: that one"),
        pytest.param({EAN13_GTIN, other.gtin}, ReadOutcome.AMBIGUOUS, None, id="both sold"),
        pytest.param(set(), ReadOutcome.AMBIGUOUS, None, id="neither sold"),
    ],
)
def test_the_catalog_settles_two_codes_only_when_it_sells_exactly_one(sold, outcome, gtin):
    asked = []

    def in_catalog(gtins):
        asked.append(sorted(gtins))
        return sold & set(gtins)

    decision = read_decide([ean13, other], is_pass=is_pass, in_catalog=in_catalog)

    assert (decision.outcome, decision.gtin) == (outcome, gtin)
    assert asked == [sorted([EAN13_GTIN, "09780804816632"])]


def test_the_same_gtin_read_twice_is_one_code():
    upca = DecodedCode("036000291452", "UPCA", "00036000291452")
    as_ean13 = DecodedCode("0036000291452", "EAN13", "00036000291452")

    decision = read_decide([upca, as_ean13], is_pass=is_pass, in_catalog=never_asked)

    assert decision.outcome == ReadOutcome.CODE


def test_the_policy_without_pyzbar_keeps_no_rule_that_needs_it():
    alone = POLICY.with_one_reader()

    assert not (
        alone.confirm_weak_symbologies
        or alone.confirm_unissued_prefixes
        or alone.pyzbar_on_variants
    )
    assert all(reader == ZXING for reader, image in alone.plan() if image != ORIGINAL)
    assert isinstance(alone, ReadPolicy)


@needs_libzbar
def test_upce_read_by_zxing_and_pyzbar_is_read():
    found = decode_image_timed(encoded(code_image(UPCE, Format.UPCE)))

    assert [(code.symbology, code.gtin) for code in found.codes] == [("UPCE", UPCE_GTIN)]
    assert found.attempt == "pyzbar"  # zxing-cpp read it first; pyzbar's read confirmed it


@needs_libzbar
def test_upce_only_zxing_reads_is_not_believed_from_any_attempt(monkeypatch):
    # zxing-cpp "reads" the UPC-E in the photo and in every variant of it; pyzbar sees nothing.
    zxing_reads(monkeypatch, (UPCE, Format.UPCE))
    asked = pyzbar_reads(monkeypatch)

    found = decode_image_timed(blank())

    assert (found.codes, found.attempt) == ((), "")
    assert len(asked) == 1 + len(POLICY.variants)  # about the photo, then each variant


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
