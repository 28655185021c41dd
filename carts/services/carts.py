"""Every change to a cart goes through here, under the cart's row lock.

Each write runs in one transaction that locks the cart row first, checks the cart is open,
changes its lines, bumps ``Cart.version`` and, after commit, tells live listeners.

Scans: a change made by a device's scan (``scanned=True``) also records the scan on the cart
(``Cart.scan_count`` and ``last_scan_*``, in the same UPDATE as the version), so the cart page
shows "Added: …" for a few seconds; a scan that changes nothing is recorded by
``cart_scan_record``, which leaves the version alone (see ``carts.scan_notices``).

Locks: given a plain ``Cart``, a write locks its row in a transaction of its own. Given a
``LockedCart`` (``cart_lock``, in a transaction the caller opened; or made by a caller that
locked the row in a statement of its own, as a scan locks its pairing and cart together), it
works inside the caller's transaction, on the lines the ``LockedCart`` read once under that lock,
and changes them in place, so the caller can price the cart without reading it again.

Stock: additions on the website never go past the recorded stock. Scans in the store
(``scanned=True``) are accepted whatever the stock says, since the goods are physically in the
cart; when the cart then holds more than the stock, a ``StockMismatch`` tells staff to count.
When stock falls below what was added on the website, the cart's pages show the quantity the
stock covers (``carts.selectors.line_quantity_held``) without writing; every change to the
lines here first writes those quantities (``LockedCart.lines``), so it applies to the cart
as the shopper saw it, and says so in its messages.

Lines: a product has one ordinary line (``label_code`` empty), which is what the functions
naming a product change. A pack scanned by its in-store label has a line of its own, priced by
the label (``cart_add_labelled_product``); only scans change it, and shoppers may remove it.

Bounds (``shopcart.core.money``): a line holds at most ``QUANTITY_MAX`` units at a unit price of at
most ``PRICE_MAX``, a cart at most ``LINES_MAX`` lines whose goods come to at most
``CART_TOTAL_MAX`` (every line counted, sold or not: a line out of stock today may be back
tomorrow). A change that would pass one, by the website or by a scan, is refused with a
``CartError`` before anything is written; lowering a quantity or removing is always allowed.

Size: kept in one module: every write here shares the cart's lock, the bounds and the line rows;
split, one invariant would be spread over several files.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from carts.events import cart_event_publish_on_commit
from carts.models import PRODUCT_NAME_MAX_LENGTH, Cart, CartLine, StockMismatch
from carts.pricing import LineInput, cart_price
from carts.selectors import MESSAGE_CLAMPED, CartLineRow, cart_line_rows
from catalog.coupons import CouponRefused, coupon_check
from catalog.models import Coupon, Product
from shopcart.core.money import LINES_MAX, ORDER_TOTAL_MAX, PRICE_MAX, QUANTITY_MAX, money_format
from shopcart.core.queries import row_update
from shopcart.core.refusals import Refused

# What a cart's goods may come to: what one order may (see shopcart.core.money).
CART_TOTAL_MAX = ORDER_TOTAL_MAX

ERROR_QUANTITY = f"Enter a quantity from 1 to {QUANTITY_MAX}."
ERROR_LINE_FULL = f"Your cart can hold at most {QUANTITY_MAX} of “{{product}}”."
ERROR_CART_FULL = (
    f"Your cart holds {LINES_MAX} different products, the most one order can: "
    "check out or remove one first."
)
ERROR_CART_TOTAL = "That would take your cart past {limit}, the most one order can come to."
ERROR_PRICE_TOO_HIGH = "“{product}” costs more than {limit} a piece: ask staff."
ERROR_CART_CLOSED = "This cart is being paid for or is closed, so it cannot change."
ERROR_UNAVAILABLE = "“{product}” is no longer sold."
ERROR_OUT_OF_STOCK = "“{product}” is out of stock."
ERROR_NO_MORE_STOCK = "Your cart already holds all {stock} of “{product}” that are in stock."
ERROR_NOT_IN_CART = "“{product}” is not in your cart."
ERROR_COUPON_BLANK = "Enter a coupon code."
MESSAGE_MERGED = "We added the {count} item(s) you chose before signing in to your cart."


class CartErrorCode(StrEnum):
    """Why a cart change was refused: ``CartError.code``, a stable word for APIs and devices
    (a refused coupon keeps its ``catalog.coupons.CouponRefusalCode``)."""

    NOT_IN_CART = "not_in_cart"
    OUT_OF_STOCK = "out_of_stock"
    UNAVAILABLE = "unavailable"
    LABELLED_LINE = "labelled_line"
    QUANTITY = "quantity"
    PRICE = "price"
    CART_FULL = "cart_full"
    CART_TOTAL = "cart_total"
    COUPON_BLANK = "coupon_blank"
    CART_CLOSED = "cart_closed"


class CartError(Refused):
    """A cart change was refused; ``code`` says why for APIs and devices."""


class NotInCart(CartError):
    """Taking away a product the cart does not hold."""

    code = CartErrorCode.NOT_IN_CART


class CartClosed(CartError):
    """The cart is being paid for or is closed: a conflict with its state, not bad input."""

    code = CartErrorCode.CART_CLOSED
    http_status = 409


@dataclass(frozen=True)
class CartChange:
    cart: Cart
    line: CartLine | None  # the line as it is after the change; None when it went away
    messages: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class CartLines:
    """A locked cart's lines (``LockedCart.lines``), and what stock lowered on the way."""

    rows: list[CartLineRow]
    messages: tuple[str, ...] = ()


class LockedCart:
    """A cart whose row the current transaction holds locked, and its lines (module docstring:
    Locks). Made by ``cart_lock``, or by a caller that locked the row itself."""

    def __init__(self, cart: Cart) -> None:
        self.cart = cart
        self._lines: CartLines | None = None

    @property
    def lines(self) -> CartLines:
        """Every line as plain values, read on first use (``_lines_read``: what stock no longer
        covers written down first); the write services change them in place."""
        if self._lines is None:
            self._lines = _lines_read(self.cart)
        return self._lines


def cart_lock(cart: Cart) -> LockedCart:
    """Lock ``cart``'s row for the transaction the caller has opened; the cart read again."""
    return LockedCart(Cart.objects.select_for_update().get(pk=cart.pk))


@contextmanager
def _locked(cart: Cart | LockedCart) -> Iterator[LockedCart]:
    """``cart`` as given when the caller holds its lock, else locked in a transaction of our
    own (rolled back when the write raises)."""
    if isinstance(cart, LockedCart):
        yield cart
        return
    with transaction.atomic():
        yield cart_lock(cart)


# --- Finding the cart -----------------------------------------------------------------------


def cart_get_for_user(*, user: User) -> Cart:
    """The shopper's unclosed cart, created when there is none (safe when two requests race)."""
    return _cart_get_or_create(owner=user)


def cart_get_for_session(*, session_key: str) -> Cart:
    """The unclosed cart of an anonymous browser session, created when there is none."""
    return _cart_get_or_create(session_key=session_key)


def _cart_get_or_create(**owner: object) -> Cart:
    cart = Cart.objects.filter(current=True, **owner).first()
    if cart is not None:
        return cart
    try:
        with transaction.atomic():
            return Cart.objects.create(**owner)
    except IntegrityError:
        # Another request created it between our read and our insert.
        return Cart.objects.get(current=True, **owner)


# --- Lines ----------------------------------------------------------------------------------


def cart_add_product(
    *, cart: Cart | LockedCart, product: Product, quantity: int = 1, scanned: bool = False
) -> CartChange:
    """Add ``quantity`` of ``product``; web additions are clamped to stock (with a message).

    Raises ``CartError`` (closed cart, inactive product, bad quantity, nothing left in stock)
    before changing a line (at most what stock no longer covers was written down), so a
    caller's transaction stays usable.
    """
    _check_quantity(quantity)
    with _locked(cart) as locked:
        _check_open(locked.cart)
        _check_sellable(product)
        lines = locked.lines
        row = _row_of(lines.rows, product.pk, "")
        in_cart = row.quantity if row else 0
        messages = list(lines.messages)
        if not scanned:
            quantity, clamped = _clamp_web_addition(product, in_cart, quantity)
            messages += clamped
        changed = replace(row) if row else _row_new(product, unit_price=product.price)
        changed.quantity = in_cart + quantity
        if scanned:
            changed.scanned_quantity += quantity
        _check_bounds(lines.rows, changed, was=in_cart)
        line = _row_save(locked.cart, product, lines.rows, changed)
        if scanned and changed.quantity > product.stock:
            StockMismatch.objects.create(
                product=product,
                cart=locked.cart,
                quantity_in_cart=changed.quantity,
                stock_recorded=product.stock,
            )
        scan = (Cart.ScanOutcome.ADDED, product.name) if scanned else None
        _cart_changed(locked.cart, scan=scan)
        return CartChange(cart=locked.cart, line=line, messages=tuple(messages))


def cart_add_labelled_product(
    *,
    cart: Cart | LockedCart,
    product: Product,
    label_code: str,
    unit_price: Decimal,
    quantity: int = 1,
) -> CartChange:
    """Add ``quantity`` packs scanned by the in-store label ``label_code`` at ``unit_price``.

    Always a scan in the store: accepted whatever the stock says, with a ``StockMismatch``
    when the cart's lines of the product then hold more than the stock. Raises ``CartError``
    (closed cart, inactive product, bad quantity) before writing anything.
    """
    _check_quantity(quantity)
    with _locked(cart) as locked:
        _check_open(locked.cart)
        _check_sellable(product)
        lines = locked.lines
        row = _row_of(lines.rows, product.pk, label_code)
        changed = (
            replace(row) if row else _row_new(product, unit_price=unit_price, label=label_code)
        )
        changed.quantity += quantity
        changed.scanned_quantity += quantity
        _check_bounds(lines.rows, changed, was=changed.quantity - quantity)
        line = _row_save(locked.cart, product, lines.rows, changed)
        # All of the product in the cart, this line as it is now included.
        in_cart = sum(other.quantity for other in lines.rows if other.product_id == product.pk)
        if in_cart > product.stock:
            StockMismatch.objects.create(
                product=product,
                cart=locked.cart,
                quantity_in_cart=in_cart,
                stock_recorded=product.stock,
            )
        _cart_changed(locked.cart, scan=(Cart.ScanOutcome.ADDED, product.name))
        return CartChange(cart=locked.cart, line=line, messages=lines.messages)


def cart_remove_product(
    *,
    cart: Cart | LockedCart,
    product: Product,
    quantity: int = 1,
    scanned: bool = False,
    label_code: str = "",
) -> CartChange:
    """Take ``quantity`` of ``product`` out; the line goes when nothing is left.

    ``label_code`` names a line of packs scanned by their in-store label; empty, the ordinary
    line. Raises ``CartError`` (code ``not_in_cart`` when the cart has no such line) before
    writing anything.
    """
    _check_quantity(quantity)
    with _locked(cart) as locked:
        _check_open(locked.cart)
        lines = locked.lines
        row = _row_of(lines.rows, product.pk, label_code)
        if row is None:
            raise NotInCart(ERROR_NOT_IN_CART.format(product=product.name))
        changed = replace(row)
        changed.quantity -= min(quantity, changed.quantity)
        if scanned:
            changed.scanned_quantity = max(changed.scanned_quantity - quantity, 0)
        changed.scanned_quantity = min(changed.scanned_quantity, changed.quantity)
        line = _row_save(locked.cart, product, lines.rows, changed)
        scan = (Cart.ScanOutcome.REMOVED, product.name) if scanned else None
        _cart_changed(locked.cart, scan=scan)
        return CartChange(cart=locked.cart, line=line, messages=lines.messages)


@transaction.atomic
def cart_set_quantity(*, cart: Cart, product: Product, quantity: int) -> CartChange:
    """Set the quantity of ``product`` (the website's quantity box), clamped to stock.

    The part scanned in the store stays allowed whatever the stock. Raises ``CartError``.
    """
    _check_quantity(quantity)
    locked = cart_lock(cart)
    cart = locked.cart
    _check_open(cart)
    _check_sellable(product)
    lines = locked.lines
    row = _row_of(lines.rows, product.pk, "")
    scanned_part = row.scanned_quantity if row else 0
    allowed = max(product.stock, scanned_part)
    if allowed <= 0:
        raise CartError(
            ERROR_OUT_OF_STOCK.format(product=product.name), code=CartErrorCode.OUT_OF_STOCK
        )
    messages = list(lines.messages)
    if quantity > allowed:
        quantity = allowed
        messages.append(
            MESSAGE_CLAMPED.format(stock=product.stock, product=product.name, quantity=quantity)
        )
    changed = replace(row) if row else _row_new(product, unit_price=product.price)
    changed.quantity = quantity
    changed.scanned_quantity = min(scanned_part, quantity)
    _check_bounds(lines.rows, changed, was=row.quantity if row else 0)
    line = _row_save(cart, product, lines.rows, changed)
    _cart_changed(cart)
    return CartChange(cart=cart, line=line, messages=tuple(messages))


@transaction.atomic
def cart_delete_line(*, cart: Cart, product_id: int) -> CartChange:
    """Take a product's ordinary line out of the cart (also one no longer sold); packs of it
    scanned by their in-store labels stay."""
    cart = _cart_lock(cart)
    deleted, _ = cart.lines.filter(product_id=product_id, label_code="").delete()
    if deleted:
        _cart_changed(cart)
    return CartChange(cart=cart, line=None)


@transaction.atomic
def cart_delete_labelled_line(*, cart: Cart, line_id: int) -> CartChange:
    """Delete a line of packs scanned by their in-store label (only ever one of ``cart``)."""
    cart = _cart_lock(cart)
    deleted, _ = cart.lines.filter(pk=line_id).exclude(label_code="").delete()
    if deleted:
        _cart_changed(cart)
    return CartChange(cart=cart, line=None)


@transaction.atomic
def cart_delete_unavailable_line(*, cart: Cart, line_id: int) -> CartChange:
    """Delete a line whose product was deleted from the catalog (it has no product id)."""
    cart = _cart_lock(cart)
    deleted, _ = cart.lines.filter(pk=line_id, product__isnull=True).delete()
    if deleted:
        _cart_changed(cart)
    return CartChange(cart=cart, line=None)


@transaction.atomic
def cart_clear(*, cart: Cart) -> CartChange:
    cart = _cart_lock(cart)
    cart.lines.all().delete()
    _cart_changed(cart)
    return CartChange(cart=cart, line=None)


def _lines_read(cart: Cart) -> CartLines:
    """Every line of ``cart``, whose row the caller's transaction has locked, as plain values
    (``carts.selectors.cart_line_rows``, one query), after writing down the quantities stock
    still covers: web-added units beyond it are taken out (one UPDATE, only when there are
    any), and ``messages`` says which (``MESSAGE_CLAMPED``). Scanned units are never taken
    out, and a line out of stock altogether keeps its quantity (shown as out of stock) for the
    shopper to remove.

    The version stays: the cart's pages already showed these quantities.
    """
    rows = cart_line_rows(cart=cart)
    lowered = [row for row in rows if row.quantity_held != row.quantity]
    if not lowered:
        return CartLines(rows=rows)
    messages = tuple(
        MESSAGE_CLAMPED.format(
            stock=row.product_stock, product=row.product_name, quantity=row.quantity_held
        )
        for row in lowered
    )
    for row in lowered:
        row.quantity = row.quantity_held
    CartLine.objects.bulk_update(
        [CartLine(pk=row.pk, quantity=row.quantity) for row in lowered], ["quantity"]
    )
    return CartLines(rows=rows, messages=messages)


# --- Coupons --------------------------------------------------------------------------------


@transaction.atomic
def cart_apply_coupon(*, cart: Cart, code: str) -> CartChange:
    """Attach the coupon ``code`` (any case) to the cart, replacing any other.

    Checks that the coupon is active, within its dates and not used up (in all, and by this
    shopper); whether the cart qualifies (minimum, category) is shown by pricing. Raises
    ``CartError`` with a message naming the problem (also for a blank ``code``).
    """
    if not code.strip():
        raise CartError(ERROR_COUPON_BLANK, code=CartErrorCode.COUPON_BLANK)
    cart = _cart_lock(cart)
    coupon = Coupon.objects.by_code(code).select_related("category").first()
    try:
        coupon_check(coupon=coupon, code=code, user=cart.owner)
    except CouponRefused as exc:
        raise CartError(str(exc), code=exc.code) from None
    assert coupon is not None  # coupon_check raised otherwise
    cart.coupon = coupon
    cart.save(update_fields=["coupon"])
    _cart_changed(cart)
    return CartChange(cart=cart, line=None)


@transaction.atomic
def cart_remove_coupon(*, cart: Cart) -> CartChange:
    cart = _cart_lock(cart)
    if cart.coupon_id is not None:
        cart.coupon = None
        cart.save(update_fields=["coupon"])
        _cart_changed(cart)
    return CartChange(cart=cart, line=None)


# --- Whole carts ----------------------------------------------------------------------------


@transaction.atomic
def cart_merge(*, source: Cart, target: Cart) -> tuple[str, ...]:
    """Move the lines of an anonymous cart into the shopper's cart, then close the anonymous one.

    Quantities add up, clamped to stock as any web addition. Merging a closed cart (a second
    merge) changes nothing. Locks both carts in primary-key order.
    """
    if source.pk == target.pk:
        return ()
    both = Cart.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
    locked = {cart.pk: cart for cart in both}
    source, target = locked[source.pk], locked[target.pk]
    if not source.is_open or not target.is_open:
        return ()
    messages: list[str] = []
    moved = 0
    # An anonymous cart has no labelled lines: only shoppers' carts are paired with devices.
    lines = source.lines.select_related("product").filter(product__active=True, label_code="")
    for line in lines:
        if line.product is None:  # filtered out above; says so to the type checker
            continue
        try:
            change = cart_add_product(cart=target, product=line.product, quantity=line.quantity)
        except CartError as exc:
            messages.append(str(exc))
            continue
        moved += line.quantity
        messages.extend(change.messages)
    if target.coupon_id is None and source.coupon_id is not None:
        target.coupon_id = source.coupon_id
        target.save(update_fields=["coupon"])
    _cart_close_locked(source)
    if moved:
        messages.insert(0, MESSAGE_MERGED.format(count=moved))
    return tuple(messages)


@transaction.atomic
def cart_close(*, cart: Cart) -> Cart:
    """Close the cart for good (paid, or abandoned). Idempotent."""
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    if cart.status != Cart.Status.CLOSED:
        _cart_close_locked(cart)
    return cart


@transaction.atomic
def cart_checkout_begin(*, cart: Cart) -> Cart:
    """Freeze an open cart while its order is paid for (``orders.services.order_place``).

    Locks the cart; bumps its version. Raises ``CartError`` (``cart_closed``) unless it is open.
    """
    cart = _cart_lock(cart)
    cart.status = Cart.Status.CHECKING_OUT
    cart.save(update_fields=["status"])
    _cart_changed(cart)
    return cart


@transaction.atomic
def cart_checkout_abandon(*, cart: Cart) -> Cart:
    """Open a cart being checked out again (its order was cancelled or expired), so the
    shopper can change it. Locks the cart; an open or closed cart stays as it is."""
    cart = Cart.objects.select_for_update().get(pk=cart.pk)
    if cart.status == Cart.Status.CHECKING_OUT:
        cart.status = Cart.Status.OPEN
        cart.save(update_fields=["status"])
        _cart_changed(cart)
    return cart


# --- Pairings ------------------------------------------------------------------------------


def cart_pairing_changed(*, cart_ids: Iterable[int]) -> None:
    """Record that a cart device paired with, or left, each cart of ``cart_ids``: their
    ``pairing_count`` goes up and their pages hear it after commit. Contents and ``version``
    stay. For a caller in a transaction (``devices.services.pairing``, which holds the pairing
    rows' locks: the UPDATE then takes the carts' rows, in the lock order of pairings)."""
    ids = sorted(set(cart_ids))
    if not ids:
        return
    Cart.objects.filter(pk__in=ids).update(pairing_count=F("pairing_count") + 1)
    stamps = Cart.objects.filter(pk__in=ids).values_list(
        "pk", "version", "scan_count", "pairing_count"
    )
    for cart_id, version, scans, pairings in stamps:
        cart_event_publish_on_commit(
            cart_id=cart_id, version=version, scans=scans, pairings=pairings
        )


# --- Scans that change nothing -------------------------------------------------------------


def cart_scan_record(
    *, cart: LockedCart, outcome: Cart.ScanOutcome, product_name: str = ""
) -> None:
    """Record that a device's scan into ``cart`` came to ``outcome`` and changed nothing, so
    the cart page can say so; ``version`` stays as it is (checkout relies on it). In the
    caller's transaction, which holds the cart's lock. Publishes the cart's new stamp after
    commit.

    A closed cart is on no shopper's page any more: the scan is recorded on its owner's current
    cart instead (made if need be), once the caller's transaction commits (in a transaction of
    its own: locking a second cart here, after the caller's pairing rows, could deadlock with
    a pairing, which locks the cart first).
    """
    record = cart.cart
    if record.status == Cart.Status.CLOSED:
        if record.owner_id is not None:
            owner_id = record.owner_id
            transaction.on_commit(
                lambda: _owner_cart_scan_record(owner_id, outcome, product_name), robust=True
            )
        return
    row_update(
        Cart, record.pk, values=_scan_marked(record, (outcome, product_name)), increments=SCANNED
    )
    _cart_publish(record)


def _owner_cart_scan_record(owner_id: int, outcome: str, product_name: str) -> None:
    """Record the scan on the owner's current cart, made if the page has not made it yet (the
    shopper has just paid: their next cart is where their page now looks)."""
    current = _cart_get_or_create(owner_id=owner_id)
    with transaction.atomic():
        cart_scan_record(
            cart=cart_lock(current), outcome=Cart.ScanOutcome(outcome), product_name=product_name
        )


# The counter an UPDATE recording a scan raises (``_scan_marked`` sets the rest).
SCANNED = ("scan_count",)


def _scan_marked(cart: Cart, scan: tuple[str, str]) -> dict[str, object]:
    """The UPDATE's values recording ``scan`` (outcome, product name) on ``cart``, the instance
    read under its row lock: set on it too, its scan count the one read plus one (the UPDATE
    raises the column: ``SCANNED``)."""
    outcome, product_name = scan
    cart.scan_count += 1
    cart.last_scan_outcome = outcome
    cart.last_scan_product = product_name[:PRODUCT_NAME_MAX_LENGTH]
    cart.last_scan_at = timezone.now()
    return {
        "last_scan_outcome": cart.last_scan_outcome,
        "last_scan_product": cart.last_scan_product,
        "last_scan_at": cart.last_scan_at,
    }


def _cart_close_locked(cart: Cart) -> None:
    cart.status = Cart.Status.CLOSED
    cart.current = None
    cart.closed_at = timezone.now()
    cart.save(update_fields=["status", "current", "closed_at"])
    _cart_changed(cart)


# --- Internals ------------------------------------------------------------------------------


def _cart_lock(cart: Cart) -> Cart:
    """Lock the cart row for this transaction and refuse changes unless it is open."""
    locked = cart_lock(cart).cart
    _check_open(locked)
    return locked


def _check_open(cart: Cart) -> None:
    if not cart.is_open:
        raise CartClosed(ERROR_CART_CLOSED)


def _cart_changed(cart: Cart, *, scan: tuple[str, str] | None = None) -> None:
    """Bump the version of ``cart``, the instance read under its row lock in this transaction:
    no one else changed the row since, so the new version is the one read plus one.

    ``scan`` (outcome, product name): the change was a device's scan; recorded in the same
    UPDATE. Written out (``row_update``): on the scan path the ORM's compiling of it cost more
    than the statement.
    """
    changes: dict[str, object] = {"updated_at": timezone.now()}
    raised: tuple[str, ...] = ("version",)
    if scan is not None:
        changes |= _scan_marked(cart, scan)
        raised += SCANNED
    row_update(Cart, cart.pk, values=changes, increments=raised)
    cart.version += 1
    _cart_publish(cart)


def _cart_publish(cart: Cart) -> None:
    cart_event_publish_on_commit(
        cart_id=cart.pk, version=cart.version, scans=cart.scan_count, pairings=cart.pairing_count
    )


def _check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= QUANTITY_MAX:
        raise CartError(ERROR_QUANTITY, code=CartErrorCode.QUANTITY)


def _row_of(rows: list[CartLineRow], product_id: int, label_code: str) -> CartLineRow | None:
    """The line of the product (its ordinary line when ``label_code`` is empty) among ``rows``."""
    wanted = (product_id, label_code)
    return next((row for row in rows if (row.product_id, row.label_code) == wanted), None)


def _row_new(product: Product, *, unit_price: Decimal, label: str = "") -> CartLineRow:
    """A line of ``product`` not yet in the cart, holding nothing yet."""
    return CartLineRow(
        pk=None,
        product_id=product.pk,
        label_code=label,
        product_name=product.name,
        unit_price=unit_price,
        quantity=0,
        scanned_quantity=0,
        product_active=product.active,
        product_stock=product.stock,
        category_id=product.category_id,
    )


def _row_save(
    cart: Cart, product: Product, rows: list[CartLineRow], changed: CartLineRow
) -> CartLine | None:
    """Write ``changed`` (one INSERT, UPDATE or DELETE) and put it into ``rows`` in place of
    the line it was copied from. Returns the line as it now is, None when it went away."""
    index = next((i for i, row in enumerate(rows) if row.pk == changed.pk), None)
    if changed.pk is None:
        line = CartLine.objects.create(
            cart=cart,
            product=product,
            product_name=changed.product_name,
            unit_price=changed.unit_price,
            label_code=changed.label_code,
            quantity=changed.quantity,
            scanned_quantity=changed.scanned_quantity,
        )
        changed.pk = line.pk
        rows.append(changed)
        return line
    assert index is not None  # a line with a pk was read among ``rows``
    if changed.quantity <= 0:
        CartLine.objects.filter(pk=changed.pk).delete()
        del rows[index]
        return None
    row_update(
        CartLine,
        changed.pk,
        values={"quantity": changed.quantity, "scanned_quantity": changed.scanned_quantity},
    )
    rows[index] = changed
    return CartLine(
        pk=changed.pk,
        cart=cart,
        product=product,
        product_name=changed.product_name,
        unit_price=changed.unit_price,
        label_code=changed.label_code,
        quantity=changed.quantity,
        scanned_quantity=changed.scanned_quantity,
    )


def _check_bounds(lines: list[CartLineRow], changed: CartLineRow, *, was: int) -> None:
    """Refuse, before anything is written, a change that would take a line or the cart past the
    bounds (module docstring). ``changed`` is the line as it would be saved (a copy of one of
    ``lines``, the cart's lines as read, with the same pk; or a new line without one), ``was``
    its quantity before (0 for a new line). Raises ``CartError`` (``quantity``, ``price``,
    ``cart_full``, ``cart_total``).

    Only a change that adds is checked: lowering a quantity is always allowed, even in a cart
    over the bounds (one from before they were set), since it moves towards them."""
    if changed.quantity <= was:
        return
    name = changed.product_name
    if changed.quantity > QUANTITY_MAX:
        raise CartError(ERROR_LINE_FULL.format(product=name), code=CartErrorCode.QUANTITY)
    if changed.unit_price > PRICE_MAX:
        limit = money_format(PRICE_MAX)
        raise CartError(
            ERROR_PRICE_TOO_HIGH.format(product=name, limit=limit), code=CartErrorCode.PRICE
        )
    if changed.pk is None and len(lines) >= LINES_MAX:
        raise CartError(ERROR_CART_FULL, code=CartErrorCode.CART_FULL)
    after = [changed if line.pk == changed.pk else line for line in lines]
    if _goods_value([*lines, changed] if changed.pk is None else after) > CART_TOTAL_MAX:
        limit = money_format(CART_TOTAL_MAX)
        raise CartError(ERROR_CART_TOTAL.format(limit=limit), code=CartErrorCode.CART_TOTAL)


def _goods_value(lines: list[CartLineRow]) -> Decimal:
    """What ``lines`` come to before any coupon, each counted as if sold (``cart_price``)."""
    inputs = [
        LineInput(key=index, unit_price=line.unit_price, quantity=line.quantity)
        for index, line in enumerate(lines)
    ]
    return cart_price(inputs).subtotal


def _check_sellable(product: Product) -> None:
    if not product.active:
        raise CartError(
            ERROR_UNAVAILABLE.format(product=product.name), code=CartErrorCode.UNAVAILABLE
        )


def _clamp_web_addition(product: Product, in_cart: int, quantity: int) -> tuple[int, list[str]]:
    left = product.stock - in_cart
    if left <= 0:
        if product.stock <= 0:
            raise CartError(
                ERROR_OUT_OF_STOCK.format(product=product.name), code=CartErrorCode.OUT_OF_STOCK
            )
        raise CartError(
            ERROR_NO_MORE_STOCK.format(stock=product.stock, product=product.name),
            code=CartErrorCode.OUT_OF_STOCK,
        )
    if quantity <= left:
        return quantity, []
    total = in_cart + left
    return left, [MESSAGE_CLAMPED.format(stock=product.stock, product=product.name, quantity=total)]
