"""``manage.py load_demo_store``: a believable store with valid barcodes, safe to run again."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog import demo_data
from catalog.barcodes import gs1_check_digit, gtin_normalise
from catalog.models import LOW_STOCK_THRESHOLD, Barcode, Category, Product
from catalog.selectors import product_get_by_barcode
from shopcart.management.commands.load_demo_store import ERROR_PRODUCTION

pytestmark = pytest.mark.django_db

User = get_user_model()


def load(**options) -> str:
    out = StringIO()
    call_command("load_demo_store", stdout=out, **options)
    return out.getvalue()


def sign_in(client, email: str, password: str, next_url: str = "") -> str:
    """Sign in through allauth's form; returns where it sends the browser next."""
    data = {"login": email, "password": password, **({"next": next_url} if next_url else {})}
    return client.post(reverse("account_login"), data)["Location"]


def snapshot() -> dict[str, list]:
    """Every row the command writes, with the timestamps a needless save would move."""
    return {
        "categories": list(Category.objects.values_list("pk", "slug", "name")),
        "products": list(Product.objects.order_by("pk").values()),
        "barcodes": list(Barcode.objects.values_list("pk", "gtin", "product_id")),
        "users": list(User.objects.order_by("pk").values()),
        "groups": list(Group.objects.values_list("pk", "name")),
    }


def test_loads_about_40_products_in_6_categories():
    load()

    assert Product.objects.count() == len(demo_data.PRODUCTS) >= 35
    assert Category.objects.count() == len(demo_data.CATEGORIES) == 6
    assert not Product.objects.filter(category=None).exists()
    assert Product.objects.filter(active=True).count() == Product.objects.count()


def test_every_barcode_is_a_valid_canonical_gtin_14():
    load()

    gtins = list(Barcode.objects.values_list("gtin", flat=True))
    assert len(gtins) >= Product.objects.count()
    for gtin in gtins:
        assert len(gtin) == 14 and gtin.isdigit(), gtin
        assert int(gtin[-1]) == gs1_check_digit(gtin[:-1]), gtin
        assert gtin_normalise(gtin).gtin == gtin


def test_every_product_has_a_barcode_and_a_real_price():
    load()

    assert not Product.objects.filter(barcodes=None).exists()
    assert not Product.objects.filter(price__lte=Decimal("0")).exists()
    assert Product.objects.exclude(description="").count() == Product.objects.count()


def test_demo_barcodes_come_in_upc_a_and_ean_8_forms_too():
    load()

    formats = {
        gtin_normalise(code).source_format for p in demo_data.PRODUCTS for code in p.barcodes
    }
    assert formats == {"EAN-13", "UPC-A", "EAN-8"}
    # The README's example: the UPC-A on the pack and its EAN-13 form find the same tea.
    tea = product_get_by_barcode(text="036602301467")
    assert tea is not None
    assert product_get_by_barcode(text="0036602301467") == tea


def test_stock_levels_include_out_of_stock_and_low_stock():
    load()

    assert Product.objects.filter(stock=0).count() >= 3
    assert Product.objects.filter(stock__gt=0, stock__lte=LOW_STOCK_THRESHOLD).count() >= 3
    assert Product.objects.filter(stock__gt=LOW_STOCK_THRESHOLD).count() >= 20


def test_second_run_changes_nothing():
    load()
    before = snapshot()

    output = load()

    assert snapshot() == before
    assert "products: 0 created, 0 updated, 40 unchanged" in output
    assert "barcodes: 0 created, 0 updated" in output


def test_second_run_restores_an_edited_demo_product():
    load()
    Product.objects.filter(slug="bananas").update(price=Decimal("9.99"), stock=0)

    output = load()

    bananas = Product.objects.get(slug="bananas")
    assert (bananas.price, bananas.stock) == (Decimal("1.49"), 60)
    assert "products: 0 created, 1 updated, 39 unchanged" in output


def test_demo_accounts_exist_and_can_log_in(client):
    load()

    staff = User.objects.get(username=demo_data.DEMO_STAFF_EMAIL)
    alice = User.objects.get(username=demo_data.DEMO_SHOPPER_EMAIL)
    assert staff.email == staff.username and alice.email == alice.username
    assert staff.is_staff and not alice.is_staff
    assert list(staff.groups.values_list("name", flat=True)) == ["Store manager"]
    assert not alice.groups.exists()
    assert sign_in(client, alice.email, demo_data.DEMO_SHOPPER_PASSWORD) == reverse("catalog:home")
    client.post(reverse("account_logout"))
    # The staff account is a store manager: password, then the demo authenticator's code.
    admin = reverse("admin:index")
    assert sign_in(client, staff.email, demo_data.DEMO_STAFF_PASSWORD, admin) == reverse(
        "mfa_authenticate"
    )
    code = StringIO()
    call_command("demo_totp_code", stdout=code, stderr=StringIO())
    response = client.post(reverse("mfa_authenticate"), {"code": code.getvalue().strip()})
    assert response["Location"] == admin
    assert client.get(admin).status_code == 200


def test_existing_store_manager_group_is_reused():
    # The staff-groups migration creates it; the command must not make a second one.
    managers, _ = Group.objects.get_or_create(name="Store manager")

    load()

    assert Group.objects.filter(name="Store manager").count() == 1
    assert User.objects.get(username=demo_data.DEMO_STAFF_EMAIL).groups.get() == managers


def test_second_run_puts_back_a_changed_demo_password():
    load()
    alice = User.objects.get(username=demo_data.DEMO_SHOPPER_EMAIL)
    alice.set_password("something else")
    alice.save()

    output = load()

    alice.refresh_from_db()
    assert alice.check_password(demo_data.DEMO_SHOPPER_PASSWORD)
    assert (
        f"{demo_data.DEMO_SHOPPER_EMAIL} / {demo_data.DEMO_SHOPPER_PASSWORD}  (updated)" in output
    )


def test_prints_progress_logins_and_urls(settings):
    settings.SITE_URL = "http://shop.test:8000"

    output = load()

    assert "Loaded 40 products in 6 categories; products: 40 created" in output
    assert f"{demo_data.DEMO_STAFF_EMAIL} / {demo_data.DEMO_STAFF_PASSWORD}" in output
    assert f"{demo_data.DEMO_SHOPPER_EMAIL} / {demo_data.DEMO_SHOPPER_PASSWORD}" in output
    assert "http://shop.test:8000/admin/" in output
    assert "http://shop.test:8000/api/docs/" in output
    assert "simulate_cart --demo --server http://shop.test:8000\n" in output


def test_refuses_in_production_and_writes_nothing(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError) as error:
        load()

    assert str(error.value) == ERROR_PRODUCTION
    assert not Product.objects.exists()
    assert not User.objects.exists()


def test_no_accounts_loads_only_the_catalog_even_in_production(settings):
    settings.PRODUCTION = True

    output = load(no_accounts=True)

    assert Product.objects.count() == len(demo_data.PRODUCTS)
    assert not User.objects.exists()
    assert "Demo accounts" not in output


def test_barcode_helpers_refuse_a_payload_of_the_wrong_length():
    assert demo_data.ean13("400638133393") == "4006381333931"
    with pytest.raises(ValueError, match="is not a 12-digit barcode payload"):
        demo_data.ean13("4006381333931")
