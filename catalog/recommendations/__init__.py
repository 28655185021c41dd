"""“Often bought with”: which products sell together, learnt from the store's own paid orders.

- ``ease``: the model (EASE, a linear item-to-item model) fitted in memory, no database;
- ``rebuild``: training from the paid orders and writing the neighbours (a Celery task and a
  management command, never a request);
- ``serving``: the suggestions for a cart or a product, from the stored neighbours.

Only the serving is re-exported here: the web workers never import numpy and scipy.
How the model was chosen: docs/development.md, "Recommendations" and ``benchmarks/recommend.py``.
"""

from catalog.recommendations.serving import (
    REASON_BOUGHT_WITH,
    REASON_POPULAR,
    REASON_POPULAR_IN_CATEGORY,
    SUGGESTIONS,
    Suggestion,
    product_suggestions,
)

__all__ = [
    "REASON_BOUGHT_WITH",
    "REASON_POPULAR",
    "REASON_POPULAR_IN_CATEGORY",
    "SUGGESTIONS",
    "Suggestion",
    "product_suggestions",
]
