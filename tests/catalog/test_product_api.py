"""Staff product API at /api/v1/products/: staff with model permissions only, 400s per field."""

from decimal import Decimal

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from rest_framework import serializers
from rest_framework.authtoken.models import Token

from catalog import services
from catalog.api import (
    ERROR_CATALOG_CONFLICT,
    ERROR_CATEGORY_UNKNOWN,
    ERROR_PRICE_DECIMAL_PLACES,
    ERROR_PRICE_NEGATIVE,
    ERROR_PRODUCT_NOT_FOUND,
    ERROR_STOCK_NEGATIVE,
)
from catalog.barcodes import ERROR_CHECK_DIGIT
from catalog.models import Barcode, Product
from catalog.services import ERROR_BARCODE_REPEATED, ERROR_BARCODE_TAKEN
from shopcart.core.staff_mfa import ERROR_API_MFA_AUTHENTICATE, ERROR_API_MFA_REQUIRED
from tests.factories import BarcodeFactory, CategoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("catalog-api:product_list")
UPC_A = "036602301467"
EAN_13 = "0036602301467"
GTIN_14 = "00036602301467"
REQUIRED = serializers.Field.default_error_messages["required"]


def detail_url(product_id: int) -> str:
    return reverse("catalog-api:product_detail", kwargs={"id": product_id})


def gtins(product: Product) -> list[str]:
    return sorted(product.barcodes.values_list("gtin", flat=True))


@pytest.fixture
def product():
    product = ProductFactory(
        name="Oat milk",
        slug="oat-milk",
        description="Barista edition.",
        category=CategoryFactory(slug="dairy", name="Dairy"),
        price=Decimal("1.99"),
        stock=24,
    )
    BarcodeFactory(product=product, gtin=GTIN_14)
    return product


def every_operation(product_id: int) -> list[tuple[str, str, dict]]:
    body = {"name": "Changed", "price": "1.00"}
    return [
        ("get", LIST_URL, {}),
        ("post", LIST_URL, body),
        ("get", detail_url(product_id), {}),
        ("put", detail_url(product_id), body),
        ("patch", detail_url(product_id), body),
        ("delete", detail_url(product_id), {}),
    ]


def send(client: Client, method: str, url: str, body: dict, **headers: str):
    if method in ("get", "delete"):
        return getattr(client, method)(url, headers=headers)
    return getattr(client, method)(url, body, content_type="application/json", headers=headers)


# --- Who may do what ---------------------------------------------------------------------------


def test_anonymous_gets_401_with_www_authenticate_for_every_operation(client, product):
    for method, url, body in every_operation(product.pk):
        response = send(client, method, url, body)

        assert response.status_code == 401, (method, url)
        assert response["WWW-Authenticate"] == "Token", (method, url)
    product.refresh_from_db()
    assert (product.name, product.active) == ("Oat milk", True)


def test_non_staff_shopper_gets_403_for_every_operation(alice_client, product):
    for method, url, body in every_operation(product.pk):
        assert send(alice_client, method, url, body).status_code == 403, (method, url)
    product.refresh_from_db()
    assert (product.name, product.active) == ("Oat milk", True)


def test_non_staff_user_holding_model_permissions_is_still_refused(alice, product):
    alice.user_permissions.add(*Permission.objects.filter(codename__endswith="_product"))
    client = Client()
    client.force_login(alice)

    for method, url, body in every_operation(product.pk):
        assert send(client, method, url, body).status_code == 403, (method, url)


def test_clerk_reads_but_cannot_write(clerk_client, product):
    for method, url, body in every_operation(product.pk):
        expected = 200 if method == "get" else 403
        assert send(clerk_client, method, url, body).status_code == expected, (method, url)
    product.refresh_from_db()
    assert (product.name, product.active) == ("Oat milk", True)
    assert Product.objects.count() == 1


def test_staff_without_view_permission_cannot_read(product):
    client = Client()
    client.force_login(UserFactory(is_staff=True))

    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(product.pk)).status_code == 403


def test_staff_with_only_change_permission_can_patch_but_not_read_or_create(product):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_product"))
    client = Client()
    client.force_login(user)

    assert client.patch(detail_url(product.pk), {"stock": 3}, "application/json").status_code == 200
    assert client.get(LIST_URL).status_code == 403
    assert client.post(LIST_URL, {"name": "X", "price": "1"}, "application/json").status_code == 403


def test_manager_may_do_every_operation(staff_client, product):
    expected = {"get": 200, "post": 201, "put": 400, "patch": 200, "delete": 204}
    for method, url, body in every_operation(product.pk):
        # PUT with only name and price is refused for its content, not for who sent it.
        assert send(staff_client, method, url, body).status_code == expected[method], (method, url)


def _unchanged(product: Product) -> bool:
    product.refresh_from_db()
    return (product.name, product.active, Product.objects.count()) == ("Oat milk", True, 1)


def test_manager_without_totp_is_refused_every_operation_with_the_reason(staff, product):
    Authenticator.objects.filter(user=staff).delete()
    client = Client()
    client.force_login(staff)

    for method, url, body in every_operation(product.pk):
        response = send(client, method, url, body)
        assert response.status_code == 403, (method, url)
        assert response.json() == {"detail": ERROR_API_MFA_REQUIRED}, (method, url)
    assert _unchanged(product)


def test_manager_session_without_a_code_is_refused_every_operation_with_the_reason(staff, product):
    client = Client()
    client.force_login(staff)  # the password step only, as if TOTP came after it

    for method, url, body in every_operation(product.pk):
        response = send(client, method, url, body)
        assert response.status_code == 403, (method, url)
        assert response.json() == {"detail": ERROR_API_MFA_AUTHENTICATE}, (method, url)
    assert _unchanged(product)


def test_superuser_without_totp_is_refused(product):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.patch(detail_url(product.pk), {"name": "Changed"}, "application/json")

    assert response.status_code == 403
    assert response.json() == {"detail": ERROR_API_MFA_REQUIRED}
    assert _unchanged(product)


def test_token_of_a_manager_without_totp_opens_nothing(staff, product):
    token = Token.objects.create(user=staff)
    Authenticator.objects.filter(user=staff).delete()
    auth = {"Authorization": f"Token {token.key}"}

    for method, url, body in every_operation(product.pk):
        response = send(Client(), method, url, body, **auth)
        assert response.status_code == 403, (method, url)
        assert response.json() == {"detail": ERROR_API_MFA_REQUIRED}, (method, url)
    assert _unchanged(product)


def test_token_of_a_staff_user_authenticates(staff, product):
    token = Token.objects.create(user=staff)
    client = Client()
    auth = {"Authorization": f"Token {token.key}"}

    listed = client.get(LIST_URL, headers=auth)
    created = send(client, "post", LIST_URL, {"name": "Rye bread", "price": "3.10"}, **auth)

    assert listed.status_code == 200
    assert listed.json()["results"][0]["id"] == product.pk
    assert created.status_code == 201


def test_token_of_a_shopper_is_refused(alice):
    token = Token.objects.create(user=alice)

    response = Client().get(LIST_URL, headers={"Authorization": f"Token {token.key}"})

    assert response.status_code == 403


def test_unknown_token_is_401():
    response = Client().get(LIST_URL, headers={"Authorization": "Token not-a-real-key"})

    assert response.status_code == 401


def test_session_write_without_csrf_token_is_refused(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)

    response = send(client, "post", LIST_URL, {"name": "Rye bread", "price": "3.10"})

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Product.objects.exists()


def test_wrong_method_is_405(staff_client, product):
    assert staff_client.put(LIST_URL, {}, "application/json").status_code == 405
    assert staff_client.delete(LIST_URL).status_code == 405
    assert staff_client.post(detail_url(product.pk), {}, "application/json").status_code == 405


# --- List --------------------------------------------------------------------------------------


def test_list_answers_every_field_of_a_product(staff_client, product):
    response = staff_client.get(LIST_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["results"][0]
    assert item == {
        "id": product.pk,
        "name": "Oat milk",
        "slug": "oat-milk",
        "description": "Barista edition.",
        "category": {"slug": "dairy", "name": "Dairy"},
        "price": "1.99",
        "stock": 24,
        "active": True,
        "barcodes": [GTIN_14],
        "image": None,
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }
    assert item["created_at"].startswith(str(product.created_at.year))


def test_list_shows_null_category_and_absolute_image_url(staff_client):
    product = ProductFactory(category=None, image="products/oat.jpg")

    item = staff_client.get(detail_url(product.pk)).json()

    assert item["category"] is None
    assert item["image"] == "http://testserver/media/products/oat.jpg"


def test_list_search_by_name(staff_client, product):
    ProductFactory(name="Rye bread")

    results = staff_client.get(LIST_URL, {"search": "OAT"}).json()["results"]

    assert [item["id"] for item in results] == [product.pk]


def test_list_filters_by_category_slug(staff_client, product):
    ProductFactory(category=CategoryFactory(slug="bakery"))

    results = staff_client.get(LIST_URL, {"category": "dairy"}).json()["results"]

    assert [item["id"] for item in results] == [product.pk]


def test_list_shows_inactive_products_by_default_and_filters_on_active(staff_client, product):
    hidden = ProductFactory(name="Old milk", active=False)

    def ids(**params: str) -> list[int]:
        return [item["id"] for item in staff_client.get(LIST_URL, params).json()["results"]]

    assert ids() == [product.pk, hidden.pk]
    assert ids(active="true") == [product.pk]
    assert ids(active="false") == [hidden.pk]


def test_list_with_bad_active_value_is_400(staff_client):
    response = staff_client.get(LIST_URL, {"active": "perhaps"})

    assert response.status_code == 400
    assert response.json()["active"] == [serializers.BooleanField.default_error_messages["invalid"]]


def test_list_pages_by_page_size_capped_at_100(staff_client):
    ProductFactory.create_batch(102)

    first = staff_client.get(LIST_URL).json()
    small = staff_client.get(LIST_URL, {"page_size": 10, "page": 2}).json()
    capped = staff_client.get(LIST_URL, {"page_size": 500}).json()

    assert (first["count"], len(first["results"])) == (102, 25)
    assert len(small["results"]) == 10
    assert "page=3" in small["next"]
    assert len(capped["results"]) == 100


def test_list_page_past_the_end_is_404(staff_client, product):
    assert staff_client.get(LIST_URL, {"page": 9}).status_code == 404


def test_list_query_count_does_not_grow_with_products(staff_client, django_assert_max_num_queries):
    for _ in range(20):
        BarcodeFactory(product=ProductFactory(category=CategoryFactory()))

    # session, user, the two-factor check, 2 permission lookups, count, products with
    # categories, their barcodes
    with django_assert_max_num_queries(8):
        response = staff_client.get(LIST_URL)

    assert len(response.json()["results"]) == 20
    assert all(len(item["barcodes"]) == 1 for item in response.json()["results"])


# --- Create ------------------------------------------------------------------------------------


def test_create_answers_201_with_location_and_the_product(staff_client):
    CategoryFactory(slug="dairy", name="Dairy")
    body = {
        "name": "Oat milk",
        "price": "1.99",
        "stock": 24,
        "barcodes": [UPC_A],
        "category": "dairy",
        "description": "Barista edition.",
        "active": True,
    }

    response = staff_client.post(LIST_URL, body, content_type="application/json")

    assert response.status_code == 201
    created = Product.objects.get()
    assert response["Location"] == f"http://testserver{detail_url(created.pk)}"
    assert response.json()["id"] == created.pk
    assert response.json()["barcodes"] == [GTIN_14]
    assert response.json()["category"] == {"slug": "dairy", "name": "Dairy"}
    assert (created.price, created.stock, created.slug) == (Decimal("1.99"), 24, "oat-milk")


def test_create_with_only_name_and_price_takes_defaults(staff_client):
    response = staff_client.post(LIST_URL, {"name": "Rye", "price": 3}, "application/json")

    assert response.status_code == 201
    item = response.json()
    assert (item["price"], item["stock"], item["active"]) == ("3.00", 0, True)
    assert (item["barcodes"], item["category"], item["description"]) == ([], None, "")


def test_created_upc_a_is_stored_as_gtin14_and_found_by_its_ean13(staff_client):
    staff_client.post(
        LIST_URL, {"name": "Oat milk", "price": "1.99", "barcodes": [UPC_A]}, "application/json"
    )

    assert list(Barcode.objects.values_list("gtin", flat=True)) == [GTIN_14]
    results = staff_client.get(LIST_URL, {"search": EAN_13}).json()["results"]
    assert [item["name"] for item in results] == ["Oat milk"]


def post_product(client: Client, **fields: object):
    return client.post(
        LIST_URL, {"name": "Oat milk", "price": "1.99", **fields}, "application/json"
    )


def test_create_without_name_and_price_is_400_per_field(staff_client):
    response = staff_client.post(LIST_URL, {}, "application/json")

    assert response.status_code == 400
    assert response.json() == {"name": [REQUIRED], "price": [REQUIRED]}


def test_create_with_negative_price_is_400(staff_client):
    response = post_product(staff_client, price="-0.01")

    assert response.status_code == 400
    assert response.json() == {"price": [ERROR_PRICE_NEGATIVE]}


def test_create_with_three_decimal_places_is_400(staff_client):
    response = post_product(staff_client, price="1.999")

    assert response.status_code == 400
    assert response.json() == {"price": [ERROR_PRICE_DECIMAL_PLACES]}


def test_create_with_negative_stock_is_400(staff_client):
    response = post_product(staff_client, stock=-1)

    assert response.status_code == 400
    assert response.json() == {"stock": [ERROR_STOCK_NEGATIVE]}


def test_create_with_wrong_types_is_400_per_field(staff_client):
    response = post_product(staff_client, price="cheap", stock="many", barcodes="036602301467")

    assert response.status_code == 400
    errors = response.json()
    assert errors["price"] == [serializers.DecimalField.default_error_messages["invalid"]]
    assert errors["stock"] == [serializers.IntegerField.default_error_messages["invalid"]]
    expected = serializers.ListField.default_error_messages["not_a_list"].format(input_type="str")
    assert errors["barcodes"] == [expected]


def test_create_with_bad_check_digit_is_400_under_barcodes(staff_client):
    response = post_product(staff_client, barcodes=["4006381333932"])

    assert response.status_code == 400
    assert response.json() == {
        "barcodes": [ERROR_CHECK_DIGIT.format(value="4006381333932", expected=1)]
    }
    assert not Product.objects.exists()


def test_create_with_the_same_barcode_twice_is_400(staff_client):
    response = post_product(staff_client, barcodes=[UPC_A, EAN_13])

    assert response.status_code == 400
    assert response.json() == {"barcodes": [ERROR_BARCODE_REPEATED.format(gtin=GTIN_14)]}


def test_create_with_a_barcode_of_another_product_is_400(staff_client, product):
    response = post_product(staff_client, name="Copy", barcodes=[UPC_A])

    assert response.status_code == 400
    expected = ERROR_BARCODE_TAKEN.format(gtin=GTIN_14, product="Oat milk")
    assert response.json() == {"barcodes": [expected]}
    assert Product.objects.count() == 1


def test_create_with_unknown_category_is_400(staff_client):
    response = post_product(staff_client, category="no-such-shelf")

    assert response.status_code == 400
    assert response.json() == {"category": [ERROR_CATEGORY_UNKNOWN.format(value="no-such-shelf")]}


def test_create_with_malformed_json_is_400(staff_client):
    response = staff_client.post(LIST_URL, '{"name": "Oat', content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_create_with_a_list_body_is_400(staff_client):
    response = staff_client.post(LIST_URL, [1, 2], content_type="application/json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_create_with_form_data_is_415(staff_client):
    response = staff_client.post(LIST_URL, {"name": "Oat milk", "price": "1.99"})

    assert response.status_code == 415


def test_create_losing_a_race_for_the_slug_is_409(staff_client, product, monkeypatch):
    # Another request took the slug between the uniqueness check and the insert.
    monkeypatch.setattr(services, "product_slug_unique", lambda name, exclude_pk=None: "oat-milk")

    response = post_product(staff_client)

    assert response.status_code == 409
    assert response.json() == {"detail": ERROR_CATALOG_CONFLICT}
    assert Product.objects.count() == 1


# --- Retrieve, update, deactivate --------------------------------------------------------------


def test_retrieve_answers_the_product(staff_client, product):
    response = staff_client.get(detail_url(product.pk))

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["barcodes"]) == (product.pk, [GTIN_14])


def test_unknown_id_is_404_json_for_every_detail_method(staff_client):
    for method in ("get", "put", "patch", "delete"):
        response = send(staff_client, method, detail_url(999_999), {"price": "1"})

        assert response.status_code == 404, method
        assert response.json() == {"detail": ERROR_PRODUCT_NOT_FOUND}, method


def test_id_beyond_the_integer_range_is_404(staff_client):
    response = staff_client.get(detail_url(10**30))

    assert response.status_code == 404


def test_put_replaces_every_field(staff_client, product):
    CategoryFactory(slug="bakery", name="Bakery")
    body = {
        "name": "Rye bread",
        "price": "3.10",
        "stock": 5,
        "barcodes": ["4006381333931"],
        "category": "bakery",
        "description": "",
        "active": False,
    }

    response = staff_client.put(detail_url(product.pk), body, "application/json")

    assert response.status_code == 200
    assert response.json()["barcodes"] == ["04006381333931"]
    assert response.json()["category"]["slug"] == "bakery"
    product.refresh_from_db()
    assert (product.name, product.price, product.stock) == ("Rye bread", Decimal("3.10"), 5)
    assert (product.description, product.active) == ("", False)
    assert product.slug == "oat-milk"
    assert gtins(product) == ["04006381333931"]


def test_put_without_every_field_is_400_and_changes_nothing(staff_client, product):
    response = staff_client.put(
        detail_url(product.pk), {"name": "Rye", "price": "3.10"}, "application/json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"stock", "barcodes", "category", "description", "active"}
    assert response.json()["stock"] == [REQUIRED]
    product.refresh_from_db()
    assert product.name == "Oat milk"


def test_patch_changes_only_the_fields_sent(staff_client, product):
    response = staff_client.patch(detail_url(product.pk), {"price": "2.49"}, "application/json")

    assert response.status_code == 200
    assert response.json()["price"] == "2.49"
    product.refresh_from_db()
    assert (product.price, product.name, product.stock) == (Decimal("2.49"), "Oat milk", 24)
    assert gtins(product) == [GTIN_14]


def test_patch_barcodes_replaces_the_list(staff_client, product):
    response = staff_client.patch(
        detail_url(product.pk), {"barcodes": [EAN_13, "4006381333931"]}, "application/json"
    )

    assert response.status_code == 200
    assert response.json()["barcodes"] == [GTIN_14, "04006381333931"]
    assert gtins(product) == [GTIN_14, "04006381333931"]


def test_patch_can_clear_the_category(staff_client, product):
    response = staff_client.patch(detail_url(product.pk), {"category": None}, "application/json")

    assert response.status_code == 200
    assert response.json()["category"] is None


def test_patch_with_a_barcode_of_another_product_is_400(staff_client, product):
    other = BarcodeFactory(gtin="04006381333931", product=ProductFactory(name="Rye")).product

    response = staff_client.patch(
        detail_url(other.pk), {"barcodes": [UPC_A]}, content_type="application/json"
    )

    assert response.status_code == 400
    expected = ERROR_BARCODE_TAKEN.format(gtin=GTIN_14, product="Oat milk")
    assert response.json() == {"barcodes": [expected]}
    assert gtins(other) == ["04006381333931"]


def test_patch_with_bad_values_is_400_per_field(staff_client, product):
    response = staff_client.patch(
        detail_url(product.pk), {"price": "-1", "category": "nope"}, "application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "price": [ERROR_PRICE_NEGATIVE],
        "category": [ERROR_CATEGORY_UNKNOWN.format(value="nope")],
    }


def test_delete_deactivates_and_the_product_stays_retrievable(staff_client, product):
    response = staff_client.delete(detail_url(product.pk))

    assert response.status_code == 204
    product.refresh_from_db()
    assert product.active is False
    retrieved = staff_client.get(detail_url(product.pk))
    assert retrieved.status_code == 200
    assert retrieved.json()["active"] is False
    assert retrieved.json()["barcodes"] == [GTIN_14]


def test_delete_twice_is_still_204(staff_client, product):
    staff_client.delete(detail_url(product.pk))

    assert staff_client.delete(detail_url(product.pk)).status_code == 204
