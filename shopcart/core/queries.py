"""Small query helpers for hot paths.

The scan path (``devices.services.scans``) runs a handful of statements whose shape never
changes. Built by the ORM, each costs more CPU to compile than to run: 0.1 to 0.3 ms a statement
on the development machine, against 0.02 to 0.03 ms for the same text written out
(benchmarks/README.md, "Scan CPU"). These helpers write such statements out, with Django's
own public pieces: ``Model._meta`` for table and column names, each field's
``get_db_prep_save`` for the values (as the ORM prepares them), ``connection.cursor()`` to run
them, so they are counted, logged and wrapped like any other query.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model, QuerySet

_M = TypeVar("_M", bound=Model)


def only_row(queryset: QuerySet[_M]) -> _M | None:
    """The one row a lookup on a unique key finds, or None.

    Like ``.first()`` without its ``ORDER BY`` (the model's ordering, or the pk): with at most
    one row there is nothing to order, and compiling the ordering costs about a millisecond
    per query on the scan path.
    """
    return next(iter(queryset.order_by()[:1]), None)


def row_update(
    model: type[Model],
    pk: Any,
    *,
    values: Mapping[str, Any] | None = None,
    increments: Collection[str] = (),
) -> int:
    """``model.objects.filter(pk=pk).update(...)`` as one written-out ``UPDATE``: the fields
    ``values`` names set to its values (prepared by each field, as the ORM does), and each
    field of ``increments`` raised by one where it stands (``F(name) + 1``). Returns the rows
    matched (0 or 1). Like ``update()``: no signals, no ``auto_now``."""
    assignments, params = [], []
    for name in increments:
        column = _column(model, name)[1]
        assignments.append(f"{column} = {column} + 1")
    for name, value in (values or {}).items():
        field, column = _column(model, name)
        assignments.append(f"{column} = %s")
        params.append(field.get_db_prep_save(value, connection))
    table, key = connection.ops.quote_name(model._meta.db_table), _column(model, "pk")[1]
    # Names from the model's metadata, quoted; every value a parameter.
    sql = f"UPDATE {table} SET {', '.join(assignments)} WHERE {key} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, pk])
        return cursor.rowcount


def _column(model: type[Model], name: str) -> tuple[Field, str]:
    """The field ``name`` of ``model`` ("pk": its primary key) and its quoted column."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field, connection.ops.quote_name(field.column)


def row_insert(instance: Model) -> None:
    """``instance.save(force_insert=True)`` as one written-out ``INSERT`` of every column but
    an automatic primary key, each value as its field prepares it for saving (``auto_now_add``
    and defaults included); sets ``instance.pk``. Sends no ``pre_save``/``post_save`` signal:
    for models no receiver listens to. Raises ``IntegrityError`` as ``save`` does."""
    meta = type(instance)._meta
    quote = connection.ops.quote_name
    automatic_pk = instance.pk is None  # the database numbers the row
    columns = {
        field: quote(column)
        for field in meta.concrete_fields
        if (column := field.column) and not field.generated
        if not (field.primary_key and automatic_pk)
    }
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in columns
    ]
    table, placeholders = quote(meta.db_table), ", ".join(["%s"] * len(columns))
    # Names from the model's metadata, quoted; every value a parameter.
    sql = f"INSERT INTO {table} ({', '.join(columns.values())}) VALUES ({placeholders})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if automatic_pk:
            pk_column = _column(type(instance), "pk")[0].column or ""
            instance.pk = connection.ops.last_insert_id(cursor, meta.db_table, pk_column)
    instance._state.adding = False
    instance._state.db = connection.alias
