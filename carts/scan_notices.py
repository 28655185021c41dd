"""What the shopper's cart page says about the cart's last scan, for a few seconds.

Whatever a scan came to — added, removed, nothing read, two codes, an unknown code, not in the
cart, the cart being paid for — the shopper's phone says so, not only the cart's small display.

The design: the scan's outcome is a small marker on the cart row (``Cart.scan_count``,
``last_scan_outcome``, ``last_scan_product``, ``last_scan_at``), written by the cart services
inside the scan's transaction, which already holds the cart's row lock:

* an addition or removal by a scan writes it in the UPDATE that bumps the version (no query
  more on the busiest path); a scan that changes nothing writes it in one UPDATE of its own
  (``carts.services.cart_scan_record``) and leaves ``version`` alone, since
  ``version`` means "the contents changed" and checkout refuses a pay button of an older one;
* ``scan_count`` joins the version in the live event (``carts.events.CartStamp``) and in the
  cart fragment's ETag, so the stream and the polling fallback both carry the new notice;
* a retried scan rolls its transaction back (``devices.services.scans``): marker and event go
  with it.

The other design — a counter on the cart, and a devices template tag rendering the cart's latest
``ScanEvent`` — would cost the page a query into devices on every render and still need the
counter on the cart for the ETag; the marker keeps carts free of devices (devices calls carts,
never the reverse) and the wording on the carts side, next to the page that shows it.

The notice is rendered by the server only while the scan is at most ``FRESH_SECONDS`` old (a
page loaded later shows none), and ``static/js/cart.js`` hides it after a few seconds.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from carts.models import Cart

FRESH_SECONDS = 10

NOTICE_ADDED = "Added: {name}"
NOTICE_REMOVED = "Removed: {name}"
NOTICE_NO_BARCODE = "Not read — try again"
NOTICE_AMBIGUOUS = "Two codes seen — scan one"
NOTICE_UNKNOWN_PRODUCT = "We don’t sell this code yet — ask staff"  # noqa: RUF001
NOTICE_NOT_SOLD = "Can’t add {name} — ask staff"  # noqa: RUF001
NOTICE_NOT_IN_CART = "Not in your cart: {name}"
NOTICE_CART_PAYING = "Cart is paying — finish on your phone"
NOTICE_CART_CLOSED = "Cart is closed — show your cart pass to scan again"

Outcome = Cart.ScanOutcome

_TEXTS = {
    Outcome.ADDED: NOTICE_ADDED,
    Outcome.REMOVED: NOTICE_REMOVED,
    Outcome.NO_BARCODE: NOTICE_NO_BARCODE,
    Outcome.AMBIGUOUS: NOTICE_AMBIGUOUS,
    Outcome.UNKNOWN_PRODUCT: NOTICE_UNKNOWN_PRODUCT,
    Outcome.NOT_SOLD: NOTICE_NOT_SOLD,
    Outcome.NOT_IN_CART: NOTICE_NOT_IN_CART,
    Outcome.CART_PAYING: NOTICE_CART_PAYING,
    Outcome.CART_CLOSED: NOTICE_CART_CLOSED,
}
_GOOD = {Outcome.ADDED, Outcome.REMOVED}


@dataclass(frozen=True)
class ScanNotice:
    text: str  # plain text: templates escape it
    good: bool  # the scan did what the shopper meant (added or removed)
    number: int  # the cart's scan count: the page shows each notice once


def scan_notice(cart: Cart | None, *, now: datetime | None = None) -> ScanNotice | None:
    """The notice about ``cart``'s last scan while it is fresh; None otherwise."""
    if cart is None or cart.last_scan_at is None or not cart.last_scan_outcome:
        return None
    # No lower bound: a web node whose clock is a little behind the scan's still shows it.
    if (now or timezone.now()) - cart.last_scan_at > timedelta(seconds=FRESH_SECONDS):
        return None
    outcome = Outcome(cart.last_scan_outcome)
    text = _TEXTS[outcome].format(name=cart.last_scan_product or "this product")
    return ScanNotice(text=text, good=outcome in _GOOD, number=cart.scan_count)
