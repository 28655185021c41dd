"""Reads for carts: the cart as the shopper sees it, and whose cart pass a text is.

Reads never lock and never write. What stock no longer covers is worked out here, for the
cart as shown (``line_quantity_held``): a line of ten added on the website when only three
are left in stock shows three, priced as three, with a notice saying so. The cart itself is
corrected by the next change under its lock (``carts.services``), or at checkout.

Size: kept in one module: every read of a cart (lines, statuses, pricing input, suggestions)
beside the ETag that depends on all of them.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import connection

from carts import pass_codes
from carts.models import Cart, CartLine, CartPass
from carts.pricing import CartPrice, LineInput, PricedLine, cart_price
from catalog.instore_labels import instore_label_describe
from catalog.models import Coupon, Product
from catalog.suggestions import Suggestion, product_suggestions
from shopcart.core.money import CENT

REASON_OK = "ok"
REASON_BAD_SIGNATURE = "bad_signature"  # also: malformed, or not a pass at all
REASON_UNKNOWN = "unknown"
REASON_REVOKED = "revoked"

REASON_MESSAGES = {
    REASON_OK: "Cart pass accepted.",
    REASON_BAD_SIGNATURE: "This is not a valid cart pass.",
    REASON_UNKNOWN: "This cart pass does not exist.",
    REASON_REVOKED: "This cart pass was replaced and no longer works.",
}


@dataclass(frozen=True)
class CartPassResolution:
    """Whose pass a scanned text is: ``user`` and the pass itself when ``reason`` is
    ``REASON_OK``, else None."""

    user: User | None
    reason: str
    cart_pass: CartPass | None = None

    @property
    def ok(self) -> bool:
        return self.reason == REASON_OK

    @property
    def message(self) -> str:
        return REASON_MESSAGES[self.reason]


def cart_pass_text_is_pass(text: str) -> bool:
    """Whether scanned ``text`` is meant as a cart pass (and so must never be a product code).

    Says nothing about validity: resolve it with ``cart_pass_resolve``.
    """
    return pass_codes.pass_text_is_pass(text)


def cart_pass_resolve(text: str) -> CartPassResolution:
    """The shopper whose active pass ``text`` is, or the reason it is not one.

    The signature is checked before the database is asked, so forged texts cost no query. A
    pass of a deactivated account counts as revoked.
    """
    token = pass_codes.pass_token_from_text(text)
    if token is None:
        return CartPassResolution(user=None, reason=REASON_BAD_SIGNATURE)
    cart_pass = CartPass.objects.select_related("user").filter(token=token).first()
    if cart_pass is None:
        return CartPassResolution(user=None, reason=REASON_UNKNOWN)
    if not cart_pass.in_force:
        return CartPassResolution(user=None, reason=REASON_REVOKED)
    return CartPassResolution(user=cart_pass.user, reason=REASON_OK, cart_pass=cart_pass)


def cart_pass_get_active(*, user: User) -> CartPass | None:
    return CartPass.objects.active().filter(user=user).first()


# --- The cart as shoppers see it ------------------------------------------------------------

LINE_OK = "ok"
LINE_UNAVAILABLE = "unavailable"  # deactivated or deleted from the catalog
LINE_OUT_OF_STOCK = "out_of_stock"

LINE_NOTES = {
    LINE_OK: "",
    LINE_UNAVAILABLE: "No longer sold: not counted in the total. Remove it to check out.",
    LINE_OUT_OF_STOCK: "Out of stock: not counted in the total. Remove it to check out.",
}


MESSAGE_CLAMPED = "Only {stock} of “{product}” are in stock, so your cart holds {quantity}."


@dataclass(frozen=True)
class CartLineView:
    line: CartLine
    status: str
    price: PricedLine
    quantity: int  # as held: ``line.quantity`` lowered to what stock covers (line_quantity_held)

    @property
    def note(self) -> str:
        return LINE_NOTES[self.status]

    @property
    def label(self) -> str:
        """What the line's in-store label says beyond its price ("0.412 kg"); else ""."""
        return instore_label_describe(self.line.label_code) if self.line.label_code else ""


@dataclass(frozen=True)
class CartSummary:
    cart: Cart
    lines: tuple[CartLineView, ...]
    price: CartPrice

    @property
    def item_count(self) -> int:
        return sum(view.quantity for view in self.lines if view.status == LINE_OK)

    @property
    def notices(self) -> tuple[str, ...]:
        """What stock lowered, line by line (``MESSAGE_CLAMPED``), for the shopper."""
        return tuple(
            MESSAGE_CLAMPED.format(
                stock=view.line.product.stock if view.line.product else 0,
                product=view.line.product_name,
                quantity=view.quantity,
            )
            for view in self.lines
            if view.quantity != view.line.quantity
        )

    @property
    def can_check_out(self) -> bool:
        return bool(self.lines) and all(view.status == LINE_OK for view in self.lines)


def cart_line_status(line: CartLine) -> str:
    """Whether ``line`` can be bought: its product sold and (unless scanned) in stock."""
    product = line.product
    if product is None:
        return LINE_UNAVAILABLE
    return _line_status(product.active, product.stock, line.scanned_quantity)


def _line_status(product_active: bool | None, stock: int | None, scanned_quantity: int) -> str:
    """``cart_line_status`` from column values (``product_active`` None: product deleted)."""
    if not product_active:
        return LINE_UNAVAILABLE
    if (stock or 0) <= 0 and scanned_quantity == 0:
        return LINE_OUT_OF_STOCK
    return LINE_OK


def line_quantity_held(
    quantity: int, scanned_quantity: int, product_active: bool | None, stock: int | None
) -> int:
    """How many of a line the cart holds, stock considered: the part scanned in the store
    whatever the stock says (the goods are in the cart); the part added on the website as far
    as the stock covers it. A line whose product is no longer sold, or out of stock altogether,
    keeps its quantity: it is shown as such for the shopper to remove, and not counted."""
    if not product_active:
        return quantity
    allowed = max(stock or 0, scanned_quantity)
    return allowed if 0 < allowed < quantity else quantity


def cart_summary(*, cart: Cart) -> CartSummary:
    """The cart's lines with their status, quantity held and prices, in two queries whatever
    the number of lines; no lock, no write (see the module docstring)."""
    cart = Cart.objects.select_related("coupon__category").get(pk=cart.pk)
    return _cart_summary_of(cart, list(cart.lines.select_related("product__category")))


# --- A cart's lines under its lock, as plain values -----------------------------------------


@dataclass(slots=True)
class CartLineRow:
    """A cart line as a change made under the cart's row lock reads it: plain values (no model
    instances: a scan reads every line of the cart), with its product's state now. ``pk`` is
    None for a line about to be inserted; the product's values are None once it is deleted."""

    pk: int | None
    product_id: int | None
    label_code: str
    product_name: str
    unit_price: Decimal
    quantity: int
    scanned_quantity: int
    product_active: bool | None
    product_stock: int | None
    category_id: int | None

    @property
    def status(self) -> str:
        return _line_status(self.product_active, self.product_stock, self.scanned_quantity)

    @property
    def quantity_held(self) -> int:
        return line_quantity_held(
            self.quantity, self.scanned_quantity, self.product_active, self.product_stock
        )


# Written out rather than built by the ORM: compiling ``cart.lines.values_list(...)`` with its
# join cost about 0.3 ms of CPU, a tenth of a scan's budget, for a statement whose text never
# changes (a test compares the two). No ORDER BY: nothing done with the rows depends on their
# order.
_LINE_ROWS_SQL = """
SELECT line.id, line.product_id, line.label_code, line.product_name, line.unit_price,
       line.quantity, line.scanned_quantity, product.active, product.stock, product.category_id
FROM {lines} line LEFT OUTER JOIN {products} product ON product.id = line.product_id
WHERE line.cart_id = %s
"""


def cart_line_rows(*, cart: Cart) -> list[CartLineRow]:
    """Every line of ``cart`` (at most ``LINES_MAX``) with its product's state, in one query.

    For the cart services, under the cart's row lock: one read gives the line a change is
    about, what the bounds and the stock need of the others, and the totals of the answer."""
    sql = _LINE_ROWS_SQL.format(lines=CartLine._meta.db_table, products=Product._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [cart.pk])
        rows = cursor.fetchall()
    return [_line_row(*row) for row in rows]


def _line_row(
    pk: int,
    product_id: int | None,
    label_code: str,
    product_name: str,
    unit_price: Decimal | float | int,
    quantity: int,
    scanned_quantity: int,
    product_active: bool | int | None,
    product_stock: int | None,
    category_id: int | None,
) -> CartLineRow:
    active = None if product_active is None else bool(product_active)
    return CartLineRow(
        pk,
        product_id,
        label_code,
        product_name,
        _money(unit_price),
        quantity,
        scanned_quantity,
        active,
        product_stock,
        category_id,
    )


def _money(value: Decimal | float | int | str) -> Decimal:
    """An amount as a money column holds it. MySQL hands over a ``Decimal``; SQLite a float or
    an int, whose shortest text is the two-decimal amount stored (Django writes it as text)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(CENT)


@dataclass(frozen=True)
class CartTotals:
    """What a cart device shows of a cart: the items counted and the total to pay."""

    item_count: int
    total: Decimal


def cart_totals_of_rows(*, rows: list[CartLineRow], coupon: Coupon | None) -> CartTotals:
    """``cart_summary``'s item count and total, from ``rows`` as they are (``cart_line_rows``,
    changed by the caller's write): priced by the same ``cart_price`` with the same statuses
    and quantities held. No query."""
    inputs, item_count = [], 0
    for index, row in enumerate(rows):
        available = row.status == LINE_OK
        quantity = row.quantity_held
        if available:
            item_count += quantity
        inputs.append(
            LineInput(
                key=index,  # a line being inserted has no pk yet
                unit_price=row.unit_price,
                quantity=quantity,
                category_id=row.category_id,
                available=available,
            )
        )
    return CartTotals(item_count=item_count, total=cart_price(inputs, coupon).total)


def cart_totals_of_locked(*, cart: Cart) -> CartTotals:
    """``cart_totals_of_rows`` of the lines as stored, for a cart read under its row lock in
    the current transaction: one query for the lines (and one for its coupon, if any)."""
    return cart_totals_of_rows(rows=cart_line_rows(cart=cart), coupon=cart.coupon)


def _cart_summary_of(cart: Cart, lines: list[CartLine]) -> CartSummary:
    statuses = [cart_line_status(line) for line in lines]
    quantities = [_quantity_held(line) for line in lines]
    price = _cart_price(cart, lines, statuses, quantities)
    views = tuple(
        CartLineView(line=line, status=status, price=price.line(line.pk), quantity=quantity)
        for line, status, quantity in zip(lines, statuses, quantities, strict=True)
    )
    return CartSummary(cart=cart, lines=views, price=price)


def _quantity_held(line: CartLine) -> int:
    product = line.product
    if product is None:
        return line.quantity
    return line_quantity_held(line.quantity, line.scanned_quantity, product.active, product.stock)


def cart_price_of_prefetched(cart: Cart) -> CartPrice:
    """The price ``cart_summary`` gives, for a cart whose lines (with their products) and
    coupon were loaded in bulk: a list of carts costs one query for all their lines."""
    lines = list(cart.lines.all())
    statuses = [cart_line_status(line) for line in lines]
    return _cart_price(cart, lines, statuses, [_quantity_held(line) for line in lines])


def _cart_price(
    cart: Cart, lines: list[CartLine], statuses: list[str], quantities: list[int]
) -> CartPrice:
    inputs = [
        LineInput(
            key=line.pk,
            unit_price=line.unit_price,
            quantity=quantity,
            category_id=line.product.category_id if line.product else None,
            available=status == LINE_OK,
        )
        for line, status, quantity in zip(lines, statuses, quantities, strict=True)
    ]
    return cart_price(inputs, cart.coupon)


def cart_get_current(*, user: User | None = None, session_key: str | None = None) -> Cart | None:
    """The unclosed cart of a shopper or of an anonymous session, without creating one."""
    if user is not None:
        return Cart.objects.filter(owner=user, current=True).first()
    if session_key:
        return Cart.objects.filter(session_key=session_key, current=True).first()
    return None


# Why the cart page greys out its edits (the cart services refuse them anyway).
EDIT_BLOCK_PAYING = "Payment in progress — finish or cancel it to change the cart."
EDIT_BLOCK_CLOSED = "This cart is closed: it was paid for or replaced."


def cart_edit_block(cart: Cart | None) -> str:
    """Why the shopper cannot change ``cart`` now, in words for the page; "" when they can
    (no cart yet counts as an open one: the first edit makes it)."""
    if cart is None or cart.is_open:
        return ""
    if cart.status == Cart.Status.CHECKING_OUT:
        return EDIT_BLOCK_PAYING
    return EDIT_BLOCK_CLOSED


def cart_etag(summary: CartSummary | None, suggestions: Sequence[Suggestion] = ()) -> str:
    """The one entity tag of a cart as the shopper sees it, for the cart page's block and the
    cart API alike (weak: equal tags mean the same cart shown, not the same bytes).

    The cart's id and stamp (version, scans, pairings: ``carts.events.CartStamp``), and a
    digest of what is shown that changes without a write to the cart: stock lowering a line,
    a product no longer sold or renamed, a coupon's terms, the suggestions. So a page or app
    polling with ``If-None-Match`` never keeps a stale cart, and a new cart after checkout is a
    new tag.
    """
    if summary is None:
        return 'W/"cart-none"'
    cart = summary.cart
    shown = (
        cart.coupon_id,
        summary.price,
        tuple(
            (
                view.line.pk,
                view.line.product_name,
                view.line.unit_price,
                view.line.label_code,
                view.quantity,
                view.status,
            )
            for view in summary.lines
        ),
        tuple((s.product.pk, s.product.name, s.product.price, s.reason) for s in suggestions),
    )
    digest = hashlib.sha256(repr(shown).encode()).hexdigest()[:12]
    stamp = f"v{cart.version}-s{cart.scan_count}-p{cart.pairing_count}"
    return f'W/"cart-{cart.pk}-{stamp}-{digest}"'


def cart_suggestions(summary: CartSummary | None) -> list[Suggestion]:
    """What to suggest under the cart: "often bought with" its products, else best sellers.

    One or two queries whatever the number of lines (the lines are already loaded).
    """
    products = [view.line.product for view in summary.lines if view.line.product] if summary else []
    return product_suggestions(
        product_ids=[product.pk for product in products],
        category_ids=[product.category_id for product in products],
    )
