"""Redis down: the store keeps selling (issue 9, "Nothing lost when a part fails").

The ``redis_down`` fixture points the cache, the live events and the Celery broker at a closed
port on loopback: every connection is refused at once, as after Redis stopped. Scans, signing
in, the cart page and its polled fallback, and checkout still work; the confirmation email
that could not be queued goes out once the sweep runs with the broker back.
"""

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carts import events, live
from carts.events import EventsUnavailable
from carts.models import Cart, CartLine
from carts.services import cart_add_product, cart_get_for_user, cart_pass_issue
from devices.services import device_pair
from orders.models import Order
from orders.tasks import order_confirmation_send, orders_after_payment_sweep
from shopcart.celery import app as celery_app
from shopcart.core import cache_backends
from shopcart.core.cache_backends import FailSoftRedisCache
from shopcart.core.queueing import task_enqueue, task_enqueue_on_commit
from tests.factories import BarcodeFactory, ProductFactory

EAN13 = "4006381333931"
GOOD_CARD = {"number": "4242 4242 4242 4242", "expiry": "12 / 39", "cvc": "123"}


def closed_port() -> int:
    """A loopback port nothing listens on (bound once to find it, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def fresh_outages() -> Iterator[None]:
    cache_backends._outages.clear()
    yield
    cache_backends._outages.clear()


@pytest.fixture
def redis_down(settings, fresh_outages, monkeypatch) -> Iterator[str]:
    """Cache, live events and Celery broker all on a Redis that refuses connections."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    settings.REDIS_URL = url
    # Changing CACHES resets Django's cache handler (the test "setting_changed" receiver).
    settings.CACHES = {
        "default": {
            "BACKEND": "shopcart.core.cache_backends.FailSoftRedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    events.broker.cache_clear()
    # Celery reads the broker URL from the environment first (CI's run with services sets it).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    previous = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    _celery_connections_drop()
    yield url
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = previous
    _celery_connections_drop()
    events.broker.cache_clear()


def _celery_connections_drop() -> None:
    # The app keeps its broker connection pool once made: drop it so the new URL is used.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def broker_back() -> None:
    """The broker answers again (here: tasks run in the test's process, as without a broker)."""
    celery_app.conf.task_always_eager = True


# --- The cache --------------------------------------------------------------------------------


def test_unreachable_cache_answers_as_an_empty_cache_and_warns_once(redis_down, caplog):
    backend = caches["default"]
    assert isinstance(backend, FailSoftRedisCache)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="shopcart.core.cache_backends"):
        assert backend.get("k", "default") == "default"
        assert backend.add("k", 1) is True  # allauth's lock: taken, so sign-in goes on
        backend.set("k", 1)
        assert backend.get("k") is None
        assert backend.get_many(["k"]) == {}
        assert backend.delete("k") is False
        assert backend.has_key("k") is False
        with pytest.raises(ValueError):
            backend.incr("k")

    assert time.monotonic() - started < 1.0
    warnings = [r for r in caplog.records if r.name == "shopcart.core.cache_backends"]
    assert len(warnings) == 1
    assert "ConnectionError" in warnings[0].getMessage()
    assert redis_down not in caplog.text and "127.0.0.1" not in caplog.text


def test_cache_leaves_redis_alone_for_a_pause_then_tries_again(redis_down, monkeypatch):
    backend = caches["default"]
    backend.get("k")  # refused: the pause begins
    tries = []
    monkeypatch.setattr(cache_backends.RedisCache, "get", lambda *args: tries.append(1))

    backend.get("k")
    assert tries == []  # no socket timeout paid again on every call
    backend._outage.down_until = 0.0  # RETRY_AFTER_SECONDS later
    backend.get("k")
    assert tries == [1]


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="REDIS_URL is not set: no real Redis")
def test_cache_on_a_running_redis_works_normally(fresh_outages):
    assert isinstance(caches["default"], FailSoftRedisCache)
    key = f"redis-down-test:{uuid.uuid4()}"
    assert cache.add(key, 1, 30) is True
    assert cache.add(key, 2, 30) is False  # a real add: the key is there
    assert cache.incr(key) == 2
    cache.set(key, {"a": 1}, 30)
    assert cache.get(key) == {"a": 1}
    assert cache.delete(key) is True
    assert cache.get(key, "gone") == "gone"


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="REDIS_URL is not set: no real Redis")
def test_get_many_and_set_keep_one_client_and_store_what_django_stores(fresh_outages, monkeypatch):
    backend = FailSoftRedisCache(django_settings.REDIS_URL, {"OPTIONS": {"socket_timeout": 1}})
    clients = []
    made = redis.Redis.__init__

    def counted(self, *args, **kwargs):
        clients.append(1)
        made(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counted)
    count, stamp = f"hot-test:{uuid.uuid4()}", f"hot-test:{uuid.uuid4()}"

    backend.set(count, 3, 30)
    backend.set(stamp, "abc", 30)
    read = backend.get_many([count, stamp, "hot-test:missing"])

    assert clients == []  # Django's own get_many and set make a client each call
    assert read == {count: 3, stamp: "abc"}
    assert RedisCache.get_many(backend, [count, stamp]) == read  # Django reads what we wrote
    RedisCache.set(backend, count, 4, 30)
    assert backend.get_many([count]) == {count: 4}  # and we what Django wrote
    backend.set(count, 5, 0)  # no time to live: gone, as with Django's
    assert backend.get(count, "gone") == "gone"


# --- Shopping ---------------------------------------------------------------------------------


@pytest.fixture
def product(db):
    return BarcodeFactory(gtin="0" + EAN13, product=ProductFactory(price=Decimal("2.50"))).product


@pytest.mark.django_db
def test_device_scan_adds_to_the_cart(
    redis_down, device, device_client, alice, product, caplog, django_capture_on_commit_callbacks
):
    cart = device_pair(device=device, cart_pass=cart_pass_issue(user=alice)).cart
    body = {"scan_id": str(uuid.uuid4()), "mode": "add", "qty": 1, "code": EAN13}

    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = device_client.post(
            reverse("devices-api:scans"), body, content_type="application/json"
        )

    assert response.status_code == 201, response.content
    assert CartLine.objects.get(cart=cart, product=product).quantity == 1
    assert "could not publish a cart event" in caplog.text  # the page polls instead


@pytest.mark.django_db
def test_shopper_signs_in_and_sees_the_cart_page_and_its_polled_fallback(redis_down, alice):
    client = Client()
    response = client.post(
        reverse("account_login"),
        {"login": alice.username, "password": "correct horse battery"},
    )
    assert response.status_code == 302, response.content
    assert client.get(reverse("carts:detail")).status_code == 200

    fragment = client.get(reverse("carts:fragment"))
    assert fragment.status_code == 200
    again = client.get(reverse("carts:fragment"), headers={"if-none-match": fragment["ETag"]})
    assert again.status_code == 304


@pytest.fixture
def alice_cart(alice, product):
    cart = cart_get_for_user(user=alice)
    cart_add_product(cart=cart, product=product)
    return cart


@pytest.mark.django_db
def test_cart_stream_ends_at_once_asking_the_browser_to_come_back_later(
    redis_down, alice_client, alice_cart
):
    started = time.monotonic()
    response = alice_client.get(reverse("carts:events"))
    chunks = [chunk.decode() for chunk in response.streaming_content]

    assert response.status_code == 200
    assert chunks == [f"retry: {live.UNAVAILABLE_RETRY_MILLISECONDS}\n\n"]
    assert time.monotonic() - started < 1.0


class DroppedSubscription:
    """Subscribed, then Redis goes away: the next read fails."""

    def __init__(self) -> None:
        self.reads, self.closed = 0, False

    def get(self, timeout: float) -> int | None:
        self.reads += 1
        if self.reads > 1:
            raise EventsUnavailable("ConnectionError")
        return None

    def close(self) -> None:
        self.closed = True


@pytest.mark.django_db
def test_cart_stream_ends_when_redis_goes_away_mid_stream(alice_client, alice_cart, monkeypatch):
    subscription = DroppedSubscription()
    monkeypatch.setattr(live, "cart_event_subscribe", lambda cart_id: subscription)
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.01)

    response = alice_client.get(reverse("carts:events"))
    chunks = [chunk.decode() for chunk in response.streaming_content]

    assert chunks[0].startswith(f"retry: {live.RETRY_MILLISECONDS}\ndata: ")
    assert chunks[1:] == [f"retry: {live.UNAVAILABLE_RETRY_MILLISECONDS}\n\n"]
    assert subscription.closed


@pytest.mark.django_db
def test_a_failing_publish_never_reaches_the_request(
    alice_cart, monkeypatch, django_capture_on_commit_callbacks
):
    class BrokenBroker:
        def publish(self, cart_id: int, version: int) -> None:
            raise RuntimeError("anything at all")

    monkeypatch.setattr(events, "broker", BrokenBroker)
    with django_capture_on_commit_callbacks(execute=True):
        cart_add_product(cart=alice_cart, product=alice_cart.lines.get().product)

    assert alice_cart.lines.get().quantity == 2


def test_asgi_cart_stream_ends_at_once_too(redis_down):
    async def listen() -> list[str]:
        return [chunk async for chunk in live._stream_async(cart_id=1)]

    assert asyncio.run(listen()) == [f"retry: {live.UNAVAILABLE_RETRY_MILLISECONDS}\n\n"]


# --- Checkout and the work queued after it ----------------------------------------------------


@pytest.mark.django_db
def test_checkout_pays_and_the_sweep_sends_the_confirmation_once_redis_is_back(
    redis_down, alice, alice_client, alice_cart, django_capture_on_commit_callbacks, caplog
):
    version = Cart.objects.get(pk=alice_cart.pk).version
    pay_page = alice_client.post(reverse("orders:checkout"), {"version": version})["Location"]
    queueing_log = caplog.at_level(logging.ERROR, logger="shopcart.core.queueing")
    with queueing_log, django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(pay_page, GOOD_CARD)

    assert response.status_code == 302
    order = Order.objects.get(cart=alice_cart)
    assert order.status == Order.Status.PAID
    assert order.confirmation_emailed_at is None
    assert "orders.tasks.order_confirmation_send" in caplog.text
    assert redis_down not in caplog.text
    assert mail.outbox == []

    broker_back()
    Order.objects.filter(pk=order.pk).update(paid_at=timezone.now() - timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_after_payment_sweep() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_after_payment_sweep() == 0

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [alice.email]


@pytest.mark.django_db
def test_task_enqueue_reports_a_down_broker_without_raising(redis_down, alice, caplog):
    with caplog.at_level(logging.ERROR, logger="shopcart.core.queueing"):
        assert task_enqueue(order_confirmation_send, 1) is False
    assert "not queued now (OperationalError)" in caplog.text


@pytest.mark.django_db
def test_task_enqueue_on_commit_queues_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        task_enqueue_on_commit(order_confirmation_send, 1)
    assert len(callbacks) == 1
    assert task_enqueue(order_confirmation_send, 1) is True  # eager: runs, no such order


def test_broker_calls_have_a_socket_timeout():
    options = celery_app.conf.broker_transport_options
    assert options == django_settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert 1 < options["socket_timeout"] <= 2  # above the worker's 1 s BRPOP wait


@pytest.mark.django_db
def test_a_hung_broker_gives_up_instead_of_holding_the_request(redis_down):
    # A broker that accepts connections and never answers (hung, or a half-open connection).
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)
    conf = celery_app.conf
    previous = conf.broker_url, conf.broker_transport_options
    conf.broker_url = f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
    conf.broker_transport_options = {"socket_timeout": 0.1, "socket_connect_timeout": 0.1}
    _celery_connections_drop()
    started = time.monotonic()
    try:
        assert task_enqueue(order_confirmation_send, 1) is False
    finally:
        hung.close()
        conf.broker_url, conf.broker_transport_options = previous
        _celery_connections_drop()
    assert time.monotonic() - started < 2.0
