"""The demo store's purchase history: loaded once, learnt from, and shown on the cart page."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from carts.services import cart_add_product, cart_get_for_user
from catalog import demo_data
from catalog.models import Product, ProductPairScore, RecommendationBuild
from catalog.suggestions import REASON_BOUGHT_WITH, product_suggestions
from orders.models import Order, OrderLine, Payment

pytestmark = pytest.mark.django_db


def load(**options) -> str:
    out = StringIO()
    call_command("load_demo_store", stdout=out, **options)
    return out.getvalue()


def test_history_is_deterministic_and_names_only_demo_products():
    history = demo_data.demo_history()
    slugs = {product.slug for product in demo_data.PRODUCTS}

    assert history == demo_data.demo_history()
    assert len(history) == demo_data.DEMO_HISTORY_ORDERS
    assert all(slug in slugs for order in history for slug, _ in order.lines)
    assert all(slug in slugs for mission in demo_data.DEMO_MISSIONS for slug, _ in mission.items)
    assert len({order.number for order in history}) == len(history)
    assert {order.email for order in history} == {s.email for s in demo_data.DEMO_SHOPPERS}


def test_load_creates_paid_orders_with_snapshot_lines_and_learns_from_them():
    output = load()

    orders = Order.objects.filter(number__startswith="DEMO-")
    assert orders.count() == demo_data.DEMO_HISTORY_ORDERS
    assert set(orders.values_list("status", flat=True)) == {Order.Status.PAID}
    assert not orders.filter(user__isnull=False).exists()  # history shoppers have no accounts
    line = OrderLine.objects.select_related("product").filter(order__number="DEMO-0001")[0]
    product = line.product
    assert product is not None
    assert line.product_name == product.name and line.total == line.unit_price * line.quantity
    assert line.gtin == product.barcodes.values_list("gtin", flat=True)[0]
    payment = Payment.objects.get(order__number="DEMO-0001")
    assert (payment.status, payment.amount) == (Payment.Status.SUCCEEDED, line.order.total)
    assert "300 created, 0 unchanged" in output
    build = RecommendationBuild.objects.get()
    assert build.orders == demo_data.DEMO_HISTORY_ORDERS
    assert f"Recommendations: learnt from {build.orders} paid orders" in output


def test_second_load_adds_no_orders_and_keeps_the_model():
    load()
    pairs = list(ProductPairScore.objects.values_list("pk", flat=True))

    output = load()

    assert Order.objects.count() == demo_data.DEMO_HISTORY_ORDERS
    assert "0 created, 300 unchanged" in output
    assert "Recommendations: up to date." in output
    assert list(ProductPairScore.objects.values_list("pk", flat=True)) == pairs
    assert RecommendationBuild.objects.count() == 1


def test_a_deleted_demo_order_comes_back_and_the_model_is_learnt_again():
    load()
    Payment.objects.filter(order__number="DEMO-0100").delete()  # payments protect orders
    Order.objects.filter(number="DEMO-0100").delete()

    output = load()

    assert Order.objects.filter(number="DEMO-0100").exists()
    assert "1 created, 299 unchanged" in output
    assert RecommendationBuild.objects.count() == 2


def test_catalog_only_load_makes_no_history(settings):
    settings.PRODUCTION = True

    output = load(no_accounts=True)

    assert not Order.objects.exists()
    assert not RecommendationBuild.objects.exists()
    assert "Purchase history" not in output


def test_demo_suggestions_make_sense():
    load()

    def suggested(slug: str) -> list[str]:
        product = Product.objects.get(slug=slug)
        found = product_suggestions(product_ids=[product.pk], category_ids=[product.category_id])
        assert {s.reason for s in found} == {REASON_BOUGHT_WITH}
        return [s.product.slug for s in found]

    assert suggested("spaghetti")[0] == "chopped-tomatoes"
    assert suggested("butter-croissants")[0] == "orange-juice"
    assert "kitchen-roll" in suggested("washing-up-liquid")[:2]
    # The sponges are bought with it too, but they are out of stock.
    assert "sponge-scourers" not in suggested("washing-up-liquid")


def test_demo_cart_page_shows_often_bought_with(client):
    load()
    alice = get_user_model().objects.get(username=demo_data.DEMO_SHOPPER_EMAIL)
    cart_add_product(
        cart=cart_get_for_user(user=alice), product=Product.objects.get(slug="spaghetti")
    )
    client.force_login(alice)

    page = client.get(reverse("carts:detail")).text

    assert "Often bought with what\u2019s in your cart" in page
    assert "Chopped tomatoes, 400 g tin" in page
