"""Which codes in a photo to believe, and which one a scan acts on: the decoder's policy.

A wrong product in the cart costs a shopper money and a store its trust; a missed read costs a
second press. So the server never guesses:

1. **Check digits.** A retail code (EAN-13, EAN-8, UPC-A, UPC-E) whose check digit fails is
   not read at all (``devices.decoding.checked_code``).
2. **Doubtful codes need both libraries.** Some codes pass that check too easily to take one
   reader's word for them (``is_doubtful``): a UPC-E, whose six digits carry no check digit of
   their own, and a GTIN whose GS1 prefix no GS1 office issues (on no product, but printed as
   the other code of some packages: the price code beside a Japanese book's ISBN). Such a code
   is believed only when zxing-cpp and pyzbar have both read it (on the photo or a variant).
3. **A variant is not a witness on its own.** A retail code read only from a synthetic variant
   of the photo (upscaled, turned, thresholded) is believed only with a second, independent
   sighting: the other library, or another variant. A code read on the photo itself needs none.
   QR codes are exempt: their Reed-Solomon error correction leaves no half-read text, and a QR
   code only ever pairs a cart, by a pass whose signature the server checks.
4. **Cheapest first, stop at the first belief.** The readers run in ``ReadPolicy.plan`` order
   and the decoder stops after the first attempt that leaves a believed code; a code seen but
   not believed is as good as not read.
5. **Two codes: refuse, unless the catalog settles it.** Two or more different believed retail
   codes (or two different cart passes) in one photo refuse the scan as ambiguous ("Two codes
   seen / Scan one"), unless exactly one of the retail codes is in the store's catalog and the
   others are not (``read_decide``, one indexed look-up of the candidates). A read is never
   "snapped" to the nearest product. A cart pass in the photo wins over any product code.

Which of the optional rules are on (``ReadPolicy``) was chosen by leaving each set of the
barcode corpus out in turn (``python -m benchmarks.decode --leave-one-set-out``); the README's
"Scan truth" section shows that table and what each rule does.
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from biip import ParseError
from biip.gtin import Gtin

if TYPE_CHECKING:
    from devices.decoding import DecodedCode

ZXING = "zxing-cpp"
PYZBAR = "pyzbar"
ORIGINAL = "original"  # the photo itself, as opposed to a variant made from it

UPSCALED = "upscaled 2x"
TURNED = "turned 45°"
THRESHOLDED = "adaptive threshold"

# A UPC-E holds six digits and no check digit of its own (the check is implied by the bars'
# parity pattern): a stray or partial read passes for one more easily than for any other code.
WEAK_SYMBOLOGIES = frozenset({"UPCE"})


@dataclass(frozen=True)
class Sighting:
    """One reader's read of one code, on the photo or on one of its variants."""

    code: "DecodedCode"
    reader: str  # ZXING or PYZBAR
    image: str  # ORIGINAL or a variant's name


@dataclass(frozen=True)
class ReadPolicy:
    """The decoder's optional rules; ``POLICY`` is the one the store runs."""

    variants: tuple[str, ...] = (UPSCALED, TURNED, THRESHOLDED)  # tried in this order
    # zxing-cpp also reads the photo turned 90° (a 1D code upright in the frame). Off, such a
    # code is pyzbar's (which scans columns as well as rows) and then the variants'.
    zxing_turns_photo: bool = False
    confirm_weak_symbologies: bool = True  # a UPC-E needs both libraries
    confirm_unissued_prefixes: bool = True  # a GTIN with no issued GS1 prefix needs both
    # After zxing-cpp has read a code on a variant that nothing confirms yet, pyzbar reads the
    # same variant (a second library is the cheapest independent witness).
    pyzbar_on_variants: bool = True
    # CPU time (of the calling thread) after which no further variant is tried: it bounds what
    # an unreadable frame costs. On the barcode corpus 15 ms reads as much as 30 ms did (and 10
    # ms in some runs: a budget's reads depend on the machine's speed).
    budget_ms: float = 15.0

    def plan(self) -> list[tuple[str, str]]:
        """Every (reader, image) the decoder may try, cheapest first."""
        steps = [(ZXING, ORIGINAL), (PYZBAR, ORIGINAL)]
        for variant in self.variants:
            steps.append((ZXING, variant))
            if self.pyzbar_on_variants:
                steps.append((PYZBAR, variant))
        return steps

    def with_one_reader(self) -> "ReadPolicy":
        """The policy when libzbar is missing: nobody to ask, so zxing-cpp's word stands."""
        return replace(
            self,
            confirm_weak_symbologies=False,
            confirm_unissued_prefixes=False,
            pyzbar_on_variants=False,
        )

    @property
    def safeguards(self) -> int:
        """How many of the optional checks are on (a tie-break: the more cautious policy)."""
        return sum(
            (self.confirm_weak_symbologies, self.confirm_unissued_prefixes, self.pyzbar_on_variants)
        )

    @property
    def name(self) -> str:
        variants = "+".join(variant.split()[0] for variant in self.variants) or "none"
        rules = [
            flag
            for flag, on in (
                ("upc-e", self.confirm_weak_symbologies),
                ("prefix", self.confirm_unissued_prefixes),
                ("pyzbar-on-variants", self.pyzbar_on_variants),
            )
            if on
        ]
        confirmed = ", ".join(rules) or "nothing"
        turns = "; zxing-cpp turns the photo" if self.zxing_turns_photo else ""
        return f"variants {variants}; confirm {confirmed}{turns}; budget {self.budget_ms:g} ms"


POLICY = ReadPolicy()


def is_doubtful(code: "DecodedCode", policy: ReadPolicy = POLICY) -> bool:
    """Whether one reader's word is not enough for ``code`` under ``policy``."""
    if code.gtin is None:
        return False
    if policy.confirm_weak_symbologies and code.symbology in WEAK_SYMBOLOGIES:
        return True
    return policy.confirm_unissued_prefixes and not prefix_is_issued(code.gtin)


def prefix_is_issued(gtin: str) -> bool:
    try:
        return Gtin.parse(gtin).prefix is not None
    except ParseError:  # pragma: no cover - gtin_normalise has checked it already
        return False


@dataclass
class _Evidence:
    code: "DecodedCode"
    sources: set[tuple[str, str]] = field(default_factory=set)  # (reader, image)


def _evidence(sightings: Sequence[Sighting]) -> dict[str, _Evidence]:
    """Each code seen (by its GTIN, or its text for a QR code), in the order first seen."""
    seen: dict[str, _Evidence] = {}
    for sighting in sightings:
        key = sighting.code.gtin or sighting.code.text
        seen.setdefault(key, _Evidence(sighting.code)).sources.add(
            (sighting.reader, sighting.image)
        )
    return seen


def _is_believed(evidence: _Evidence, policy: ReadPolicy) -> bool:
    if evidence.code.gtin is None:  # QR: error-corrected, and only ever a signed cart pass
        return True
    if is_doubtful(evidence.code, policy):
        return {reader for reader, _ in evidence.sources} >= {ZXING, PYZBAR}
    on_the_photo = any(image == ORIGINAL for _, image in evidence.sources)
    return on_the_photo or len(evidence.sources) >= 2


def believed(sightings: Sequence[Sighting], policy: ReadPolicy = POLICY) -> list["DecodedCode"]:
    """The codes ``sightings`` make believable, in the order first seen."""
    return [e.code for e in _evidence(sightings).values() if _is_believed(e, policy)]


def unconfirmed(sightings: Sequence[Sighting], policy: ReadPolicy = POLICY) -> bool:
    """Whether some code was seen that is not believed yet (another witness may settle it)."""
    return any(not _is_believed(e, policy) for e in _evidence(sightings).values())


# --- Acting on what was believed ---------------------------------------------------------------


class ReadOutcome(StrEnum):
    PAIR = "pair"  # a cart pass: pair the cart
    CODE = "code"  # one retail code: look it up, add or remove
    AMBIGUOUS = "ambiguous"  # two different codes: refused, scan one
    NOTHING = "nothing"  # no retail code and no pass


@dataclass(frozen=True)
class ReadDecision:
    outcome: ReadOutcome
    text: str = ""  # the pass, the code's text, or what was read for the record
    gtin: str | None = None  # the code's GTIN-14 when the outcome is CODE


CatalogFilter = Callable[[Collection[str]], Collection[str]]


def read_decide(
    codes: Sequence["DecodedCode"],
    *,
    is_pass: Callable[[str], bool],
    in_catalog: CatalogFilter | None = None,
) -> ReadDecision:
    """What a scan acts on, given the believed ``codes``.

    ``is_pass`` tells a cart pass's text; ``in_catalog`` returns which of several GTIN-14s the
    store sells (called only when there are two or more; None: no catalog to ask).
    """
    passes = list(dict.fromkeys(code.text for code in codes if is_pass(code.text)))
    if len(passes) == 1:
        return ReadDecision(ReadOutcome.PAIR, text=passes[0])
    if passes:
        return ReadDecision(ReadOutcome.AMBIGUOUS)
    retail = {code.gtin: code for code in codes if code.gtin is not None}
    if len(retail) > 1 and in_catalog is not None:
        sold = set(in_catalog(list(retail)))
        retail = {gtin: code for gtin, code in retail.items() if gtin in sold} or retail
    if len(retail) > 1:
        return ReadDecision(ReadOutcome.AMBIGUOUS, text=" ".join(c.text for c in retail.values()))
    if retail:
        code = next(iter(retail.values()))
        return ReadDecision(ReadOutcome.CODE, text=code.text, gtin=code.gtin)
    return ReadDecision(ReadOutcome.NOTHING, text=codes[0].text if codes else "")
