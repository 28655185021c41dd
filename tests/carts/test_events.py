"""Live cart events: published after commit only, newest stamp wins, in-process or Redis."""

import asyncio
import threading

import pytest
from django.conf import settings
from django.db import transaction

from carts.events import CartStamp, InProcessBroker, RedisBroker, cart_event_publish_on_commit

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="REDIS_URL is not set: live events use the in-process broker"
)


def test_listener_gets_the_newest_stamp_published_since_it_last_asked():
    broker = InProcessBroker()
    subscription = broker.subscribe(7)

    broker.publish(7, CartStamp(2, 0))
    broker.publish(7, CartStamp(4, 1))
    broker.publish(7, CartStamp(3, 0))  # a late, older event never moves the stamp back
    broker.publish(7, CartStamp(4, 2))  # a scan that changed nothing: the version stays
    broker.publish(8, CartStamp(9, 9))  # another cart's event is not heard

    assert subscription.get(timeout=1) == CartStamp(4, 2)
    assert subscription.get(timeout=0.05) is None


def test_the_newest_of_two_stamps_is_the_greater_of_each_count():
    assert CartStamp(5, 1).newest(CartStamp(4, 3)) == CartStamp(5, 3)
    assert CartStamp(5, 1).newest(None) == CartStamp(5, 1)


@pytest.mark.parametrize(
    ("text", "stamp"), [("7:3", CartStamp(7, 3)), (b"7:3", CartStamp(7, 3)), (b"7", CartStamp(7))]
)
def test_a_stamp_goes_through_redis_as_text(text, stamp):
    assert CartStamp.parse(text) == stamp
    assert CartStamp.parse(stamp.text()) == stamp


def test_closed_subscription_hears_nothing_more():
    broker = InProcessBroker()
    subscription = broker.subscribe(7)
    subscription.close()

    broker.publish(7, CartStamp(2))

    assert subscription.get(timeout=0.05) is None


def test_listener_waiting_in_another_thread_wakes_up():
    broker = InProcessBroker()
    subscription = broker.subscribe(7)
    threading.Timer(0.05, broker.publish, args=(7, CartStamp(5))).start()

    assert subscription.get(timeout=5) == CartStamp(5)


def test_async_listener_wakes_up_on_a_publish_from_another_thread():
    broker = InProcessBroker()
    subscription = broker.subscribe(7)

    async def listen():
        threading.Timer(0.05, broker.publish, args=(7, CartStamp(6))).start()
        return await subscription.aget(timeout=5)

    assert asyncio.run(listen()) == CartStamp(6)


def test_async_listener_times_out_with_none():
    subscription = InProcessBroker().subscribe(7)

    assert asyncio.run(subscription.aget(timeout=0.05)) is None


@pytest.mark.django_db(transaction=True)
def test_event_is_published_after_commit_and_not_on_rollback(local_broker):
    subscription = local_broker.subscribe(3)

    with pytest.raises(RuntimeError), transaction.atomic():
        cart_event_publish_on_commit(cart_id=3, version=2, scans=0)
        raise RuntimeError("rolled back")
    assert subscription.get(timeout=0.05) is None

    with transaction.atomic():
        cart_event_publish_on_commit(cart_id=3, version=3, scans=1)
        assert subscription.get(timeout=0.05) is None  # not before the commit
    assert subscription.get(timeout=1) == CartStamp(3, 1)


@needs_redis
def test_redis_broker_delivers_to_sync_and_async_listeners():
    broker = RedisBroker(settings.REDIS_URL)
    sync_listener = broker.subscribe(11)
    async_listener = broker.subscribe(11)
    assert sync_listener.get(timeout=0.2) is None  # subscribes

    async def listen():
        first = asyncio.create_task(async_listener.aget(timeout=5))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(broker.publish, 11, CartStamp(8, 2))
        return await first

    assert asyncio.run(listen()) == CartStamp(8, 2)
    assert sync_listener.get(timeout=2) == CartStamp(8, 2)
    sync_listener.close()


def test_redis_broker_publish_survives_redis_being_down(caplog):
    broker = RedisBroker("redis://127.0.0.1:1/0")

    broker.publish(1, CartStamp(2))

    assert "Redis unavailable" in caplog.text
