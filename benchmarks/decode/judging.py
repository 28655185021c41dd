"""What each decoder would act on, and whether that is right, wrong, refused or nothing."""

import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import zxingcpp
from PIL import Image

from benchmarks.decode.corpus import Photo, lines
from devices import decoding
from devices.decoding import DecodedCode
from devices.read_policy import ReadDecision, ReadOutcome, read_decide

RIGHT, WRONG, UNKNOWN, REFUSED, NOTHING = "right", "wrong", "unknown", "refused", "nothing"
OUTCOMES = (RIGHT, WRONG, UNKNOWN, REFUSED, NOTHING)
STRICT, STORE = "strict", "store"
VIEWS = (STRICT, STORE)

T = TypeVar("T")


# --- Decoders ---------------------------------------------------------------------------------


def project(image: Image.Image) -> tuple[list[DecodedCode], str]:
    found = decoding.read_codes(image)
    return list(found.codes), found.attempt


def pyzbar_alone(image: Image.Image) -> tuple[list[DecodedCode], str]:
    pyzbar = decoding.pyzbar_module()
    assert pyzbar is not None
    pairs = [
        (s.data.decode("utf-8", "replace"), decoding.symbology_name(s.type))
        for s in pyzbar.decode(image)
    ]
    return decoding.checked_codes(pairs), ""


def zxing_alone(image: Image.Image) -> tuple[list[DecodedCode], str]:
    barcodes = zxingcpp.read_barcodes(
        image, formats=decoding.ZXING_FORMATS, text_mode=zxingcpp.TextMode.Plain
    )
    pairs = [(b.text, decoding.symbology_name(b.format.name)) for b in barcodes if b.valid]
    return decoding.checked_codes(pairs), ""


def zxing_then_pyzbar(image: Image.Image) -> tuple[list[DecodedCode], str]:
    codes, _ = zxing_alone(image)
    return (codes, "zxing-cpp") if codes else (pyzbar_alone(image)[0], "pyzbar")


Decoder = Callable[[Image.Image], tuple[list[DecodedCode], str]]
PLAIN = "zxing→pyzbar"


def decoders() -> dict[str, Decoder]:
    """The project's decoder and the libraries alone (pyzbar's only with libzbar)."""
    found: dict[str, Decoder] = {"project": project}
    if decoding.pyzbar_available():
        found["pyzbar"] = pyzbar_alone
    found["zxing-cpp"] = zxing_alone
    if decoding.pyzbar_available():
        found[PLAIN] = zxing_then_pyzbar
    return found


# --- Decisions --------------------------------------------------------------------------------


def decide(
    name: str, photo: Photo, codes: Sequence[DecodedCode], catalog: Collection[str] | None
) -> ReadDecision:
    """What decoder ``name`` acts on: the project by its policy; a library as a server without
    one would (``_read_first`` before the policy): a cart pass if any, else the first retail
    code.

    A QR photo stands for a shopper showing their cart pass. The server knows a pass by its
    prefix (and then its signature), so the photo's own QR text counts as the pass and any
    other QR text in it as a QR code that is no pass (the server ignores those).
    """

    def is_pass(text: str) -> bool:
        return photo.is_qr and lines(text) == photo.expected

    if name == "project":
        in_catalog = None if catalog is None else (lambda gtins: set(gtins) & set(catalog))
        return read_decide(codes, is_pass=is_pass, in_catalog=in_catalog)
    passes = [code for code in codes if is_pass(code.text)]
    retail = [code for code in codes if code.gtin is not None]
    return read_decide((passes or retail)[:1], is_pass=is_pass)


def judge(photo: Photo, decision: ReadDecision, catalog: Collection[str] | None) -> str:
    if decision.outcome == ReadOutcome.AMBIGUOUS:
        return REFUSED
    if decision.outcome == ReadOutcome.NOTHING:
        return NOTHING
    if decision.outcome == ReadOutcome.PAIR:
        return RIGHT  # only the photo's own pass is one (``decide``)
    if not photo.is_qr and decision.gtin == photo.expected:
        return RIGHT
    if catalog is not None and decision.gtin not in catalog:
        return UNKNOWN  # the server answers "unknown product": nothing is added
    return WRONG


def any_match(photo: Photo, codes: Sequence[DecodedCode]) -> bool:
    if photo.is_qr:
        return photo.expected in {lines(code.text) for code in codes if code.gtin is None}
    return photo.expected in {code.gtin for code in codes}


# --- Tallies ----------------------------------------------------------------------------------


@dataclass
class Tally:
    """One decoder's outcomes on one column of photos."""

    outcomes: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # view, kind, outcome
    by_set: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # view, set, outcome
    matched: Counter[str] = field(default_factory=Counter)  # kind → any-match count
    photos: Counter[str] = field(default_factory=Counter)  # kind → photos
    cpu_ms: list[float] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)

    def add(self, photo: Photo, verdicts: dict[str, str], matched: bool, cpu_ms: float) -> None:
        for view, verdict in verdicts.items():
            self.outcomes[view, photo.kind, verdict] += 1
            self.by_set[view, photo.set, verdict] += 1
        self.matched[photo.kind] += matched
        self.photos[photo.kind] += 1
        self.cpu_ms.append(cpu_ms)

    def rate(self, view: str, kind: str, outcome: str = RIGHT) -> float:
        total = self.photos[kind]
        return round(100 * self.outcomes[view, kind, outcome] / total, 1) if total else 0.0

    def count(self, view: str, outcome: str, kind: str | None = None) -> int:
        kinds = (kind,) if kind else ("1D", "QR")
        return sum(self.outcomes[view, k, outcome] for k in kinds)

    def summary(self) -> dict[str, object]:
        views = {
            view: {
                "1d_right_pct": self.rate(view, "1D"),
                "qr_right_pct": self.rate(view, "QR"),
                **{outcome: self.count(view, outcome) for outcome in OUTCOMES},
            }
            for view in VIEWS
        }
        any_1d = round(100 * self.matched["1D"] / self.photos["1D"], 1) if self.photos["1D"] else 0
        any_qr = round(100 * self.matched["QR"] / self.photos["QR"], 1) if self.photos["QR"] else 0
        return {
            **views,
            "any_match_1d_pct": any_1d,
            "any_match_qr_pct": any_qr,
            "cpu_ms_mean": round(sum(self.cpu_ms) / len(self.cpu_ms), 2),
            "cpu_ms_p95": round(p95(self.cpu_ms), 2),
        }


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(function: Callable[[], T], repeat: int) -> tuple[T, float]:
    """The first run's result and the fastest run's CPU milliseconds."""
    best = float("inf")
    result: T | None = None
    for run in range(repeat):
        start = time.process_time()
        outcome = function()
        best = min(best, (time.process_time() - start) * 1000)
        if run == 0:
            result = outcome
    return result, best  # type: ignore[return-value]
