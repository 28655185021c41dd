"""The model behind “often bought with”: EASE, a linear item-to-item model, trained in memory.

EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", 2019) predicts whether an
order holds product j from the other products in it, ``x_j ≈ Σ_i x_i B_ij``, by least squares
with an L2 penalty ``λ`` and ``B_jj = 0`` (a product may not predict itself). The closed form:
with ``G = XᵀX`` (orders holding both i and j) and ``P = (G + λI)⁻¹``,
``B_ij = -P_ij / P_jj``. Unlike a pair count, a weight says what i adds once the rest of the
order is known: two products that always come together do not count the same evidence twice.

Serving sums ``B_ij`` over the cart's products ``i`` (``catalog.suggestions``),
which is the model's own prediction restricted to each product's ``neighbours`` largest
positive weights, among the products bought with it at least once: the model can give a
small weight to two products never bought together (through the products bought with both),
and the page says "often bought with". Chosen on a real basket file against co-purchase
counts, confidence, Jaccard, cosine and ALS (``benchmarks/recommend.py``,
docs/development.md, "Recommendations").

``λ`` is ``regularisation`` times the mean number of orders per product, so the same setting
means the same strength for a store of 5,000 orders or of 500,000.

Cost: ``G`` is dense, products x products. Up to ``DOUBLE_MAX`` products in float64, beyond
in float32: 20,000 products take 1.6 GB and one to one and a half minutes on two cores
(Cholesky factorisation and inversion in place; ``benchmarks/recommend_size.py``). Only the
``products_max`` products in most orders are modelled; the others get no neighbours and the
serving falls back to best sellers.
"""

from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.linalg import lapack

# Both chosen by cross-validation on the real basket file (docs/development.md, "Recommendations").
REGULARISATION = 1.0
NEIGHBOURS = 20
PRODUCTS_MAX = 20_000
DOUBLE_MAX = 4_096  # products: above, float32 halves the memory of the dense matrices
# A basket this large (a restaurant stocking up) says little about what goes together, and
# would weigh on every product in it: it counts towards popularity only.
BASKET_PAIRS_MAX = 100
PROGRESS_EVERY = 10_000  # orders
BLOCK_ROWS = 512  # rows of the inverse turned into weights at a time

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Neighbour:
    product_id: int
    score: float
    together: int  # orders holding both


@dataclass(frozen=True)
class NeighbourModel:
    orders: int
    lines: int
    popularity: dict[int, int]  # product id → orders holding it
    neighbours: dict[int, list[Neighbour]]  # product id → its best neighbours, best first

    @property
    def pair_count(self) -> int:
        return sum(len(rows) for rows in self.neighbours.values())


def baskets_from_lines(rows: Iterable[tuple[int, int]]) -> Iterator[set[int]]:
    """Group ``(order id, product id)`` rows, ordered by order id, into sets of product ids."""
    for _order_id, lines in groupby(rows, key=itemgetter(0)):
        yield {product_id for _, product_id in lines}


@dataclass
class _Baskets:
    """The baskets read once: products by dense index, and the order x product matrix."""

    ids: list[int]  # index → product id, in order of first appearance
    counts: Counter[int]  # index → orders holding it
    rows: array  # one entry per line of a modelled basket: its row
    cols: array  # ... and the product's index
    orders: int = 0
    lines: int = 0


def _baskets_read(baskets: Iterable[Collection[int]], progress: Progress | None) -> _Baskets:
    index: dict[int, int] = {}
    read = _Baskets(ids=[], counts=Counter(), rows=array("q"), cols=array("q"))
    modelled = 0
    for basket in baskets:
        indexes = [index.setdefault(product_id, len(index)) for product_id in set(basket)]
        read.orders += 1
        read.lines += len(indexes)
        read.counts.update(indexes)
        if len(indexes) <= BASKET_PAIRS_MAX:
            read.rows.extend([modelled] * len(indexes))
            read.cols.extend(indexes)
            modelled += 1
        if progress and read.orders % PROGRESS_EVERY == 0:
            progress(f"Read {read.orders} orders…")
    read.ids = sorted(index, key=index.__getitem__)
    return read


def ease_train(
    baskets: Iterable[Collection[int]],
    *,
    regularisation: float = REGULARISATION,
    neighbours: int = NEIGHBOURS,
    products_max: int = PRODUCTS_MAX,
    progress: Progress | None = None,
) -> NeighbourModel:
    """Fit EASE to ``baskets`` (each a collection of product ids) and keep, for every
    product, its ``neighbours`` largest positive weights, best first (then by first seen)."""
    read = _baskets_read(baskets, progress)
    popularity = {read.ids[i]: n for i, n in read.counts.items()}
    # The products in most orders, by index; their position in `kept` is their column.
    kept = sorted(read.counts, key=lambda i: (-read.counts[i], i))[:products_max]
    if not kept:
        return NeighbourModel(read.orders, read.lines, popularity, {})
    column = np.full(len(read.ids), -1, dtype=np.int64)
    column[kept] = np.arange(len(kept))
    gram = _gram(read, column, len(kept))
    if progress:
        progress(f"Read {read.orders} orders; solving for {len(kept)} products…")
    weights = _neighbours_best(gram, regularisation=regularisation, keep=neighbours)
    ids = [read.ids[i] for i in kept]
    pairs = [(a, b) for a, rows in weights.items() for b, _ in rows]
    together = iter(_entries(gram, pairs))
    return NeighbourModel(
        orders=read.orders,
        lines=read.lines,
        popularity=popularity,
        neighbours={
            ids[a]: [Neighbour(ids[b], score, next(together)) for b, score in rows]
            for a, rows in weights.items()
        },
    )


def _entries(matrix: sp.csr_matrix, pairs: list[tuple[int, int]]) -> list[int]:
    if not pairs:
        return []
    rows, cols = zip(*pairs, strict=True)
    return [int(value) for value in np.asarray(matrix[list(rows), list(cols)]).ravel()]


def _gram(read: _Baskets, column: NDArray[np.int64], products: int) -> sp.csr_matrix:
    """Orders holding both, for every two modelled products (a sparse products x products)."""
    cols = column[np.frombuffer(read.cols, dtype=np.int64)]
    rows = np.frombuffer(read.rows, dtype=np.int64)
    keep = cols >= 0
    dtype = np.float64 if products <= DOUBLE_MAX else np.float32  # counts stay exact below 2²⁴
    matrix = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=dtype), (rows[keep], cols[keep])),
        shape=(int(rows[-1]) + 1 if len(rows) else 0, products),
    )
    return (matrix.T @ matrix).tocsr()


def ease_weights_rows(
    gram: sp.csr_matrix, *, regularisation: float, block_rows: int = BLOCK_ROWS
) -> Iterator[tuple[int, NDArray[np.floating]]]:
    """EASE's weight matrix ``B``, a block of rows at a time: ``(first row, rows)``.

    ``B_ij = -P_ij / P_jj`` with ``P = (G + λI)⁻¹`` and ``λ = regularisation x mean G_jj``;
    ``B_jj`` is 0. ``P`` is computed in place by a Cholesky factorisation, so the memory is one
    dense products x products matrix and a block.
    """
    products = gram.shape[0]
    dense = gram.toarray()  # float32 above DOUBLE_MAX products (see _gram)
    diagonal = dense.diagonal()
    penalty = regularisation * max(float(diagonal.mean()), 1.0)
    dense[np.diag_indices(products)] += penalty
    inverse = _inverse_in_place(dense)
    scale = -1.0 / inverse.diagonal().copy()
    for start in range(0, products, block_rows):
        stop = min(start + block_rows, products)
        block = _rows_of_symmetric(inverse, start, stop) * scale[None, :]
        block[np.arange(stop - start), np.arange(start, stop)] = 0.0
        yield start, block


def _inverse_in_place(matrix: NDArray[np.floating]) -> NDArray[np.floating]:
    """The inverse of a symmetric positive definite ``matrix``, overwriting it.

    Only the lower triangle (row ≥ column) of the result is valid. LAPACK works on columns:
    the transpose of a C-ordered array is a Fortran-ordered view of the same (symmetric)
    matrix, so nothing is copied, and its upper triangle is our lower one.
    """
    view = matrix.T
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (view,))
    factor, info = potrf(view, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky factorisation failed ({info})")
    inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"inversion failed ({info})")
    return inverse.T


def _rows_of_symmetric(lower: NDArray[np.floating], start: int, stop: int) -> NDArray:
    """Rows ``start:stop`` of the symmetric matrix whose lower triangle ``lower`` holds."""
    block = np.array(lower[start:stop, :])
    # Above the diagonal, row r column c (c > r) is lower[c, r].
    mirrored = lower[start:, start:stop].T
    width = lower.shape[1] - start
    above = np.triu(np.ones((stop - start, width), dtype=bool), k=1)
    block[:, start:] = np.where(above, mirrored, block[:, start:])
    return block


def _neighbours_best(
    gram: sp.csr_matrix, *, regularisation: float, keep: int
) -> dict[int, list[tuple[int, float]]]:
    """Each product's ``keep`` largest positive weights ``(other, weight)`` among the products
    bought with it, largest first and
    equal weights by the lower index (a tie at the cut is settled by ``argpartition``: equal
    inputs still give equal rows)."""
    best: dict[int, list[tuple[int, float]]] = {}
    for start, block in ease_weights_rows(gram, regularisation=regularisation):
        stop = start + block.shape[0]
        block[gram[start:stop].toarray() == 0] = 0.0  # never bought together: not a neighbour
        width = block.shape[1]
        if keep < width:
            candidates = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        else:
            candidates = np.broadcast_to(np.arange(width), block.shape)
        for offset, row in enumerate(candidates):
            weights = block[offset, row]
            order = np.lexsort((row, -weights))
            chosen = [(int(row[k]), float(weights[k])) for k in order if weights[k] > 0]
            if chosen:
                best[start + offset] = chosen
    return best
