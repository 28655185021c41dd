"""Optional AI shopping tips: one short, factual tip per product, written in the background.

Off unless ``AI_TIPS_BASE_URL`` and ``AI_TIPS_MODEL`` are set: then nothing here opens a
connection, and product pages simply show no tip. When on, the Celery task
``catalog.tasks.product_tips_generate`` (beat, or ``manage.py product_tips_generate``) asks an
OpenAI-compatible chat-completions API for the products that need a tip:

- built only from catalog fields (name, category, description), never from shopper input;
- a structured-output request (JSON schema ``{"tip": string}`` with a length limit), and the
  limit enforced here too: a longer or malformed answer is logged and dropped;
- at most ``AI_TIPS_RATE_PER_MINUTE`` calls a minute over all workers (a counter in the
  cache), one run at a time; a 429, a 5xx, a timeout or a refused key ends the run (a 429's
  ``Retry-After`` pauses the next runs too), and is logged without the key or the answer;
- stored per product with the digest of the fields it was written from: a changed product
  gets a new tip, a tip staff edited or hid is never replaced;
- stored *pending*: shoppers see it once staff approve it in the admin (one by one or in bulk);
- a product whose request failed in a way the product may cause (a timeout, a provider
  error, an unusable answer) is skipped for a while, doubling each time
  (``ProductTipFailure``), and comes after the products that never failed, so one bad product
  never holds up the rest.

Tips are rendered escaped like every other text (Django's autoescape).
"""

import hashlib
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import TIP_MAX_CHARS, Product, ProductTip, ProductTipFailure

logger = logging.getLogger(__name__)

ANSWER_MAX_BYTES = 64 * 1024
DESCRIPTION_MAX_CHARS = 1000
RATE_KEY = "catalog:ai-tips:calls:{minute}"
RUNNING_KEY = "catalog:ai-tips:running"
PAUSED_KEY = "catalog:ai-tips:paused"
PAUSE_DEFAULT_SECONDS = 60
PAUSE_MAX_SECONDS = 60 * 60
BACKOFF_FIRST = timedelta(minutes=15)  # after a product's first failure; doubled after each
BACKOFF_MAX = timedelta(days=1)

# Why a tip was not written (logged, and counted by the run).
KIND_TIMEOUT = "timeout"
KIND_RATE_LIMITED = "rate limited by the provider"
KIND_SERVER_ERROR = "provider error"
KIND_REFUSED = "request refused"
KIND_UNREACHABLE = "provider unreachable"
KIND_MALFORMED = "malformed answer"
KIND_TOO_LONG = "tip too long"
KIND_EMPTY = "empty tip"
# Failures the product itself may cause (its facts make the provider slow, fail or answer
# badly): the product backs off. A 429, a refused key or an unreachable provider say nothing
# about the product.
PRODUCT_FAILURES = {KIND_TIMEOUT, KIND_SERVER_ERROR, KIND_MALFORMED, KIND_TOO_LONG, KIND_EMPTY}

# Why a run stopped early.
STOP_DISABLED = "not configured"
STOP_BUSY = "another run is under way"
STOP_PAUSED = "paused after the provider asked us to wait"
STOP_RATE = "this minute's calls are spent"
STOP_PROVIDER = "the provider failed"

SYSTEM_PROMPT = (
    "You write one shopping tip for a product sold in a grocery store: how to store it, what "
    "it goes well with, or how to use it. Use only the product facts given and common kitchen "
    "knowledge. Do not mention prices, offers, health or medical claims, or facts about the "
    "brand that are not given. Plain text, one or two short sentences, at most {limit} "
    'characters. Answer with JSON: {{"tip": "..."}}.'
)


class TipError(Exception):
    """A tip could not be had; ``stop`` when later calls of this run would fail the same way."""

    def __init__(self, kind: str, *, stop: bool = False, status: int | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.stop = stop
        self.status = status
        self.retry_after: int | None = None


@dataclass(frozen=True)
class TipSource:
    """The catalog fields a tip is written from (the only thing the provider sees)."""

    name: str
    category: str
    description: str

    @classmethod
    def of(cls, product: Product) -> "TipSource":
        category = product.category.name if product.category else ""
        return cls(product.name, category, product.description[:DESCRIPTION_MAX_CHARS])

    def digest(self) -> str:
        fields = json.dumps([self.name, self.category, self.description], ensure_ascii=False)
        return hashlib.sha256(fields.encode()).hexdigest()


@dataclass(frozen=True)
class TipRun:
    written: int = 0
    failed: int = 0
    stopped: str = ""  # a STOP_* when the run ended before every product that needs a tip


def tips_enabled() -> bool:
    return bool(settings.AI_TIPS_BASE_URL and settings.AI_TIPS_MODEL)


# --- The provider -------------------------------------------------------------------------


def tip_request_body(source: TipSource) -> dict[str, Any]:
    facts = {"name": source.name, "category": source.category, "description": source.description}
    schema = {
        "type": "object",
        "properties": {"tip": {"type": "string", "maxLength": TIP_MAX_CHARS}},
        "required": ["tip"],
        "additionalProperties": False,
    }
    return {
        "model": settings.AI_TIPS_MODEL,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT.format(limit=TIP_MAX_CHARS)},
            {"role": "user", "content": json.dumps(facts, ensure_ascii=False)},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "shopping_tip", "strict": True, "schema": schema},
        },
        "max_tokens": 150,
        "temperature": 0.2,
    }


def tip_parse(answer: bytes) -> str:
    """The tip in a chat-completions answer, whitespace tidied. Raises ``TipError``."""
    try:
        content = json.loads(answer)["choices"][0]["message"]["content"]
        tip = json.loads(content)["tip"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise TipError(KIND_MALFORMED) from None
    if not isinstance(tip, str):
        raise TipError(KIND_MALFORMED)
    tip = " ".join(tip.split())
    if not tip:
        raise TipError(KIND_EMPTY)
    if len(tip) > TIP_MAX_CHARS:
        raise TipError(KIND_TOO_LONG)
    return tip


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send the request (and its key) somewhere we were not told about.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def tip_fetch(source: TipSource) -> str:
    """Ask the provider for a tip about ``source``. Raises ``TipError``; never logs the key."""
    url = settings.AI_TIPS_BASE_URL.rstrip("/") + "/chat/completions"
    request = urllib.request.Request(  # noqa: S310 - settings allow only http(s) URLs
        url, data=json.dumps(tip_request_body(source)).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    if settings.AI_TIPS_API_KEY:
        request.add_unredirected_header("Authorization", f"Bearer {settings.AI_TIPS_API_KEY}")
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=settings.AI_TIPS_TIMEOUT) as response:
            answer = response.read(ANSWER_MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise _http_error(exc) from None
    except TimeoutError:
        raise TipError(KIND_TIMEOUT, stop=True) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        timed_out = isinstance(getattr(exc, "reason", None), TimeoutError)
        raise TipError(KIND_TIMEOUT if timed_out else KIND_UNREACHABLE, stop=True) from None
    if len(answer) > ANSWER_MAX_BYTES:
        raise TipError(KIND_MALFORMED)
    return tip_parse(answer)


def _http_error(exc: urllib.error.HTTPError) -> TipError:
    status = exc.code
    if status == 429:
        error = TipError(KIND_RATE_LIMITED, stop=True, status=status)
        error.retry_after = _seconds(exc.headers.get("Retry-After", ""))
    elif status >= 500:
        error = TipError(KIND_SERVER_ERROR, stop=True, status=status)
    else:  # a bad key, an unknown model, a redirect: every later call would fail alike
        error = TipError(KIND_REFUSED, stop=True, status=status)
    exc.close()
    return error


def _seconds(text: str) -> int:
    return int(text) if text.strip().isdigit() else PAUSE_DEFAULT_SECONDS


# --- Runs ------------------------------------------------------------------------------------


def products_needing_tips() -> Iterator[tuple[Product, TipSource]]:
    """Active products with no tip, or an AI tip written from fields since changed.

    Products backing off after a failure are left out until their ``retry_at``; then they
    come after every product that never failed, the fewest failures first.
    """
    now = timezone.now()
    products = (
        Product.objects.active()
        .filter(Q(tip_failure__isnull=True) | Q(tip_failure__retry_at__lte=now))
        .select_related("category", "tip", "tip_failure")
        .order_by(F("tip_failure__failures").asc(nulls_first=True), "pk")
    )
    for product in products.iterator(chunk_size=500):
        source = TipSource.of(product)
        tip = getattr(product, "tip", None)
        stale = tip is not None and tip.written_by_ai and tip.source_hash != source.digest()
        if tip is None or stale:
            yield product, source


def product_tips_generate(*, limit: int | None = None) -> TipRun:
    """Write tips for the products that need one, at most ``limit`` (default: the rate).

    Safe to run at any time and in several workers: one run at a time, within the rate.
    Without configuration it returns at once and opens no connection.
    """
    if not tips_enabled():
        return TipRun(stopped=STOP_DISABLED)
    if cache.get(PAUSED_KEY):
        return TipRun(stopped=STOP_PAUSED)
    rate = settings.AI_TIPS_RATE_PER_MINUTE
    lock_seconds = int(rate * settings.AI_TIPS_TIMEOUT) + 60
    if not cache.add(RUNNING_KEY, 1, lock_seconds):
        return TipRun(stopped=STOP_BUSY)
    try:
        return _run(limit if limit is not None else rate)
    finally:
        cache.delete(RUNNING_KEY)


def _run(limit: int) -> TipRun:
    written = failed = 0
    for product, source in products_needing_tips():
        if written + failed >= limit:
            break
        if not _rate_take():
            return TipRun(written, failed, STOP_RATE)
        try:
            text = tip_fetch(source)
        except TipError as error:
            failed += 1
            _log_failure(product, error)
            if error.kind in PRODUCT_FAILURES:
                tip_failure_record(product=product, kind=error.kind)
            if error.stop:
                if error.retry_after is not None:
                    cache.set(PAUSED_KEY, 1, min(error.retry_after, PAUSE_MAX_SECONDS))
                return TipRun(written, failed, STOP_PROVIDER)
            continue
        written += tip_store(product=product, text=text, source=source)
    return TipRun(written, failed)


def _rate_take() -> bool:
    """Count one call in this minute's window (shared by all workers); False when spent."""
    key = RATE_KEY.format(minute=int(time.time() // 60))
    cache.add(key, 0, 120)
    try:
        calls = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, 120)
        calls = 1
    return calls <= settings.AI_TIPS_RATE_PER_MINUTE


def _log_failure(product: Product, error: TipError) -> None:
    status = f" (HTTP {error.status})" if error.status else ""
    logger.warning("AI tip for product %s not written: %s%s", product.pk, error.kind, status)


def tip_store(*, product: Product, text: str, source: TipSource) -> bool:
    """Store a generated tip, pending approval, unless staff edited or hid the product's tip
    meanwhile; forget the product's failures.

    Locks the tip row, so a staff edit saved during the provider's call is never overwritten.
    """
    values = {
        "text": text,
        "status": ProductTip.Status.PENDING,
        "source_hash": source.digest(),
        "model": settings.AI_TIPS_MODEL[:100],
        "generated_at": timezone.now(),
    }
    with transaction.atomic(durable=True):
        ProductTipFailure.objects.filter(product=product).delete()
        tip = ProductTip.objects.select_for_update().filter(product=product).first()
        if tip is None:
            ProductTip.objects.create(product=product, **values)
            return True
        if not tip.written_by_ai:
            return False
        ProductTip.objects.filter(pk=tip.pk).update(**values, updated_at=timezone.now())
        return True


def tip_failure_record(*, product: Product, kind: str) -> ProductTipFailure:
    """Count a failed request for ``product`` and set when to ask again: ``BACKOFF_FIRST``
    after the first failure, twice as long after each next one, at most ``BACKOFF_MAX``."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        failure = ProductTipFailure.objects.select_for_update().filter(product=product).first()
        failures = failure.failures + 1 if failure else 1
        wait = min(BACKOFF_FIRST * 2 ** min(failures - 1, 16), BACKOFF_MAX)
        values = {"failures": failures, "last_error": kind[:40], "failed_at": now}
        found, _ = ProductTipFailure.objects.update_or_create(
            product=product, defaults={**values, "retry_at": now + wait}
        )
        return found


# --- Staff and shoppers ------------------------------------------------------------------


def product_tip_get(*, product: Product) -> ProductTip | None:
    """The tip shoppers see for ``product``: approved or edited by staff, never pending or
    hidden."""
    return ProductTip.objects.shown().filter(product=product).first()


def tips_approve(*, tip_ids: list[int]) -> int:
    """Show the AI's pending tips to shoppers, as written. Tips in any other state are left
    as they are; returns how many were approved."""
    return ProductTip.objects.filter(pk__in=tip_ids, status=ProductTip.Status.PENDING).update(
        status=ProductTip.Status.APPROVED, updated_at=timezone.now()
    )


def tips_hide(*, tip_ids: list[int]) -> int:
    return ProductTip.objects.filter(pk__in=tip_ids).update(
        status=ProductTip.Status.HIDDEN, updated_at=timezone.now()
    )


def tips_show(*, tip_ids: list[int]) -> int:
    """Show tips again as staff approved them: from now on they count as edited by staff."""
    return ProductTip.objects.filter(pk__in=tip_ids).update(
        status=ProductTip.Status.EDITED, updated_at=timezone.now()
    )


def tips_regenerate(*, tip_ids: list[int]) -> int:
    """Hand tips back to the provider: the next run writes them again, pending approval
    (edits are dropped)."""
    return ProductTip.objects.filter(pk__in=tip_ids).update(
        status=ProductTip.Status.PENDING, source_hash="", updated_at=timezone.now()
    )
