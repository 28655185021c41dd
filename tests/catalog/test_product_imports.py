"""How a product import runs (``catalog.imports``): refused by size at upload, read as a
stream, written in chunks of short transactions with their progress, safe to retry and to
resume, one run at a time; its page in the admin.

The rules of each row (prices, barcodes, ...) are tested in ``test_import_export.py``; the
store answering during a large import in ``test_import_keeps_the_store_answering.py``.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from catalog.admin import MESSAGE_IMPORTS_RESUMED
from catalog.forms import ERROR_IMPORT_TOO_LARGE
from catalog.imports import (
    ERROR_COLUMN_COUNT,
    ERROR_EMPTY,
    ERROR_NOT_UTF8,
    ERROR_REFUSED_WHILE_WRITING,
    MESSAGE_IMPORTED,
    product_import_run,
    runs,
)
from catalog.models import Product, ProductImport
from catalog.resources import ImportProblem, ProductResource
from catalog.services import ERROR_BARCODE_TAKEN
from catalog.tasks import product_import_run as product_import_task
from catalog.tasks import product_imports_sweep
from tests.catalog.import_files import (
    GTIN_OFFSET,
    import_file,
    import_stored,
    problems_of,
    products_csv,
)
from tests.factories import BarcodeFactory, valid_gtin13

pytestmark = pytest.mark.django_db

UPLOAD = reverse("admin:catalog_productimport_add")
IMPORTS = reverse("admin:catalog_productimport_changelist")
PRODUCTS = reverse("admin:catalog_product_changelist")
ROWS = 23
CHUNK = 5
ALL = ProductImport.Mode.ALL_OR_NOTHING
GOOD = ProductImport.Mode.GOOD_ROWS


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of exactly CHUNK rows (however slow the machine), without the pause between them."""
    monkeypatch.setattr(runs, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(runs, "CHUNK_SECONDS", 60)
    monkeypatch.setattr(runs, "SQLITE_PAUSE_SECONDS", 0)


def upload(text: str | bytes) -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile("products.csv", data, content_type="text/csv")


def imported_names() -> list[str]:
    return sorted(
        Product.objects.filter(name__startswith="Imported").values_list("name", flat=True)
    )


EXPECTED_NAMES = [f"Imported {n:06d}" for n in range(ROWS)]


# --- The size limit ----------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_at_once_with_a_form_error(
    staff_client, settings, django_capture_on_commit_callbacks
):
    settings.PRODUCT_IMPORT_MAX_BYTES = 1000
    text = products_csv(40)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = staff_client.post(UPLOAD, {"file": upload(text), "mode": ALL})

    assert response.status_code == 200
    size, limit = filesizeformat(len(text.encode())), filesizeformat(1000)
    errors = response.context["adminform"].form.errors["file"]
    assert errors == [ERROR_IMPORT_TOO_LARGE.format(size=size, limit=limit)]
    assert escape(errors[0]) in response.content.decode()
    assert (queued, ProductImport.objects.count(), Product.objects.count()) == ([], 0, 0)
    assert not (settings.MEDIA_ROOT).exists()  # the file was not even kept


def test_a_file_of_exactly_the_limit_is_imported(
    staff_client, settings, django_capture_on_commit_callbacks
):
    text = products_csv(3)
    settings.PRODUCT_IMPORT_MAX_BYTES = len(text.encode())

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(UPLOAD, {"file": upload(text), "mode": ALL})

    assert response.status_code == 302
    assert ProductImport.objects.get().status == ProductImport.Status.IMPORTED
    assert Product.objects.count() == 3


def test_the_upload_page_names_the_limit_and_the_modes(staff_client, settings):
    settings.PRODUCT_IMPORT_MAX_BYTES = 10 * 1024 * 1024

    page = staff_client.get(UPLOAD).content.decode()

    assert escape(filesizeformat(10 * 1024 * 1024)) in page
    for _, label in ProductImport.Mode.choices:
        assert label in page


# --- Chunks of short transactions ------------------------------------------------------------


@pytest.fixture
def commits(monkeypatch):
    """What the database holds at each commit: (products, rows checked, rows done)."""
    seen: list[tuple[int, int, int]] = []
    commit = connection.commit

    def spy() -> None:
        progress = ProductImport.objects.values_list("rows_checked", "rows_done").first()
        seen.append((Product.objects.count(), *(progress or (0, 0))))
        commit()

    monkeypatch.setattr(connection, "commit", spy)
    return seen


@pytest.mark.django_db(transaction=True)
def test_rows_are_written_in_short_transactions_each_with_its_progress(small_chunks, commits):
    product_import = import_file(products_csv(ROWS), mode=GOOD)

    assert product_import.status == ProductImport.Status.IMPORTED
    writes = [(products, done) for products, _, done in commits if products]
    steps = [b[0] - a[0] for a, b in zip([(0, 0), *writes], writes, strict=False)]
    assert all(products == done for products, done in writes)  # rows and progress together
    assert [s for s in steps if s] and max(steps) <= CHUNK
    assert len([s for s in steps if s]) >= ROWS // CHUNK + 1
    assert imported_names() == EXPECTED_NAMES


@pytest.mark.django_db(transaction=True)
def test_the_check_commits_its_progress_chunk_by_chunk_and_no_row(small_chunks, commits):
    product_import = import_file(products_csv(ROWS), mode=ProductImport.Mode.CHECK_ONLY)

    assert product_import.status == ProductImport.Status.CHECKED
    checked = [rows for products, rows, _ in commits if rows]
    assert all(products == 0 for products, _, _ in commits)
    assert checked == sorted(checked) and checked[-1] == ROWS
    assert max(b - a for a, b in zip([0, *checked], checked, strict=False)) <= CHUNK


def test_the_file_is_read_as_a_stream_not_loaded_whole(monkeypatch, small_chunks):
    events: list[tuple[str, int]] = []
    read, open_ = FieldFile.read, FieldFile.open

    def read_spy(self):
        inner = read.fget(self)

        def counted(*args):
            data = inner(*args)
            events.append(("read", len(data)))
            return data

        return counted

    def open_spy(self, mode="rb"):
        events.append(("open", 0))
        return open_(self, mode)

    monkeypatch.setattr(FieldFile, "read", property(read_spy))
    monkeypatch.setattr(FieldFile, "open", open_spy)
    progress_save = runs._progress_save

    def progress_spy(*args, **kwargs):
        events.append(("chunk", 0))
        progress_save(*args, **kwargs)

    monkeypatch.setattr(runs, "_progress_save", progress_spy)
    text = products_csv(60, description="x" * 4000)  # about 240 KB

    import_file(text, mode=ProductImport.Mode.CHECK_ONLY)

    check = events[[i for i, (kind, _) in enumerate(events) if kind == "open"][-1] :]
    before_first_chunk = check[: check.index(("chunk", 0))]
    assert sum(size for kind, size in before_first_chunk if kind == "read") < len(text) / 4
    assert max(size for kind, size in events if kind == "read") <= 64 * 1024


# --- Retrying and resuming without writing a row twice ---------------------------------------


def fail_once_on(monkeypatch, name: str, *, on_visit: int, error: BaseException) -> None:
    """``ProductResource.import_instance`` raises ``error`` the ``on_visit``-th time it meets
    the row named ``name`` (the check is the first visit, the writing the second)."""
    visits = {"count": 0}
    import_instance = ProductResource.import_instance

    def flaky(self, instance, row, **kwargs):
        if row.get("name") == name:
            visits["count"] += 1
            if visits["count"] == on_visit:
                raise error
        return import_instance(self, instance, row, **kwargs)

    monkeypatch.setattr(ProductResource, "import_instance", flaky)


def test_a_chunk_cut_off_by_the_database_is_retried_by_the_task_and_no_row_is_written_twice(
    monkeypatch, small_chunks
):
    fail_once_on(
        monkeypatch,
        "Imported 000012",
        on_visit=2,
        error=OperationalError("database is locked"),
    )
    product_import = import_stored(products_csv(ROWS), mode=ALL)

    # As a worker runs it; eagerly the retry follows at once instead of 30 s later.
    result = product_import_task.apply(args=[product_import.pk], throw=False)

    assert result.get() == ProductImport.Status.IMPORTED
    product_import.refresh_from_db()
    assert product_import.status == ProductImport.Status.IMPORTED
    assert product_import.attempts == 2  # the task retried once, and resumed
    assert product_import.message == MESSAGE_IMPORTED.format(created=ROWS, updated=0)
    assert imported_names() == EXPECTED_NAMES


class Died(BaseException):
    """The worker process dies: nothing in the import catches this."""


def test_a_run_that_died_is_resumed_by_the_sweep_once_its_claim_has_run_out(
    monkeypatch, small_chunks
):
    fail_once_on(monkeypatch, "Imported 000012", on_visit=1, error=Died())
    product_import = import_stored(products_csv(ROWS), mode=GOOD)

    with pytest.raises(Died):
        product_import_run(product_import_id=product_import.pk)

    product_import.refresh_from_db()
    assert (product_import.status, product_import.rows_done) == ("importing", 10)
    assert len(imported_names()) == 10
    assert product_imports_sweep() == 0  # its claim has not run out yet

    ProductImport.objects.update(
        claimed_until=timezone.now() - timedelta(seconds=1),
        created_at=timezone.now() - timedelta(hours=1),
    )
    assert product_imports_sweep() == 1

    product_import.refresh_from_db()
    assert (product_import.status, product_import.rows_done) == ("imported", ROWS)
    assert product_import.attempts == 2
    assert imported_names() == EXPECTED_NAMES


def test_a_second_run_while_one_holds_the_import_does_nothing(small_chunks):
    product_import = import_stored(products_csv(ROWS), mode=GOOD)
    assert runs._claim(product_import.pk) is not None  # a run under way elsewhere

    assert product_import_run(product_import_id=product_import.pk) == ""
    assert product_imports_sweep() == 0

    product_import.refresh_from_db()
    assert (product_import.status, product_import.attempts) == ("queued", 1)
    assert not imported_names()


def test_a_run_whose_claim_was_taken_over_stops_at_its_next_chunk(monkeypatch, small_chunks):
    product_import = import_stored(products_csv(ROWS), mode=GOOD)
    progress_save = runs._progress_save

    def taken_after_two_chunks(product_import, chunk, *, writing):
        progress_save(product_import, chunk, writing=writing)
        if product_import.rows_done == 2 * CHUNK:  # another run claims it, as after a stall
            ProductImport.objects.update(attempts=product_import.attempts + 1)

    monkeypatch.setattr(runs, "_progress_save", taken_after_two_chunks)

    assert product_import_run(product_import_id=product_import.pk) == ""

    product_import.refresh_from_db()
    assert (product_import.status, product_import.rows_done) == ("importing", 10)
    assert len(imported_names()) == 10


def test_an_import_that_keeps_dying_is_marked_failed_saying_how_far_it_got(small_chunks):
    product_import = import_stored(products_csv(ROWS), mode=GOOD)
    ProductImport.objects.update(attempts=runs.MAX_ATTEMPTS, rows_done=10)

    assert product_import_run(product_import_id=product_import.pk) == ""

    product_import.refresh_from_db()
    assert product_import.status == ProductImport.Status.FAILED
    assert product_import.message == runs.ERROR_GAVE_UP.format(attempts=runs.MAX_ATTEMPTS, done=10)


def test_all_or_nothing_stops_at_a_row_refused_while_writing_and_says_what_was_imported(
    monkeypatch, small_chunks
):
    taken = valid_gtin13(GTIN_OFFSET + 12).zfill(14)  # the barcode of line 14
    real_pass = runs._pass

    def catalog_changes_after_the_check(claim, product_import, *, writing):
        if writing:
            BarcodeFactory.create(gtin=taken, product__name="Rival")
        return real_pass(claim, product_import, writing=writing)

    monkeypatch.setattr(runs, "_pass", catalog_changes_after_the_check)

    product_import = import_file(products_csv(ROWS), mode=ALL)

    assert product_import.status == ProductImport.Status.FAILED
    assert product_import.message == ERROR_REFUSED_WHILE_WRITING.format(line=14, done=10)
    assert problems_of(product_import) == [
        ImportProblem(14, "barcodes", ERROR_BARCODE_TAKEN.format(gtin=taken, product="Rival"))
    ]
    assert imported_names() == EXPECTED_NAMES[:10]  # the two chunks before it, nothing after


# --- What the file holds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", ERROR_EMPTY),
        ("name,price\nCaf\u00e9,1.00\n".encode("latin-1"), ERROR_NOT_UTF8),
    ],
)
def test_a_file_that_is_not_utf8_csv_fails_with_a_clear_message(data, message):
    product_import = import_file(data)

    assert (product_import.status, product_import.message) == ("failed", message)
    assert not Product.objects.exists()


def test_a_line_with_more_or_fewer_values_than_columns_is_a_problem_of_that_line():
    text = "name,price\nBread,2.20\nRolls,0.40,extra\nButter\n"

    product_import = import_file(text)

    assert product_import.status == ProductImport.Status.REFUSED
    assert problems_of(product_import) == [
        ImportProblem(3, None, ERROR_COLUMN_COUNT.format(found=3, expected=2)),
        ImportProblem(4, None, ERROR_COLUMN_COUNT.format(found=1, expected=2)),
    ]


def test_a_spreadsheets_byte_order_mark_and_blank_lines_are_fine():
    product_import = import_file("\ufeffname,price\n\nBread,2.20\n\n".encode())

    assert product_import.status == ProductImport.Status.IMPORTED
    assert Product.objects.get().name == "Bread"


@pytest.mark.django_db(transaction=True)
def test_the_stored_file_is_deleted_once_the_import_has_finished(settings):
    product_import = import_stored(products_csv(2))
    stored = settings.MEDIA_ROOT / product_import.file.name
    assert stored.exists()

    product_import_run(product_import_id=product_import.pk)

    product_import.refresh_from_db()
    assert (product_import.status, product_import.file.name) == ("imported", "")
    assert not stored.exists()


# --- The import's page in the admin ------------------------------------------------------------


def change_url(product_import: ProductImport) -> str:
    return reverse("admin:catalog_productimport_change", args=[product_import.pk])


def test_the_page_of_a_running_import_shows_its_progress_and_problems_and_reloads_itself(
    staff_client,
):
    running = ProductImport.objects.create(
        file_name="products.csv",
        status=ProductImport.Status.CHECKING,
        rows_total=100_000,
        rows_checked=1_200,
        problem_count=1,
        problems=[{"line": 7, "column": "price", "message": "The price cannot be negative."}],
    )

    page = staff_client.get(change_url(running)).content.decode()

    assert '<meta http-equiv="refresh" content="3">' in page
    assert "1,200 of 100,000 rows" in page
    assert "Line 7" in page and "The price cannot be negative." in page


def test_the_page_of_a_finished_import_does_not_reload(staff_client):
    product_import = import_file(products_csv(2))

    page = staff_client.get(change_url(product_import)).content.decode()

    assert 'http-equiv="refresh"' not in page
    assert "2 of 2 rows" in page
    assert MESSAGE_IMPORTED.format(created=2, updated=0) in page


def test_the_page_of_an_import_nobody_works_on_says_so_and_how_to_resume_it(staff_client):
    stalled = import_stored(products_csv(2))
    ProductImport.objects.update(created_at=timezone.now() - timedelta(hours=1))

    page = staff_client.get(change_url(stalled)).content.decode()

    assert 'id="import-stalled"' in page and "Resume selected imports that stopped" in page


def test_staff_resume_an_import_that_stopped_from_the_list(staff_client, small_chunks):
    product_import = import_stored(products_csv(ROWS), mode=GOOD)
    ProductImport.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))

    response = staff_client.post(
        IMPORTS, {"action": "resume_selected", "_selected_action": [product_import.pk]}, follow=True
    )

    assert MESSAGE_IMPORTS_RESUMED.format(count=1) in response.content.decode()
    product_import.refresh_from_db()
    assert product_import.status == ProductImport.Status.IMPORTED
    assert imported_names() == EXPECTED_NAMES


def test_the_products_list_leads_managers_to_the_import_and_not_clerks(staff_client, clerk_client):
    assert UPLOAD in staff_client.get(PRODUCTS).content.decode()
    assert UPLOAD not in clerk_client.get(PRODUCTS).content.decode()
    assert clerk_client.get(IMPORTS).status_code == 403
