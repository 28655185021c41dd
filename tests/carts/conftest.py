"""Fixtures the cart tests share: a product, alice's cart holding one of it, the live events'
in-process broker and a stream that beats and ends quickly."""

from decimal import Decimal

import pytest

from carts import events, live
from carts.events import InProcessBroker
from carts.services import cart_add_product, cart_get_for_user
from tests.factories import ProductFactory


@pytest.fixture
def local_broker(monkeypatch):
    """The in-process broker, whatever REDIS_URL says: the stream and the change share it."""
    broker = InProcessBroker()
    monkeypatch.setattr(events, "broker", lambda: broker)
    return broker


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
