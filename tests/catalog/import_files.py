"""Product CSV files for the import tests, generated on the fly, and importing one as a job."""

import csv
import io
from dataclasses import dataclass

from django.core.files.base import ContentFile

from catalog.imports import product_import_run
from catalog.models import ProductImport
from catalog.resources import (
    COLUMNS,
    ImportProblem,
)
from tests.factories import valid_gtin13

# Far from the barcodes BarcodeFactory makes (valid_gtin13(0), (1), ...).
GTIN_OFFSET = 500_000_000


def products_csv(rows: int, *, start: int = 0, description: str = "") -> str:
    """``rows`` new products (blank slugs, so a row written twice would be a second product),
    each with its own valid barcode, in 20 categories."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for n in range(start, start + rows):
        gtin = valid_gtin13(GTIN_OFFSET + n)
        writer.writerow(
            ["", f"Imported {n:06d}", f"Aisle {n % 20}", "1.25", "10", "1", description, gtin]
        )
    return out.getvalue()


def import_stored(
    text: str | bytes, *, mode: str = ProductImport.Mode.ALL_OR_NOTHING
) -> ProductImport:
    """A stored, queued import of ``text`` (MEDIA_ROOT should be a temporary folder)."""
    data = text.encode() if isinstance(text, str) else text
    return ProductImport.objects.create(file=ContentFile(data, name="products.csv"), mode=mode)


def import_file(
    text: str | bytes, *, mode: str = ProductImport.Mode.ALL_OR_NOTHING
) -> ProductImport:
    """Store ``text`` as an import and run the job on it, here and now; the import after."""
    product_import = import_stored(text, mode=mode)
    product_import_run(product_import_id=product_import.pk)
    product_import.refresh_from_db()
    return product_import


def problems_of(product_import: ProductImport) -> list[ImportProblem]:
    return [
        ImportProblem(problem["line"], problem["column"], problem["message"])
        for problem in product_import.problems
    ]


HEADER = ",".join(COLUMNS)


@dataclass
class Imported:
    product_import: ProductImport
    problems: list[ImportProblem]


def csv_file(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def import_with_resource(text: str, mode: str = ProductImport.Mode.ALL_OR_NOTHING) -> Imported:
    """Import ``text`` through the import job, as the admin does; its problems by line."""
    product_import = import_file(text, mode=mode)
    return Imported(product_import, problems_of(product_import))
