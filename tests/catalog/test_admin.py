"""The catalog admin through its real URLs: search, filters, barcode inline, images, clerks."""

import io
import os
import struct
import zlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from catalog.admin import MESSAGE_DEACTIVATED
from catalog.barcodes import ERROR_CHECK_DIGIT
from catalog.forms import ERROR_IMAGE_TOO_LARGE, ERROR_IMAGE_TOO_MANY_PIXELS
from catalog.models import Barcode, Product
from catalog.services import ERROR_BARCODE_REPEATED, ERROR_BARCODE_TAKEN
from tests.catalog.support import ADD, add_form_data
from tests.factories import BarcodeFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_product_changelist")
CATEGORY_CHANGELIST = reverse("admin:catalog_category_changelist")


def change_url(product: Product) -> str:
    return reverse("admin:catalog_product_change", args=[product.pk])


def listed(client, **params) -> list[Product]:
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def shows(response, message: str) -> bool:
    """Whether the page shows ``message`` (as the template escaped it)."""
    return escape(message) in response.content.decode()


def change_form_data(response, **overrides) -> dict:
    """What the browser would post back from a rendered change page, plus ``overrides``."""
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if name != "image"}
    data = {name: ("" if value is None else value) for name, value in data.items()}
    if data.get("active") is False:
        del data["active"]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({f"{formset.prefix}-{n}": management[n].value() for n in management.fields})
        for inline_form in formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                data[inline_form.add_prefix(name)] = "" if value is None else value
    data.update(overrides)
    return data


def png_bytes(width: int, height: int, *, noise: bool = False) -> bytes:
    buffer = io.BytesIO()
    if noise:  # random pixels do not compress: the file is about width * height bytes
        image = Image.frombytes("L", (width, height), os.urandom(width * height))
    else:
        image = Image.new("RGB", (width, height), "white")
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares its size but whose pixel data is cut short: only the header reads."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    truncated_pixels = zlib.compress(b"\x00" * 1000)[:20]
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", truncated_pixels)


# --- Search ------------------------------------------------------------------------------------


def test_search_by_upc_a_finds_product_stored_from_ean13(staff_client):
    product = BarcodeFactory.create(
        gtin="00036602301467"
    ).product  # stored from EAN-13 0036602301467
    ProductFactory.create(name="Something else")

    assert listed(staff_client, q="036602301467") == [product]


def test_search_by_upc_e_finds_product_stored_under_its_expanded_gtin(staff_client):
    product = BarcodeFactory.create(gtin="00042100005264").product
    ProductFactory.create(name="Something else")

    assert listed(staff_client, q="04252614") == [product]


def test_search_by_name_finds_inactive_products_too(staff_client):
    milk = ProductFactory.create(name="Whole milk", active=False)
    ProductFactory.create(name="Bread")

    assert listed(staff_client, q="MILK") == [milk]


def test_search_matching_two_barcodes_lists_the_product_once(staff_client):
    product = BarcodeFactory.create(gtin="00042100005264").product
    BarcodeFactory.create(product=product, gtin="00000096385074")
    product.name = "96385074 special"
    product.save()

    assert listed(staff_client, q="96385074") == [product]


# --- Filters -----------------------------------------------------------------------------------


@pytest.fixture
def stocked():
    return {
        "empty": ProductFactory.create(name="A empty", stock=0),
        "low": ProductFactory.create(name="B low", stock=5),
        "plenty": ProductFactory.create(name="C plenty", stock=6),
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("out", ["empty"]), ("low", ["empty", "low"]), ("in", ["low", "plenty"])],
)
def test_stock_filter(staff_client, stocked, choice, expected):
    assert listed(staff_client, stock=choice) == [stocked[key] for key in expected]


def test_category_and_active_filters(staff_client):
    dairy = CategoryFactory.create(name="Dairy", slug="dairy")
    milk = ProductFactory.create(name="Milk", category=dairy)
    old_cheese = ProductFactory.create(name="Old cheese", category=dairy, active=False)
    ProductFactory.create(name="Bread")

    assert listed(staff_client, category__id__exact=dairy.pk) == [milk, old_cheese]
    assert listed(staff_client, active__exact=0) == [old_cheese]


# --- Changelists -------------------------------------------------------------------------------


def test_changelist_shows_barcodes_and_query_count_does_not_grow(
    staff_client, django_assert_max_num_queries
):
    for _ in range(30):
        BarcodeFactory.create(product=ProductFactory.create(category=CategoryFactory.create()))
    BarcodeFactory.create(gtin="00036602301467", product=ProductFactory.create(name="Aaa first"))

    with django_assert_max_num_queries(10):  # 9 today, with 31 rows
        response = staff_client.get(CHANGELIST)

    assert response.status_code == 200
    assert "00036602301467" in response.text


def test_category_changelist_counts_products_in_one_query(
    staff_client, django_assert_max_num_queries
):
    dairy = CategoryFactory.create(name="Dairy", slug="dairy")
    for _ in range(3):
        ProductFactory.create(category=dairy)
    for _ in range(20):
        CategoryFactory.create()

    with django_assert_max_num_queries(8):  # 7 today, with 21 rows
        response = staff_client.get(CATEGORY_CHANGELIST)

    counts = {
        category.name: category.product_count for category in response.context["cl"].result_list
    }
    assert counts["Dairy"] == 3


# --- Adding products with barcodes -------------------------------------------------------------


def test_manager_can_open_add_page_with_slug_prepopulated_from_name(staff_client):
    response = staff_client.get(ADD)

    assert response.status_code == 200
    assert "data-prepopulated-fields" in response.text
    assert "#id_slug" in response.text


def test_inline_stores_a_upc_e_entry_as_gtin14(staff_client):
    response = staff_client.post(ADD, add_form_data(**{"barcodes-0-gtin": "04252614"}))

    assert response.status_code == 302
    product = Product.objects.get(slug="oat-milk")
    assert product.price == Decimal("1.99")
    assert list(product.barcodes.values_list("gtin", flat=True)) == ["00042100005264"]


def test_inline_bad_check_digit_shows_the_error_and_saves_nothing(staff_client):
    response = staff_client.post(ADD, add_form_data(**{"barcodes-0-gtin": "0036602301468"}))

    assert response.status_code == 200
    assert shows(response, ERROR_CHECK_DIGIT.format(value="0036602301468", expected=7))
    assert not Product.objects.exists()
    assert not Barcode.objects.exists()


def test_inline_barcode_of_another_product_is_refused(staff_client):
    BarcodeFactory.create(gtin="00036602301467", product=ProductFactory.create(name="Tomato soup"))

    response = staff_client.post(ADD, add_form_data(**{"barcodes-0-gtin": "036602301467"}))

    assert response.status_code == 200
    message = ERROR_BARCODE_TAKEN.format(gtin="00036602301467", product="Tomato soup")
    assert shows(response, message)
    assert not Product.objects.filter(slug="oat-milk").exists()


def test_inline_same_barcode_twice_in_two_forms_is_refused(staff_client):
    data = add_form_data(
        **{
            "barcodes-TOTAL_FORMS": "2",
            "barcodes-0-gtin": "036602301467",
            "barcodes-1-gtin": "0036602301467",
        }
    )

    response = staff_client.post(ADD, data)

    assert response.status_code == 200
    assert shows(response, ERROR_BARCODE_REPEATED.format(gtin="00036602301467"))
    assert not Product.objects.exists()


def test_change_keeps_the_products_own_barcode(staff_client):
    barcode = BarcodeFactory.create(gtin="00036602301467")
    page = staff_client.get(change_url(barcode.product))

    response = staff_client.post(change_url(barcode.product), change_form_data(page, stock="3"))

    assert response.status_code == 302
    barcode.product.refresh_from_db()
    assert barcode.product.stock == 3
    assert list(barcode.product.barcodes.values_list("gtin", flat=True)) == ["00036602301467"]


# --- Product images ----------------------------------------------------------------------------


def test_image_over_the_size_limit_is_refused(staff_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PRODUCT_IMAGE_MAX_BYTES = 1000
    content = png_bytes(64, 64, noise=True)
    assert len(content) > 1000
    upload = SimpleUploadedFile("big.png", content, content_type="image/png")

    response = staff_client.post(ADD, add_form_data(image=upload))

    assert response.status_code == 200
    message = ERROR_IMAGE_TOO_LARGE.format(
        size=filesizeformat(len(content)), limit=filesizeformat(1000)
    )
    assert shows(response, message)
    assert not Product.objects.exists()


def test_image_with_too_many_pixels_is_refused_from_its_header_alone(staff_client, settings):
    # No pixel data at all: a decoder would fail, so the message proves only the header was read.
    upload = SimpleUploadedFile("huge.png", png_header_only(5000, 4000), content_type="image/png")

    response = staff_client.post(ADD, add_form_data(image=upload))

    assert response.status_code == 200
    message = ERROR_IMAGE_TOO_MANY_PIXELS.format(
        width=5000, height=4000, limit=settings.PRODUCT_IMAGE_MAX_PIXELS
    )
    assert shows(response, message)
    assert not Product.objects.exists()


def test_image_within_the_limits_is_saved(staff_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("small.png", png_bytes(40, 30), content_type="image/png")

    response = staff_client.post(ADD, add_form_data(image=upload))

    assert response.status_code == 302
    product = Product.objects.get(slug="oat-milk")
    assert (product.image.width, product.image.height) == (40, 30)


# --- Actions -----------------------------------------------------------------------------------


def test_deactivate_action_deactivates_the_selected_products(staff_client):
    chosen = [ProductFactory.create(), ProductFactory.create()]
    other = ProductFactory.create()

    response = staff_client.post(
        CHANGELIST,
        {"action": "deactivate_selected", "_selected_action": [p.pk for p in chosen]},
        follow=True,
    )

    assert shows(response, MESSAGE_DEACTIVATED.format(count=2))
    assert [p.active for p in Product.objects.filter(pk__in=[p.pk for p in chosen])] == [
        False,
        False,
    ]
    other.refresh_from_db()
    assert other.active


def test_delete_action_still_asks_for_confirmation(staff_client):
    product = ProductFactory.create()

    response = staff_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [product.pk]}
    )

    assert response.status_code == 200
    assert "admin/delete_selected_confirmation.html" in [t.name for t in response.templates]
    assert Product.objects.filter(pk=product.pk).exists()


# --- Who may do what ---------------------------------------------------------------------------


def test_manager_can_add_a_product(staff_client):
    response = staff_client.post(ADD, add_form_data())

    assert response.status_code == 302
    assert Product.objects.filter(slug="oat-milk").exists()


def test_clerk_can_view_the_product_list(clerk_client):
    product = ProductFactory.create()

    assert listed(clerk_client) == [product]


def test_clerk_change_page_edits_stock_only(clerk_client):
    product = BarcodeFactory.create().product

    response = clerk_client.get(change_url(product))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == ["stock"]
    inline = response.context["inline_admin_formsets"][0]
    assert not inline.has_add_permission
    assert not inline.has_change_permission
    assert not inline.has_delete_permission


def test_clerk_can_change_stock_but_not_price_or_barcodes(clerk_client):
    barcode = BarcodeFactory.create(
        gtin="00036602301467", product=ProductFactory.create(price=Decimal("2.50"))
    )
    product = barcode.product
    page = clerk_client.get(change_url(product))
    data = change_form_data(
        page,
        stock="7",
        price="99.00",
        name="Renamed",
        **{"barcodes-0-gtin": "04252614", "barcodes-0-id": str(barcode.pk)},
    )

    response = clerk_client.post(change_url(product), data)

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.stock == 7
    assert product.price == Decimal("2.50")
    assert product.name != "Renamed"
    assert list(product.barcodes.values_list("gtin", flat=True)) == ["00036602301467"]


def test_clerk_cannot_add_or_delete_products(clerk_client):
    product = ProductFactory.create()

    assert clerk_client.get(ADD).status_code == 403
    assert clerk_client.post(ADD, add_form_data()).status_code == 403
    delete_url = reverse("admin:catalog_product_delete", args=[product.pk])
    assert clerk_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()
    assert not Product.objects.filter(slug="oat-milk").exists()


def test_clerk_cannot_run_the_deactivate_or_delete_actions(clerk_client):
    product = ProductFactory.create()

    page = clerk_client.get(CHANGELIST)
    clerk_client.post(
        CHANGELIST, {"action": "deactivate_selected", "_selected_action": [product.pk]}
    )
    clerk_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [product.pk], "post": "yes"}
    )

    assert page.context["action_form"] is None  # no action at all is offered to clerks
    product.refresh_from_db()
    assert product.active


@pytest.mark.parametrize(
    "url",
    [CHANGELIST, ADD, reverse("admin:catalog_productimport_add"), CATEGORY_CHANGELIST],
)
def test_shoppers_and_anonymous_are_sent_to_the_admin_login(client, alice_client, url):
    for visitor in (client, alice_client):
        response = visitor.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
