"""“Often bought with”: the EASE model, training from paid orders, and serving it."""

from io import StringIO

import numpy as np
import pytest
import scipy.sparse as sp
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from catalog import suggestions as rec
from catalog.models import ProductPairScore, ProductPopularity, RecommendationBuild
from orders.models import Order
from orders.recommendations import ease
from orders.recommendations.rebuild import HISTORY_DAYS, recommendations_rebuild
from orders.tasks import recommendations_rebuild as recommendations_rebuild_task
from shopcart.celery import app as celery_app
from tests.factories import CategoryFactory, ProductFactory
from tests.orders.support import paid_order


def scores() -> dict[tuple[str, str], float]:
    rows = ProductPairScore.objects.select_related("product", "other")
    return {(row.product.name, row.other.name): round(row.score, 4) for row in rows}


def names(suggestions: list[rec.Suggestion]) -> list[str]:
    return [suggestion.product.name for suggestion in suggestions]


def ranked(model: ease.NeighbourModel, product: int) -> list[int]:
    return [n.product_id for n in model.neighbours.get(product, [])]


# --- The model (no database) ------------------------------------------------------------------


def test_lines_ordered_by_order_become_baskets():
    rows = [(1, 10), (1, 11), (1, 10), (2, 11), (5, 12), (5, 13)]

    assert list(ease.baskets_from_lines(rows)) == [{10, 11}, {11}, {12, 13}]


@pytest.mark.parametrize("double_max", [ease.DOUBLE_MAX, 0])  # float64, then float32
def test_weights_are_the_closed_form_of_ease(monkeypatch, double_max):
    monkeypatch.setattr(ease, "DOUBLE_MAX", double_max)
    rng = np.random.default_rng(1)
    orders = (rng.random((400, 60)) < 0.08).astype(float)
    gram = orders.T @ orders
    # B = I - P diag(1/diag(P)), P = (G + λI)⁻¹, λ = 0.3 x the mean diagonal.
    inverse = np.linalg.inv(gram + 0.3 * gram.diagonal().mean() * np.eye(60))
    expected = -inverse / inverse.diagonal()[None, :]
    np.fill_diagonal(expected, 0.0)
    blocks = ease.ease_weights_rows(
        sp.csr_matrix(gram, dtype=np.float32 if double_max == 0 else np.float64),
        regularisation=0.3,
        block_rows=7,  # blocks that straddle the diagonal
    )

    weights = np.vstack([block for _, block in blocks])

    assert np.allclose(weights, expected, atol=1e-5 if double_max == 0 else 1e-12)


PASTA, SAUCE, PARMESAN, MILK, CEREAL, BREAD = 1, 2, 3, 4, 5, 6

# Pasta night (pasta and sauce, parmesan with some), breakfast (milk and cereal), milk alone.
HAND_MADE = (
    [{PASTA, SAUCE}] * 5
    + [{PASTA, SAUCE, PARMESAN}] * 3
    + [{PASTA, PARMESAN}]
    + [{MILK, CEREAL}] * 4
    + [{MILK}] * 6
    + [{CEREAL}]
    + [{MILK, PASTA}]
)


def test_ranking_on_a_hand_made_basket_set():
    model = ease.ease_train(HAND_MADE, regularisation=0.5)

    assert ranked(model, PASTA) == [SAUCE, PARMESAN, MILK]
    assert ranked(model, SAUCE)[0] == PASTA
    assert ranked(model, PARMESAN)[:2] == [PASTA, SAUCE]
    assert ranked(model, MILK) == [CEREAL, PASTA]
    assert ranked(model, CEREAL) == [MILK]
    assert (model.orders, model.lines) == (21, 38)
    assert model.popularity == {PASTA: 10, SAUCE: 8, PARMESAN: 4, MILK: 11, CEREAL: 5}


def test_a_pair_counts_for_less_once_the_rest_of_the_cart_explains_it():
    # Sauce comes with pasta every time; parmesan mostly with both. Parmesan's weight from
    # sauce is what sauce adds to pasta, so a cart of pasta and sauce does not count the
    # pasta-night evidence twice, as summed pair counts would.
    model = ease.ease_train(HAND_MADE, regularisation=0.5)
    weight = {(a, n.product_id): n.score for a, rows in model.neighbours.items() for n in rows}

    assert weight[(SAUCE, PARMESAN)] < weight[(PASTA, PARMESAN)]
    together = {(a, n.product_id): n.together for a, rows in model.neighbours.items() for n in rows}
    assert together[(SAUCE, PARMESAN)] == 3 and together[(PASTA, PARMESAN)] == 4


def test_neighbours_were_bought_together_and_have_positive_weights():
    model = ease.ease_train(HAND_MADE, regularisation=0.5)

    rows = [n for neighbours in model.neighbours.values() for n in neighbours]
    assert all(n.score > 0 and n.together >= 1 for n in rows)
    # Cereal and sauce were never bought together, whatever the model's weight.
    assert SAUCE not in ranked(model, CEREAL) and CEREAL not in ranked(model, SAUCE)


def test_each_product_keeps_its_best_neighbours_best_first():
    model = ease.ease_train(HAND_MADE, regularisation=0.5, neighbours=1)

    assert ranked(model, PASTA) == [SAUCE]
    assert all(len(rows) == 1 for rows in model.neighbours.values())


def test_a_huge_basket_counts_for_popularity_but_not_the_model():
    huge = set(range(1, ease.BASKET_PAIRS_MAX + 2))

    model = ease.ease_train([huge, huge])

    assert model.popularity[1] == 2
    assert model.neighbours == {}


def test_only_the_products_in_most_orders_are_modelled():
    model = ease.ease_train(HAND_MADE, regularisation=0.5, products_max=3)

    # Milk (11), pasta (10), sauce (8): parmesan and cereal get no neighbours, nor are they one.
    assert set(model.neighbours) == {MILK, PASTA, SAUCE}
    assert ranked(model, PASTA) == [SAUCE, MILK]
    assert model.popularity[CEREAL] == 5


def test_training_on_the_same_baskets_gives_the_same_model():
    assert ease.ease_train(HAND_MADE) == ease.ease_train(list(reversed(HAND_MADE)))


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

    build = recommendations_rebuild()

    assert set(scores()) == {("Spaghetti", "Tomato sauce"), ("Tomato sauce", "Spaghetti")}
    assert dict(ProductPopularity.objects.values_list("product__name", "orders")) == {
        "Spaghetti": 2,
        "Tomato sauce": 2,
    }
    assert (build.orders, build.lines, build.products, build.pairs) == (2, 4, 2, 2)


def test_rebuild_forgets_orders_older_than_the_history(pasta, sauce, cheese):
    paid_order(pasta, sauce, days_ago=HISTORY_DAYS + 1)
    paid_order(pasta, sauce, days_ago=HISTORY_DAYS + 1)
    paid_order(pasta, cheese, days_ago=HISTORY_DAYS - 1)
    paid_order(pasta, cheese, days_ago=HISTORY_DAYS - 1)

    recommendations_rebuild()

    assert set(scores()) == {("Spaghetti", "Parmesan"), ("Parmesan", "Spaghetti")}


def test_lines_of_deleted_products_are_skipped(pasta, sauce, cheese):
    for _ in range(2):
        paid_order(pasta, sauce, cheese)
    cheese.delete()  # the order lines keep their snapshot, with no product

    recommendations_rebuild()

    assert set(scores()) == {("Spaghetti", "Tomato sauce"), ("Tomato sauce", "Spaghetti")}


def test_rebuild_replaces_the_old_model(pasta, sauce, cheese):
    paid_order(pasta, sauce)
    paid_order(pasta, sauce)
    recommendations_rebuild()
    Order.objects.update(status=Order.Status.REFUNDED)
    paid_order(pasta, cheese)
    paid_order(pasta, cheese)

    recommendations_rebuild()
    recommendations_rebuild()  # idempotent

    assert set(scores()) == {("Spaghetti", "Parmesan"), ("Parmesan", "Spaghetti")}
    assert ProductPopularity.objects.count() == 2
    assert RecommendationBuild.objects.count() == 3


def test_rebuild_with_no_orders_empties_the_model(pasta, sauce):
    ProductPairScore.objects.create(product=pasta, other=sauce, score=0.5, together=3)

    build = recommendations_rebuild()

    assert not ProductPairScore.objects.exists()
    assert (build.orders, build.pairs) == (0, 0)


def test_task_rebuilds_and_is_scheduled(pasta, sauce):
    paid_order(pasta, sauce)
    paid_order(pasta, sauce)

    build_id = recommendations_rebuild_task.delay().get()

    assert RecommendationBuild.objects.get().pk == build_id
    schedule = settings.CELERY_BEAT_SCHEDULE["orders-recommendations-rebuild"]
    assert schedule["task"] == "orders.tasks.recommendations_rebuild"
    assert schedule["task"] in celery_app.tasks


def test_command_prints_progress_and_what_it_learnt(pasta, sauce, monkeypatch):
    monkeypatch.setattr(ease, "PROGRESS_EVERY", 1)
    paid_order(pasta, sauce)
    paid_order(pasta, sauce)
    out = StringIO()

    call_command("recommendations_rebuild", stdout=out)

    text = out.getvalue()
    assert "Read 1 orders…" in text and "Read 2 orders…" in text
    assert "Fitted on 2 orders; writing 2 neighbour rows…" in text
    assert f"Learnt from 2 paid orders of the last {HISTORY_DAYS} days: 2 products sold" in text


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
    recommendations_rebuild()
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
    cache.clear()  # rows written by hand, not by a rebuild: read them afresh

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


def test_one_query_when_the_cache_is_warm(store, django_assert_num_queries):
    first = suggest(store, "Spaghetti", "Milk", limit=5)

    with django_assert_num_queries(1):  # the suggested products, active and in stock
        again = suggest(store, "Spaghetti", "Milk", limit=5)

    assert again == first


def test_the_rebuild_fills_the_cache_with_every_neighbour_list(store, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = suggest(store, "Penne", limit=1)

    assert names(found) == ["Pesto"]


def test_a_product_never_sold_gets_best_sellers_in_one_query(store, django_assert_num_queries):
    new = ProductFactory(name="Fusilli", category=store["Penne"].category)
    recommendations_rebuild()  # the cache knows it has no neighbours, and the best sellers

    with django_assert_num_queries(1):
        found = rec.product_suggestions(product_ids=[new.pk], category_ids=[new.category_id])

    assert {s.reason for s in found} == {rec.REASON_POPULAR_IN_CATEGORY}


def test_a_cold_cache_costs_five_queries_at_most_whatever_the_cart(
    store, django_assert_max_num_queries
):
    many = [ProductFactory(category=CategoryFactory()) for _ in range(30)]
    held = [*many, *store.values()]
    cache.clear()

    with django_assert_max_num_queries(5):
        found = rec.product_suggestions(
            product_ids=[p.pk for p in held], category_ids=[p.category_id for p in held]
        )

    assert found == []


def test_a_new_build_is_served_at_once(store):
    assert names(suggest(store, "Olive oil", limit=1)) == ["Spaghetti"]  # no neighbours
    for _ in range(2):
        paid_order(store["Olive oil"], store["Pesto"])

    recommendations_rebuild()

    assert names(suggest(store, "Olive oil", limit=1)) == ["Pesto"]


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
