"""CSV imports of products as background jobs: stored first, then read and written in chunks.

Staff upload a file in the admin (``catalog.forms.ProductImportForm`` refuses one over
``PRODUCT_IMPORT_MAX_BYTES`` before anything reads it). ``product_import_start`` keeps it as
a ``ProductImport`` and queues ``catalog.tasks.product_import_run`` after commit; the task
runs ``product_import_run`` (``runs.py``). The import page in the admin shows the progress.

* **Streamed** (``files.py``). The stored file is read with the csv module, row by row; it is
  never loaded
  whole. Each row goes through ``catalog.resources.ProductResource`` (django-import-export's
  ``import_row``) with the same columns, checks and messages as before.
* **Short transactions.** Rows are handled in chunks, each its own transaction of at most
  ``CHUNK_ROWS`` rows and about ``CHUNK_SECONDS``, with a pause after it on SQLite
  (``SQLITE_PAUSE_SECONDS``). SQLite lets one
  connection write at a time: scans, logins and cart edits now wait for one chunk, not for
  the whole file (which took them past their 20 s timeout into 503s).
* **Modes** (``ProductImport.Mode``). *All or nothing* (the default) first checks every row:
  each chunk is written and rolled back, so the database does the same checks as for real;
  only a file without problems is then written. *Good rows* writes every valid row and lists
  the others. *Check only* stops after the check.
* **Safe to retry and to resume.** A chunk's progress (``rows_done``, the counts, its
  problems) is committed in the same transaction as its rows, so a run that starts again
  starts after the last committed chunk and never writes a row twice. A check that was cut
  off starts again from the top: it wrote nothing, and barcodes repeated within the file
  are only noticed by reading the file in one go.
* **One run at a time.** A run claims the import (``claimed_until``, renewed with every
  chunk; each claim adds one to ``attempts``); every chunk first locks the import row and
  checks that its claim is still the current one, or stops. A run that dies leaves a claim
  that runs out: Celery redelivers the task (late acknowledgement), or the beat sweep
  ``product_imports_sweep`` or staff (admin action) queue it again, and it resumes. After
  ``MAX_ATTEMPTS`` claims the import is marked failed, saying how far it got.

All or nothing across chunks: after the check passed, a row that is refused while writing
(the catalog changed in between) stops the import; its chunk is rolled back, the chunks
before it stay, and the import is marked failed naming the lines that were imported. A
barcode moved from one product to another within one file is reported as taken when the row
giving it up is in an earlier chunk of the check; import such a file with *good rows*.
"""

from catalog.imports.files import (
    ERROR_COLUMN_COUNT,
    ERROR_EMPTY,
    ERROR_NOT_CSV,
    ERROR_NOT_UTF8,
    ImportFileError,
)
from catalog.imports.runs import (
    ERROR_GAVE_UP,
    ERROR_REFUSED_WHILE_WRITING,
    ERROR_UNEXPECTED,
    MESSAGE_CHECKED_BAD,
    MESSAGE_CHECKED_GOOD,
    MESSAGE_IMPORTED,
    MESSAGE_IMPORTED_BAD_ROWS,
    MESSAGE_REFUSED,
    product_import_run,
    product_import_start,
    product_imports_resume,
    product_imports_stalled,
)

__all__ = [
    "ERROR_COLUMN_COUNT",
    "ERROR_EMPTY",
    "ERROR_GAVE_UP",
    "ERROR_NOT_CSV",
    "ERROR_NOT_UTF8",
    "ERROR_REFUSED_WHILE_WRITING",
    "ERROR_UNEXPECTED",
    "MESSAGE_CHECKED_BAD",
    "MESSAGE_CHECKED_GOOD",
    "MESSAGE_IMPORTED",
    "MESSAGE_IMPORTED_BAD_ROWS",
    "MESSAGE_REFUSED",
    "ImportFileError",
    "product_import_run",
    "product_import_start",
    "product_imports_resume",
    "product_imports_stalled",
]
