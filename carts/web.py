"""Which cart a web request is about: the signed-in shopper's, or the anonymous browser's.

A visitor who is not signed in gets a cart of their own the first time they put something in
it (and not before: looking costs no cart, no session). Its id is kept in the session *data*:
Django gives the session a new key when the visitor signs in, but keeps the data, so the
``user_logged_in`` receiver can still find the anonymous cart and merge it into the shopper's.

Nothing here trusts the request for a cart id: there is no cart id in any URL or form.
"""

from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Sum
from django.http import HttpRequest

from carts.models import Cart, CartLine
from carts.selectors import cart_get_current
from carts.services import cart_close, cart_get_for_session, cart_get_for_user, cart_merge
from catalog.models import Product

SESSION_CART_ID = "carts:anonymous_cart_id"


def request_cart(request: HttpRequest, *, create: bool = False) -> Cart | None:
    """The request's unclosed cart; with ``create``, made (with its session) when there is none."""
    user = request.user
    if user.is_authenticated:
        assert isinstance(user, User)
        return cart_get_for_user(user=user) if create else cart_get_current(user=user)
    cart = _anonymous_cart(request)
    if cart is None and create:
        cart = _anonymous_cart_create(request)
    return cart


def cart_product_get(*, product_id: int) -> Product | None:
    """A product a cart edit names: any, sold or not (the cart services refuse unsold ones
    with a message, and an unsold product's line must still be removable)."""
    return Product.objects.filter(pk=product_id).first()


def request_cart_units(request: HttpRequest) -> int:
    """How many things (all lines' quantities) the request's cart holds, in one query or none.

    Safe on a request that no middleware has seen (no user, no session): 0.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        lines = CartLine.objects.filter(cart__owner=user, cart__current=True)
    else:
        cart_id = _anonymous_cart_id(request)
        if cart_id is None:
            return 0
        lines = CartLine.objects.filter(cart_id=cart_id, cart__current=True)
    return lines.aggregate(units=Sum("quantity"))["units"] or 0


def session_cart_merge(
    *, request: HttpRequest | None, user: AbstractBaseUser | AnonymousUser
) -> None:
    """Merge the anonymous cart of ``request``'s session into ``user``'s cart; say what changed.

    Called when ``user`` has just signed in. The anonymous cart is closed by the merge and its
    id leaves the session, so signing in again changes nothing. An empty anonymous cart is only
    closed: it does not give the shopper a cart.
    """
    if request is None or not isinstance(user, User):
        return
    cart_id = request.session.pop(SESSION_CART_ID, None)
    source = _anonymous_cart_by_id(cart_id)
    if source is None:
        return
    if source.coupon_id is None and not source.lines.exists():
        cart_close(cart=source)
        return
    target = cart_get_for_user(user=user)
    for text in cart_merge(source=source, target=target):
        # fail_silently: Client.force_login and scripts log in with a bare request.
        messages.info(request, text, fail_silently=True)


def _anonymous_cart_id(request: HttpRequest) -> int | None:
    session = getattr(request, "session", None)
    value = session.get(SESSION_CART_ID) if session is not None else None
    return value if isinstance(value, int) else None


def _anonymous_cart(request: HttpRequest) -> Cart | None:
    return _anonymous_cart_by_id(_anonymous_cart_id(request))


def _anonymous_cart_by_id(cart_id: object) -> Cart | None:
    if not isinstance(cart_id, int):
        return None
    return Cart.objects.filter(pk=cart_id, owner__isnull=True, current=True).first()


def _anonymous_cart_create(request: HttpRequest) -> Cart:
    if request.session.session_key is None:
        request.session.save()  # gives the session its key
    session_key = request.session.session_key
    assert session_key is not None
    cart = cart_get_for_session(session_key=session_key)
    request.session[SESSION_CART_ID] = cart.pk
    return cart
