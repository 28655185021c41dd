"""``benchmarks.recommend`` and its protocol: splits without leakage, per-basket averaging,
paired intervals, serving as the store does, and a run end to end."""

from collections import Counter
from pathlib import Path

import pytest

from benchmarks import basket_files, recommend
from benchmarks import recommend_protocol as protocol
from benchmarks.recommend_models import BASELINE, SHIPPED, Model, Training, models
from orders.recommendations import ease
from tests.support import benchmark_run

BASE_DIR = Path(__file__).resolve().parents[2]


def test_basket_file_lines_become_distinct_item_lists(tmp_path):
    path = tmp_path / "baskets.txt"
    path.write_text("milk,bread,,milk\n\n eggs , bacon\n", encoding="utf-8")

    assert recommend.baskets_read(path) == [["milk", "bread"], [], ["eggs", "bacon"]]


def test_items_are_numbered_in_order_of_first_appearance():
    names, baskets = recommend.baskets_index([["milk", "bread"], [], ["eggs", "milk"]])

    assert (names, baskets) == (["milk", "bread", "eggs"], [[0, 1], [], [2, 0]])


# --- Splits: no leakage -----------------------------------------------------------------------


def unique_baskets(count: int) -> list[list[int]]:
    return [[n, n + 1] for n in range(0, 2 * count, 2)]  # every basket tells itself apart


def test_the_file_order_split_trains_on_the_first_80_percent():
    baskets = unique_baskets(10)

    first = protocol.splits(baskets)[0]

    assert first.name == "file order"
    assert (first.train, first.test) == (baskets[:8], baskets[8:])


def test_every_split_keeps_its_test_baskets_out_of_training_and_validation():
    baskets = unique_baskets(101)

    found = protocol.splits(baskets)

    assert [s.name for s in found] == ["file order", "seed 1", "seed 2", "seed 3", "seed 4"]
    for split in found:
        train, test = {tuple(b) for b in split.train}, {tuple(b) for b in split.test}
        assert not train & test
        assert train | test == {tuple(b) for b in baskets}
        for fold in protocol.folds(split):
            asked, trained = {tuple(b) for b in fold.test}, {tuple(b) for b in fold.train}
            assert not asked & trained and not (asked | trained) & test
            assert asked | trained == train
    assert found[1].test != found[2].test  # the seeds shuffle differently


def test_folds_ask_each_training_basket_once():
    split = protocol.splits(unique_baskets(23), seeds=())[0]

    asked = [tuple(b) for fold in protocol.folds(split) for b in fold.test]

    assert sorted(asked) == sorted(tuple(b) for b in split.train)


def test_settings_are_chosen_without_looking_at_the_test_baskets():
    seen: list[list[list[int]]] = []

    def spy(training: Training, params: dict) -> protocol.Recommender:
        seen.append(training.baskets)
        return protocol.PopularRecommender(training.popularity)

    split = protocol.splits(unique_baskets(50), seeds=())[0]
    model = Model("spy", spy, [{"setting": 1}, {"setting": 2}])

    recommend.choose(model, split, products=100, categories=[])

    test = {tuple(b) for b in split.test}
    assert len(seen) == 2 * protocol.FOLDS
    assert all(not test & {tuple(b) for b in baskets} for baskets in seen)


def test_queries_hide_each_item_of_baskets_of_two_or_more():
    asked = list(protocol.queries([[1, 2, 3], [4], [5, 5], [6, 7]]))

    assert asked == [
        (0, 1, [2, 3]),
        (0, 2, [1, 3]),
        (0, 3, [1, 2]),
        (3, 6, [7]),
        (3, 7, [6]),
    ]


# --- Metrics -----------------------------------------------------------------------------------


def outcome_of(positions_by_basket: list[list[int]]) -> protocol.Outcome:
    outcome = protocol.Outcome()
    for basket, positions in enumerate(positions_by_basket):
        for position in positions:
            outcome.basket.append(basket)
            outcome.position.append(position)
            outcome.from_model.append(5)
    return outcome


def test_metrics_are_averaged_per_query_and_per_basket():
    # A basket of 4 queries, all found first; a basket of 1 query, not found.
    outcome = outcome_of([[1, 1, 1, 1], [0]])

    assert protocol.metric_means(outcome, "hit@3") == (0.8, 0.5)
    # Positions 2 and 4: a hit at 3 once, at 5 twice; reciprocal ranks 1/2 and 1/4.
    outcome = outcome_of([[2, 4]])
    assert protocol.metric_means(outcome, "hit@3") == (0.5, 0.5)
    assert protocol.metric_means(outcome, "hit@5") == (1.0, 1.0)
    assert protocol.metric_means(outcome, "mrr") == (0.375, 0.375)


def test_the_interval_of_a_model_against_itself_is_zero():
    outcome = outcome_of([[1, 0], [0], [3, 3, 0]])

    by_query, by_basket = protocol.paired_bootstrap(outcome, outcome, resamples=200)

    assert (by_query.low, by_query.high, by_basket.low, by_basket.high) == (0, 0, 0, 0)
    assert not by_query.excludes_zero


def test_a_model_better_on_every_basket_has_an_interval_above_zero():
    better = outcome_of([[1, 2], [1], [3, 0]] * 20)
    worse = outcome_of([[0, 2], [0], [0, 0]] * 20)

    by_query, by_basket = protocol.paired_bootstrap(better, worse, resamples=500)

    assert by_query.excludes_zero and by_query.low > 0
    assert by_basket.excludes_zero and by_basket.low > 0
    assert by_query.difference == pytest.approx(4 / 5 - 1 / 5)


def test_the_interval_needs_the_same_queries():
    with pytest.raises(ValueError):
        protocol.paired_bootstrap(outcome_of([[1]]), outcome_of([[1], [1]]))


# --- Serving as the store does -----------------------------------------------------------------


def test_neighbours_are_summed_over_the_cart_then_best_sellers_fill_up():
    neighbours = {1: [(2, 0.7), (3, 0.4)], 4: [(3, 0.4)]}
    recommender = protocol.NeighbourRecommender(neighbours, Counter({5: 9, 2: 5, 6: 3}))

    assert recommender([1], 2) == protocol.Answer([2, 3], 2)
    assert recommender([1, 4], 2) == protocol.Answer([3, 2], 2)  # 0.4 + 0.4 beats 0.7
    assert recommender([1], 4) == protocol.Answer([2, 3, 5, 6], 2)


def test_a_product_with_no_neighbours_gets_its_category_best_sellers_first():
    # Items 0-2 in category 0, items 3-5 in category 1; item 5 sold most.
    popularity = Counter({5: 10, 4: 8, 1: 5, 2: 4, 0: 1})
    recommender = protocol.NeighbourRecommender({}, popularity, [0, 0, 0, 1, 1, 1])

    answer = recommender([2], 3)

    assert answer == protocol.Answer([1, 0, 5], 0)
    outcome = protocol.evaluate(recommender, [[2, 1]])
    assert outcome.answered == [False, False] and outcome.from_model == [0, 0]


def test_the_popularity_baseline_skips_what_is_in_the_cart():
    recommender = protocol.PopularRecommender(Counter({5: 9, 3: 8, 9: 7, 1: 6}))

    assert recommender([3, 1], 2) == protocol.Answer([5, 9], 2)


def test_the_comparison_runs_the_shipped_model_and_the_baseline():
    baskets = basket_files.synthetic_baskets(seed=5, count=300)
    names, indexed = recommend.baskets_index(baskets)
    compared = [m for m in models(als=False) if m.name in (BASELINE, SHIPPED, "count c")]
    compared = [Model(m.name, m.trainer, m.grid[:2]) for m in compared]

    result = recommend.compare(indexed, len(names), [None] * len(names), compared)

    assert result["runner-up"] == "count c"
    assert [s["split"] for s in result["splits"]] == ["file order"] + [
        f"seed {n}" for n in protocol.SEEDS
    ]
    rows = {row["model"]: row for row in result["splits"][0]["rows"]}
    assert len(rows[SHIPPED]["vs popular"]) == 3 and "vs popular" not in rows[BASELINE]
    assert len(result["splits"][0]["shipped vs runner-up"]) == 3
    assert {r["model"] for r in result["summary"]} == {BASELINE, SHIPPED, "count c"}


@pytest.mark.django_db
def test_the_protocol_answers_exactly_as_the_store_serves(django_assert_max_num_queries):
    from catalog.models import Product
    from orders.recommendations.rebuild import recommendations_rebuild

    baskets = basket_files.synthetic_baskets(seed=8, count=400)
    names, indexed = recommend.baskets_index(baskets)
    groups, categories = recommend.departments_of(names)
    split = protocol.splits(indexed, seeds=())[0]
    ids = recommend.products_create(names, categories, groups)
    recommend.orders_create(split.train, ids, names)
    recommendations_rebuild()
    model = ease.ease_train(split.train)
    simulated = protocol.NeighbourRecommender(
        {a: [(n.product_id, n.score) for n in rows] for a, rows in model.neighbours.items()},
        protocol.popularity_of(split.train),
        categories,
    )
    store = recommend.StoreRecommender(ids, dict(Product.objects.values_list("pk", "category_id")))

    asked = list(protocol.queries(split.test))[:300]

    assert [store(cart, 5) for _, _, cart in asked] == [simulated(cart, 5) for _, _, cart in asked]


# --- The files and a run end to end ------------------------------------------------------------


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
    lines = ["pasta,sauce,cheese", "pasta,sauce", "milk,bread", "milk", "pasta,sauce,milk"] * 6
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result, summary = benchmark_run("recommend", "--baskets", str(path), "--no-als")

    assert (summary["baskets"], summary["products"]) == (30, 5)
    first = summary["compared"]["splits"][0]
    assert (first["split"], first["train baskets"], first["test baskets"]) == ("file order", 24, 6)
    # The last 6 baskets: pasta+sauce+milk, pasta+sauce+cheese, pasta+sauce, milk+bread,
    # milk (too small), pasta+sauce+milk.
    assert first["queries"] == 3 + 3 + 2 + 2 + 3
    assert first["rows"][0]["model"] == BASELINE
    assert summary["store"]["queries"] == first["queries"]
    assert "Over the 5 split(s)" in result.stdout and "The store, file-order split" in result.stdout
