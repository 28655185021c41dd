"""Processing a scan a device sent: pair by cart pass, or add or remove the product read.

Every scan is stored as a ``ScanEvent`` under the unique pair (device, scan_id), inserted
with its answer last in the scan's transaction: of several identical requests racing, only the
one whose insert wins changes the cart; the others' inserts fail, which rolls back all they
did, and they answer what the winner stored. A retry is known by that insert failing (no read
before it: the common first send costs no query for it). Decoding and the catalog look-up run
before the transaction, so a slow photo holds no lock and SQLite's single writer holds its
lock briefly.

The transaction, for a scan that adds or removes a product: the device's pairing and its cart
locked in one statement (``pairing_lock_for_scan``), the cart's lines read once
(``carts.services.LockedCart.lines``), the line written (one INSERT, UPDATE or DELETE), the
cart's version and scan notice bumped in one UPDATE, the scan event inserted: five statements
between BEGIN and COMMIT. The cart services, given the ``LockedCart``, change its lines in
place, so the answer's total is priced from the same read
(``carts.selectors.cart_totals_of_rows``), with no second one.

What a photo says is ``devices.read_policy``'s to decide: two different product codes in one
photo are refused as ``ambiguous`` unless the catalog sells exactly one of them (one look-up of
the candidates, before the transaction like the product's).

Lock order, as in ``devices.services.pairing``: the pairing row, then its cart's row.

In-store labels (``catalog.instore_labels``, when ``settings.INSTORE_LABEL_REGION`` is set):
the label with its price or weight zeroed finds the product, and each distinct label is a cart
line of its own at the label's price. A label that cannot say a price (a weight label of a
product sold by the piece, a zero price, a count label) or whose embedded check digit is wrong
is refused with "Ask staff" and changes nothing; the result is ``unknown_product``, as for a
product no longer sold, since protocol v1 has no other refusal.

Bounds (``shopcart.core.money``, kept by the cart services): a scan that would take a line past
``QUANTITY_MAX`` units, a label past ``PRICE_MAX`` or the cart past its most lines or its most
total is refused the same way, ``unknown_product`` with the product and "Ask staff" on the
display, and changes nothing.

The shopper's cart page shows what every scan into their cart came to, for a few seconds
(``carts.scan_notices``): an addition or a removal is recorded by the cart service that makes
it, any other outcome by ``scan_outcome_show``, both in the scan's transaction. A retry's
transaction rolls back, so it records and publishes nothing again.

Size: kept in one module: a scan's whole path, from what the photo says to the answer, in the
order it runs.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from carts.models import Cart
from carts.selectors import (
    REASON_REVOKED,
    CartTotals,
    cart_pass_resolve,
    cart_pass_text_is_pass,
    cart_totals_of_locked,
    cart_totals_of_rows,
)
from carts.services import (
    CartError,
    CartErrorCode,
    LockedCart,
    NotInCart,
    cart_add_labelled_product,
    cart_add_product,
    cart_remove_product,
    cart_scan_record,
)
from catalog.barcodes import BarcodeError, gtin_normalise
from catalog.instore_labels import (
    InstoreLabel,
    InstoreLabelError,
    instore_label_parse,
    instore_label_price,
)
from catalog.models import Product
from catalog.selectors import (
    barcode_gtins_sold,
    product_get_by_barcode,
    product_get_by_instore_label,
)
from devices.decoding import (
    RETAIL_SYMBOLOGIES,
    DecodedCode,
    DecodeError,
    decode_image_timed,
    symbology_name,
)
from devices.models import Device, ScanEvent, UnknownCode
from devices.read_policy import ReadOutcome, read_decide
from devices.services.pairing import (
    ScanPairing,
    device_pair,
    pairing_end_locked,
    pairing_lock_for_scan,
)
from devices.services.photos import scan_photo_keep
from shopcart.core.money import QUANTITY_MAX
from shopcart.core.queries import only_row, row_insert

MODE_ADD = "add"
MODE_REMOVE = "remove"
MODES = (MODE_ADD, MODE_REMOVE)

DISPLAY_LINE_MAX = 16  # characters per line on the cart's OLED
DISPLAY_UNPAIRED = ("smartcart", "Show cart pass")
DISPLAY_PAIRED = ("Hi {name}", "Ready to scan")
DISPLAY_PAIRED_IDLE = ("Cart of {name}", "Scan a product")
DISPLAY_PASS_REVOKED = ("Old cart pass", "Use newest pass")
DISPLAY_PASS_INVALID = ("Pass not valid", "Ask staff")
DISPLAY_PASS_REPLACED = ("Pass replaced", "Show new pass")
DISPLAY_CART_CLOSED = ("Cart is closed", "Show cart pass")
DISPLAY_CART_PAYING = ("Paying now", "Finish on phone")
DISPLAY_NO_BARCODE = ("No barcode read", "Try again")
DISPLAY_AMBIGUOUS = ("Two codes seen", "Scan one")
DISPLAY_UNKNOWN_PRODUCT = ("Unknown product", "{gtin}")
DISPLAY_NOT_SOLD = ("Not sold", "{name}")
DISPLAY_NOT_IN_CART = ("Not in cart", "{name}")
DISPLAY_LABEL_INVALID = ("Label not valid", "Ask staff")
DISPLAY_LABEL_NO_PRICE = ("Label not priced", "Ask staff")
DISPLAY_LINE_FULL = (f"Max {QUANTITY_MAX} per item", "Ask staff")
DISPLAY_PRICE_TOO_HIGH = ("Price too high", "Ask staff")
DISPLAY_CART_FULL = ("Cart is full", "Ask staff")
DISPLAY_CART_TOTAL = ("Cart total limit", "Ask staff")
DISPLAY_ADDED = ("+{quantity} {name}", "Total {total}")
DISPLAY_REMOVED = ("-{quantity} {name}", "Total {total}")

BEEP_OK = "ok"
BEEP_ERROR = "error"
BEEP_PAIR = "pair"

ERROR_SCAN_ID_REUSED = "This scan_id was already used for a different scan."

Result = ScanEvent.Result
Lines = tuple[str, str]

# What the display says when the cart refuses an addition for a bound (``CartError.code``).
_BOUND_DISPLAYS: dict[str, Lines] = {
    CartErrorCode.QUANTITY: DISPLAY_LINE_FULL,
    CartErrorCode.PRICE: DISPLAY_PRICE_TOO_HIGH,
    CartErrorCode.CART_FULL: DISPLAY_CART_FULL,
    CartErrorCode.CART_TOTAL: DISPLAY_CART_TOTAL,
}

# What the cart page is told of a scan that changed nothing (see ``scan_outcome_show``).
_OUTCOMES_SHOWN = {
    Result.NO_BARCODE: Cart.ScanOutcome.NO_BARCODE,
    Result.AMBIGUOUS: Cart.ScanOutcome.AMBIGUOUS,
    Result.UNKNOWN_PRODUCT: Cart.ScanOutcome.UNKNOWN_PRODUCT,
    Result.NOT_IN_CART: Cart.ScanOutcome.NOT_IN_CART,
    Result.CART_CLOSED: Cart.ScanOutcome.CART_CLOSED,
}


class ScanConflict(Exception):
    """The scan_id was used before with another body: the device must make a new one."""


@dataclass(frozen=True)
class ScanInput:
    scan_id: uuid.UUID
    body_hash: str  # sha256 hex of the request body: a retry sends the same bytes
    mode: str  # MODE_ADD or MODE_REMOVE
    quantity: int
    image: bytes | None = None
    code: str | None = None  # pre-decoded by a scanner module, with its symbology
    symbology: str = ""


@dataclass(frozen=True)
class ScanAnswer:
    body: dict[str, Any]
    status: int  # 201 when processed now, 200 when answered from the stored scan


@dataclass(frozen=True)
class _Read:
    """What a scan says (``devices.read_policy.read_decide``): a cart pass, one retail code
    (``gtin``), two codes (``ambiguous``), or nothing usable."""

    text: str = ""
    is_pass: bool = False
    gtin: str | None = None
    ambiguous: bool = False
    decode_ms: float | None = None


@dataclass(frozen=True)
class _Found:
    """What the catalog says of a read's ``gtin``, looked up before the scan's transaction
    (catalog reads need no cart lock, and SQLite's single writer should hold it briefly)."""

    product: Product | None = None
    label: InstoreLabel | None = None  # the gtin is an in-store label
    label_invalid: bool = False  # an in-store label whose embedded check digit is wrong


def scan_process(*, device: Device, scan: ScanInput) -> ScanAnswer:
    """Process ``scan`` once, however often it is sent; answer as protocol v1 says.

    Idempotent per (device, scan_id). Raises ``ScanConflict`` when the scan_id came before
    with another body, and ``devices.decoding.DecodeError`` for an image that is not JPEG or
    PNG or has too many pixels (nothing is stored then).
    """
    try:
        read = _scan_read(scan)
    except DecodeError:
        # A scan_id used before with another body is a conflict whatever this body holds.
        _scan_stored(device, scan)
        raise
    found = _scan_look_up(read)
    storing = False
    try:
        with transaction.atomic(durable=True):
            answer, cart = _scan_apply(device, scan, read, found)
            storing = True
            # Last, so the row is written once with its answer. Of racing requests with this
            # scan_id, one inserts it; the others' inserts fail and all they did rolls back.
            event = ScanEvent(
                device=device,
                scan_id=scan.scan_id,
                body_hash=scan.body_hash,
                cart=cart,
                result=answer["result"],
                code="" if read.is_pass else read.text[:128],  # a pass is a secret: not logged
                gtin=read.gtin or "",
                decode_ms=read.decode_ms,
                answer=answer,
            )
            row_insert(event)  # written out: the ORM's compiling cost more than the INSERT
    except IntegrityError:
        if not storing:  # some other constraint failed while applying the scan
            raise
        # Seen before: the request that stored this scan_id has committed; answer as it did.
        stored = _scan_stored(device, scan)
        if stored is None:  # pragma: no cover - the unique row exists once the insert failed
            raise RuntimeError("scan event vanished") from None
        return stored
    scan_photo_keep(event=event, image=scan.image)  # after commit: no file I/O under a lock
    return ScanAnswer(body=answer, status=201)


def _scan_stored(device: Device, scan: ScanInput) -> ScanAnswer | None:
    event = only_row(ScanEvent.objects.filter(device=device, scan_id=scan.scan_id))
    if event is None:
        return None
    if event.body_hash != scan.body_hash:
        raise ScanConflict(ERROR_SCAN_ID_REUSED)
    return ScanAnswer(body=event.answer, status=200)


# --- Reading ----------------------------------------------------------------------------------


def _scan_read(scan: ScanInput) -> _Read:
    if scan.image is not None:
        decoding = decode_image_timed(scan.image)
        codes, decode_ms = list(decoding.codes), decoding.decode_ms
    else:
        text = scan.code or ""
        codes = [DecodedCode(text=text, symbology="", gtin=_code_gtin(text, scan.symbology))]
        decode_ms = None
    decision = read_decide(codes, is_pass=cart_pass_text_is_pass, in_catalog=barcode_gtins_sold)
    return _Read(
        text=decision.text,
        is_pass=decision.outcome == ReadOutcome.PAIR,
        gtin=decision.gtin,
        ambiguous=decision.outcome == ReadOutcome.AMBIGUOUS,
        decode_ms=decode_ms,
    )


def _code_gtin(text: str, symbology: str) -> str | None:
    """The GTIN-14 of a scanner module's code; None when it is no retail code or fails its check."""
    name = symbology_name(symbology)
    if name and name not in RETAIL_SYMBOLOGIES:
        return None
    try:
        return gtin_normalise(text, symbology=name or None).gtin
    except BarcodeError:
        return None


def _scan_look_up(read: _Read) -> _Found:
    if read.is_pass or read.gtin is None:
        return _Found()
    try:
        label = instore_label_parse(read.gtin)
    except InstoreLabelError:
        return _Found(label_invalid=True)
    if label is not None:
        return _Found(product=product_get_by_instore_label(label=label), label=label)
    return _Found(product=product_get_by_barcode(text=read.gtin))


# --- Applying ---------------------------------------------------------------------------------


def _scan_apply(
    device: Device, scan: ScanInput, read: _Read, found: _Found
) -> tuple[dict[str, Any], Cart | None]:
    """The answer, and the cart it is about; changes the cart (or pairs) as the scan asks."""
    if read.is_pass:
        return _scan_pair(device, read.text)
    answer, cart = _scan_product(device, scan, read, found)
    if cart is not None:
        scan_outcome_show(cart=cart, answer=answer)
    return answer, cart


def scan_outcome_show(*, cart: Cart, answer: dict[str, Any]) -> None:
    """Let the page of ``cart`` (locked by the caller's transaction) say what a scan that
    changed nothing came to; ``answer`` is the scan's. Additions and removals were recorded by
    the cart service that made them; pairing has the page's pairing note."""
    outcome = _OUTCOMES_SHOWN.get(answer["result"])
    if outcome is None:
        return
    product = answer["product"]
    if outcome == Cart.ScanOutcome.UNKNOWN_PRODUCT and product is not None:
        outcome = Cart.ScanOutcome.NOT_SOLD  # known, but no longer sold or its label unpriced
    if outcome == Cart.ScanOutcome.CART_CLOSED and cart.status == Cart.Status.CHECKING_OUT:
        outcome = Cart.ScanOutcome.CART_PAYING
    name = product["name"] if product is not None else ""
    cart_scan_record(cart=LockedCart(cart), outcome=outcome, product_name=name)


def _scan_pair(device: Device, text: str) -> tuple[dict[str, Any], Cart | None]:
    resolution = cart_pass_resolve(text)
    if resolution.user is None or resolution.cart_pass is None:
        revoked = resolution.reason == REASON_REVOKED
        shown = DISPLAY_PASS_REVOKED if revoked else DISPLAY_PASS_INVALID
        return _answer(Result.NOT_PAIRED, shown, BEEP_ERROR), None
    pairing = device_pair(device=device, cart_pass=resolution.cart_pass)
    name = resolution.user.first_name or "there"
    totals = cart_totals_of_locked(cart=pairing.cart)
    answer = _answer(Result.PAIRED, DISPLAY_PAIRED, BEEP_PAIR, totals=totals, name=name)
    return answer, pairing.cart


def _scan_product(
    device: Device, scan: ScanInput, read: _Read, found: _Found
) -> tuple[dict[str, Any], Cart | None]:
    pairing = pairing_lock_for_scan(device=device)
    if pairing is None:
        return _answer(Result.NOT_PAIRED, DISPLAY_UNPAIRED, BEEP_ERROR), None
    if not pairing.pass_in_force:
        return _scan_pass_ended(pairing), None
    cart = pairing.cart
    if not cart.is_open:
        return _scan_cart_closed(pairing), cart
    # Locked with the pairing (pairing_lock_for_scan).
    return _scan_product_in(LockedCart(cart), scan, read, found), cart


def _scan_product_in(
    cart: LockedCart, scan: ScanInput, read: _Read, found: _Found
) -> dict[str, Any]:
    """The answer to a scan of a product into ``cart``, open and locked."""
    if read.ambiguous:
        return _answer(Result.AMBIGUOUS, DISPLAY_AMBIGUOUS, BEEP_ERROR, totals=_totals(cart))
    if read.gtin is None:
        return _answer(Result.NO_BARCODE, DISPLAY_NO_BARCODE, BEEP_ERROR, totals=_totals(cart))
    if found.label_invalid:
        shown = DISPLAY_LABEL_INVALID
        return _answer(Result.UNKNOWN_PRODUCT, shown, BEEP_ERROR, totals=_totals(cart))
    if found.label is not None:
        return _scan_label(cart, found.label, found.product, scan)
    product = found.product
    if product is None:
        unknown_code_record(gtin=read.gtin)
        shown, totals = DISPLAY_UNKNOWN_PRODUCT, _totals(cart)
        return _answer(Result.UNKNOWN_PRODUCT, shown, BEEP_ERROR, totals=totals, gtin=read.gtin)
    return _scan_change_cart(cart, product, scan)


def _totals(cart: LockedCart) -> CartTotals:
    """What the answer says of ``cart``: priced from its lines, as read or changed."""
    return cart_totals_of_rows(rows=cart.lines.rows, coupon=cart.cart.coupon)


def _scan_pass_ended(pairing: ScanPairing) -> dict[str, Any]:
    """The pass that made the pairing was replaced or revoked, or the shopper's account was
    deactivated: the pairing ends here, the cart is left alone, and its display says why."""
    pairing_end_locked(pairing_id=pairing.pairing_id)
    shopper_active = pairing.shopper_active
    shown = DISPLAY_PASS_REPLACED if shopper_active else DISPLAY_PASS_INVALID
    return _answer(Result.NOT_PAIRED, shown, BEEP_ERROR)


def _scan_cart_closed(pairing: ScanPairing) -> dict[str, Any]:
    """A paid or abandoned cart ends the pairing; one being paid for keeps it (the shopper may
    go back to the cart on their phone and scan on)."""
    if pairing.cart.status == Cart.Status.CHECKING_OUT:
        return _answer(Result.CART_CLOSED, DISPLAY_CART_PAYING, BEEP_ERROR)
    pairing_end_locked(pairing_id=pairing.pairing_id)
    return _answer(Result.CART_CLOSED, DISPLAY_CART_CLOSED, BEEP_ERROR)


def _scan_label(
    cart: LockedCart, label: InstoreLabel, product: Product | None, scan: ScanInput
) -> dict[str, Any]:
    if product is None:
        # Staff create the product from the item's code: the one every label of it finds.
        unknown_code_record(gtin=label.item_gtin)
        shown, totals = DISPLAY_UNKNOWN_PRODUCT, _totals(cart)
        gtin = label.item_gtin
        return _answer(Result.UNKNOWN_PRODUCT, shown, BEEP_ERROR, totals=totals, gtin=gtin)
    unit_price = instore_label_price(label, product)
    if unit_price is None and scan.mode == MODE_ADD:
        shown, totals = DISPLAY_LABEL_NO_PRICE, _totals(cart)
        return _answer(Result.UNKNOWN_PRODUCT, shown, BEEP_ERROR, product=product, totals=totals)
    return _scan_change_cart(cart, product, scan, label=label, unit_price=unit_price)


def _scan_change_cart(
    cart: LockedCart,
    product: Product,
    scan: ScanInput,
    *,
    label: InstoreLabel | None = None,
    unit_price: Decimal | None = None,
) -> dict[str, Any]:
    result, display, beep = _cart_change(cart, product, scan, label, unit_price)
    return _answer(
        result,
        display,
        beep,
        product=product,
        price=unit_price,
        totals=_totals(cart),  # the lines as the change left them
        name=product.name,
        quantity=scan.quantity,
    )


def _cart_change(
    cart: LockedCart,
    product: Product,
    scan: ScanInput,
    label: InstoreLabel | None,
    unit_price: Decimal | None,
) -> tuple[str, Lines, str]:
    """Add or remove ``product``: by its ordinary line, or by the line of ``label``. The cart
    services change ``cart.lines`` in place; a refusal (``CartError``) leaves them as they
    were."""
    quantity = scan.quantity
    try:
        if scan.mode == MODE_ADD and label is not None and unit_price is not None:
            cart_add_labelled_product(
                cart=cart,
                product=product,
                label_code=label.gtin,
                unit_price=unit_price,
                quantity=quantity,
            )
            return Result.ADDED, DISPLAY_ADDED, BEEP_OK
        if scan.mode == MODE_ADD:
            cart_add_product(cart=cart, product=product, quantity=quantity, scanned=True)
            return Result.ADDED, DISPLAY_ADDED, BEEP_OK
        label_code = label.gtin if label is not None else ""
        cart_remove_product(
            cart=cart, product=product, quantity=quantity, scanned=True, label_code=label_code
        )
        return Result.REMOVED, DISPLAY_REMOVED, BEEP_OK
    except NotInCart:
        return Result.NOT_IN_CART, DISPLAY_NOT_IN_CART, BEEP_ERROR
    except CartError as exc:
        # A bound, or "unavailable": the product is in the catalog but no longer sold.
        shown = _BOUND_DISPLAYS.get(exc.code, DISPLAY_NOT_SOLD)
        return Result.UNKNOWN_PRODUCT, shown, BEEP_ERROR


def unknown_code_record(*, gtin: str) -> None:
    """Count one more scan of ``gtin``, a valid code the catalog lacks (safe when racing)."""
    now = timezone.now()
    seen = UnknownCode.objects.filter(gtin=gtin)
    if seen.update(count=F("count") + 1, last_seen_at=now):
        return
    try:
        with transaction.atomic():
            UnknownCode.objects.create(gtin=gtin, first_seen_at=now, last_seen_at=now)
    except IntegrityError:
        seen.update(count=F("count") + 1, last_seen_at=now)


# --- Answers ----------------------------------------------------------------------------------


def display_lines(lines: Lines, **values: object) -> list[str]:
    """The two display lines filled in, each cut to what the OLED shows."""
    return [line.format(**values)[:DISPLAY_LINE_MAX] for line in lines]


def _answer(
    result: str,
    display: Lines,
    beep: str,
    *,
    product: Product | None = None,
    price: Decimal | None = None,
    totals: CartTotals | None = None,
    **values: object,
) -> dict[str, Any]:
    """The answer's body; ``totals`` are those of the cart it is about, if any. ``price`` is
    the product's price by its in-store label, when the scan was of one; otherwise the
    catalog's price is given."""
    total = totals.total if totals is not None else None
    shown_price = price if price is not None else (product.price if product else None)
    return {
        "result": str(result),
        "product": (
            {"id": product.pk, "name": product.name, "price": str(shown_price)}
            if product is not None
            else None
        ),
        "cart": ({"items": totals.item_count, "total": str(total)} if totals is not None else None),
        "display": display_lines(display, total=total, **values),
        "beep": beep,
    }
