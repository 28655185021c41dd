"""``benchmarks.recommend_selection``: the two ways of choosing settings are judged on the
file-order training baskets only, and the rule fixed before the run decides."""

import pytest

from benchmarks import recommend_protocol as protocol
from benchmarks import recommend_selection as selection
from benchmarks.recommend_models import Model, Training
from tests.support import benchmark_run


def unique_baskets(count: int) -> list[list[int]]:
    return [[n, n + 1] for n in range(0, 2 * count, 2)]  # every basket tells itself apart


def test_only_the_file_order_training_baskets_are_cut_and_never_the_files_last_fifth():
    baskets = unique_baskets(100)

    training = selection.file_order_training(baskets)
    cuts = selection.inner_splits(training, repeats=3)

    assert training == baskets[:80]
    assert [cut.name for cut in cuts] == ["seed 101", "seed 102", "seed 103"]
    held_out = {tuple(b) for b in baskets[80:]}
    for cut in cuts:
        train, test = {tuple(b) for b in cut.train}, {tuple(b) for b in cut.test}
        assert not train & test
        assert train | test == {tuple(b) for b in training}
        assert not (train | test) & held_out


def test_one_part_trains_on_the_first_80_percent_of_the_training_baskets_up_to_lambda_4():
    trained_on: list[list[list[int]]] = []
    settings: list[dict] = []

    def spy(training: Training, params: dict) -> protocol.Recommender:
        trained_on.append(training.baskets)
        settings.append(params)
        return protocol.PopularRecommender(training.popularity)

    split = protocol.splits(unique_baskets(50), seeds=())[0]
    grid = [{"regularisation": r, "neighbours": 20} for r in (1.0, 4.0, 16.0)]

    chosen = selection.choose_on_one_part(Model("spy", spy, grid), split, 100, [])

    assert trained_on == [split.train[:32], split.train[:32]]
    assert [p["regularisation"] for p in settings] == [1.0, 4.0]
    assert chosen == grid[0]  # a tie: the first of the grid


def repeat(one_part: float, five_folds: float) -> selection.Repeat:
    setting = {"regularisation": 1.0, "neighbours": 20}
    return selection.Repeat("seed 101", setting, setting, one_part, five_folds)


@pytest.mark.parametrize(
    ("hits", "kept"),
    [
        ([(0.20, 0.21), (0.20, 0.20)], "five folds"),
        ([(0.20, 0.20), (0.21, 0.21)], "five folds"),  # a tie keeps the protocol in place
        ([(0.21, 0.20), (0.20, 0.2001)], "one part"),
    ],
)
def test_the_rule_keeps_five_folds_unless_one_part_does_better_on_average(hits, kept):
    found = selection.verdict([repeat(a, b) for a, b in hits])

    assert found["kept"] == kept


def test_the_interval_is_students_t_over_the_repeats():
    found = selection.verdict([repeat(0.20, 0.21), repeat(0.20, 0.23)])

    # mean 2 points, standard error 1 point, t(0.975, 1 degree of freedom) = 12.706
    assert found["difference"] == pytest.approx(0.02)
    assert found["interval"] == pytest.approx([0.02 - 0.12706, 0.02 + 0.12706], abs=1e-4)
    assert found["five folds better in"] == 2


def test_selection_check_runs_and_ends_with_a_json_line(tmp_path):
    path = tmp_path / "baskets.txt"
    lines = ["pasta,sauce,cheese", "pasta,sauce", "milk,bread", "milk", "pasta,sauce,milk"] * 20
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result, summary = benchmark_run("recommend_selection", "--baskets", str(path), "--repeats", "2")

    assert (summary["file baskets"], summary["baskets"], summary["repeats"]) == (100, 80, 2)
    assert [row["cut"] for row in summary["rows"]] == ["seed 101", "seed 102"]
    assert summary["verdict"]["kept"] in {"five folds", "one part"}
    assert "rule (fixed before the first run)" in result.stdout
