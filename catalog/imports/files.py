"""Reading an uploaded product CSV file as a stream: its rows one at a time, never the whole
file at once (``catalog.imports.runs`` imports them)."""

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import tablib

from catalog.models import ProductImport
from catalog.resources import FIRST_DATA_LINE, ProductResource

FILE_ENCODING = "utf-8-sig"  # UTF-8, with or without the byte-order mark spreadsheets write

ERROR_EMPTY = "The file is empty: its first line must name the columns."
ERROR_NOT_UTF8 = "The file is not UTF-8 text: save it as “CSV UTF-8” and upload it again."
ERROR_NOT_CSV = "The file cannot be read as CSV (near line {line}): {error}."
ERROR_COLUMN_COUNT = "This line has {found} values; the first line names {expected} columns."


class ImportFileError(Exception):
    """The file cannot be read as UTF-8 CSV; the message is for staff."""


@dataclass(frozen=True)
class Row:
    number: int  # 1 for the first row after the header
    values: dict[str, str]
    problem: str = ""  # why this line cannot be a row at all

    @property
    def line(self) -> int:
        return self.number + FIRST_DATA_LINE - 1


def rows_count(product_import: ProductImport) -> int:
    with file_rows(product_import, ProductResource()) as rows:
        return sum(1 for _ in rows)


@contextmanager
def file_rows(product_import: ProductImport, resource: ProductResource) -> Iterator[Iterator[Row]]:
    """The file's rows as dicts by column, read as a stream. The header goes through the
    resource's ``before_import`` (which adds a missing slug column); raises ``ImportFileError``."""
    with product_import.file.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=FILE_ENCODING, newline="")
        reader = csv.reader(text)
        header = _next_values(reader)
        if not header:
            raise ImportFileError(ERROR_EMPTY)
        dataset = tablib.Dataset(headers=header)
        resource.before_import(dataset)
        yield _rows(reader, header, added=dataset.headers[len(header) :])


def _rows(reader: Any, header: list[str], *, added: list[str]) -> Iterator[Row]:
    number = 0
    while (values := _next_values(reader)) is not None:
        if not values:
            continue  # a blank line, skipped as the admin import always did
        number += 1
        row = dict(zip(header, values, strict=False)) | dict.fromkeys(added, "")
        problem = ""
        if len(values) != len(header):
            problem = ERROR_COLUMN_COUNT.format(found=len(values), expected=len(header))
        yield Row(number, row, problem)


def _next_values(reader: Any) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except UnicodeDecodeError:
        raise ImportFileError(ERROR_NOT_UTF8) from None
    except csv.Error as exc:
        raise ImportFileError(ERROR_NOT_CSV.format(line=reader.line_num, error=exc)) from None
