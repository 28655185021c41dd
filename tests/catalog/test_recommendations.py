"""“Often bought with”: training from paid orders, the stored model, and serving it."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from catalog import recommendations as rec
from catalog.models import ProductPairScore, ProductPopularity, RecommendationBuild
from catalog.tasks import recommendations_rebuild as recommendations_rebuild_task
from orders.models import Order
from shopcart.celery import app as celery_app
from tests.catalog.sales import paid_order
from tests.factories import CategoryFactory, ProductFactory


def scores() -> dict[tuple[str, str], float]:
    rows = ProductPairScore.objects.select_related("product", "other")
    return {(row.product.name, row.other.name): round(row.score, 4) for row in rows}


def names(suggestions: list[rec.Suggestion]) -> list[str]:
    return [suggestion.product.name for suggestion in suggestions]


# --- Training (no database) -------------------------------------------------------------------


def test_lines_ordered_by_order_become_baskets():
    rows = [(1, 10), (1, 11), (1, 10), (2, 11), (5, 12), (5, 13)]

    assert list(rec.baskets_from_lines(rows)) == [{10, 11}, {11}, {12, 13}]


def test_score_is_jaccard_of_the_orders_holding_each():
    # 1 in 4 orders, 2 in 3, 3 in 2. 1 and 2 together in 2: 2 / (4 + 3 - 2) = 0.4;
    # 1 and 3 together in 2: 2 / (4 + 2 - 2) = 0.5; 2 and 3 only once.
    baskets = [{1, 2}, {1, 2, 3}, {1, 3}, {1}, {2}]

    model = rec.co_purchase_train(baskets)

    assert (model.orders, model.lines) == (5, 9)
    assert model.popularity == {1: 4, 2: 3, 3: 2}
    assert model.neighbours[1] == [rec.Neighbour(3, 0.5, 2), rec.Neighbour(2, 0.4, 2)]
    assert model.neighbours[2] == [rec.Neighbour(1, 0.4, 2)]


def test_pairs_bought_together_only_once_are_left_out():
    model = rec.co_purchase_train([{1, 2}, {1, 2}, {1, 3}], min_together=2)

    assert [n.product_id for n in model.neighbours[1]] == [2]
    assert 3 not in model.neighbours


def test_each_product_keeps_its_best_neighbours_in_a_fixed_order():
    baskets = [{1, 2, 3, 4}] * 2 + [{1, 2}] * 3 + [{1, 5}] * 2
    model = rec.co_purchase_train(baskets, neighbours=3)

    # 2: 5/(7+5-5) = .714; 3 and 4: 2/(7+2-2) = .286 each, the tie broken by first seen.
    assert [n.product_id for n in model.neighbours[1]] == [2, 3, 4]


def test_a_huge_basket_counts_for_popularity_but_not_pairs():
    huge = set(range(1, rec.BASKET_PAIRS_MAX + 2))

    model = rec.co_purchase_train([huge, huge])

    assert model.popularity[1] == 2
    assert model.neighbours == {}


# --- Training from orders ---------------------------------------------------------------------


@pytest.fixture
def pasta(db):
    return ProductFactory(name="Spaghetti")


@pytest.fixture
def sauce(db):
    return ProductFactory(name="Tomato sauce")


@pytest.fixture
def cheese(db):
    return ProductFactory(name="Parmesan")


def test_rebuild_learns_from_paid_and_partly_refunded_orders_only(pasta, sauce, cheese):
    paid_order(pasta, sauce)
    paid_order(pasta, sauce, status=Order.Status.PARTIALLY_REFUNDED)
    for status in (Order.Status.REFUNDED, Order.Status.PENDING, Order.Status.CANCELLED):
        paid_order(pasta, cheese, status=status)
        paid_order(pasta, cheese, status=status)

    build = rec.recommendations_rebuild()

    assert scores() == {("Spaghetti", "Tomato sauce"): 1.0, ("Tomato sauce", "Spaghetti"): 1.0}
    assert dict(ProductPopularity.objects.values_list("product__name", "orders")) == {
        "Spaghetti": 2,
        "Tomato sauce": 2,
    }
    assert (build.orders, build.lines, build.products, build.pairs) == (2, 4, 2, 2)


def test_rebuild_forgets_orders_older_than_the_history(pasta, sauce, cheese):
    paid_order(pasta, sauce, days_ago=rec.HISTORY_DAYS + 1)
    paid_order(pasta, sauce, days_ago=rec.HISTORY_DAYS + 1)
    paid_order(pasta, cheese, days_ago=rec.HISTORY_DAYS - 1)
    paid_order(pasta, cheese, days_ago=rec.HISTORY_DAYS - 1)

    rec.recommendations_rebuild()

    assert set(scores()) == {("Spaghetti", "Parmesan"), ("Parmesan", "Spaghetti")}


def test_lines_of_deleted_products_are_skipped(pasta, sauce, cheese):
    for _ in range(2):
        paid_order(pasta, sauce, cheese)
    cheese.delete()  # the order lines keep their snapshot, with no product

    rec.recommendations_rebuild()

    assert set(scores()) == {("Spaghetti", "Tomato sauce"), ("Tomato sauce", "Spaghetti")}


def test_rebuild_replaces_the_old_model(pasta, sauce, cheese):
    paid_order(pasta, sauce)
    paid_order(pasta, sauce)
    rec.recommendations_rebuild()
    Order.objects.update(status=Order.Status.REFUNDED)
    paid_order(pasta, cheese)
    paid_order(pasta, cheese)

    rec.recommendations_rebuild()
    rec.recommendations_rebuild()  # idempotent

    assert set(scores()) == {("Spaghetti", "Parmesan"), ("Parmesan", "Spaghetti")}
    assert ProductPopularity.objects.count() == 2
    assert RecommendationBuild.objects.count() == 3


def test_rebuild_with_no_orders_empties_the_model(pasta, sauce):
    ProductPairScore.objects.create(product=pasta, other=sauce, score=0.5, together=3)

    build = rec.recommendations_rebuild()

    assert not ProductPairScore.objects.exists()
    assert (build.orders, build.pairs) == (0, 0)


def test_task_rebuilds_and_is_scheduled(pasta, sauce):
    paid_order(pasta, sauce)
    paid_order(pasta, sauce)

    build_id = recommendations_rebuild_task.delay().get()

    assert RecommendationBuild.objects.get().pk == build_id
    schedule = settings.CELERY_BEAT_SCHEDULE["catalog-recommendations-rebuild"]
    assert schedule["task"] == "catalog.tasks.recommendations_rebuild"
    assert schedule["task"] in celery_app.tasks


def test_command_prints_progress_and_what_it_learnt(pasta, sauce, monkeypatch):
    monkeypatch.setattr(rec, "PROGRESS_EVERY", 1)
    paid_order(pasta, sauce)
    paid_order(pasta, sauce)
    out = StringIO()

    call_command("recommendations_rebuild", stdout=out)

    text = out.getvalue()
    assert "Read 1 orders…" in text and "Read 2 orders…" in text
    assert "Read 2 orders; writing 2 neighbour rows…" in text
    assert f"Learnt from 2 paid orders of the last {rec.HISTORY_DAYS} days: 2 products sold" in text


# --- Serving ----------------------------------------------------------------------------------


@pytest.fixture
def store(db):
    """A pantry with pasta, sauces and cheese, a dairy aisle, and a sales history."""
    pantry, dairy = CategoryFactory(name="Pantry"), CategoryFactory(name="Dairy")
    p = {
        name: ProductFactory(name=name, category=category, stock=10)
        for name, category in [
            ("Spaghetti", pantry),
            ("Penne", pantry),
            ("Tomato sauce", pantry),
            ("Pesto", pantry),
            ("Olive oil", pantry),
            ("Parmesan", dairy),
            ("Milk", dairy),
            ("Butter", dairy),
        ]
    }
    history = [
        ("Spaghetti", "Tomato sauce", "Parmesan"),
        ("Spaghetti", "Tomato sauce", "Parmesan"),
        ("Spaghetti", "Tomato sauce"),
        ("Penne", "Pesto", "Parmesan"),
        ("Penne", "Pesto"),
        ("Milk",),
        ("Milk",),
        ("Milk",),
        ("Milk", "Butter"),
        ("Olive oil",),
    ]
    for basket in history:
        paid_order(*(p[name] for name in basket))
    rec.recommendations_rebuild()
    return p


def suggest(store, *held: str, limit: int = 4) -> list[rec.Suggestion]:
    products = [store[name] for name in held]
    return rec.product_suggestions(
        product_ids=[p.pk for p in products],
        category_ids=[p.category_id for p in products],
        limit=limit,
    )


def test_suggests_what_was_bought_with_it_best_first(store):
    found = suggest(store, "Spaghetti", limit=2)

    assert names(found) == ["Tomato sauce", "Parmesan"]
    assert {s.reason for s in found} == {rec.REASON_BOUGHT_WITH}


def test_scores_add_up_over_the_cart(store):
    ProductPairScore.objects.all().delete()
    for held, other, score in [
        ("Spaghetti", "Parmesan", 0.4),
        ("Penne", "Parmesan", 0.4),
        ("Spaghetti", "Tomato sauce", 0.7),
    ]:
        ProductPairScore.objects.create(
            product=store[held], other=store[other], score=score, together=2
        )

    assert names(suggest(store, "Spaghetti", limit=2)) == ["Tomato sauce", "Parmesan"]
    # With penne too, parmesan's 0.4 + 0.4 beats the sauce's 0.7.
    assert names(suggest(store, "Spaghetti", "Penne", limit=2)) == ["Parmesan", "Tomato sauce"]


def test_never_suggests_what_is_in_the_cart_inactive_or_out_of_stock(store):
    store["Tomato sauce"].stock = 0
    store["Tomato sauce"].save()
    store["Parmesan"].active = False
    store["Parmesan"].save()

    found = names(suggest(store, "Spaghetti", "Pesto", limit=8))

    assert not {"Spaghetti", "Pesto", "Tomato sauce", "Parmesan"} & set(found)
    assert found[0] == "Penne"


def test_falls_back_to_best_sellers_of_the_cart_categories_then_the_store(store):
    found = suggest(store, "Spaghetti", limit=5)

    assert [(s.product.name, s.reason) for s in found] == [
        ("Tomato sauce", rec.REASON_BOUGHT_WITH),
        ("Parmesan", rec.REASON_BOUGHT_WITH),
        # Pantry best sellers (2 orders each, then by id), then the store's (milk: 4 orders).
        ("Penne", rec.REASON_POPULAR_IN_CATEGORY),
        ("Pesto", rec.REASON_POPULAR_IN_CATEGORY),
        ("Olive oil", rec.REASON_POPULAR_IN_CATEGORY),
    ]
    assert names(suggest(store, "Olive oil", limit=1)) == ["Spaghetti"]


def test_an_empty_cart_gets_the_store_best_sellers(store):
    found = rec.product_suggestions(product_ids=[], limit=2)

    assert [(s.product.name, s.reason) for s in found] == [
        ("Milk", rec.REASON_POPULAR),
        ("Spaghetti", rec.REASON_POPULAR),
    ]


def test_products_never_sold_are_not_suggested(db):
    product = ProductFactory()
    ProductFactory()

    assert rec.product_suggestions(product_ids=[product.pk]) == []


def test_the_first_three_of_five_are_the_three(store):
    for held in [("Spaghetti",), ("Milk",), ("Penne", "Butter"), ()]:
        assert names(suggest(store, *held, limit=5))[:3] == names(suggest(store, *held, limit=3))


def test_one_query_when_co_purchases_fill_the_list(store, django_assert_num_queries):
    with django_assert_num_queries(1):
        suggest(store, "Spaghetti", limit=2)


def test_two_queries_at_most_whatever_the_cart(store, django_assert_max_num_queries):
    many = [ProductFactory(category=store["Milk"].category) for _ in range(30)]
    with django_assert_max_num_queries(2):
        found = rec.product_suggestions(
            product_ids=[p.pk for p in [*many, *store.values()]], category_ids=[None]
        )
    assert found == []


# --- The product page -----------------------------------------------------------------------


def test_product_page_shows_often_bought_with_and_one_tap_add(client, store):
    spaghetti = store["Spaghetti"]

    page = client.get(reverse("catalog:product_detail", kwargs={"slug": spaghetti.slug})).text

    assert "Often bought with Spaghetti" in page
    sauce = store["Tomato sauce"]
    assert f'action="{reverse("carts:line_add", args=[sauce.pk])}"' in page
    assert page.index("Tomato sauce") < page.index("Parmesan")


def test_product_page_of_a_product_never_bought_shows_best_sellers(client, store):
    new = ProductFactory(name="New pasta", category=store["Spaghetti"].category)

    page = client.get(reverse("catalog:product_detail", kwargs={"slug": new.slug})).text

    assert "Popular right now" in page
    assert "Often bought with" not in page
