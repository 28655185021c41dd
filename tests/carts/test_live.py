"""Live cart page: the event stream (WSGI and ASGI) and the polled fragment with its ETag."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import AsyncClient
from django.urls import reverse

from carts import events, live
from carts.models import Cart
from carts.selectors import LINE_NOTES, LINE_OUT_OF_STOCK
from carts.services import cart_add_product

EVENTS = reverse("carts:events")
FRAGMENT = reverse("carts:fragment")


def event_of(chunk: bytes | str) -> dict | None:
    """The data of the SSE event in ``chunk``; None for a comment (heartbeat)."""
    text = chunk.decode() if isinstance(chunk, bytes) else chunk
    assert text.endswith("\n\n"), text
    data = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    return json.loads(data[0]) if data else None


# --- The stream under WSGI ------------------------------------------------------------------


@pytest.mark.django_db
def test_stream_is_an_uncached_unbuffered_event_stream(alice_client, alice_cart, local_broker):
    response = alice_client.get(EVENTS)

    assert response.status_code == 200
    assert response.streaming
    assert not response.is_async  # a plain generator under WSGI, or it would be buffered
    assert response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    response.close()


@pytest.mark.django_db
def test_stream_starts_with_the_current_version_then_sends_each_change(
    alice_client, alice_cart, milk, local_broker, quick_stream, django_capture_on_commit_callbacks
):
    response = alice_client.get(EVENTS)
    stream = iter(response.streaming_content)

    first = next(stream)
    assert first.startswith(f"retry: {live.RETRY_MILLISECONDS}\n".encode())
    assert event_of(first) == {
        "cart": alice_cart.pk,
        "version": alice_cart.version,
        "scans": 0,
        "pairings": 0,
    }

    with django_capture_on_commit_callbacks(execute=True):
        cart_add_product(cart=alice_cart, product=milk)

    assert event_of(next(stream)) == {
        "cart": alice_cart.pk,
        "version": alice_cart.version + 1,
        "scans": 0,
        "pairings": 0,
    }
    assert event_of(next(stream)) is None  # quiet again: a heartbeat
    response.close()


@pytest.mark.django_db
def test_stream_beats_while_quiet_and_ends_after_its_lifetime(
    alice_client, alice_cart, local_broker, monkeypatch
):
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(live, "STREAM_SECONDS", 0.3)

    chunks = list(alice_client.get(EVENTS).streaming_content)

    assert event_of(chunks[0]) == {
        "cart": alice_cart.pk,
        "version": alice_cart.version,
        "scans": 0,
        "pairings": 0,
    }
    assert len(chunks) >= 3
    assert all(chunk == live.HEARTBEAT.encode() for chunk in chunks[1:])


@pytest.mark.django_db
def test_closing_the_stream_stops_listening(alice_client, alice_cart, local_broker, quick_stream):
    response = alice_client.get(EVENTS)
    next(iter(response.streaming_content))
    assert local_broker._listeners

    response.close()

    assert not local_broker._listeners


@pytest.mark.django_db
def test_visitor_without_a_cart_gets_a_quiet_stream_and_no_cart(client, local_broker, quick_stream):
    response = client.get(EVENTS)
    stream = iter(response.streaming_content)

    assert event_of(next(stream)) == {"cart": None, "version": 0, "scans": 0, "pairings": 0}
    assert event_of(next(stream)) is None
    assert not Cart.objects.exists()
    response.close()


@pytest.mark.django_db
def test_bobs_stream_never_hears_alices_changes(
    bob,
    bob_client,
    alice_cart,
    milk,
    local_broker,
    quick_stream,
    django_capture_on_commit_callbacks,
):
    response = bob_client.get(EVENTS)
    stream = iter(response.streaming_content)
    bobs_cart = Cart.objects.get(owner=bob, current=True)
    assert event_of(next(stream)) == {
        "cart": bobs_cart.pk,
        "version": bobs_cart.version,
        "scans": 0,
        "pairings": 0,
    }

    with django_capture_on_commit_callbacks(execute=True):
        cart_add_product(cart=alice_cart, product=milk)

    assert event_of(next(stream)) is None
    response.close()


@pytest.mark.django_db
def test_stream_refuses_post(alice_client):
    assert alice_client.post(EVENTS).status_code == 405


# --- The stream under ASGI ------------------------------------------------------------------


async def asgi_listen(alice, cart, product) -> list[dict | None]:
    """Open the stream through Django's ASGI handler, change the cart, return what was heard."""
    client = AsyncClient()
    await client.aforce_login(alice)
    response = await client.get(EVENTS)
    assert response.is_async  # an async generator under ASGI
    stream = aiter(response.streaming_content)
    seen = [event_of(await anext(stream))]
    await sync_to_async(cart_add_product)(cart=cart, product=product)
    seen.append(event_of(await asyncio.wait_for(anext(stream), timeout=5)))
    seen.append(event_of(await asyncio.wait_for(anext(stream), timeout=5)))
    await stream.aclose()
    return seen


@pytest.mark.django_db(transaction=True)
def test_asgi_stream_is_async_and_hears_changes(
    alice, alice_cart, milk, local_broker, quick_stream
):
    # The view runs in asgiref's worker thread: transaction=True lets it see the test's rows.
    seen = asyncio.run(asgi_listen(alice, alice_cart, milk))

    version = alice_cart.version
    assert seen == [
        {"cart": alice_cart.pk, "version": version, "scans": 0, "pairings": 0},
        {"cart": alice_cart.pk, "version": version + 1, "scans": 0, "pairings": 0},
        None,
    ]
    assert not local_broker._listeners


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set: no Redis to listen on")
@pytest.mark.django_db(transaction=True)
def test_asgi_stream_hears_changes_through_redis(alice, alice_cart, milk, quick_stream):
    events.broker.cache_clear()
    try:
        seen = asyncio.run(asgi_listen(alice, alice_cart, milk))
    finally:
        events.broker.cache_clear()

    assert seen[1] == {
        "cart": alice_cart.pk,
        "version": alice_cart.version + 1,
        "scans": 0,
        "pairings": 0,
    }


# --- The polled fragment and its ETag -------------------------------------------------------


@pytest.mark.django_db
def test_fragment_is_304_until_the_cart_changes(alice_client, alice_cart, milk):
    first = alice_client.get(FRAGMENT)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith(f'W/"cart-{alice_cart.pk}-v{alice_cart.version}-s0-p0-')
    assert "private" in first["Cache-Control"]
    assert "no-cache" in first["Cache-Control"]
    assert "Milk" in first.text

    unchanged = alice_client.get(FRAGMENT, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged["ETag"] == etag
    assert unchanged.content == b""

    cart_add_product(cart=alice_cart, product=milk)

    changed = alice_client.get(FRAGMENT, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert 'value="2"' in changed.text


@pytest.mark.django_db
def test_a_polling_page_hears_stock_running_out_though_the_cart_did_not_change(
    alice_client, alice_cart, milk
):
    etag = alice_client.get(FRAGMENT)["ETag"]
    milk.stock = 0  # a staff edit: no cart write, no event; what the shopper sees changes
    milk.save()

    changed = alice_client.get(FRAGMENT, headers={"If-None-Match": etag})

    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert LINE_NOTES[LINE_OUT_OF_STOCK] in changed.text


@pytest.mark.django_db
def test_fragment_for_a_visitor_without_a_cart_is_the_empty_cart(client):
    response = client.get(FRAGMENT)

    assert response.status_code == 200
    assert response["ETag"] == 'W/"cart-none"'
    assert "Your cart is empty." in response.text
    assert client.get(FRAGMENT, headers={"If-None-Match": 'W/"cart-none"'}).status_code == 304
    assert not Cart.objects.exists()


@pytest.mark.django_db
def test_fragment_refuses_post(alice_client):
    assert alice_client.post(FRAGMENT).status_code == 405


@pytest.mark.django_db
def test_stream_notices_a_change_no_event_announced(
    alice_client, alice_cart, local_broker, quick_stream
):
    # A change made in another process reaches no in-process listener; the stream's own
    # look at the database on its heartbeat still brings it to the page.
    response = alice_client.get(EVENTS)
    stream = iter(response.streaming_content)
    first = event_of(next(stream))
    assert first is not None
    Cart.objects.filter(pk=alice_cart.pk).update(version=first["version"] + 1)

    assert event_of(next(stream)) == {
        "cart": alice_cart.pk,
        "version": first["version"] + 1,
        "scans": 0,
        "pairings": 0,
    }
    response.close()


@pytest.mark.django_db
def test_signed_in_shopper_without_a_cart_hears_the_first_scan(
    alice, alice_client, milk, local_broker, quick_stream, django_capture_on_commit_callbacks
):
    response = alice_client.get(EVENTS)
    stream = iter(response.streaming_content)
    first = event_of(next(stream))
    cart = Cart.objects.get(owner=alice, current=True)  # the stream made the shopper's cart

    with django_capture_on_commit_callbacks(execute=True):
        cart_add_product(cart=cart, product=milk, scanned=True)

    assert first == {"cart": cart.pk, "version": cart.version, "scans": 0, "pairings": 0}
    cart.refresh_from_db()
    assert cart.scan_count == 1  # a scanned addition is a scan for the page to show
    assert event_of(next(stream)) == {
        "cart": cart.pk,
        "version": cart.version,
        "scans": 1,
        "pairings": 0,
    }
    response.close()


@pytest.mark.django_db(transaction=True)
def test_a_stream_hands_its_database_connection_back_between_reads(alice_cart, monkeypatch):
    from django.db import connection

    releases = []
    release = connection.close

    def counted_release() -> None:
        releases.append(1)
        release()

    # Closed even though CONN_MAX_AGE keeps the connections of requests.
    monkeypatch.setattr(connection, "close", counted_release)

    stamp = live._stamp_now(alice_cart.pk)

    assert stamp == (alice_cart.version, 0, 0)
    assert releases == [1]
    if connection.vendor == "mysql":  # SQLite's in-memory test database is never closed
        assert connection.connection is None


@pytest.mark.django_db
def test_a_stream_keeps_the_connection_of_an_open_transaction(alice_cart):
    from django.db import connection

    # pytest-django's test transaction: closing would lose it.
    assert connection.in_atomic_block
    live._stamp_now(alice_cart.pk)

    assert connection.connection is not None
