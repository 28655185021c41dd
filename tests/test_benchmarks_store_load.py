"""benchmarks/store_load: its shoppers and audits, on a live test server; and its small parts.

The full run needs the production stack (MariaDB, Redis, a Celery worker): CI runs it for a
minute in its own step (.ci/run). Here a short store day runs against pytest-django's live
server, so the client (pairing, scans, live pages, checkouts) and every audit are proven; the
audits are also shown to catch what they are for. That needs a database the live server's
threads can share at once: MariaDB (CI's second `make test`). On SQLite the test database is
in memory, and the live server hands its one connection to all its threads, which fail
("cannot open savepoint - SQL statements in progress") when shoppers overlap.
"""

import asyncio
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from benchmarks.prod_local import ProcessSample, cpu_by_service, stack_env, stack_sample
from benchmarks.scan_load.store import photos_render, store_create
from benchmarks.store_load import shoppers as shoppers_module
from benchmarks.store_load.audit import (
    _confirmations,
    carts_audit,
    emails_audit,
    orders_audit,
    stock_audit,
    stock_now,
)
from benchmarks.store_load.sessions import sessions_create
from benchmarks.store_load.shoppers import Shopper, Stats, Store, day_start
from carts import live

BASE_DIR = Path(__file__).resolve().parent.parent
DAY_SECONDS = 8.0
needs_shared_database = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="concurrent shoppers on the live test server need MariaDB (DATABASE_URL): its "
    "in-memory SQLite test database is one connection shared by every server thread",
)


@pytest.fixture
def quick_day(monkeypatch, settings, tmp_path):
    """Shoppers that scan every fraction of a second, short live streams; emails as .eml
    files in ``tmp_path``."""
    monkeypatch.setattr(shoppers_module, "THINK_MEAN_S", 0.3)
    monkeypatch.setattr(shoppers_module, "HEARTBEAT_S", 2.0)
    # Streams that end every 3 s: the pages reconnect during the day (as EventSource does),
    # and the server's stream threads end soon after the test.
    monkeypatch.setattr(live, "STREAM_SECONDS", 3.0)
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.5)
    settings.EMAIL_BACKEND = "shopcart.core.mail_backends.EmlFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    return tmp_path


def store_day(port: int, carts: int, checkout_every: float) -> tuple[list[Shopper], Stats, dict]:
    """A short day: ``carts`` shoppers (code and image, all watching their page)."""
    cart_list, catalog = store_create(carts, 6)
    photos = photos_render(catalog, 1)
    catalog = {product_id: code for product_id, code in catalog.items() if product_id in photos}
    sessions = sessions_create([cart.user_id for cart in cart_list])
    initial = stock_now(list(catalog))
    stats = Stats()
    store = Store(port=port, catalog=catalog, photos=photos, stats=stats)
    shoppers = [
        Shopper(
            store,
            cart,
            sessions[cart.user_id],
            kind=("code", "image")[cart.index % 2],
            watched=True,
            seed=cart.index,
        )
        for cart in cart_list
    ]

    async def day() -> None:
        begin = time.monotonic()
        store.end = begin + DAY_SECONDS
        stats.window = (begin, store.end)
        await asyncio.gather(*day_start(store, shoppers, checkout_every, seed=1))

    asyncio.run(day())
    return shoppers, stats, initial


@needs_shared_database
@pytest.mark.django_db(transaction=True)
def test_a_short_store_day_pays_orders_and_passes_every_audit(live_server, quick_day):
    port = urlsplit(live_server.url).port or 80

    shoppers, stats, initial = store_day(port, carts=2, checkout_every=0.7)

    assert stats.problems == []
    assert stats.errors == Counter()
    assert stats.requests["scan code"] > 0 and stats.requests["scan image"] > 0
    assert stats.checkouts >= 1
    assert stats.live_delays_ms and stats.live_missed == 0
    assert stats.requests["live stream"] > len(shoppers)  # pages reconnected
    assert {"checkout page", "place order", "pay", "cart fragment"} <= set(stats.latencies_ms)
    assert carts_audit(shoppers) == []
    assert orders_audit(shoppers) == []
    assert emails_audit(shoppers, quick_day)[0] == []
    assert stock_audit(initial) == []
    assert sum(initial.values()) > sum(stock_now(list(initial)).values())  # things were sold


@needs_shared_database
@pytest.mark.django_db(transaction=True)
def test_the_audits_catch_a_lost_line_a_missing_email_and_stock_gone_astray(live_server, quick_day):
    from catalog.models import Product
    from orders.models import Order

    port = urlsplit(live_server.url).port or 80
    shoppers, _, initial = store_day(port, carts=2, checkout_every=0.7)
    paid = Order.objects.filter(status=Order.Status.PAID).first()
    assert paid is not None

    shoppers[0].cart.expected[next(iter(initial))] += 1  # an answer the cart does not show
    shoppers[1].orders.append(("ZZZZ-ZZZZ", Counter({1: 1})))  # a checkout with no order
    for email in quick_day.glob("*.eml"):
        email.unlink()
    Product.objects.filter(pk=next(iter(initial))).update(stock=0)

    assert carts_audit(shoppers)
    assert "order ZZZZ-ZZZZ: no such order" in orders_audit(shoppers)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("benchmarks.store_load.audit.EMAIL_WAIT_S", 0.1)
        problems, _ = emails_audit(shoppers, quick_day)
    assert f"order {paid.number}: no confirmation email" in problems
    assert stock_audit(initial)


def test_confirmations_are_counted_by_the_order_number_in_the_subject(tmp_path):
    for name, subject in [
        ("1.eml", "Paid: your demo store order AB2C-DE3F"),
        ("2.eml", "Paid: your demo store order AB2C-DE3F"),
        ("3.eml", "Paid: your demo store order GH4J-KL5M"),
        ("4.eml", "Your cart pass"),
    ]:
        (tmp_path / name).write_text(f"Subject: {subject}\nTo: a@example.com\n\nbody\n")

    sent = _confirmations(tmp_path, {"AB2C-DE3F", "GH4J-KL5M", "NP6Q-RS7T"})

    assert sent == Counter({"AB2C-DE3F": 2, "GH4J-KL5M": 1})


def test_the_stack_environment_is_read_from_prod_local(tmp_path):
    # What `deploy/prod-local.sh env` prints: printf %q quoting, as its env_write does.
    (tmp_path / "env").write_text(
        "export SMARTCART_MODE=production\nexport EMAIL_FILE_PATH=/var/mail\\ dir\n"
    )

    env = stack_env({"PATH": "/usr/bin:/bin", "PROD_LOCAL_DIR": str(tmp_path)})

    assert env == {"SMARTCART_MODE": "production", "EMAIL_FILE_PATH": "/var/mail dir"}


def test_stack_sample_names_each_service_and_its_children(tmp_path):
    import os

    (tmp_path / "pids").mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "services").write_text("mariadb web-1 web-2 worker\n")
    (tmp_path / "pids" / "web-2.pid").write_text(str(os.getpid()))
    (tmp_path / "pids" / "worker.pid").write_text("999999999")  # not running

    samples = stack_sample(tmp_path)

    assert samples[os.getpid()].label == "web-2"
    assert samples[os.getpid()].rss_kib > 0
    assert samples[os.getpid()].cpu_s > 0
    assert all(entry.service == "web-2" for entry in samples.values())


def test_cpu_by_service_counts_a_process_started_in_between_from_zero():
    before = {
        1: ProcessSample("web-1", 1, 100, 2.0),
        2: ProcessSample("web-1 child 1", 2, 100, 5.0),
    }
    after = {
        1: ProcessSample("web-1", 1, 100, 2.5),
        2: ProcessSample("web-1 child 1", 2, 100, 6.0),
        3: ProcessSample("web-2", 3, 100, 0.75),  # started again during the run
    }

    assert cpu_by_service(before, after) == {"web-1": 1.5, "web-2": 0.75}
