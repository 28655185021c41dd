"""“Often bought with”, learnt from the store's own paid orders.

- ``ease``: the model (EASE, a linear item-to-item model) fitted in memory, no database;
- ``rebuild``: training from the paid orders and writing the neighbours into catalog's tables
  (a Celery task and a management command, never a request).

Serving the suggestions reads only those tables, so it stands below the apps that show them:
``catalog.suggestions``. Nothing is imported here: web nodes never load numpy and scipy.
How the model was chosen: docs/development.md, "Recommendations" and ``benchmarks/recommend.py``.
"""
