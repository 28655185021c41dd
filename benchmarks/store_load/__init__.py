"""Store load and soak: a store's day against the production stack, then an audit.

    .venv/bin/python -m benchmarks.store_load [--minutes 10] [--carts 200] [--watchers 50]
        [--checkout-every 4] [--warmup SECONDS] [--products 120] [--web-workers 2]
        [--web-nodes 1]

Needs what ``make prod-local`` needs (nginx, MariaDB, Redis and the MySQL driver; see
docs/running-a-store.md). The package: ``sessions`` (signed-in browser sessions),
``shoppers`` (the carts, the pages and the checkouts, as an asyncio client), ``audit`` (the
checks after) and ``__main__``; the stack itself is ``benchmarks.prod_local``.

1. **The stack.** ``deploy/prod-local.sh start --background`` in ``var/store-load/`` (wiped
   first) on a free port (``benchmarks.prod_local``): production settings, nginx with TLS in
   front, ``--web-nodes`` web nodes of ``--web-workers`` gunicorn WSGI workers (gthread, 4
   threads each), the live stream's ASGI pool, MariaDB with its durable defaults, Redis, a
   Celery worker and beat. Every request goes over HTTPS through nginx, trusting the stack's
   own certificate. Stopped by ``prod-local.sh stop`` at the end, however the run ends. With
   two web nodes or more the last one is killed halfway (its gunicorn master and workers, by
   their pids) and started again by prod-local 10 s later; the run checks that it serves again
   (nginx's access log) and, like any request, a scan or page it had started on is sent again
   by the client.
2. **The store.** In that database, through the project's services: ``--products`` products
   with an EAN-13 and stock enough for the day (the run records it), and per cart a shopper
   with a cart pass, a registered device and a signed-in browser session (made directly: the
   run measures shopping, not password hashing). A photo per product as a cart sends it
   (``devices.cart_photos``; ``benchmarks.scan_load.store.photos_render``), and only products
   the decoder reads are shopped.
3. **Carts.** Every cart pairs by scanning its shopper's pass, sends a heartbeat every minute,
   and scans at a shopper's pace: gaps averaging ``shoppers.THINK_MEAN_S`` seconds, now and
   then a burst of several items a second or so apart. Even carts post codes (JSON, as a
   scanner module does), odd carts photos (``image/jpeg``); most scans add an item from the
   cart's shopping list, some remove one the cart holds. Failed requests are sent again with
   the same bytes (same ``scan_id``), as the firmware does.
4. **Pages.** The first ``--watchers`` shoppers open their cart page and keep its live stream
   open, doing what ``static/js/cart.js`` does: on an event with a version the page does not
   show, fetch the cart block (with its ETag). The live-update delay is timed from the
   device's answer to the fresh cart block having arrived (zero when the page was first).
5. **Checkouts.** Every ``--checkout-every`` seconds a shopper with something in the cart stops
   scanning and pays: checkout page, "Pay" (order placed), the test gateway's card page, card
   4242..., the success page. The device then pairs again for the next shopping trip.
6. **Audit** after the run: every open cart holds what its device's answers said; every
   checkout is one paid order with exactly those lines and no other order exists; every paid
   order has exactly one confirmation email among the ``.eml`` files the Celery worker writes
   (waited for up to two minutes); every product's stock went down by exactly what its paid
   orders took. Every answer is checked as it comes, too (right product, right result).

Prints per endpoint the requests, errors and p50/p95/p99 latency, the live-update delay, the
memory of every process of the stack (at the start, after warm-up, at the end), the audit and
the targets; then one JSON line. Exits 1 when the audit finds anything; speed, errors and
memory are reported against their targets, not enforced.
"""
