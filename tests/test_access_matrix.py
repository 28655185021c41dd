"""Who may use which route: every route of the store, requested by every kind of caller.

The routes come from the URL configuration itself; ``test_every_route_has_a_rule`` fails when a
new route appears without a line in ``RULES``, so nothing is added unchecked. Each route is
requested as its owner (alice, where it is about her things), as another shopper (bob), as a
visitor, with a device key, and as staff. What each may get is written per route:

* ``"login"``: sent to the sign-in page (302 to /accounts/login/ or the admin's);
* a number, or a tuple of numbers: the status codes allowed.

allauth's own account pages and Django's admin internals are the libraries' business (their
test suites cover them); the admin as a whole is checked once, for a changelist and a change
page of every registered model.

Every staff route (one that staff may use and shoppers may not) and every admin page is also
requested by managers and a superuser who lack two factors (``shopcart.core.staff_mfa``): without
TOTP, and with TOTP but no code given in the session. Each is refused; given the code, they pass.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from carts.models import Cart, CartLine
from carts.services import cart_get_for_user
from catalog.models import Product
from orders.exit_codes import exit_code_for
from orders.models import Payment
from shopcart.core.staff_mfa import (
    ERROR_API_MFA_AUTHENTICATE,
    ERROR_API_MFA_REQUIRED,
    totp_secret_set,
)
from tests.factories import BarcodeFactory, UserFactory
from tests.orders.factories import OrderLineFactory, PaidOrderFactory, PaymentFactory
from tests.support import second_factor_given

pytestmark = pytest.mark.django_db

ROLES = ("owner", "shopper", "visitor", "device", "staff")
LOGIN = "login"


@dataclass(frozen=True)
class Rule:
    method: str
    expect: dict[str, Any]  # role -> LOGIN, a status, or a tuple of statuses
    kwargs: Callable[["World"], dict[str, Any]] = lambda world: {}
    data: dict[str, Any] = field(default_factory=dict)


def every(status: Any) -> dict[str, Any]:
    return dict.fromkeys(ROLES, status)


def signed_in(ok: Any, *, others: Any = LOGIN) -> dict[str, Any]:
    """Any signed-in person gets ``ok`` (about their own things); visitors and devices log in."""
    return {"owner": ok, "shopper": ok, "staff": ok, "visitor": others, "device": others}


def owner_only(ok: Any) -> dict[str, Any]:
    """Alice's things: alice gets ``ok``, every other signed-in person 404."""
    return {"owner": ok, "shopper": 404, "staff": 404, "visitor": LOGIN, "device": LOGIN}


def staff_only(ok: Any, *, denied: Any = LOGIN, unsigned: Any = LOGIN) -> dict[str, Any]:
    return {
        "owner": denied,
        "shopper": denied,
        "staff": ok,
        "visitor": unsigned,
        "device": unsigned,
    }


def order(world: "World") -> dict[str, Any]:
    return {"number": world.order.number}


def product(world: "World") -> dict[str, Any]:
    return {"product_id": world.product.pk}


def cart_line(world: "World") -> dict[str, Any]:
    return {"line_id": world.line.pk}


# Cart routes work on the request's own cart (by session or account), never on one named in
# the URL: anyone may use them, and alice's cart is out of everyone else's reach by design
# (test_nobody_changes_alices_cart_through_the_cart_routes).
CART_EDIT = every((200, 302, 400, 404))
API_SHOPPER = {"owner": 200, "shopper": 200, "staff": 200, "visitor": 401, "device": 401}
API_STAFF = {"owner": 403, "shopper": 403, "staff": 200, "visitor": 401, "device": 401}
API_DEVICE = {"owner": 401, "shopper": 401, "staff": 401, "visitor": 401, "device": 405}
UNSIGNED_WEBHOOK = every(400)

RULES: dict[str, Rule] = {
    "healthz": Rule("get", every(200)),
    "readyz": Rule("get", every(200)),
    "web-manifest": Rule("get", every(200)),
    "api-schema": Rule("get", every(200)),
    "api-docs": Rule("get", every(200)),
    "catalog:home": Rule("get", every(200)),
    "catalog:product_detail": Rule("get", every(200), lambda w: {"slug": w.product.slug}),
    "carts:detail": Rule("get", every(200)),
    "carts:fragment": Rule("get", every(200)),
    "carts:events": Rule("get", every(200)),
    "carts:line_add": Rule("post", CART_EDIT, product),
    "carts:line_remove": Rule("post", CART_EDIT, product),
    "carts:line_set": Rule("post", CART_EDIT, product, {"quantity": "3"}),
    "carts:line_delete": Rule("post", CART_EDIT, product),
    "carts:unavailable_line_delete": Rule("post", CART_EDIT, cart_line),
    "carts:labelled_line_delete": Rule("post", CART_EDIT, cart_line),
    "carts:coupon_apply": Rule("post", CART_EDIT, data={"code": "NOPE"}),
    "carts:coupon_remove": Rule("post", CART_EDIT),
    "carts:pass": Rule("get", signed_in(200)),
    "carts:pass_qr": Rule("get", signed_in(200)),
    "carts:pass_email": Rule("post", signed_in(302)),
    "carts:pass_replace": Rule("post", signed_in(302), data={"confirm": "on"}),
    "devices:pairing_end": Rule("post", signed_in(302)),
    "orders:list": Rule("get", signed_in(200)),
    "orders:detail": Rule("get", owner_only(200), order),
    "orders:exit_qr": Rule("get", owner_only(200), order),
    "orders:receipt": Rule("get", owner_only(200), order),
    "orders:payment_success": Rule("get", owner_only(200), order),
    "orders:payment_cancelled": Rule("get", owner_only((200, 302)), order),
    "orders:checkout": Rule("get", signed_in((200, 302))),
    "orders:checkout_back": Rule("post", signed_in(302)),
    "payments:webhook_stripe": Rule("post", UNSIGNED_WEBHOOK),
    "payments:webhook_test": Rule("post", UNSIGNED_WEBHOOK),
    "payments:test_page": Rule(
        "get", owner_only((200, 410)), lambda w: {"session_id": w.payment.external_id}
    ),
    "orders_staff:exit_check": Rule("get", staff_only(200, denied=403)),
    "admin-dashboard": Rule("get", staff_only(200)),
    "catalog-api:product_list": Rule("get", API_STAFF),
    "catalog-api:product_detail": Rule("get", API_STAFF, lambda w: {"id": w.product.pk}),
    "carts-api:detail": Rule("get", API_SHOPPER),
    "carts-api:lines": Rule(
        "post", {**API_SHOPPER, **dict.fromkeys(("owner", "shopper", "staff"), 400)}
    ),
    "carts-api:coupon": Rule(
        "post", {**API_SHOPPER, **dict.fromkeys(("owner", "shopper", "staff"), 400)}
    ),
    # The enrolment code is the credential, not a key or a session: anyone may try (POST only).
    "devices-api:enrol": Rule("get", every(405)),
    # A release is served only to the carts it is meant for (test_firmware_releases.py).
    "devices-api:firmware": Rule(
        "get", {**API_DEVICE, "device": 404}, lambda w: {"version": "9.9.9"}
    ),
    "devices-api:heartbeat": Rule("get", API_DEVICE),
    "devices-api:scans": Rule("get", API_DEVICE),
}

# Libraries' own routes, checked by their own test suites: allauth's account, two-factor and
# social-login pages, and the admin's (checked as a whole below).
LIBRARY_ROUTE_PREFIXES = ("account_", "mfa_", "socialaccount_", "admin:")
LIBRARY_ROUTE_NAMES = {
    "google_login", "google_callback", "google_login_by_token",
    "facebook_login", "facebook_callback", "facebook_login_by_token",
    "openid_connect_login", "openid_connect_callback",
}  # fmt: skip


def route_names() -> Iterator[str]:
    def walk(patterns: list, namespace: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield f"{namespace}{pattern.name}"

    for name in walk(get_resolver().url_patterns, ""):
        if not name.startswith(LIBRARY_ROUTE_PREFIXES) and name not in LIBRARY_ROUTE_NAMES:
            yield name


def test_every_route_has_a_rule():
    routes = set(route_names())

    assert routes - set(RULES) == set(), "new routes: add them to RULES"
    assert set(RULES) - routes == set(), "RULES names routes that no longer exist"


@dataclass
class World:
    alice: Any
    product: Any
    cart: Cart
    line: CartLine
    order: Any
    payment: Payment
    clients: dict[str, Client]
    device: Any


@pytest.fixture
def world(alice, alice_client, bob_client, staff_client, device, device_key) -> World:
    product = BarcodeFactory(product__name="Oat milk", product__price=Decimal("1.50")).product
    cart = cart_get_for_user(user=alice)
    line = CartLine.objects.create(
        cart=cart, product=product, product_name="Oat milk", unit_price=Decimal("1.50"), quantity=2
    )
    order = PaidOrderFactory(user=alice)
    OrderLineFactory(order=order)
    payment = PaymentFactory(order=order)
    clients = {
        "owner": alice_client,
        "shopper": bob_client,
        "visitor": Client(),
        "device": Client(headers={"Authorization": f"Device {device_key}"}),
        "staff": staff_client,
    }
    return World(alice, product, cart, line, order, payment, clients, device)


def is_login_redirect(response) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and ("/accounts/login/" in location or "/login/" in location)


def check(response, expected: Any) -> bool:
    if expected == LOGIN:
        return is_login_redirect(response)
    allowed = expected if isinstance(expected, tuple) else (expected,)
    return response.status_code in allowed and not (
        response.status_code == 302 and is_login_redirect(response)
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(RULES))
def test_route_answers_each_caller_as_its_rule_says(world, name, role):
    rule = RULES[name]
    url = reverse(name, kwargs=rule.kwargs(world))
    client = world.clients[role]

    if url.startswith("/api/"):
        response = getattr(client, rule.method)(url, rule.data, content_type="application/json")
    else:
        response = getattr(client, rule.method)(url, rule.data)

    expected = rule.expect[role]
    assert check(response, expected), (
        f"{rule.method.upper()} {url} as {role}: got {response.status_code} "
        f"{response.get('Location', '')}, expected {expected}"
    )


@pytest.mark.parametrize("role", ["shopper", "visitor", "device", "staff"])
def test_nobody_changes_alices_cart_through_the_cart_routes(world, role):
    client = world.clients[role]
    for name in ("carts:unavailable_line_delete", "carts:labelled_line_delete"):
        client.post(reverse(name, kwargs={"line_id": world.line.pk}))
    for name in ("carts:line_delete", "carts:line_remove"):
        client.post(reverse(name, kwargs={"product_id": world.product.pk}))

    world.line.refresh_from_db()
    assert world.line.quantity == 2


def admin_urls() -> Iterator[tuple[str, Any]]:
    """(changelist URL, model) for every model registered in the admin."""
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        yield reverse("admin:{}_{}_changelist".format(*info)), model


@pytest.mark.parametrize("role", ["owner", "shopper", "visitor", "device"])
def test_the_admin_is_closed_to_everyone_but_staff(world, role):
    client = world.clients[role]
    for url, _ in admin_urls():
        response = client.get(url)
        assert is_login_redirect(response), (url, role, response.status_code)


def test_staff_open_every_admin_list_and_a_row_of_each(world):
    client = world.clients["staff"]
    for url, model in admin_urls():
        assert client.get(url).status_code in (200, 403), url
        row = model._default_manager.first()
        if row is not None:
            info = (model._meta.app_label, model._meta.model_name)
            change = reverse("admin:{}_{}_change".format(*info), args=[row.pk])
            assert client.get(change).status_code in (200, 403), change


# The admin's routes are the library's, but these pages are the project's own.
PROJECT_ADMIN_PAGES = [
    ("admin:devices_device_provision", lambda world: {}),
    ("admin:devices_device_reprovision", lambda world: {"object_id": world.device.pk}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "kwargs"), PROJECT_ADMIN_PAGES)
def test_the_projects_admin_pages_are_for_staff_only(world, role, name, kwargs):
    response = world.clients[role].get(reverse(name, kwargs=kwargs(world)))

    if role == "staff":
        assert response.status_code == 200
    else:
        assert is_login_redirect(response), (name, role, response.status_code)


# --- Two factors on every staff surface ----------------------------------------------------------

SETUP, CODE = "setup", "code"
# Who lacks two factors, and what they lack: TOTP set up, or a code given in this session.
WITHOUT_TWO_FACTORS = {
    "manager without TOTP": SETUP,
    "superuser without TOTP": SETUP,
    "manager without a code": CODE,
}


def is_refusal(expected: Any) -> bool:
    return expected in (LOGIN, 401, 403, 404)


# A staff route: staff may use it, shoppers may not.
STAFF_ROUTES = sorted(
    name
    for name, rule in RULES.items()
    if not is_refusal(rule.expect["staff"]) and is_refusal(rule.expect["shopper"])
)


def test_the_staff_routes_are_found():
    assert {"orders_staff:exit_check", "admin-dashboard", "catalog-api:product_list"} <= set(
        STAFF_ROUTES
    )


@pytest.fixture
def lacking(db) -> dict[str, tuple[Client, Any]]:
    """A signed-in client for each way of lacking two factors, and its user."""
    manager_group = Group.objects.get(name="Store manager")
    without_totp = UserFactory(username="new-manager@example.com", is_staff=True)
    without_totp.groups.add(manager_group)
    without_code = UserFactory(username="manager-2@example.com", is_staff=True)
    without_code.groups.add(manager_group)
    totp_secret_set(user=without_code, secret=generate_totp_secret())
    root = UserFactory(username="root@example.com", is_staff=True, is_superuser=True)
    users = {
        "manager without TOTP": without_totp,
        "superuser without TOTP": root,
        "manager without a code": without_code,
    }
    clients = {}
    for who, user in users.items():
        client = Client()
        client.force_login(user)
        clients[who] = (client, user)
    return clients


def request_as(client: Client, method: str, url: str, data: dict[str, Any]):
    if url.startswith("/api/"):
        return getattr(client, method)(url, data, content_type="application/json")
    return getattr(client, method)(url, data)


def refused_for(response, missing: str, url: str) -> bool:
    """The gate's answer: 403 with the reason for an API; for a page, a redirect to set up
    TOTP, or to give a code and come back."""
    if url.startswith("/api/"):
        detail = ERROR_API_MFA_REQUIRED if missing == SETUP else ERROR_API_MFA_AUTHENTICATE
        return response.status_code == 403 and response.json() == {"detail": detail}
    if missing == SETUP:
        expected = reverse("mfa_activate_totp")
    else:
        expected = f"{reverse('mfa_reauthenticate')}?{urlencode({'next': url})}"
    return response.status_code == 302 and response["Location"] == expected


@pytest.mark.parametrize("who", sorted(WITHOUT_TWO_FACTORS))
@pytest.mark.parametrize("name", STAFF_ROUTES)
def test_staff_routes_refuse_staff_without_two_factors(world, lacking, name, who):
    rule = RULES[name]
    url = reverse(name, kwargs=rule.kwargs(world))
    client, user = lacking[who]
    missing = WITHOUT_TWO_FACTORS[who]

    response = request_as(client, rule.method, url, rule.data)

    assert refused_for(response, missing, url), (
        f"{rule.method.upper()} {url} as {who}: got {response.status_code} "
        f"{response.get('Location', '')}"
    )
    if missing == CODE:
        # Having typed the code, the same manager gets what staff get.
        second_factor_given(client, user)
        response = request_as(client, rule.method, url, rule.data)
        assert check(response, rule.expect["staff"]), (url, response.status_code)


STAFF_WRITES = [
    ("post", "catalog-api:product_list", {"name": "Rye bread", "price": "3.10"}),
    ("put", "catalog-api:product_detail", {"name": "Changed", "price": "0.01", "stock": 1}),
    ("patch", "catalog-api:product_detail", {"price": "0.01"}),
    ("delete", "catalog-api:product_detail", {}),
    ("post", "orders_staff:exit_check", {}),
]


@pytest.mark.parametrize("who", sorted(WITHOUT_TWO_FACTORS))
@pytest.mark.parametrize(("method", "name", "data"), STAFF_WRITES)
def test_staff_writes_refuse_staff_without_two_factors(world, lacking, method, name, data, who):
    kwargs = {"id": world.product.pk} if name == "catalog-api:product_detail" else {}
    url = reverse(name, kwargs=kwargs)
    if name == "orders_staff:exit_check":
        data = {"code": exit_code_for(world.order)}
    client, _ = lacking[who]

    response = request_as(client, method, url, data)

    assert refused_for(response, WITHOUT_TWO_FACTORS[who], url), response.status_code
    world.product.refresh_from_db()
    world.order.refresh_from_db()
    assert (world.product.price, world.product.active) == (Decimal("1.50"), True)
    assert Product.objects.count() == 1
    assert world.order.exited_at is None


@pytest.mark.parametrize("who", sorted(WITHOUT_TWO_FACTORS))
def test_the_admin_refuses_staff_without_two_factors(world, lacking, who):
    client, _ = lacking[who]
    for url, _model in admin_urls():
        assert refused_for(client.get(url), WITHOUT_TWO_FACTORS[who], url), url
