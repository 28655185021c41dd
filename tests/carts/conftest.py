"""Fixtures the cart tests share: a product, alice's cart holding one of it, and a stream that
beats and ends quickly (the live events' in-process broker: ``local_broker``, tests/conftest.py)."""

from decimal import Decimal

import pytest

from carts import live
from carts.services import cart_add_product, cart_get_for_user
from tests.factories import ProductFactory


@pytest.fixture
def quick_stream(monkeypatch):
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(live, "STREAM_SECONDS", 5.0)


@pytest.fixture
def milk(db):
    return ProductFactory(name="Milk", price=Decimal("1.15"), stock=5)


@pytest.fixture
def alice_cart(alice, milk):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=milk)
    cart.refresh_from_db()
    return cart
