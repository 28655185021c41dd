"""Scan throughput: carts scanning closed-loop against gunicorn, then every cart checked.

    .venv/bin/python -m benchmarks.scan_load --carts 32 --seconds 20 --kind code|image
        [--rate SCANS_PER_S] [--worker-class gthread|sync|uvicorn] [--threads 4]
        [--products 100] [--warmup 1]
        [--stack prod-local [--web-nodes 1] [--web-workers N] | --stack-dir DIR]

With ``--stack prod-local`` (or ``--stack-dir`` naming a running one) the server is the
production stack (``make prod-local``: nginx with TLS, WSGI web nodes, MariaDB, Redis; see
``benchmarks.prod_local``), the carts talk HTTPS to nginx, and the server's CPU is every
process of the stack (steps 1 and 3 below are then the stack's); otherwise:

The package: ``store`` (the run's database, the store in it, the photos), ``server``
(gunicorn), ``load`` (the carts' HTTP client, their scan loops, the checks) and ``__main__``
(the run and its report).

1. **Database.** A fresh SQLite file in a temporary directory (also when ``DATABASE_URL``
   names an SQLite file: that one is never opened). When ``DATABASE_URL`` names MySQL/MariaDB,
   a database of its own on that server instead, ``<name>_scanload`` (created for the run,
   dropped afterwards; the user needs the right to create it); the database the URL names is
   never opened. Migrated first, with Django's progress lines.
2. **The store.** ``--products`` products, each with an EAN-13 and stock enough that no scan
   is a stock mismatch; per cart a shopper with a cart pass and a device registered through
   ``devices.services.device_register``.
3. **The server.** gunicorn, 2 workers, on a free loopback port (``--worker-class``), DEBUG
   off, logs at WARNING, the rest of the environment as it is (``CONN_MAX_AGE``, for one).
   Each cart here scans far faster than a shopper does (a few carts stand for a store's
   worth), so the per-device throttle is raised to ``server.THROTTLE_RATE``: it still runs on
   every request. The server is stopped by its pid at the end, also after Ctrl-C, SIGTERM or
   a failure.
4. **Pairing.** Every device posts its shopper's pass as a scan, as the firmware does: the QR
   text as a code (``--kind code``) or a JPEG photo of the QR code (``--kind image``).
5. **Load.** Each cart is one closed loop: one request at a time on its own persistent HTTP/1.1
   connection (asyncio streams in this single process and no HTTP library: a request is a few
   joined strings; the client shares the 2 cores with the server and must stay lean). With
   ``--rate`` the carts are paced instead: together they offer that many scans a second, each
   cart one every ``carts / rate`` seconds from a random start, and a scan's latency counts
   from when it was due (one held back by a slow answer to the one before is measured with its
   wait). The closed loop measures how many scans the stack serves; the paced run, the latency
   at a given rate (its scans/s is not judged).
   ``load.ADD_SHARE`` of the scans add one item (sometimes two) from the cart's own shopping
   list of ``load.SHOPPING_LIST`` products, the others remove one of something the cart holds.
   ``--kind code`` posts JSON with ``code`` and ``symbology`` (as a scanner module does);
   ``--kind image`` posts raw ``image/jpeg`` bodies with ``X-Scan-Id``/``X-Scan-Mode``
   headers: photos of the products' EAN-13s as a cart sends them (SVGA, the cart's JPEG;
   ``devices.cart_photos``), rendered once here
   (bars from zxing-cpp's writer on a label, turned a little, unevenly lit, blurred), and only
   those the project's decoder reads. The first ``--warmup`` seconds are not measured (but are
   checked). A failed request (no answer, 429, 5xx) is counted and sent again with the same
   ``scan_id``, as the firmware does.
6. **Checks.** Every answer must be 201 (or 200 after a retry) with the result asked for and
   the scanned product; afterwards every cart's lines must equal what the answers said,
   product by product; and a few scans sent again must answer 200 with the same body and
   change no cart.

Prints a table, the issue's targets and one JSON line. Exits 1 when a check fails (errors,
wrong answers, wrong or missing lines, idempotency); speed targets are reported, not enforced.

**Worker class.** ``sync`` is the default: on the quiet 2-core machine, after the scan path
was made cheaper (issue 5, item 8), it served the most scans with the shortest p95 (32 carts,
20 s, SQLite: code 99.7 scans/s, p95 387 ms; image 112.7, p95 336 ms; gthread with 4 threads
82.2 and 88.0 scans/s at p95 668 and 593 ms; uvicorn 53.5 code scans/s at p95 1.4 s). A scan
is CPU work (Django, DRF, SQLite, decoding) and takes SQLite's one write lock for a few
milliseconds, so two processes serving one request each keep both cores busy; more threads
per worker only add waiting for the GIL and the lock (``sync`` workers also serve connections
strictly in turn, which keeps p95 short; each scan pays a new TCP connection). ``uvicorn``
workers (``uvicorn_worker.UvicornWorker``, the production stack, ASGI) run each request's
synchronous code on a new thread with a new database connection: 24 ms of CPU per scan
against 13-15 ms. ``--worker-class`` measures the others.
"""
