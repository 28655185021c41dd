"""Placing an order, and giving back what a pending order holds when it is cancelled or expires.

``order_place`` turns the shopper's cart into a pending order in one durable transaction. It
locks, always in this order, so that two transactions never wait for each other in a circle:
the cart, the cart's products (primary-key order), the coupon. Cancelling and expiring lock the
order first, then the same rows in the same order; paying (``order_mark_paid``) locks the order,
then the cart.

Stock. A product's recorded stock includes the units shoppers have scanned into carts in the
store: they have left the shelf, but come off the record only at checkout. So at placement the
scanned units come off first, as many as the record covers (it never goes below zero); when it
cannot cover them a ``StockMismatch`` asks staff to count, since those goods are in the cart
whatever the record says. Units added on the website must fit in what is left (the cart's
pages already show them lowered to it, ``carts.selectors.line_quantity_held``, and the next
change to the cart writes that), or the order is refused and nothing changes. Each line's
``stock_taken`` keeps what it took, so that cancelling or expiring gives back exactly that.

Coupon. Checked again under its row lock (``catalog.coupons.coupon_check``), counted with
``F()`` and recorded as a ``CouponRedemption`` in the same transaction: a single-use coupon
cannot go to two concurrent orders. A coupon in the cart that prices to nothing (say, below its
minimum) is not used and not counted.

Bounds. An order holds at most ``LINES_MAX`` lines, each of at most ``QUANTITY_MAX`` units at
most ``PRICE_MAX`` each, and its subtotal is at most ``ORDER_TOTAL_MAX`` (``shopcart.core.money``:
every amount then fits its column, and a card payment can take it). The cart services keep
carts within them; a cart from before they were set is refused here, before anything is
written, and the shopper can lower it.

Expiry. A pending order holds stock and a coupon use until it is paid, cancelled or expires
(``ORDER_PENDING_MINUTES``). Celery beat runs ``orders_expire_pending`` every minute in
production. The embedded default has no beat, so ``order_place`` first expires a few overdue
orders itself: stock held by abandoned orders is free again before any new order asks for it.
``manage.py orders_expire`` does the whole sweep (for cron, or by hand). Each order expires in
a transaction of its own, and one that fails (say, a row the database cannot give back) is
logged by its id and skipped: it never stops the others, nor a shopper's checkout.

Size: kept in one module: placing an order is one durable transaction, and its checks are
written in the order they run.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from carts.models import Cart, CartLine
from carts.selectors import LINE_OK, LINE_UNAVAILABLE, CartLineView, CartSummary, cart_summary
from carts.services import (
    cart_checkout_abandon,
    cart_checkout_begin,
    cart_lock,
    stock_mismatch_record,
)
from catalog.coupons import CouponRefused, coupon_check
from catalog.models import Barcode, Coupon, Product
from orders.errors import OrderError, OrderErrorCode
from orders.models import CouponRedemption, Order, OrderLine, order_number_new
from shopcart.core.money import LINES_MAX, ORDER_TOTAL_MAX, PRICE_MAX, QUANTITY_MAX, money_format

logger = logging.getLogger(__name__)

ERROR_NOT_YOUR_CART = "This is not your cart."
ERROR_EMPTY = "Your cart is empty."
ERROR_CART_CLOSED = "This cart has been paid for or closed; it cannot be ordered again."
ERROR_UNAVAILABLE = "“{product}” is no longer sold. Remove it from your cart to check out."
ERROR_OUT_OF_STOCK = "“{product}” is out of stock. Remove it from your cart to check out."
ERROR_NOT_ENOUGH_STOCK = (
    "Only {left} of “{product}” are left in stock, and your cart has {wanted}. "
    "Change the quantity to check out."
)
ERROR_COUPON = "{problem} Remove the coupon from your cart to check out."
ERROR_TOO_MANY_LINES = (
    f"An order holds at most {LINES_MAX} different products, and your cart has {{count}}. "
    "Remove some to check out."
)
ERROR_LINE_TOO_LARGE = (
    f"An order holds at most {QUANTITY_MAX} of a product at {{price}} each at most: "
    "change “{product}” in your cart to check out."
)
ERROR_TOO_LARGE = (
    "An order can come to at most {limit}, and your cart comes to {subtotal}. "
    "Remove something to check out."
)

# Order numbers are random (30^8); a collision is rare enough that a few tries always do.
NUMBER_ATTEMPTS = 5
# Overdue orders ``order_place`` expires before placing: bounded, so a shopper's request never
# carries a long backlog (beat or ``manage.py orders_expire`` clears that).
EXPIRE_BEFORE_PLACING = 20


# --- Placing --------------------------------------------------------------------------------


def order_place(*, cart: Cart, user: User) -> Order:
    """Turn ``user``'s open ``cart`` into a pending order and freeze the cart (checking out).

    Idempotent per cart version: the order keeps the version it was placed at (one order per
    cart version), and placing a cart already being checked out (a double click, a retry)
    returns its pending order. Raises ``OrderError`` with nothing changed: not the
    user's cart, cart closed, empty, a line no longer sold or out of stock, not enough stock,
    coupon no longer valid. Runs its own durable transaction; call it outside any other.
    """
    orders_expire_pending(limit=EXPIRE_BEFORE_PLACING)
    with transaction.atomic(durable=True):
        return _order_place_locked(cart, user)


def _order_place_locked(cart: Cart, user: User) -> Order:
    locked = cart_lock(cart)
    cart = locked.cart
    if cart.owner_id != user.pk:
        raise OrderError(ERROR_NOT_YOUR_CART, code=OrderErrorCode.NOT_YOUR_CART)
    if cart.status != Cart.Status.OPEN:
        return _order_pending_of(cart)
    products = _products_lock(cart)
    coupon = _coupon_lock(cart)
    # What the cart's pages showed: web-added units beyond the stock are written down first.
    locked.lines  # noqa: B018 (reading them writes them down)
    summary = cart_summary(cart=cart)  # read under the locks: prices and statuses hold
    _lines_check(summary)
    _bounds_check(summary)
    plan = _stock_plan(summary, products)
    coupon = coupon if summary.price.coupon_applied else None
    if coupon is not None:
        _coupon_check(coupon, user)
    _stock_take(plan, cart)
    order = _order_create(cart, user, summary, coupon)  # at the version the shopper saw
    cart_checkout_begin(cart=cart)
    _order_lines_create(order, summary, plan)
    if coupon is not None:
        _coupon_redeem(coupon, order)
    return order


def _order_pending_of(cart: Cart) -> Order:
    """The order a cart being checked out waits for (a second click or a retry gets it)."""
    if cart.status == Cart.Status.CHECKING_OUT:
        order = cart.orders.filter(status=Order.Status.PENDING).first()
        if order is not None:
            return order
    raise OrderError(ERROR_CART_CLOSED, code=OrderErrorCode.CART_CLOSED)


def _products_lock(cart: Cart) -> dict[int, Product]:
    ids = list(
        CartLine.objects.filter(cart=cart, product__isnull=False).values_list(
            "product_id", flat=True
        )
    )
    locked = Product.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {product.pk: product for product in locked}


def _coupon_lock(cart: Cart) -> Coupon | None:
    if cart.coupon_id is None:
        return None
    return Coupon.objects.select_for_update().filter(pk=cart.coupon_id).first()


def _lines_check(summary: CartSummary) -> None:
    if not summary.lines:
        raise OrderError(ERROR_EMPTY, code=OrderErrorCode.EMPTY)
    for view in summary.lines:
        if view.status == LINE_UNAVAILABLE:
            name = view.line.product_name
            raise OrderError(
                ERROR_UNAVAILABLE.format(product=name), code=OrderErrorCode.UNAVAILABLE
            )
        if view.status != LINE_OK:
            name = view.line.product_name
            raise OrderError(
                ERROR_OUT_OF_STOCK.format(product=name), code=OrderErrorCode.OUT_OF_STOCK
            )


def _bounds_check(summary: CartSummary) -> None:
    """Refuse (``OrderError``, code ``too_large``) an order that would not fit the bounds."""
    if len(summary.lines) > LINES_MAX:
        count = len(summary.lines)
        raise OrderError(ERROR_TOO_MANY_LINES.format(count=count), code=OrderErrorCode.TOO_LARGE)
    for view in summary.lines:
        line = view.line
        if line.quantity > QUANTITY_MAX or line.unit_price > PRICE_MAX:
            message = ERROR_LINE_TOO_LARGE.format(
                price=money_format(PRICE_MAX), product=line.product_name
            )
            raise OrderError(message, code=OrderErrorCode.TOO_LARGE)
    if summary.price.subtotal > ORDER_TOTAL_MAX:
        limit, subtotal = money_format(ORDER_TOTAL_MAX), money_format(summary.price.subtotal)
        raise OrderError(
            ERROR_TOO_LARGE.format(limit=limit, subtotal=subtotal), code=OrderErrorCode.TOO_LARGE
        )


def _coupon_check(coupon: Coupon, user: User) -> None:
    try:
        coupon_check(coupon=coupon, code=coupon.code, user=user)
    except CouponRefused as exc:
        raise OrderError(ERROR_COUPON.format(problem=exc), code=exc.code) from None


# --- Stock ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockTake:
    """What an order takes off one product's recorded stock (see the module docstring)."""

    product: Product
    units: int  # off the recorded stock
    in_cart: int  # all of the product in the cart
    short: bool  # the record cannot cover the scanned units: staff should count
    per_line: dict[int, int]  # cart line pk -> its part of ``units``


def _stock_plan(summary: CartSummary, products: dict[int, Product]) -> list[StockTake]:
    """Each product's take, in primary-key order; raises ``OrderError`` when web-added units
    do not fit in the stock the scanned ones leave."""
    by_product: dict[int, list[CartLine]] = defaultdict(list)
    for view in summary.lines:
        assert view.line.product_id is not None  # _lines_check refused lines without one
        by_product[view.line.product_id].append(view.line)
    return [_stock_take_plan(products[pk], by_product[pk]) for pk in sorted(by_product)]


def _stock_take_plan(product: Product, lines: list[CartLine]) -> StockTake:
    """The stock rule for the cart ``lines`` of one ``product`` (pure; raises ``OrderError``)."""
    scanned = sum(line.scanned_quantity for line in lines)
    web = sum(line.web_quantity for line in lines)
    scanned_off = min(scanned, product.stock)
    if web > product.stock - scanned_off:
        wanted = scanned + web
        raise OrderError(
            ERROR_NOT_ENOUGH_STOCK.format(left=product.stock, product=product.name, wanted=wanted),
            code=OrderErrorCode.OUT_OF_STOCK,
        )
    per_line = {}
    left_to_share = scanned_off
    for line in lines:
        share = min(line.scanned_quantity, left_to_share)
        left_to_share -= share
        per_line[line.pk] = line.web_quantity + share
    return StockTake(
        product=product,
        units=scanned_off + web,
        in_cart=scanned + web,
        short=scanned > product.stock,
        per_line=per_line,
    )


def _stock_take(plan: list[StockTake], cart: Cart) -> None:
    for take in plan:  # products were locked in primary-key order already
        if take.units:
            Product.objects.filter(pk=take.product.pk).update(stock=F("stock") - take.units)
        if take.short:
            stock_mismatch_record(
                product=take.product,
                cart=cart,
                quantity_in_cart=take.in_cart,
                stock_recorded=take.product.stock,
            )


# --- The order and its lines ----------------------------------------------------------------


def _order_create(cart: Cart, user: User, summary: CartSummary, coupon: Coupon | None) -> Order:
    now = timezone.now()
    fields = {
        "user": user,
        "email": user.email,
        "cart": cart,
        "cart_version": cart.version,
        "currency": settings.STORE_CURRENCY,
        "subtotal": summary.price.subtotal,
        "discount": summary.price.discount,
        "total": summary.price.total,
        "coupon": coupon,
        "coupon_code": coupon.code if coupon else "",
        "coupon_description": coupon.description if coupon else "",
        "created_at": now,
        "expires_at": now + timedelta(minutes=settings.ORDER_PENDING_MINUTES),
    }
    for _ in range(NUMBER_ATTEMPTS - 1):
        try:
            with transaction.atomic():  # a savepoint: a taken number undoes only this insert
                return Order.objects.create(number=order_number_new(), **fields)
        except IntegrityError:
            continue
    return Order.objects.create(number=order_number_new(), **fields)


def _order_lines_create(order: Order, summary: CartSummary, plan: list[StockTake]) -> None:
    taken = {pk: units for take in plan for pk, units in take.per_line.items()}
    gtins = _first_gtins([take.product.pk for take in plan])
    OrderLine.objects.bulk_create(
        _order_line(order, view, taken[view.line.pk], gtins) for view in summary.lines
    )


def _order_line(
    order: Order, view: CartLineView, stock_taken: int, gtins: dict[int | None, str]
) -> OrderLine:
    line, price = view.line, view.price
    return OrderLine(
        order=order,
        product_id=line.product_id,
        product_name=line.product_name,
        # A pack priced by its in-store label is known by that label's code.
        gtin=line.label_code or gtins.get(line.product_id, ""),
        unit_price=line.unit_price,
        quantity=line.quantity,
        scanned_quantity=line.scanned_quantity,
        stock_taken=stock_taken,
        subtotal=price.subtotal,
        discount=price.discount,
        total=price.total,
    )


def _first_gtins(product_ids: list[int]) -> dict[int | None, str]:
    """Each product's first barcode (the earliest added), in one query."""
    rows = Barcode.objects.filter(product_id__in=product_ids).order_by("-pk")
    gtins: dict[int | None, str] = {}
    for product_id, gtin in rows.values_list("product_id", "gtin"):
        gtins[product_id] = gtin  # rows come newest first: the earliest is written last
    return gtins


def _coupon_redeem(coupon: Coupon, order: Order) -> None:
    Coupon.objects.filter(pk=coupon.pk).update(times_used=F("times_used") + 1)
    CouponRedemption.objects.create(coupon=coupon, order=order)


# --- Cancelling and expiring ----------------------------------------------------------------


def order_cancel(*, order: Order) -> Order:
    """Cancel a pending order: stock and coupon use back, cart open again for the shopper.

    Locks the order. Idempotent: an order no longer pending comes back unchanged. Not durable,
    so that payment handling can call it inside its own transaction.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != Order.Status.PENDING:
            return locked
        locked.mark_cancelled(timezone.now())
        _order_release(locked)
    return locked


def orders_expire_pending(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Expire pending orders past ``expires_at`` (the oldest first, at most ``limit``); gives
    back what each held. One short transaction per order, each under the order's lock, so two
    workers running at once expire every order once. Returns how many this call expired."""
    now = now or timezone.now()
    overdue = Order.objects.pending_expired(now).order_by("expires_at", "pk")
    ids = list(overdue.values_list("pk", flat=True)[:limit])
    return sum(_order_expire_or_skip(order_id, now) for order_id in ids)


def _order_expire_or_skip(order_id: int, now: datetime) -> bool:
    """``_order_expire``; an order that fails is logged by its id (no personal data: the error's
    class, not its message) and skipped, its transaction rolled back. The next sweep tries it
    again."""
    try:
        return _order_expire(order_id, now)
    except Exception as exc:
        logger.error("order %s: not expired, skipped (%s)", order_id, type(exc).__name__)
        return False


def _order_expire(order_id: int, now: datetime) -> bool:
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != Order.Status.PENDING or order.expires_at > now:
            return False  # paid, cancelled or expired by someone else meanwhile
        order.mark_expired(now)
        _order_release(order)
    return True


def _order_release(order: Order) -> None:
    """Save the order's new status and give back what it held (the order is locked)."""
    order.save(update_fields=["status", "closed_at"])
    if order.cart is not None:
        # Open again unless closed meanwhile; carts keeps owning cart status changes.
        cart_checkout_abandon(cart=order.cart)
    _stock_give_back(order)
    _coupon_give_back(order)


def _stock_give_back(order: Order) -> None:
    taken = (
        order.lines.filter(product__isnull=False, stock_taken__gt=0)
        .values("product_id")
        .annotate(units=Sum("stock_taken"))
        .order_by("product_id")  # the same order as placement locks them in
    )
    for row in taken:
        Product.objects.filter(pk=row["product_id"]).update(stock=F("stock") + row["units"])


def _coupon_give_back(order: Order) -> None:
    if order.coupon_id is None:
        return
    # The coupon row first, as placement locks it before writing a redemption.
    coupon = Coupon.objects.select_for_update().filter(pk=order.coupon_id).first()
    if coupon is None:
        return
    deleted, _ = CouponRedemption.objects.filter(coupon=coupon, order=order).delete()
    if deleted:
        Coupon.objects.filter(pk=coupon.pk, times_used__gt=0).update(times_used=F("times_used") - 1)
