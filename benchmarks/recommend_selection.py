"""Which way of choosing EASE's settings to trust, judged without the file-order test baskets.

    .venv/bin/python -m benchmarks.recommend_selection --baskets FILE [--repeats 10]

``benchmarks.recommend`` chooses each model's settings inside a split's training baskets.
Two ways of doing that were written, and the second replaced the first *after* the first had
given EASE 20.45 % hit rate@3 on the file-order split's test baskets (the second gives 20.6 %;
docs/development.md, "Recommendations"):

- **one part**: every setting is trained on the first 80 % of the training baskets and asked
  on the last 20 %; the grid ends at λ = 4 (``ONE_PART_MAX_REGULARISATION``);
- **five folds** (``benchmarks.recommend.choose``, the protocol now): hit rate@3 pooled over
  five folds of the training baskets; the grid ends at λ = 16.

Seeing a test figure and then changing how settings are chosen is choosing on the test. So
the two ways are judged here on data that played no part in either figure: only the
file-order split's *training* baskets (the first 80 % of the file), cut ``--repeats`` times
at random (seeds ``FIRST_SEED`` on, used nowhere else) into an inner training part (80 %) and
an inner test part (20 %). In each cut both ways choose inside the inner training part, and
each choice, trained on all of it, is asked on the inner test part. The file's last 20 % is
never read.

**The rule, written before the first run:** five folds stays if its mean hit rate@3 over the
repeats is at least that of one part; otherwise ``benchmarks.recommend`` goes back to one part
and its file-order figure is the one part's. Ties count for five folds (the protocol in place).

Prints a table, then one JSON line.
"""

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.recommend import baskets_index, baskets_read, choose
from benchmarks.recommend_models import SHIPPED, Model, Training, models
from benchmarks.recommend_protocol import (
    TRAIN_SHARE,
    Split,
    evaluate,
    metric_means,
    query_values,
    split_at,
    splits,
)

FIRST_SEED = 101
REPEATS = 10
ONE_PART_MAX_REGULARISATION = 4.0


def file_order_training(baskets: Sequence[list[int]]) -> list[list[int]]:
    """The file-order split's training baskets: the only ones this benchmark reads."""
    return split_at(baskets, "file order").train


def inner_splits(training: list[list[int]], repeats: int) -> list[Split]:
    """``repeats`` random 80/20 cuts of ``training`` (the file-order cut of it left out)."""
    seeds = range(FIRST_SEED, FIRST_SEED + repeats)
    return splits(training, seeds=seeds)[1:]


def one_part_grid(model: Model) -> list[dict[str, Any]]:
    return [p for p in model.grid if p["regularisation"] <= ONE_PART_MAX_REGULARISATION]


def choose_on_one_part(
    model: Model, split: Split, products: int, categories: Sequence[int | None]
) -> dict[str, Any]:
    """The setting with the best hit rate@3 on the last 20 % of the split's training baskets,
    trained on the rest (the first of the grid on a tie)."""
    part = split_at(split.train, f"{split.name} (one part)")
    training = Training(part.train, products, categories)
    grid = one_part_grid(model)
    hits = [
        float(query_values(evaluate(model.trainer(training, params), part.test), "hit@3").sum())
        for params in grid
    ]
    return grid[hits.index(max(hits))]


@dataclass(frozen=True)
class Repeat:
    name: str
    one_part: dict[str, Any]
    five_folds: dict[str, Any]
    one_part_hit3: float
    five_folds_hit3: float

    @property
    def difference(self) -> float:
        return self.five_folds_hit3 - self.one_part_hit3


def repeat_run(model: Model, split: Split, products: int) -> Repeat:
    categories: list[int | None] = [None] * products
    training = Training(split.train, products, categories)
    chosen = {
        "one part": choose_on_one_part(model, split, products, categories),
        "five folds": choose(model, split, products, categories),
    }
    hit3 = {
        way: metric_means(evaluate(model.trainer(training, params), split.test), "hit@3")[0]
        for way, params in chosen.items()
    }
    return Repeat(
        split.name, chosen["one part"], chosen["five folds"], hit3["one part"], hit3["five folds"]
    )


def verdict(repeats: list[Repeat]) -> dict[str, Any]:
    """The mean hit rates, the mean difference with a t 95 % interval, and the rule's choice."""
    from scipy.stats import t

    differences = [r.difference for r in repeats]
    mean = statistics.fmean(differences)
    half = 0.0
    if len(differences) > 1:
        spread = statistics.stdev(differences) / len(differences) ** 0.5
        half = float(t.ppf(0.975, len(differences) - 1)) * spread
    return {
        "one part": statistics.fmean(r.one_part_hit3 for r in repeats),
        "five folds": statistics.fmean(r.five_folds_hit3 for r in repeats),
        "difference": mean,
        "interval": [mean - half, mean + half],
        "five folds better in": sum(d > 0 for d in differences),
        "kept": "five folds" if mean >= 0 else "one part",
    }


def _setting(params: dict[str, Any]) -> str:
    return f"λ {params['regularisation']:g}, {params['neighbours']}"


def report(result: dict[str, Any]) -> None:
    print(
        f"Choosing {SHIPPED}'s settings, judged on {result['repeats']} random 80/20 cuts of the "
        f"file-order training baskets ({result['baskets']} of {result['file baskets']}; the "
        f"file's last {100 - round(TRAIN_SHARE * 100)} % not read)\n"
    )
    print("| cut | one part chose | five folds chose | one part hit@3 | five folds hit@3 | diff. |")
    print("|---|---|---|---|---|---|")
    for row in result["rows"]:
        print(
            f"| {row['cut']} | {_setting(row['one part'])} | {_setting(row['five folds'])} | "
            f"{row['one part hit@3']:.2%} | {row['five folds hit@3']:.2%} | "
            f"{row['difference'] * 100:+.2f} |"
        )
    v = result["verdict"]
    low, high = (x * 100 for x in v["interval"])
    print(
        f"\nmean hit@3: one part {v['one part']:.2%}, five folds {v['five folds']:.2%}; "
        f"difference {v['difference'] * 100:+.2f} points [95 %: {low:+.2f}, {high:+.2f}], "
        f"five folds better in {v['five folds better in']} of {result['repeats']}"
    )
    print(
        f"rule (fixed before the first run): five folds stays if the difference >= 0: {v['kept']}"
    )
    print(json.dumps(result))


def run(path: Path, repeats: int) -> dict[str, Any]:
    names, baskets = baskets_index(baskets_read(path))
    training = file_order_training(baskets)
    model = next(m for m in models(als=False) if m.name == SHIPPED)
    rows = []
    for split in inner_splits(training, repeats):
        found = repeat_run(model, split, len(names))
        print(f"  {found.name}: {found.difference * 100:+.2f} points", file=sys.stderr, flush=True)
        rows.append(found)
    return {
        "benchmark": "recommend_selection",
        "file": str(path),
        "file baskets": len(baskets),
        "baskets": len(training),
        "repeats": repeats,
        "rows": [
            {
                "cut": r.name,
                "one part": r.one_part,
                "five folds": r.five_folds,
                "one part hit@3": r.one_part_hit3,
                "five folds hit@3": r.five_folds_hit3,
                "difference": r.difference,
            }
            for r in rows
        ],
        "verdict": verdict(rows),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baskets", type=Path, required=True, help="one basket per line")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="random cuts")
    args = parser.parse_args(argv)
    if not args.baskets.is_file():
        parser.error(f"{args.baskets} is not a file")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    report(run(args.baskets, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
