"""The models ``benchmarks.recommend`` compares, each with the grid its settings are chosen from.

Every model is trained on a list of baskets (product indexes) and answers a cart with a ranked
list (``benchmarks.recommend_protocol.Recommender``). All but one serve as the store does:
each product's stored neighbours summed over the cart, best sellers to fill up.

- **most popular**: the baseline, the best sellers of the training baskets.
- **count, confidence, cosine, Jaccard**: scores from pair counts (``n``: baskets holding a
  product, ``c``: holding both; pairs with ``c ≥ 2``). Jaccard ``c / (n_a + n_b - c)`` is
  what the store shipped before.
- **EASE**: ``orders.recommendations.ease``, the shipped model (the store's own code).
- **ALS**: implicit-feedback matrix factorisation (the ``implicit`` library, Hu, Koren and
  Volinsky's model); the cart is folded in as a new user at query time, so it is not
  servable from stored neighbours as is. Left out when the library is missing.
"""

import math
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations, product
from typing import Any

from benchmarks.recommend_protocol import (
    Answer,
    Basket,
    NeighbourRecommender,
    PopularRecommender,
    Recommender,
    popularity_of,
)

MIN_TOGETHER = 2
NEIGHBOUR_GRID = (10, 20, 50)
EASE_REGULARISATION_GRID = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
ALS_GRID = {"factors": (8, 32), "regularization": (1.0, 10.0), "alpha": (1.0, 10.0)}

SHIPPED = "EASE"
BASELINE = "most popular"


@dataclass
class Training:
    """A training part and what several models share: counts, computed once."""

    baskets: list[Basket]
    products: int
    categories: Sequence[int | None] = ()

    @cached_property
    def popularity(self) -> Counter[int]:
        return popularity_of(self.baskets)

    @cached_property
    def pairs(self) -> Counter[tuple[int, int]]:
        counted: Counter[tuple[int, int]] = Counter()
        for basket in self.baskets:
            counted.update(combinations(sorted(set(basket)), 2))
        return counted


Trainer = Callable[[Training, dict[str, Any]], Recommender]


@dataclass(frozen=True)
class Model:
    name: str
    trainer: Trainer
    grid: list[dict[str, Any]] = field(default_factory=lambda: [{}])


def _popular(training: Training, params: dict[str, Any]) -> Recommender:
    return PopularRecommender(training.popularity)


def _pair_model(score: Callable[[int, int, int, int], float]) -> Trainer:
    """A neighbour model whose weight of b for a is ``score(c, n_a, n_b, baskets)``."""

    def train(training: Training, params: dict[str, Any]) -> Recommender:
        n, total = training.popularity, len(training.baskets)
        rows: dict[int, list[tuple[int, float]]] = {}
        for (a, b), c in training.pairs.items():
            if c >= MIN_TOGETHER:
                rows.setdefault(a, []).append((b, score(c, n[a], n[b], total)))
                rows.setdefault(b, []).append((a, score(c, n[b], n[a], total)))
        keep = params["neighbours"]
        best = {a: sorted(r, key=lambda x: (-x[1], x[0]))[:keep] for a, r in rows.items()}
        return NeighbourRecommender(best, training.popularity, training.categories)

    return train


def _ease(training: Training, params: dict[str, Any]) -> Recommender:
    from orders.recommendations.ease import ease_train

    model = ease_train(
        training.baskets,
        regularisation=params["regularisation"],
        neighbours=params["neighbours"],
    )
    neighbours = {
        a: [(n.product_id, n.score) for n in rows] for a, rows in model.neighbours.items()
    }
    return NeighbourRecommender(neighbours, training.popularity, training.categories)


@dataclass
class _AlsRecommender:
    model: Any
    products: int

    def __call__(self, cart: list[int], k: int) -> Answer:
        return self.answer_all([cart], k)[0]

    def answer_all(self, carts: list[list[int]], k: int) -> list[Answer]:
        """Each cart folded in as a new user (``recalculate_user``), all in one call."""
        import numpy as np
        import scipy.sparse as sp
        from threadpoolctl import threadpool_limits

        rows = [row for row, cart in enumerate(carts) for _ in cart]
        cols = [item for cart in carts for item in cart]
        matrix = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), (rows, cols)),
            shape=(len(carts), self.products),
        )
        with threadpool_limits(1, "blas"):
            ids, _ = self.model.recommend(np.arange(len(carts)), matrix, N=k, recalculate_user=True)
        return [Answer([int(i) for i in row], len(row)) for row in ids]


def _als(training: Training, params: dict[str, Any]) -> Recommender:
    import numpy as np
    import scipy.sparse as sp
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    rows = [r for r, basket in enumerate(training.baskets) for _ in set(basket)]
    cols = [item for basket in training.baskets for item in set(basket)]
    matrix = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (rows, cols)),
        shape=(len(training.baskets), training.products),
    )
    with threadpool_limits(1, "blas"), warnings.catch_warnings():
        # implicit's own threads do the work; it warns about BLAS threads before checking.
        warnings.simplefilter("ignore", RuntimeWarning)
        model = AlternatingLeastSquares(**params, iterations=15, random_state=0)
        model.fit(matrix, show_progress=False)
    return _AlsRecommender(model, training.products)


def _grid(**values: Sequence[Any]) -> list[dict[str, Any]]:
    return [dict(zip(values, chosen, strict=True)) for chosen in product(*values.values())]


def models(*, als: bool = True) -> list[Model]:
    neighbours = _grid(neighbours=NEIGHBOUR_GRID)
    found = [
        Model(BASELINE, _popular),
        Model("count c", _pair_model(lambda c, na, nb, total: float(c)), neighbours),
        Model("confidence c/n_a", _pair_model(lambda c, na, nb, total: c / na), neighbours),
        Model(
            "cosine c/sqrt(n_a n_b)",
            _pair_model(lambda c, na, nb, total: c / math.sqrt(na * nb)),
            neighbours,
        ),
        Model(
            "Jaccard (shipped before)",
            _pair_model(lambda c, na, nb, total: c / (na + nb - c)),
            neighbours,
        ),
        Model(
            SHIPPED,
            _ease,
            _grid(regularisation=EASE_REGULARISATION_GRID, neighbours=NEIGHBOUR_GRID),
        ),
    ]
    if als and _has_implicit():
        found.append(Model("ALS (implicit, cart folded in)", _als, _grid(**ALS_GRID)))
    return found


def _has_implicit() -> bool:
    try:
        import implicit  # noqa: F401
    except ImportError:
        return False
    return True
