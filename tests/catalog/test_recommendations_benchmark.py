"""``benchmarks.recommend`` and its basket files: parsing, the split, and a run end to end."""

import json
import subprocess
import sys
from pathlib import Path

from benchmarks import basket_files, recommend

BASE_DIR = Path(__file__).resolve().parents[2]


def test_basket_file_lines_become_distinct_item_lists(tmp_path):
    path = tmp_path / "baskets.txt"
    path.write_text("milk,bread,,milk\n\n eggs , bacon\n", encoding="utf-8")

    assert recommend.baskets_read(path) == [["milk", "bread"], [], ["eggs", "bacon"]]


def test_training_is_the_first_80_percent_in_file_order():
    baskets = [[str(n)] for n in range(10)]

    train, test = recommend.baskets_split(baskets)

    assert train == baskets[:8] and test == baskets[8:]


def test_popularity_baseline_skips_what_is_in_the_cart():
    assert recommend.popular_suggest([5, 3, 9, 1], {3, 1}, 2) == [5, 9]


def test_synthetic_baskets_are_repeatable_per_seed():
    first = basket_files.synthetic_baskets(seed=3, count=200)

    assert first == basket_files.synthetic_baskets(seed=3, count=200)
    assert first != basket_files.synthetic_baskets(seed=4, count=200)
    assert all(first) and all(len(set(b)) == len(b) for b in first)


def test_committed_basket_files_are_what_the_generator_writes():
    data = BASE_DIR / "benchmarks" / "data"
    supermarket = basket_files.synthetic_baskets(seed=2024, count=6000)

    assert recommend.baskets_read(data / "supermarket.txt") == supermarket
    assert recommend.baskets_read(data / "demo_history.txt") == basket_files.demo_baskets()


def test_benchmark_runs_and_ends_with_a_json_line(tmp_path):
    path = tmp_path / "baskets.txt"
    lines = ["pasta,sauce,cheese", "pasta,sauce", "milk,bread", "milk", "pasta,sauce,milk"] * 4
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks.recommend", "--baskets", str(path)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )

    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["train_baskets"], summary["test_baskets"], summary["products"]) == (16, 4, 5)
    recommender, popular = summary["results"]
    assert (recommender["model"], popular["model"]) == ("co-purchase", "most popular")
    # The last 4 baskets: pasta+sauce, milk+bread, milk (too small), pasta+sauce+milk.
    assert summary["queries"] == 2 + 2 + 3
    assert recommender["hit_rate@5"] >= popular["hit_rate@5"]
    assert "co-purchase" in result.stdout and "most popular" in result.stdout
