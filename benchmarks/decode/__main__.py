"""``python -m benchmarks.decode``: see the package's docstring."""

import argparse
import json
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from PIL import Image

import benchmarks.decode as package
from benchmarks.decode.corpus import QUALITIES, Photo, frame_sizes, photos_load, store_catalog
from benchmarks.decode.judging import (
    NOTHING,
    PLAIN,
    REFUSED,
    RIGHT,
    STORE,
    STRICT,
    UNKNOWN,
    WRONG,
    Tally,
    any_match,
    decide,
    decoders,
    judge,
    timed,
)
from benchmarks.decode.selection import (
    SELECTION_QUALITIES,
    WRONG_WEIGHT,
    Fold,
    Judged,
    ablations,
    choose,
    fold_row,
    judge_policies,
    leave_one_set_out,
    policy_grid,
    totals,
)
from devices import decoding
from devices.cart_photos import CART_FRAME, CART_FRAME_KIB, CART_JPEG_QUALITY
from devices.read_policy import POLICY, ReadPolicy

TITLES = {
    "original": "original photos",
    "cart": f"as a cart sends them ({CART_FRAME[0]}x{CART_FRAME[1]} at most, "
    f"JPEG quality {CART_JPEG_QUALITY})",
    "stress": "stress test: 640x480 at most, JPEG quality 12 (worse than any cart sends)",
}
# The targets, judged strictly on the original photos unless said otherwise.
TARGET_RIGHT_1D = 85.0
TARGET_RIGHT_QR = 96.0
TARGET_CPU_MS = 3.0


@dataclass
class Column:
    """One way of sending the photos: each decoder's tally, and what the selection needs."""

    tallies: dict[str, Tally]
    images: dict[tuple[str, str, str], Image.Image] = field(default_factory=dict)
    plain: dict[tuple[str, str, str], str] = field(default_factory=dict)  # strict verdicts
    open_ms: list[float] = field(default_factory=list)


def measure(photos: list[Photo], quality: str, catalog: frozenset[str], repeat: int) -> Column:
    column = Column({name: Tally() for name in decoders()})
    for photo in photos:
        data = QUALITIES[quality](photo.data)
        image, ms = timed(partial(decoding.image_open, data), repeat)
        key = (quality, photo.set, photo.file)
        column.images[key] = image
        column.open_ms.append(ms)
        for name, decoder in decoders().items():
            (codes, attempt), cpu_ms = timed(partial(decoder, image), repeat)
            verdicts = {
                STRICT: judge(photo, decide(name, photo, codes, None), None),
                STORE: judge(photo, decide(name, photo, codes, catalog), catalog),
            }
            tally = column.tallies[name]
            tally.add(photo, verdicts, any_match(photo, codes), cpu_ms)
            if name == "project":
                tally.attempts[attempt or "nothing believed"] += 1
            if name == PLAIN:
                column.plain[key] = verdicts[STRICT]
    return column


# --- Tables ---------------------------------------------------------------------------------


def cells(tally: Tally, view: str, outcomes: tuple[str, ...], set_name: str | None = None) -> str:
    if set_name is None:
        counts = [tally.count(view, outcome) for outcome in outcomes]
    else:
        counts = [tally.by_set[view, set_name, outcome] for outcome in outcomes]
    return "/".join(str(n) for n in counts)


def table(photos: list[Photo], quality: str, column: Column) -> None:
    names = list(column.tallies)
    sets = Counter(photo.set for photo in photos)
    kinds = Counter(photo.kind for photo in photos)

    def row(label: str, count: object, values: Sequence[object]) -> None:
        print(f"{label:<20} {count!s:>6}" + "".join(f" {value!s:>14}" for value in values))

    print(f"\n{TITLES[quality]}: strict, right/wrong/refused per set")
    row("set", "photos", names)
    for set_name, count in sets.items():
        row(
            set_name,
            count,
            [cells(column.tallies[n], STRICT, (RIGHT, WRONG, REFUSED), set_name) for n in names],
        )
    summaries = [column.tallies[name] for name in names]
    row("1D right %", kinds["1D"], [t.rate(STRICT, "1D") for t in summaries])
    row("QR right %", kinds["QR"], [t.rate(STRICT, "QR") for t in summaries])
    for outcome in (WRONG, REFUSED, NOTHING):
        row(
            f"{outcome} (1D/QR)",
            "",
            [
                f"{t.count(STRICT, outcome, '1D')}/{t.count(STRICT, outcome, 'QR')}"
                for t in summaries
            ],
        )
    row("in a store: 1D right %", "", [t.rate(STORE, "1D") for t in summaries])
    row("  wrong adds", "", [t.count(STORE, WRONG) for t in summaries])
    row("  unknown product", "", [t.count(STORE, UNKNOWN) for t in summaries])
    row("  refused", "", [t.count(STORE, REFUSED) for t in summaries])
    row("any-match 1D %", "", [round(100 * t.matched["1D"] / t.photos["1D"], 1) for t in summaries])
    row("any-match QR %", "", [round(100 * t.matched["QR"] / t.photos["QR"], 1) for t in summaries])
    row("CPU ms mean", "", [f"{statistics.fmean(t.cpu_ms):.2f}" for t in summaries])
    row("CPU ms p95", "", [f"{t.summary()['cpu_ms_p95']:.2f}" for t in summaries])
    attempts = ", ".join(
        f"{name} {n}" for name, n in column.tallies["project"].attempts.most_common()
    )
    print(f"project decoder, the attempt it stopped after: {attempts}")
    print(f"opening the image into greyscale: CPU ms mean {statistics.fmean(column.open_ms):.2f}")


def folds_table(folds: list[Fold]) -> None:
    print(
        "\nleave one set out: the read policy chosen on the other sets, judged on the set left "
        f"out (strict; right wrong refused; a wrong act weighs {WRONG_WEIGHT} right ones)"
    )
    header = "".join(f" {q + ' ours':>11} {q + ' plain':>12}" for q in SELECTION_QUALITIES)
    print(f"{'set left out':<16}{header}  policy chosen on the others")
    for fold in folds:
        columns = "".join(
            f" {fold_row(fold.outcomes[q]):>11} {fold_row(fold.plain[q]):>12}"
            + ("!" if fold.worse_than_plain(q) else " ")
            for q in SELECTION_QUALITIES
        )
        print(f"{fold.held_out:<16}{columns} {fold.policy.name}")
    print(
        "(plain: zxing-cpp, then pyzbar when it reads nothing, acting on the first code; "
        "! marks a set where ours does worse)"
    )


def ablation_table(judged: list[Judged], grid: list[ReadPolicy]) -> None:
    shipped = POLICY if decoding.pyzbar_available() else POLICY.with_one_reader()
    print("\nwhat each rule does: the store's policy with one rule or variant changed, every set")
    print(f"{'':<34}" + "".join(f" {q + ' r  w  f':>14}" for q in SELECTION_QUALITIES))
    for label, policy in ablations(shipped).items():
        if policy not in grid:
            continue
        counts = totals(judged, policy)
        print(f"{label:<34}" + "".join(f" {fold_row(counts[q]):>14}" for q in SELECTION_QUALITIES))


# --- Targets --------------------------------------------------------------------------------


def targets(columns: dict[str, Column], folds: list[Fold] | None) -> dict[str, bool]:
    checks: list[tuple[str, str, bool]] = []
    original = columns["original"].tallies["project"]
    for quality in ("original", "cart"):
        tallies = columns[quality].tallies
        ours = tallies["project"].count(STRICT, WRONG)
        alone = [
            tallies[name].count(STRICT, WRONG)
            for name in ("pyzbar", "zxing-cpp")
            if name in tallies
        ]
        checks.append(
            (
                f"wrong_{quality}",
                f"{quality}: wrong acts {ours} <= fewest of the libraries alone {min(alone)}",
                ours <= min(alone),
            )
        )
    right_1d, right_qr = original.rate(STRICT, "1D"), original.rate(STRICT, "QR")
    checks.append(
        (
            "right_1d",
            f"original 1D right {right_1d} % >= {TARGET_RIGHT_1D} %",
            right_1d >= TARGET_RIGHT_1D,
        )
    )
    checks.append(
        (
            "right_qr",
            f"original QR right {right_qr} % >= {TARGET_RIGHT_QR} %",
            right_qr >= TARGET_RIGHT_QR,
        )
    )
    cpu = round(statistics.fmean(original.cpu_ms), 2)
    checks.append(
        ("cpu", f"original CPU mean {cpu} ms <= {TARGET_CPU_MS} ms", cpu <= TARGET_CPU_MS)
    )
    if folds is not None:
        worse = [
            f"{fold.held_out} ({q})"
            for fold in folds
            for q in SELECTION_QUALITIES
            if fold.worse_than_plain(q)
        ]
        checks.append(
            (
                "leave_one_set_out",
                f"sets left out where ours does worse than plain: {', '.join(worse) or 'none'}",
                not worse,
            )
        )
    print("\ntargets (strict view)")
    for _, label, met in checks:
        print(f"  {label:<72} {'met' if met else 'MISSED'}")
    return {key: met for key, _, met in checks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(package.__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder with manifest.csv")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per image and decoder")
    parser.add_argument(
        "--leave-one-set-out",
        action="store_true",
        help="choose the read policy on all sets but one, judge it on that one",
    )
    args = parser.parse_args(argv)
    photos = photos_load(args.corpus)
    catalog = store_catalog(photos)
    kinds = Counter(photo.kind for photo in photos)
    print(
        f"Decode benchmark: {len(photos)} photos ({kinds['1D']} 1D, {kinds['QR']} QR) from "
        f"{args.corpus}; CPU time, fastest of {args.repeat} runs; a store catalog of "
        f"{len(catalog)} GTINs for the 'in a store' view"
    )
    if not decoding.pyzbar_available():
        print("libzbar is not installed: no pyzbar columns, the project decoder runs without it")
    sizes = frame_sizes(photos, QUALITIES["cart"])
    print(
        f"cart frames: JPEG quality {CART_JPEG_QUALITY}, median {sizes.median_kib:.1f} KiB, "
        f"{sizes.median_bits_per_pixel:.2f} bits per pixel = {sizes.svga_kib:.0f} KiB at SVGA "
        f"(the firmware's frames: {CART_FRAME_KIB[0]}-{CART_FRAME_KIB[1]} KiB)"
    )
    columns = {quality: measure(photos, quality, catalog, args.repeat) for quality in QUALITIES}
    for quality, column in columns.items():
        table(photos, quality, column)
    folds, chosen = None, None
    if args.leave_one_set_out:
        grid = policy_grid()
        images = {k: v for column in columns.values() for k, v in column.images.items()}
        plain = {k: v for column in columns.values() for k, v in column.plain.items()}
        judged = judge_policies(photos, images, plain, grid)
        folds = leave_one_set_out(judged, grid)
        folds_table(folds)
        chosen = choose(judged, grid, {photo.set for photo in photos})
        ablation_table(judged, grid)
        shipped = POLICY if decoding.pyzbar_available() else POLICY.with_one_reader()
        print(
            f"chosen on every set: {chosen.name}"
            + (" (the store's policy)" if chosen == shipped else f"; the store runs {shipped.name}")
        )
    checks = targets(columns, folds)
    summary = {
        "benchmark": "decode",
        "photos": len(photos),
        "repeat": args.repeat,
        "cart_jpeg_quality": CART_JPEG_QUALITY,
        "cart_median_kib": round(sizes.median_kib, 1),
        "cart_svga_equivalent_kib": round(sizes.svga_kib),
        "results": {
            quality: {name: tally.summary() for name, tally in column.tallies.items()}
            for quality, column in columns.items()
        },
        "leave_one_set_out": None
        if folds is None
        else [
            {
                "set": fold.held_out,
                "policy": fold.policy.name,
                **{f"{q}_ours": dict(fold.outcomes[q]) for q in SELECTION_QUALITIES},
                **{f"{q}_plain": dict(fold.plain[q]) for q in SELECTION_QUALITIES},
            }
            for fold in folds
        ],
        "chosen_on_every_set": None if chosen is None else chosen.name,
        "targets": checks,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
