"""Running a product import: claiming it, checking and writing its rows in chunks of short
transactions, and ending it; queueing it (again). The design is in ``catalog.imports``."""

import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import PurePath
from typing import Any

from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from import_export.instance_loaders import BaseInstanceLoader
from import_export.results import RowResult

from catalog.imports.files import ImportFileError, Row, file_rows, rows_count
from catalog.models import ProductImport
from catalog.resources import ImportProblem, ProductImportResult, ProductResource
from shopcart.core.db_outage import database_unavailable
from shopcart.core.queueing import task_enqueue, task_enqueue_on_commit

logger = logging.getLogger(__name__)

CHUNK_ROWS = 200
# A chunk takes no new row once it has run this long: the write lock is held about this long.
CHUNK_SECONDS = 0.2
# Between two chunks on SQLite, whose one writer at a time holds the whole database: longer
# than the longest sleep of SQLite's own busy handler (100 ms), in which every waiting writer
# (a scan, a cart's heartbeat, a sign-in's last_login) waits, so that they get in between
# chunks. With 20 ms, heartbeats took up to 0.7 s during an import.
# Other databases lock rows, not the database: no pause there.
SQLITE_PAUSE_SECONDS = 0.12
# A run renews its claim with every chunk; one silent this long is taken to have died.
CLAIM_SECONDS = 5 * 60
MAX_ATTEMPTS = 10
PROBLEMS_KEPT = 1000

ERROR_REFUSED_WHILE_WRITING = (
    "The check passed, but line {line} was refused while writing (the catalog changed in the "
    "meantime): the {done:,} rows before it were imported, nothing from line {line} on."
)
ERROR_GAVE_UP = (
    "The import stopped {attempts} times without finishing, and was given up: "
    "{done:,} rows were imported."
)
ERROR_UNEXPECTED = (
    "The import stopped on an unexpected error ({error}): {done:,} rows were imported. "
    "The error is in the server log."
)
MESSAGE_IMPORTED = "{created:,} new, {updated:,} updated."
MESSAGE_IMPORTED_BAD_ROWS = "{created:,} new, {updated:,} updated; {bad:,} rows refused."
MESSAGE_REFUSED = "{problems:,} problems: nothing was imported. Fix the file and upload it again."
MESSAGE_CHECKED_GOOD = "No problems: the file can be imported."
MESSAGE_CHECKED_BAD = "{problems:,} problems found. Nothing was imported."


class _ClaimLost(Exception):
    """Another run holds the import now (or it finished): this run stops."""


class _RefusedWhileWriting(Exception):
    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(problems[0].message)
        self.problems = problems


@dataclass(frozen=True)
class _Claim:
    product_import_id: int
    attempt: int


@dataclass
class _Chunk:
    rows: int = 0
    created: int = 0
    updated: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


# --- Starting, and queueing again -----------------------------------------------------------


def product_import_start(*, product_import: ProductImport, user: User) -> ProductImport:
    """Keep the uploaded file (``product_import`` is unsaved, with ``file`` and ``mode`` from
    the upload form) and queue its import once the transaction commits."""
    product_import.file_name = PurePath(product_import.file.name or "").name[:255]
    product_import.file_size = product_import.file.size or 0
    product_import.created_by = user
    with transaction.atomic():
        product_import.save()
        _run_on_commit(product_import.pk)
    return product_import


def product_imports_stalled() -> list[int]:
    """Unfinished imports nobody is working on: their run died, or was never queued."""
    stalled = ProductImport.objects.stalled(timezone.now())
    return list(stalled.values_list("pk", flat=True))


def product_imports_resume(*, product_import_ids: list[int]) -> int:
    """Queue again those of ``product_import_ids`` that are unfinished and not claimed (a run
    under way is left alone); returns how many. Safe: a run resumes after its last chunk."""
    now = timezone.now()
    idle = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    resumable = ProductImport.objects.unfinished().filter(idle, pk__in=product_import_ids)
    queued = list(resumable.values_list("pk", flat=True))
    from catalog.tasks import product_import_run as task  # the task module imports this one

    for product_import_id in queued:
        task_enqueue(task, product_import_id)
    return len(queued)


def _run_on_commit(product_import_id: int) -> None:
    from catalog.tasks import product_import_run as task

    task_enqueue_on_commit(task, product_import_id)


# --- Running ----------------------------------------------------------------------------------


def product_import_run(*, product_import_id: int) -> str:
    """Import the file, or go on from where an earlier run stopped; returns the status reached,
    or "" when there was nothing to do (finished already, or another run holds it).

    Raises ``DatabaseError`` when the database is unavailable (``database_unavailable``): the
    claim is let go, so a retry can resume at once. Any other error ends the import as failed.
    """
    claim = _claim(product_import_id)
    if claim is None:
        return ""
    try:
        return _run(claim)
    except _ClaimLost:
        return ""
    except ImportFileError as exc:
        return _finish(claim, ProductImport.Status.FAILED, str(exc))
    except DatabaseError as exc:
        if not database_unavailable(exc):
            return _fail_unexpected(claim, exc)
        _release(claim)
        raise
    except Exception as exc:
        return _fail_unexpected(claim, exc)


def _claim(product_import_id: int) -> _Claim | None:
    """Take the import for this run, if it is unfinished and nobody else holds it."""
    now = timezone.now()
    idle = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic(durable=True):
        taken = (
            ProductImport.objects.unfinished()
            .filter(idle, pk=product_import_id)
            .update(
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=F("attempts") + 1
            )
        )
        if not taken:
            return None
        product_import = ProductImport.objects.get(pk=product_import_id)
    claim = _Claim(product_import_id, product_import.attempts)
    if product_import.attempts > MAX_ATTEMPTS:
        done = product_import.rows_done
        _finish(
            claim,
            ProductImport.Status.FAILED,
            ERROR_GAVE_UP.format(attempts=MAX_ATTEMPTS, done=done),
        )
        return None
    return claim


def _run(claim: _Claim) -> str:
    product_import = ProductImport.objects.get(pk=claim.product_import_id)
    if product_import.rows_total is None:
        _update(claim, rows_total=rows_count(product_import))
    mode, status = product_import.mode, product_import.status
    if mode != ProductImport.Mode.GOOD_ROWS and status != ProductImport.Status.IMPORTING:
        _update(
            claim,
            status=ProductImport.Status.CHECKING,
            rows_checked=0,
            problem_count=0,
            problems=[],
        )
        problems = _pass(claim, product_import, writing=False)
        if mode == ProductImport.Mode.CHECK_ONLY:
            message = MESSAGE_CHECKED_BAD if problems else MESSAGE_CHECKED_GOOD
            return _finish(claim, ProductImport.Status.CHECKED, message.format(problems=problems))
        if problems:
            return _finish(
                claim, ProductImport.Status.REFUSED, MESSAGE_REFUSED.format(problems=problems)
            )
    _update(claim, status=ProductImport.Status.IMPORTING)
    try:
        _pass(claim, product_import, writing=True)
    except _RefusedWhileWriting as exc:
        return _refused_while_writing(claim, exc.problems)
    done = ProductImport.objects.get(pk=claim.product_import_id)
    template = MESSAGE_IMPORTED_BAD_ROWS if done.problem_count else MESSAGE_IMPORTED
    message = template.format(
        created=done.created_count, updated=done.updated_count, bad=done.problem_count
    )
    return _finish(claim, ProductImport.Status.IMPORTED, message)


def _pass(claim: _Claim, product_import: ProductImport, *, writing: bool) -> int:
    """Check (``writing=False``: every chunk rolled back) or write the rows, chunk by chunk,
    from the first row not done yet; returns the problems found over the whole pass."""
    resource = ProductResource()
    start = ProductImport.objects.get(pk=claim.product_import_id).rows_done if writing else 0
    with file_rows(product_import, resource) as rows:
        loader = resource._meta.instance_loader_class(resource)
        remaining = itertools.islice(rows, start, None)
        pending: deque[Row] = deque()
        while True:
            pending.extend(itertools.islice(remaining, CHUNK_ROWS - len(pending)))
            if not pending:
                break
            _chunk_run(claim, resource, loader, pending, writing=writing)
            if connection.vendor == "sqlite":
                time.sleep(SQLITE_PAUSE_SECONDS)
    return ProductImport.objects.get(pk=claim.product_import_id).problem_count


def _chunk_run(
    claim: _Claim,
    resource: ProductResource,
    loader: BaseInstanceLoader,
    pending: deque[Row],
    *,
    writing: bool,
) -> None:
    """One transaction: rows from ``pending`` (taken off it) for about ``CHUNK_SECONDS``, and
    the progress they make. When checking, the rows' writes are rolled back, the progress kept.

    Raises ``_RefusedWhileWriting`` (nothing of this chunk kept) for a bad row while writing
    all or nothing, ``_ClaimLost`` when another run holds the import now.
    """
    started = time.monotonic()
    chunk = _Chunk()
    with transaction.atomic(durable=True):
        product_import = _locked(claim)
        stop_at_problem = writing and product_import.mode == ProductImport.Mode.ALL_OR_NOTHING
        with transaction.atomic():
            while pending and (not chunk.rows or time.monotonic() - started < CHUNK_SECONDS):
                _row_import(resource, loader, pending.popleft(), chunk, writing=writing)
                if stop_at_problem and chunk.problems:
                    raise _RefusedWhileWriting(chunk.problems)
            if not writing:
                transaction.set_rollback(True)
        _progress_save(product_import, chunk, writing=writing)


def _row_import(
    resource: ProductResource,
    loader: BaseInstanceLoader,
    row: Row,
    chunk: _Chunk,
    *,
    writing: bool,
) -> None:
    chunk.rows += 1
    if row.problem:
        chunk.problems.append(ImportProblem(row.line, None, row.problem))
        return
    # A savepoint per row: a refused row leaves nothing behind (not even a new category).
    # The check does not save the product itself (django-import-export's dry run without
    # transactions): every rule of the row is decided before the save, and skipping it makes
    # the check about a third faster. Whatever else it writes goes with the chunk's rollback.
    with transaction.atomic():
        result = resource.import_row(
            row.values,
            loader,
            row_number=row.number,
            dry_run=not writing,
            using_transactions=writing,
        )
        problems = _row_problems(result, row)
        if problems:
            transaction.set_rollback(True)
    chunk.problems += problems
    if not problems:
        chunk.created += result.import_type == RowResult.IMPORT_TYPE_NEW
        chunk.updated += result.import_type == RowResult.IMPORT_TYPE_UPDATE


def _row_problems(result: RowResult, row: Row) -> list[ImportProblem]:
    """The row's problems, by line, as the resource words them. A database that went away
    is not the row's fault: that error is raised, so the chunk is retried."""
    for error in result.errors:
        if database_unavailable(error.error):
            raise error.error
    found = ProductImportResult()
    if result.validation_error is not None:
        found.append_invalid_row(row.number, row.values, result.validation_error)
    if result.errors:
        found.append_error_row(row.number, row.values, result.errors)
    return found.problems


def _progress_save(product_import: ProductImport, chunk: _Chunk, *, writing: bool) -> None:
    if writing:
        product_import.rows_done += chunk.rows
        product_import.created_count += chunk.created
        product_import.updated_count += chunk.updated
    else:
        product_import.rows_checked += chunk.rows
    _problems_add(product_import, chunk.problems)
    product_import.claimed_until = timezone.now() + timedelta(seconds=CLAIM_SECONDS)
    product_import.save()


def _problems_add(product_import: ProductImport, problems: list[ImportProblem]) -> None:
    room = PROBLEMS_KEPT - len(product_import.problems)
    product_import.problems += [
        {"line": p.line, "column": p.column, "message": p.message} for p in problems[: max(room, 0)]
    ]
    product_import.problem_count += len(problems)


def _refused_while_writing(claim: _Claim, problems: list[ImportProblem]) -> str:
    done = ProductImport.objects.get(pk=claim.product_import_id).rows_done
    message = ERROR_REFUSED_WHILE_WRITING.format(line=problems[0].line, done=done)
    return _finish(claim, ProductImport.Status.FAILED, message, problems)


def _fail_unexpected(claim: _Claim, exc: BaseException) -> str:
    logger.exception("product import %s stopped", claim.product_import_id)
    done = ProductImport.objects.get(pk=claim.product_import_id).rows_done
    message = ERROR_UNEXPECTED.format(error=type(exc).__name__, done=done)
    return _finish(claim, ProductImport.Status.FAILED, message)


# --- The import row, under the claim ----------------------------------------------------------


def _locked(claim: _Claim) -> ProductImport:
    """The import row, locked for this transaction; raises ``_ClaimLost`` unless this run's
    claim is still the current one."""
    product_import = ProductImport.objects.select_for_update().get(pk=claim.product_import_id)
    if product_import.attempts != claim.attempt or not product_import.is_unfinished:
        raise _ClaimLost
    return product_import


def _update(claim: _Claim, **fields: Any) -> None:
    with transaction.atomic(durable=True):
        product_import = _locked(claim)
        for name, value in fields.items():
            setattr(product_import, name, value)
        product_import.claimed_until = timezone.now() + timedelta(seconds=CLAIM_SECONDS)
        product_import.save()


def _finish(
    claim: _Claim, status: str, message: str, problems: list[ImportProblem] | None = None
) -> str:
    """End the import with ``status`` and ``message``; the stored file is deleted after commit.
    Returns the status, or "" when another run holds the import now."""
    try:
        return _finish_locked(claim, status, message, problems or [])
    except _ClaimLost:
        return ""


def _finish_locked(claim: _Claim, status: str, message: str, problems: list[ImportProblem]) -> str:
    with transaction.atomic(durable=True):
        product_import = _locked(claim)
        _problems_add(product_import, problems)
        stored = product_import.file.name
        product_import.file.name = ""
        product_import.status = status
        product_import.message = message[:500]
        product_import.finished_at = timezone.now()
        product_import.claimed_until = None
        product_import.save()
        storage = product_import.file.storage
        transaction.on_commit(lambda: storage.delete(stored) if stored else None, robust=True)
    return status


def _release(claim: _Claim) -> None:
    """Let go of the claim after a database outage, so a retry can take it at once; if the
    database is still away, the claim runs out by itself."""
    try:
        ProductImport.objects.filter(pk=claim.product_import_id, attempts=claim.attempt).update(
            claimed_until=None
        )
    except DatabaseError:
        logger.warning("product import %s: claim not released", claim.product_import_id)
