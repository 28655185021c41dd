"""Shopper pages: the home page (search, categories, paging) and the product page."""

from decimal import Decimal

import pytest
from django.contrib import messages
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse

from catalog.views import PRODUCTS_PER_PAGE
from shopcart.core.money import money_format
from tests.factories import BarcodeFactory, CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

HOME = reverse("catalog:home")


def listed(response) -> list[str]:
    return [product.name for product in response.context["page"].object_list]


def detail_url(product) -> str:
    return reverse("catalog:product_detail", kwargs={"slug": product.slug})


# --- Home page ------------------------------------------------------------------------------


def test_home_lists_active_products_only(client):
    ProductFactory(name="Oat milk")
    ProductFactory(name="Old cereal", active=False)

    response = client.get(HOME)

    assert response.status_code == 200
    assert listed(response) == ["Oat milk"]
    assert "Old cereal" not in response.text


def test_home_card_shows_name_price_and_link(client, settings):
    settings.STORE_CURRENCY = "EUR"
    product = ProductFactory(name="Oat milk", price=Decimal("1.80"))

    response = client.get(HOME)

    assert "€1.80" in response.text
    assert f'href="{detail_url(product)}"' in response.text


def test_home_search_by_name_ignores_case(client):
    ProductFactory(name="Oat milk")
    ProductFactory(name="Rye bread")

    response = client.get(HOME, {"q": "MILK"})

    assert listed(response) == ["Oat milk"]
    assert 'value="MILK"' in response.text  # the search box keeps what was typed


def test_home_search_by_upc_a_finds_product_stored_from_ean13(client):
    BarcodeFactory(gtin="00036602301467", product__name="Breakfast tea")  # EAN-13 0036602301467
    ProductFactory(name="Coffee")

    response = client.get(HOME, {"q": "036602301467"})

    assert listed(response) == ["Breakfast tea"]


def test_home_category_filter_lists_that_category_and_marks_it_current(client):
    dairy = CategoryFactory(name="Dairy", slug="dairy")
    ProductFactory(name="Butter", category=dairy)
    ProductFactory(name="Bread", category=CategoryFactory(name="Bakery", slug="bakery"))

    response = client.get(HOME, {"category": "dairy"})

    assert listed(response) == ["Butter"]
    assert response.context["category"] == dairy
    assert 'href="?category=dairy" aria-current="page">Dairy</a>' in response.text


def test_home_category_links_keep_the_search(client):
    CategoryFactory(name="Dairy", slug="dairy")

    response = client.get(HOME, {"q": "milk", "page": "1"})

    assert 'href="?q=milk&amp;category=dairy"' in response.text


def test_home_all_chip_clears_the_category_but_keeps_the_search(client):
    CategoryFactory(name="Dairy", slug="dairy")

    response = client.get(HOME, {"q": "milk", "category": "dairy"})

    assert '<a class="chip" href="?q=milk">All</a>' in response.text


def test_home_unknown_category_lists_nothing(client):
    ProductFactory(name="Butter")

    response = client.get(HOME, {"category": "no-such-thing"})

    assert response.status_code == 200
    assert listed(response) == []


def test_home_empty_search_names_the_query(client):
    ProductFactory(name="Butter")

    response = client.get(HOME, {"q": "caviar"})

    assert listed(response) == []
    assert "No products match “caviar”." in response.text


def test_home_empty_search_in_a_category_names_both(client):
    CategoryFactory(name="Dairy", slug="dairy")

    response = client.get(HOME, {"q": "caviar", "category": "dairy"})

    assert "No products match “caviar” in Dairy." in response.text


def test_home_escapes_the_query(client):
    response = client.get(HOME, {"q": "<script>x</script>"})

    assert "<script>x</script>" not in response.text
    assert "&lt;script&gt;x&lt;/script&gt;" in response.text


def test_home_shows_out_of_stock_and_low_stock_badges(client):
    ProductFactory(name="Gone", stock=0)
    ProductFactory(name="Scarce", stock=3)
    ProductFactory(name="Plenty", stock=50)

    response = client.get(HOME)

    assert response.text.count("Out of stock") == 1
    assert "Only 3 left" in response.text
    assert "Only 50 left" not in response.text


def test_home_paginates_and_page_links_keep_the_search(client):
    for n in range(PRODUCTS_PER_PAGE + 1):
        ProductFactory(name=f"Milk {n:02d}")

    first = client.get(HOME, {"q": "milk"})
    second = client.get(HOME, {"q": "milk", "page": "2"})

    assert len(listed(first)) == PRODUCTS_PER_PAGE
    assert 'href="?q=milk&amp;page=2" rel="next"' in first.text
    assert listed(second) == [f"Milk {PRODUCTS_PER_PAGE:02d}"]
    assert "Page 2 of 2" in second.text


def test_home_page_number_out_of_range_shows_the_last_page(client):
    ProductFactory(name="Butter")

    response = client.get(HOME, {"page": "99"})

    assert listed(response) == ["Butter"]


def test_home_query_count_does_not_grow_with_products(client, django_assert_max_num_queries):
    for _ in range(PRODUCTS_PER_PAGE):
        BarcodeFactory()

    with django_assert_max_num_queries(4):  # count, categories, products, barcodes
        client.get(HOME, {"q": "product"})


def test_home_refuses_post(client):
    assert client.post(HOME).status_code == 405


def test_staff_see_the_admin_link_and_shoppers_do_not(client):
    admin_link = f'href="{reverse("admin:index")}"'
    assert admin_link not in client.get(HOME).text

    client.force_login(UserFactory(username="shopper@example.com"))
    assert admin_link not in client.get(HOME).text

    client.force_login(UserFactory(username="boss@example.com", is_staff=True))
    assert admin_link in client.get(HOME).text


def test_base_layout_shows_messages(rf):
    request = rf.get(HOME)
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    MessageMiddleware(lambda r: HttpResponse()).process_request(request)
    messages.success(request, "Your cart is ready.")

    html = render_to_string("base.html", request=request)

    assert '<p class="message message--success">Your cart is ready.</p>' in html


# --- Product page ---------------------------------------------------------------------------


def test_product_page_shows_the_product(client):
    product = ProductFactory(
        name="Greek yoghurt",
        price=Decimal("2.29"),
        stock=24,
        description="Thick and creamy.",
        category=CategoryFactory(name="Dairy", slug="dairy"),
    )
    BarcodeFactory(product=product, gtin="04012345002042")
    BarcodeFactory(product=product, gtin="00036602301467")

    response = client.get(detail_url(product))

    assert response.status_code == 200
    text = response.text
    assert '<h1 class="product__name">Greek yoghurt</h1>' in text
    assert money_format(Decimal("2.29")) in text
    assert "In stock" in text
    assert "<p>Thick and creamy.</p>" in text
    assert f'href="{HOME}?category=dairy">Dairy</a>' in text
    assert "Barcodes (GTIN)" in text
    assert "<code>00036602301467</code>" in text
    assert "<code>04012345002042</code>" in text


@pytest.mark.parametrize(("stock", "status"), [(0, "Out of stock"), (2, "Only 2 left")])
def test_product_page_shows_low_and_no_stock(client, stock, status):
    product = ProductFactory(stock=stock)

    response = client.get(detail_url(product))

    assert status in response.text
    assert "In stock" not in response.text


def test_product_page_of_inactive_product_is_404(client):
    product = ProductFactory(active=False)

    response = client.get(detail_url(product))

    assert response.status_code == 404
    assert "Page not found" in response.text


def test_product_page_of_unknown_slug_is_404(client):
    response = client.get(reverse("catalog:product_detail", kwargs={"slug": "no-such-thing"}))

    assert response.status_code == 404
    assert "Page not found" in response.text


def test_product_page_refuses_post(client):
    assert client.post(detail_url(ProductFactory())).status_code == 405
