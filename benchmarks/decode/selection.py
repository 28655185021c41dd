"""Choosing the read policy's optional rules without looking at the set they are judged on.

Every combination of the rules (``policy_grid``) runs on every photo of the original and cart
columns; each reader's read of each image is made once (``RecordedAttempts``) and every policy
replays them, charged their measured CPU time, so the budget stops a policy where it would.

A policy's score on some sets is the number of photos it gets right minus ``WRONG_WEIGHT`` times
those it acts wrongly on (strict view): a wrong product costs a refund and the store's trust, a
missed read a second press. Equal scores go to the more cautious policy (more safeguards on: one
that never fires costs nothing), then to the cheaper one.
"""

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from PIL import Image

from benchmarks.decode.corpus import Photo
from benchmarks.decode.judging import REFUSED, RIGHT, WRONG, decide, judge
from devices import decoding
from devices.decoding import Attempts, DecodedCode
from devices.read_policy import ORIGINAL, POLICY, ZXING, ReadPolicy

WRONG_WEIGHT = 10
SELECTION_QUALITIES = ("original", "cart")


def policy_grid() -> list[ReadPolicy]:
    """Every subset of the variants (in their order) with every setting of the three rules and
    of zxing-cpp's 90° turn of the photo.

    The CPU budget is not chosen here: it bounds what an unreadable frame costs, and whether a
    budget reads as much as a larger one depends on the machine's speed (and so on the run).
    """
    variants = POLICY.variants
    subsets = [
        subset
        for size in range(len(variants) + 1)
        for subset in itertools.combinations(variants, size)
    ]
    grid = [
        replace(
            POLICY,
            variants=subset,
            confirm_weak_symbologies=weak,
            confirm_unissued_prefixes=prefix,
            pyzbar_on_variants=on_variants,
            zxing_turns_photo=turns,
        )
        for subset in subsets
        for weak, prefix, on_variants, turns in itertools.product((True, False), repeat=4)
    ]
    if not decoding.pyzbar_available():
        grid = list(dict.fromkeys(policy.with_one_reader() for policy in grid))
    return grid


class RecordedAttempts:
    """``devices.decoding.Attempts`` run once per (reader, image), replayed for every policy."""

    def __init__(self, image: Image.Image) -> None:
        self._attempts = Attempts(image)
        self._done: dict[tuple[str, str, bool | None], tuple[list[DecodedCode], float] | None] = {}
        self.spent_ms = 0.0

    def run(
        self, reader: str, image_name: str, policy: ReadPolicy
    ) -> tuple[list[DecodedCode], float] | None:
        # Of the policy's settings, only this one changes what an attempt reads.
        turns = policy.zxing_turns_photo if (reader, image_name) == (ZXING, ORIGINAL) else None
        key = (reader, image_name, turns)
        if key not in self._done:
            self._done[key] = self._attempts.run(reader, image_name, policy)
        ran = self._done[key]
        if ran is not None:
            self.spent_ms += ran[1]
        return ran


@dataclass(frozen=True)
class Judged:
    """One photo of one column as each policy decides it: verdict and CPU ms, by policy."""

    photo: Photo
    quality: str
    verdicts: dict[ReadPolicy, tuple[str, float]]
    plain: str  # plain zxing-cpp then pyzbar's verdict


def judge_policies(
    photos: Sequence[Photo],
    images: dict[tuple[str, str, str], Image.Image],
    plain: dict[tuple[str, str, str], str],
    grid: Sequence[ReadPolicy],
) -> list[Judged]:
    """Every policy of ``grid`` on every photo of the selection columns (strict view)."""
    judged = []
    for quality in SELECTION_QUALITIES:
        for photo in photos:
            key = (quality, photo.set, photo.file)
            recorded = RecordedAttempts(images[key])
            verdicts = {}
            for policy in grid:
                recorded.spent_ms = 0.0
                codes = decoding.read_attempts(recorded, policy).codes
                verdict = judge(photo, decide("project", photo, codes, None), None)
                verdicts[policy] = (verdict, recorded.spent_ms)
            judged.append(Judged(photo, quality, verdicts, plain[key]))
    return judged


def score(judged: Iterable[Judged], policy: ReadPolicy) -> tuple[int, int, float]:
    """The key a policy is chosen by: score, then safeguards, then less CPU."""
    points, cpu, count = 0, 0.0, 0
    for item in judged:
        verdict, cpu_ms = item.verdicts[policy]
        points += (verdict == RIGHT) - WRONG_WEIGHT * (verdict == WRONG)
        cpu += cpu_ms
        count += 1
    return points, policy.safeguards, -cpu / max(count, 1)


def choose(judged: Sequence[Judged], grid: Sequence[ReadPolicy], sets: set[str]) -> ReadPolicy:
    training = [item for item in judged if item.photo.set in sets]
    return max(grid, key=lambda policy: score(training, policy))


@dataclass(frozen=True)
class Fold:
    """One set left out: the policy chosen on the others and how it did on this set."""

    held_out: str
    policy: ReadPolicy
    outcomes: dict[str, Counter[str]]  # quality → verdict counts, the chosen policy
    plain: dict[str, Counter[str]]  # quality → verdict counts, plain zxing-cpp then pyzbar

    def worse_than_plain(self, quality: str) -> bool:
        """More wrong acts than plain, or as many and fewer right ones."""
        ours, theirs = self.outcomes[quality], self.plain[quality]
        if ours[WRONG] != theirs[WRONG]:
            return ours[WRONG] > theirs[WRONG]
        return ours[RIGHT] < theirs[RIGHT]


def leave_one_set_out(judged: Sequence[Judged], grid: Sequence[ReadPolicy]) -> list[Fold]:
    sets = sorted({item.photo.set for item in judged})
    folds = []
    for held_out in sets:
        policy = choose(judged, grid, set(sets) - {held_out})
        outcomes = {quality: Counter[str]() for quality in SELECTION_QUALITIES}
        plain = {quality: Counter[str]() for quality in SELECTION_QUALITIES}
        for item in judged:
            if item.photo.set == held_out:
                outcomes[item.quality][item.verdicts[policy][0]] += 1
                plain[item.quality][item.plain] += 1
        folds.append(Fold(held_out, policy, outcomes, plain))
    return folds


def ablations(policy: ReadPolicy) -> dict[str, ReadPolicy]:
    """``policy`` and, for each of its optional rules and variants, ``policy`` without it."""
    changed = {
        "as the store runs it": policy,
        "UPC-E from one library": replace(policy, confirm_weak_symbologies=False),
        "unissued prefix from one library": replace(policy, confirm_unissued_prefixes=False),
        "no pyzbar on variants": replace(policy, pyzbar_on_variants=False),
        "zxing-cpp turns the photo": replace(policy, zxing_turns_photo=True),
    }
    for variant in policy.variants:
        without = tuple(name for name in policy.variants if name != variant)
        changed[f"without {variant}"] = replace(policy, variants=without)
    return changed


def totals(judged: Sequence[Judged], policy: ReadPolicy) -> dict[str, Counter[str]]:
    """Verdict counts of ``policy`` per selection column, over every set."""
    counts = {quality: Counter[str]() for quality in SELECTION_QUALITIES}
    for item in judged:
        counts[item.quality][item.verdicts[policy][0]] += 1
    return counts


def fold_row(counts: Counter[str]) -> str:
    return f"{counts[RIGHT]:>3} {counts[WRONG]:>2} {counts[REFUSED]:>2}"
