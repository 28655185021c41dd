"""CSV import and export of products with barcodes: the rules of a row, and the real admin views.

Files are imported as the admin imports them: stored as a ``ProductImport`` and run by the
import job (``catalog.imports``), all or nothing unless a test says otherwise. How the job
reads and writes (chunks, resuming, the store answering meanwhile) is tested in
``test_product_imports.py`` and ``test_import_keeps_the_store_answering.py``.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from catalog.admin import MESSAGE_IMPORT_QUEUED
from catalog.barcodes import ERROR_CHECK_DIGIT
from catalog.imports import MESSAGE_IMPORTED, MESSAGE_REFUSED
from catalog.models import Category, Product, ProductImport
from catalog.resources import (
    COLUMNS,
    ERROR_BARCODE_IN_FILE,
    ERROR_NAME_MISSING,
    ERROR_PRICE_INVALID,
    ERROR_STOCK_NEGATIVE,
    ImportProblem,
)
from catalog.services import ERROR_BARCODE_TAKEN
from tests.catalog.import_files import (
    HEADER,
    csv_file,
    import_with_resource,
)
from tests.factories import BarcodeFactory, CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db

UPLOAD = reverse("admin:catalog_productimport_add")
EXPORT = reverse("admin:catalog_product_export")
CHANGELIST = reverse("admin:catalog_product_changelist")

GOOD_FILE = f"""{HEADER}
,Tomato soup,Tins,1.25,10,1,Rich and red,0036602301467
,Oat milk,Dairy,1.99,4,1,,04252614|96385074
,Gift box,,15.00,0,0,"Ribbon, card; and box",10012345678902
"""


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # Uploaded files are kept under MEDIA_ROOT while they are imported.
    settings.MEDIA_ROOT = tmp_path


def gtins(product: Product) -> list[str]:
    return list(product.barcodes.values_list("gtin", flat=True))


def catalog_state() -> list[tuple]:
    return [
        (p.slug, p.name, p.category and p.category.name, p.price, p.stock, p.active,
         p.description, tuple(gtins(p)))
        for p in Product.objects.select_related("category").order_by("slug")
    ]  # fmt: skip


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("products.csv", text.encode(), content_type="text/csv")


@pytest.fixture
def admin_import(django_capture_on_commit_callbacks):
    """Upload ``text`` in the admin as ``client``; the import runs after commit (eagerly, as
    in the embedded store). Returns the import's page, where the upload leads."""

    def run(client, text: str, mode: str = ProductImport.Mode.ALL_OR_NOTHING):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(UPLOAD, {"file": upload(text), "mode": mode})
        assert response.status_code == 302, response.context["adminform"].form.errors
        return client.get(response["Location"])

    return run


def admin_export(client) -> str:
    response = client.post(EXPORT, {"resource": "0", "format": "0"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return response.content.decode()


# --- A good file -------------------------------------------------------------------------------


def test_good_file_creates_products_with_gtin14_barcodes():
    Category.objects.create(name="Dairy", slug="dairy")

    result = import_with_resource(GOOD_FILE)

    assert not result.problems
    soup = Product.objects.get(name="Tomato soup")
    assert (soup.slug, soup.price, soup.stock, soup.active) == (
        "tomato-soup",
        Decimal("1.25"),
        10,
        True,
    )
    assert soup.category is not None
    assert soup.category.name == "Tins"  # a new category, created by the import
    assert gtins(soup) == ["00036602301467"]
    milk = Product.objects.get(name="Oat milk")
    assert milk.category is not None
    assert milk.category.slug == "dairy"  # the existing category, matched by name
    assert gtins(milk) == ["00000096385074", "00042100005264"]  # UPC-E and EAN-8 forms
    box = Product.objects.get(name="Gift box")
    assert (box.category, box.active, box.description) == (None, False, "Ribbon, card; and box")
    assert gtins(box) == ["10012345678902"]


def test_rows_are_matched_by_slug_and_updated():
    product = ProductFactory.create(
        slug="oat-milk", name="Oat milk", price=Decimal("1.00"), stock=1
    )
    BarcodeFactory.create(product=product, gtin="00036602301467")

    result = import_with_resource(csv_file("oat-milk,Oat milk (1 l),,2.10,30,1,,04252614"))

    assert not result.problems
    assert Product.objects.count() == 1
    product.refresh_from_db()
    assert (product.name, product.price, product.stock) == ("Oat milk (1 l)", Decimal("2.10"), 30)
    assert gtins(product) == ["00042100005264"]  # the file's barcodes replace the old ones


def test_blank_slug_gets_a_unique_slug_from_the_name():
    ProductFactory.create(slug="milk", name="Milk")

    import_with_resource(csv_file(",Milk,,1.00,1,1,,", ",Milk,,1.10,1,1,,"))

    assert set(Product.objects.values_list("slug", flat=True)) == {"milk", "milk-2", "milk-3"}


def test_file_without_slug_or_barcodes_columns_imports_and_keeps_barcodes():
    product = ProductFactory.create(slug="soup", name="Soup")
    BarcodeFactory.create(product=product, gtin="00036602301467")

    result = import_with_resource(csv_file("Bread,2.20", header="name,price"))

    assert not result.problems
    assert Product.objects.get(name="Bread").slug == "bread"
    assert gtins(product) == ["00036602301467"]


# --- A broken file imports nothing -------------------------------------------------------------


BROKEN_FILE = csv_file(
    ",Good soup,Tins,1.25,10,1,,0036602301467",  # line 2: fine on its own
    ",Bad price,,abc,1,1,,",  # line 3
    ",Negative stock,,1.00,-4,1,,",  # line 4
    ",Bad check digit,,1.00,1,1,,0036602301468",  # line 5
    ",Taken barcode,,1.00,1,1,,96385074",  # line 6: belongs to "Crackers"
    ",Repeated barcode,,1.00,1,1,,036602301467",  # line 7: the same GTIN as line 2
    ",,,1.00,1,1,,",  # line 8: no name
)
BROKEN_FILE_PROBLEMS = [
    ImportProblem(3, "price", ERROR_PRICE_INVALID.format(value="abc")),
    ImportProblem(4, "stock", ERROR_STOCK_NEGATIVE),
    ImportProblem(5, "barcodes", ERROR_CHECK_DIGIT.format(value="0036602301468", expected=7)),
    ImportProblem(
        6, "barcodes", ERROR_BARCODE_TAKEN.format(gtin="00000096385074", product="Crackers")
    ),
    ImportProblem(7, "barcodes", ERROR_BARCODE_IN_FILE.format(gtin="00036602301467", line=2)),
    ImportProblem(8, "name", ERROR_NAME_MISSING),
]


@pytest.fixture
def crackers():
    product = ProductFactory.create(slug="crackers", name="Crackers", stock=3)
    BarcodeFactory.create(product=product, gtin="00000096385074")
    return product


def test_broken_file_imports_nothing_and_lists_every_bad_line(crackers):
    before = catalog_state()

    result = import_with_resource(BROKEN_FILE)

    assert result.problems == BROKEN_FILE_PROBLEMS
    assert catalog_state() == before
    assert not Category.objects.filter(name="Tins").exists()


@pytest.mark.parametrize(
    "bad_row",
    [
        ",Bad price,,abc,1,1,,",
        ",Negative stock,,1.00,-4,1,,",
        ",Bad check digit,,1.00,1,1,,0036602301468",
        ",Taken barcode,,1.00,1,1,,96385074",
        ",Repeated barcode,,1.00,1,1,,036602301467",
        ",,,1.00,1,1,,",
    ],
)
def test_one_bad_row_stops_the_good_rows_and_updates_too(crackers, bad_row):
    ProductFactory.create(slug="rice", name="Rice", price=Decimal("3.00"))
    before = catalog_state()
    good_rows = (",Good soup,,1.25,10,1,,0036602301467", "rice,Rice,,9.99,50,1,,")

    result = import_with_resource(csv_file(*good_rows, bad_row))

    assert [problem.line for problem in result.problems] == [4]
    assert catalog_state() == before


def test_admin_import_of_a_good_file_imports_it_and_shows_the_outcome(staff_client, admin_import):
    page = admin_import(staff_client, GOOD_FILE)

    assert page.status_code == 200
    text = page.content.decode()
    assert escape(MESSAGE_IMPORT_QUEUED) in text
    assert MESSAGE_IMPORTED.format(created=3, updated=0) in text
    assert "3 of 3 rows" in text
    assert gtins(Product.objects.get(name="Oat milk")) == ["00000096385074", "00042100005264"]


def test_admin_import_of_a_broken_file_shows_lines_and_reasons_and_imports_nothing(
    staff_client, crackers, admin_import
):
    before = catalog_state()

    page = admin_import(staff_client, BROKEN_FILE)

    text = page.content.decode()
    assert escape(MESSAGE_REFUSED.format(problems=len(BROKEN_FILE_PROBLEMS))) in text
    for problem in BROKEN_FILE_PROBLEMS:
        assert f"Line {problem.line}" in text
        assert escape(problem.message) in text
    assert catalog_state() == before


def test_good_rows_mode_imports_the_good_rows_and_lists_the_bad_ones(crackers):
    result = import_with_resource(BROKEN_FILE, mode=ProductImport.Mode.GOOD_ROWS)

    assert result.problems == BROKEN_FILE_PROBLEMS
    assert result.product_import.status == ProductImport.Status.IMPORTED
    assert gtins(Product.objects.get(name="Good soup")) == ["00036602301467"]
    assert set(Product.objects.values_list("name", flat=True)) == {"Crackers", "Good soup"}


def test_check_only_passes_a_good_file_and_imports_nothing():
    result = import_with_resource(GOOD_FILE, mode=ProductImport.Mode.CHECK_ONLY)

    assert (result.product_import.status, result.problems) == (ProductImport.Status.CHECKED, [])
    assert not Product.objects.exists()
    assert not Category.objects.exists()


def test_check_only_lists_every_problem_of_a_broken_file(crackers):
    before = catalog_state()

    result = import_with_resource(BROKEN_FILE, mode=ProductImport.Mode.CHECK_ONLY)

    assert result.problems == BROKEN_FILE_PROBLEMS
    assert catalog_state() == before


def test_clerk_cannot_import(clerk_client):
    assert clerk_client.get(UPLOAD).status_code == 403
    assert clerk_client.post(UPLOAD, {"file": upload(GOOD_FILE), "mode": "all"}).status_code == 403
    assert not ProductImport.objects.exists()
    assert not Product.objects.exists()


# --- Export ------------------------------------------------------------------------------------


@pytest.fixture
def store():
    tins = CategoryFactory.create(name="Tins", slug="tins")
    soup = ProductFactory.create(
        slug="soup", name="Soup, tomato", category=tins, price=Decimal("1.25")
    )
    BarcodeFactory.create(product=soup, gtin="00036602301467")
    BarcodeFactory.create(product=soup, gtin="00042100005264")
    ProductFactory.create(
        slug="old-box",
        name="Old box",
        category=None,
        price=Decimal("1234.50"),
        stock=0,
        active=False,
        description='Says "hello";\nsecond line',
    )
    return soup


def test_export_writes_every_column_with_gtin14_barcodes(staff_client, store):
    rows = list(csv.DictReader(io.StringIO(admin_export(staff_client))))

    assert list(rows[0]) == list(COLUMNS)
    by_slug = {row["slug"]: row for row in rows}
    assert by_slug["soup"]["barcodes"] == "00036602301467;00042100005264"
    assert by_slug["soup"]["category"] == "Tins"
    assert by_slug["old-box"]["price"] == "1234.50"
    assert by_slug["old-box"]["active"] == "0"


def test_export_then_reimport_through_the_admin_changes_nothing(staff_client, store, admin_import):
    before = catalog_state()
    exported = admin_export(staff_client)

    page = admin_import(staff_client, exported)

    assert MESSAGE_IMPORTED.format(created=0, updated=2) in page.content.decode()
    assert catalog_state() == before
    assert admin_export(staff_client) == exported


def test_export_query_count_does_not_grow_with_products(
    staff_client, store, django_assert_max_num_queries
):
    for _ in range(30):
        BarcodeFactory.create(product=ProductFactory.create(category=CategoryFactory.create()))

    with django_assert_max_num_queries(10):
        admin_export(staff_client)
