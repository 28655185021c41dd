"""The database connection is set up the way the store relies on.

MariaDB/MySQL (CI's second run, DATABASE_URL=mysql://...): utf8mb4 end to end, strict SQL mode,
READ COMMITTED. SQLite (the embedded default): immediate transactions and a busy timeout.
Each half skips, with the reason, on the other engine.
"""

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from tests.factories import CategoryFactory, ProductFactory

on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason=f"checks the embedded SQLite setup; this run uses {connection.vendor}",
)

STRAWBERRIES = "Erdbeeren 🍓 aus dem Garten"
BANANAS = "Erdbeeren 🍌 aus dem Garten"


def _select(sql: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


@pytest.mark.mysql
@pytest.mark.django_db
def test_mysql_connection_and_test_database_are_utf8mb4():
    client, connection_charset, results = _select(
        "SELECT @@character_set_client, @@character_set_connection, @@character_set_results"
    )
    database_charset, database_collation = _select(
        "SELECT @@character_set_database, @@collation_database"
    )

    assert (client, connection_charset, results) == ("utf8mb4", "utf8mb4", "utf8mb4")
    assert (database_charset, database_collation) == ("utf8mb4", "utf8mb4_unicode_520_ci")


@pytest.mark.mysql
@pytest.mark.django_db
def test_mysql_four_byte_emoji_product_name_round_trips():
    product = ProductFactory.create(name=STRAWBERRIES)

    assert Product.objects.values_list("name", flat=True).get(pk=product.pk) == STRAWBERRIES


@pytest.mark.mysql
@pytest.mark.django_db
def test_mysql_collation_tells_emoji_apart():
    # utf8mb4_unicode_ci would find both and refuse the second category name as a duplicate.
    strawberries = ProductFactory.create(name=STRAWBERRIES)
    ProductFactory.create(name=BANANAS)
    CategoryFactory.create(name="🍓")
    CategoryFactory.create(name="🍌")

    assert list(Product.objects.filter(name=STRAWBERRIES)) == [strawberries]


@pytest.mark.mysql
@pytest.mark.django_db
def test_mysql_strict_mode_refuses_a_too_long_value_instead_of_truncating():
    (sql_mode,) = _select("SELECT @@SESSION.sql_mode")

    assert "STRICT_TRANS_TABLES" in sql_mode.split(",")
    with pytest.raises(DataError), transaction.atomic():
        ProductFactory.create(name="x" * 201)


@pytest.mark.mysql
@pytest.mark.django_db
def test_mysql_isolation_level_is_read_committed():
    is_mariadb = getattr(connection, "mysql_is_mariadb", False)
    variable = "tx_isolation" if is_mariadb else "transaction_isolation"
    (level,) = _select(f"SELECT @@SESSION.{variable}")

    assert level == "READ-COMMITTED"


@on_sqlite
@pytest.mark.django_db(transaction=True)
def test_sqlite_transactions_begin_immediate():
    # IMMEDIATE takes the write lock at BEGIN, so a concurrent writer waits for the busy
    # timeout instead of failing with "database is locked" halfway through its transaction.
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        Product.objects.count()

    assert queries.captured_queries[0]["sql"] == "BEGIN IMMEDIATE"


@on_sqlite
@pytest.mark.django_db
def test_sqlite_waits_for_a_busy_database():
    (timeout_ms,) = _select("PRAGMA busy_timeout")

    assert timeout_ms >= 10_000


def test_no_store_model_relies_on_a_conditional_unique_constraint():
    # MariaDB ignores the condition, so such a constraint would not hold in production;
    # settings silence Django's warning (W036) because of allauth's model, so this test
    # keeps the store's own models honest.
    from django.apps import apps
    from django.db.models import UniqueConstraint

    conditional = [
        f"{model._meta.label}.{constraint.name}"
        for app_label in ("shopcart", "catalog", "carts", "orders", "devices")
        for model in apps.get_app_config(app_label).get_models()
        for constraint in model._meta.constraints
        if isinstance(constraint, UniqueConstraint) and constraint.condition is not None
    ]

    assert conditional == []
