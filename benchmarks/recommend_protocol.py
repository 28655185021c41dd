"""The evaluation protocol of ``benchmarks.recommend``: splits, queries, metrics, intervals.

No database and no model here: a recommender is any function from a cart to a ranked list.

- **Splits.** ``file order``: the first 80 % of the baskets train, the last 20 % test (time
  order, as a store would learn from the past). ``seed N``: the baskets shuffled with
  ``random.Random(N)`` first. A test basket is never in its training part.
- **Validation.** Hyper-parameters are chosen by ``FOLDS``-fold cross-validation inside a
  split's *training* part: each fifth of it in turn (consecutive baskets) is asked, a model
  fitted on the other four fifths answers, and the hit rates of the five are pooled. The test
  part is never looked at to choose.
- **Queries.** In every test basket with at least two distinct items, each item in turn is
  hidden and the others are the cart: the recommender answers with ``SHOWN`` products.
- **Metrics**, from the position of the hidden item in that answer: hit rate@3 (the page
  shows the first 3), hit rate@5, MRR@5 (1 / position, 0 when not shown). Each is averaged
  over all queries (*per query*: large baskets weigh more) and per basket first, then over the
  baskets (*per basket*: every shopping trip weighs the same).
- **Intervals.** Paired bootstrap over test *baskets* (the queries of one basket are not
  independent): the same resampled baskets for both models, ``RESAMPLES`` times; the 2.5th and
  97.5th percentiles of the difference.
"""

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

TRAIN_SHARE = 0.8
SEEDS = (1, 2, 3, 4)
SHOWN = 5
HIT_AT = (3, 5)
RESAMPLES = 2000
FOLDS = 5

Basket = list[int]  # product indexes, in order of first appearance in the file


@dataclass(frozen=True)
class Answer:
    products: list[int]  # best first
    from_model: int  # how many of them, from the start, the model chose (the rest: fallback)


Recommender = Callable[[list[int], int], Answer]  # (cart, how many) → answer


@dataclass(frozen=True)
class Split:
    name: str
    train: list[Basket]
    test: list[Basket]


def split_at(baskets: Sequence[Basket], name: str) -> Split:
    cut = int(len(baskets) * TRAIN_SHARE)
    return Split(name, list(baskets[:cut]), list(baskets[cut:]))


def splits(baskets: Sequence[Basket], seeds: Sequence[int] = SEEDS) -> list[Split]:
    """The file-order split, then one shuffled split per seed."""
    found = [split_at(baskets, "file order")]
    for seed in seeds:
        order = list(range(len(baskets)))
        random.Random(seed).shuffle(order)
        found.append(split_at([baskets[i] for i in order], f"seed {seed}"))
    return found


def folds(split: Split, count: int = FOLDS) -> list[Split]:
    """The split's training part cut in ``count`` runs of consecutive baskets: each in turn
    is asked, the others train. The split's test part is in none of them."""
    edges = [len(split.train) * n // count for n in range(count + 1)]
    return [
        Split(
            f"{split.name} (fold {n + 1})",
            split.train[: edges[n]] + split.train[edges[n + 1] :],
            split.train[edges[n] : edges[n + 1]],
        )
        for n in range(count)
    ]


def queries(test: Sequence[Basket]) -> Iterator[tuple[int, int, list[int]]]:
    """``(basket number, hidden item, cart)`` for every item of every basket of 2 or more."""
    for number, basket in enumerate(test):
        items = list(dict.fromkeys(basket))
        if len(items) < 2:
            continue
        for hidden in items:
            yield number, hidden, [item for item in items if item != hidden]


# --- Outcomes and metrics -------------------------------------------------------------------


@dataclass
class Outcome:
    """Per query: its basket, the hidden item's position in the answer (0: not shown), and
    how many of the answer's first products the model chose (the rest are best sellers:
    0 when the cart's products have no neighbours)."""

    basket: list[int] = field(default_factory=list)
    position: list[int] = field(default_factory=list)
    from_model: list[int] = field(default_factory=list)
    shown: set[int] = field(default_factory=set)

    def add(self, basket: int, hidden: int, answer: Answer) -> None:
        shown = answer.products[:SHOWN]
        self.basket.append(basket)
        self.position.append(shown.index(hidden) + 1 if hidden in shown else 0)
        self.from_model.append(answer.from_model)
        self.shown.update(shown)

    @property
    def answered(self) -> list[bool]:
        return [chosen > 0 for chosen in self.from_model]


def evaluate(recommender: Recommender, test: Sequence[Basket]) -> Outcome:
    """Every query of ``test`` asked; a recommender with ``answer_all(carts, k)`` is asked
    them all at once (the same answers, faster)."""
    outcome = Outcome()
    asked = list(queries(test))
    answer_all = getattr(recommender, "answer_all", None)
    if answer_all is not None:
        answers = answer_all([cart for _, _, cart in asked], SHOWN)
    else:
        answers = [recommender(cart, SHOWN) for _, _, cart in asked]
    for (basket, hidden, _), answer in zip(asked, answers, strict=True):
        outcome.add(basket, hidden, answer)
    return outcome


def query_values(outcome: Outcome, metric: str) -> np.ndarray:
    """Each query's value of ``metric``: ``hit@3``, ``hit@5`` or ``mrr``."""
    position = np.asarray(outcome.position)
    if metric == "mrr":
        return np.where(position > 0, 1.0 / np.maximum(position, 1), 0.0)
    k = int(metric.removeprefix("hit@"))
    return ((position > 0) & (position <= k)).astype(float)


def basket_sums(outcome: Outcome, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Per test basket that has queries: the sum of ``metric`` and the number of queries."""
    baskets = np.asarray(outcome.basket)
    _, index = np.unique(baskets, return_inverse=True)
    sums = np.bincount(index, weights=query_values(outcome, metric))
    counts = np.bincount(index).astype(float)
    return sums, counts


def metric_means(outcome: Outcome, metric: str) -> tuple[float, float]:
    """``metric`` averaged per query, and per basket."""
    sums, counts = basket_sums(outcome, metric)
    if not len(counts):
        return 0.0, 0.0
    return float(sums.sum() / counts.sum()), float(np.mean(sums / counts))


@dataclass(frozen=True)
class Interval:
    difference: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def paired_bootstrap(
    a: Outcome, b: Outcome, metric: str = "hit@3", *, resamples: int = RESAMPLES, seed: int = 0
) -> tuple[Interval, Interval]:
    """95 % intervals of ``a - b`` for ``metric`` per query and per basket, resampling the
    test baskets (both outcomes must come from the same queries)."""
    if a.basket != b.basket:
        raise ValueError("the outcomes do not answer the same queries")
    sums_a, counts = basket_sums(a, metric)
    sums_b, _ = basket_sums(b, metric)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(counts), size=(resamples, len(counts)))
    per_query = (sums_a[picks].sum(1) - sums_b[picks].sum(1)) / counts[picks].sum(1)
    per_basket = (sums_a / counts - sums_b / counts)[picks].mean(1)
    query_mean, basket_mean = metric_means(a, metric)
    query_b, basket_b = metric_means(b, metric)
    return (
        _interval(query_mean - query_b, per_query),
        _interval(basket_mean - basket_b, per_basket),
    )


def _interval(difference: float, samples: np.ndarray) -> Interval:
    low, high = np.percentile(samples, [2.5, 97.5])
    return Interval(difference, float(low), float(high))


# --- Serving as the store does it -----------------------------------------------------------


@dataclass
class NeighbourRecommender:
    """Answers as ``catalog.suggestions.product_suggestions`` does, without a database:
    each cart product's stored neighbours summed, best first (then by index); then the best
    sellers of the cart's categories, then of the store (products sold at least once)."""

    neighbours: dict[int, list[tuple[int, float]]]
    popularity: Counter[int]
    categories: Sequence[int | None] = ()

    def __call__(self, cart: list[int], k: int) -> Answer:
        held = set(cart)
        scores: dict[int, float] = {}
        for item in cart:
            for other, weight in self.neighbours.get(item, ()):
                if other not in held:
                    scores[other] = scores.get(other, 0.0) + weight
        found = sorted(scores, key=lambda item: (-scores[item], item))[:k]
        chosen = len(found)
        if chosen < k:
            found += self._best_sellers(held | set(found), held, k - chosen)
        return Answer(found, chosen)

    def _best_sellers(self, taken: set[int], held: set[int], k: int) -> list[int]:
        wanted = {self._category(item) for item in held} - {None}
        ranking = [item for item in self._ranking() if item not in taken]
        first = [item for item in ranking if self._category(item) in wanted]
        rest = [item for item in ranking if self._category(item) not in wanted]
        return (first + rest)[:k]

    def _ranking(self) -> list[int]:
        if not hasattr(self, "_ranked"):
            sold = [item for item, n in self.popularity.items() if n > 0]
            self._ranked = sorted(sold, key=lambda item: (-self.popularity[item], item))
        return self._ranked

    def _category(self, item: int) -> int | None:
        return self.categories[item] if item < len(self.categories) else None


@dataclass
class PopularRecommender:
    """The baseline: the store's best sellers of the training baskets not in the cart."""

    popularity: Counter[int]

    def __post_init__(self) -> None:
        sold = [item for item, n in self.popularity.items() if n > 0]
        self.ranking = sorted(sold, key=lambda item: (-self.popularity[item], item))

    def __call__(self, cart: list[int], k: int) -> Answer:
        held = set(cart)
        found = [item for item in self.ranking[: k + len(held)] if item not in held][:k]
        return Answer(found, len(found))


def popularity_of(train: Sequence[Basket]) -> Counter[int]:
    return Counter(item for basket in train for item in set(basket))
