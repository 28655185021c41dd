"""``python -m benchmarks.store_load``: the run from start to end, and its report.

Size: kept in one module: the run, its checks and its report, in the order they happen.
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import benchmarks.store_load
from benchmarks.prod_local import (
    ProcessSample,
    Stack,
    node_kill,
    node_wait_back,
    stack_running,
    stack_sample,
)
from benchmarks.scan_load.__main__ import percentile
from benchmarks.scan_load.server import BASE_DIR
from benchmarks.scan_load.store import BenchmarkError, photos_render, store_create
from benchmarks.store_load.audit import (
    carts_audit,
    emails_audit,
    orders_audit,
    stock_audit,
    stock_now,
)
from benchmarks.store_load.sessions import sessions_create
from benchmarks.store_load.shoppers import LIVE_TIMEOUT_S, Shopper, Stats, Store, day_start

DESCRIPTION = (benchmarks.store_load.__doc__ or "").splitlines()[0]
TARGET_P95_MS = {"scan code": 200.0, "scan image": 400.0}
TARGET_ERROR_RATE = 0.001
TARGET_LIVE_P95_MS = 1000.0
TARGET_MEMORY_GROWTH = 0.10
# Their memory follows the data (MariaDB's buffer pool fills with pages, Redis holds the
# queues): reported, not held to the growth target, which is about leaks in the application.
DATA_SERVICES = ("mariadb", "redis")
# Stopped and started afresh for every run: the audit compares the whole store's orders,
# emails and stock with what this run did.
STATE_DIR = BASE_DIR / "var" / "store-load"
# With --web-nodes 2 or more, the last node is killed halfway through the run; prod-local's
# supervisor starts it again this many seconds later (nginx sends everything to the others
# meanwhile).
NODE_RESTART_DELAY_S = 10.0
NODE_BACK_TIMEOUT_S = 120.0


@dataclass
class Outage:
    """The web node killed mid-run: when, and what it did once it was back."""

    service: str
    killed_pids: list[int] = field(default_factory=list)
    killed_at: float = 0.0  # seconds into the run
    back_after: float | None = None  # seconds after the kill
    back_pid: int | None = None
    served_after: int = 0  # requests nginx sent it once back (its access log)
    log_offset: int = 0  # the access log's size once the node was back


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.store_load", description=DESCRIPTION
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="shopping time")
    parser.add_argument("--carts", type=int, default=200)
    parser.add_argument("--watchers", type=int, default=50, help="shoppers with the page open")
    parser.add_argument("--checkout-every", type=float, default=4.0, help="seconds")
    parser.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds not measured (default: a tenth of the run, 10 to 60)",
    )
    parser.add_argument("--products", type=int, default=120)
    parser.add_argument(
        "--web-workers", type=int, help="per web node (default: the stack's, 2 a CPU + 1)"
    )
    parser.add_argument(
        "--web-nodes",
        type=int,
        default=1,
        help="web nodes behind nginx; with 2 or more, the last is killed halfway and comes back",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = min(60.0, max(10.0, args.minutes * 6))
    if not 0 < args.watchers <= args.carts or args.warmup >= args.minutes * 60:
        parser.error("need 0 < --watchers <= --carts and --warmup shorter than the run")
    if args.web_nodes < 1:
        parser.error("need --web-nodes 1 or more")
    signal.signal(signal.SIGTERM, _terminated)  # like Ctrl-C: the stack is stopped
    settings = {
        "WEB_NODES": str(args.web_nodes),
        "PROD_LOCAL_RESTART_DELAY": str(NODE_RESTART_DELAY_S),
    }
    if args.web_workers is not None:
        settings["WEB_WORKERS"] = str(args.web_workers)
    try:
        with stack_running(STATE_DIR, settings) as stack:
            return _run(args, stack)
    except BenchmarkError as exc:
        print(f"store_load: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("store_load: interrupted; the stack is stopped", file=sys.stderr)
        return 130


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _run(args: argparse.Namespace, stack: Stack) -> int:
    args.web_workers = int(stack.env["WEB_WORKERS"])  # asked for, or the stack's default
    args.worker_class = stack.env["WEB_WORKER_CLASS"]
    os.environ.update(stack.env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
    import django

    django.setup()
    started = time.monotonic()
    carts, catalog = store_create(args.carts, args.products)
    photos = photos_render(catalog, args.seed)
    catalog = {product_id: code for product_id, code in catalog.items() if product_id in photos}
    sessions = sessions_create([cart.user_id for cart in carts])
    initial_stock = stock_now(list(catalog))
    print(
        f"store: {len(carts)} shoppers with passes, devices and sessions; {len(catalog)} products "
        f"with photos the decoder reads ({time.monotonic() - started:.0f} s)",
        flush=True,
    )
    from django.db import connections

    connections.close_all()
    stats = Stats()
    store = Store(port=stack.port, catalog=catalog, photos=photos, stats=stats, tls=stack.tls())
    shoppers = [
        Shopper(
            store,
            cart,
            sessions[cart.user_id],
            kind="image" if cart.index % 2 else "code",
            watched=cart.index < args.watchers,
            seed=args.seed * 10_000 + cart.index,
        )
        for cart in carts
    ]
    samples, outage = asyncio.run(shop(args, store, shoppers, stack))
    print("audit: carts, orders, emails, stock", flush=True)
    audit = {"carts": carts_audit(shoppers), "orders": orders_audit(shoppers)}
    audit["emails"], email_wait = emails_audit(shoppers, stack.mail_dir)
    audit["stock"] = stock_audit(initial_stock)
    if outage is not None and outage.served_after == 0:
        audit["outage"] = [f"{outage.service} served nothing after it came back"]
    return 0 if report(args, stats, samples, audit, email_wait, outage) else 1


async def shop(
    args: argparse.Namespace, store: Store, shoppers: list[Shopper], stack: Stack
) -> tuple[dict[str, dict[int, ProcessSample]], Outage | None]:
    """The shopping, with progress lines (and, with several web nodes, one killed halfway);
    the stack's processes sampled at the start, after warm-up and at the end."""
    samples = {"start": stack_sample(stack.state_dir)}
    begin = time.monotonic()
    store.end = begin + args.minutes * 60
    store.stats.window = (begin + args.warmup, store.end)
    tasks = day_start(store, shoppers, args.checkout_every, args.seed)
    progress = asyncio.create_task(progress_print(store, begin))
    outage = Outage(f"web-{args.web_nodes}") if args.web_nodes > 1 else None
    if outage is not None:
        tasks.append(asyncio.create_task(node_outage(stack, outage, begin, args.minutes * 30)))
    await asyncio.sleep(args.warmup)
    samples["warm"] = stack_sample(stack.state_dir)
    await asyncio.gather(*tasks)
    progress.cancel()
    samples["end"] = stack_sample(stack.state_dir)
    if outage is not None:
        outage.served_after = await asyncio.to_thread(served_since, stack, outage)
    return samples, outage


async def node_outage(stack: Stack, outage: Outage, begin: float, after_s: float) -> None:
    """Kill ``outage.service`` (by the pids of its gunicorn master and workers) ``after_s``
    seconds into the run, then wait for prod-local's supervisor to start it again."""
    await asyncio.sleep(after_s)
    outage.killed_pids = node_kill(stack, outage.service)
    killed = time.monotonic()
    outage.killed_at = killed - begin
    print(
        f"  {outage.killed_at:5.0f} s: killed {outage.service} (pids "
        f"{' '.join(map(str, outage.killed_pids))})",
        flush=True,
    )
    outage.back_pid = await asyncio.to_thread(
        node_wait_back, stack, outage.service, outage.killed_pids[0], NODE_BACK_TIMEOUT_S
    )
    outage.back_after = time.monotonic() - killed
    print(
        f"  {time.monotonic() - begin:5.0f} s: {outage.service} is back (pid {outage.back_pid}), "
        f"{outage.back_after:.1f} s after the kill",
        flush=True,
    )
    await asyncio.sleep(1.5)  # nginx writes its access log every second
    outage.log_offset = (stack.state_dir / "logs" / "nginx-access.log").stat().st_size


def served_since(stack: Stack, outage: Outage) -> int:
    """Requests nginx's access log shows the node served after it came back."""
    time.sleep(1.5)  # the log's last second
    offset = outage.log_offset
    node = int(outage.service.removeprefix("web-"))
    upstream = f'"{stack.env["PROD_LOCAL_WEB_BINDS"].split()[node - 1]}"'
    with (stack.state_dir / "logs" / "nginx-access.log").open("rb") as log:
        log.seek(offset)
        return sum(upstream.encode() in line for line in log)


async def progress_print(store: Store, begin: float) -> None:
    stats = store.stats
    while True:
        await asyncio.sleep(30)
        requests, errors = sum(stats.requests.values()), sum(stats.errors.values())
        scans = stats.requests["scan code"] + stats.requests["scan image"]
        print(
            f"  {time.monotonic() - begin:5.0f} s: {scans} scans, {requests} requests, "
            f"{errors} errors, {stats.checkouts} checkouts, {len(stats.problems)} problems",
            flush=True,
        )


# --- Report ---------------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    stats: Stats,
    samples: dict[str, dict[int, ProcessSample]],
    audit: dict[str, list[str]],
    email_wait: float,
    outage: Outage | None = None,
) -> bool:
    """Print the tables, the targets and the JSON line; True when the audit is clean."""
    measured = stats.window[1] - stats.window[0]
    print(
        f"\nStore load: {args.carts} carts (half code, half image scans), {args.watchers} live "
        f"cart pages, a checkout every {args.checkout_every:g} s; {args.minutes:g} min, "
        f"the first {args.warmup:g} s not timed; prod-local: nginx (TLS) -> {args.web_nodes} "
        f"web node(s) x {args.web_workers} {args.worker_class} workers"
    )
    endpoints = endpoint_rows(stats, measured)
    print(
        f"\n  {'endpoint':<20}{'requests':>9}{'per s':>8}{'errors':>8}{'p50 ms':>9}"
        f"{'p95 ms':>9}{'p99 ms':>9}"
    )
    for row in endpoints:
        print(
            f"  {row['endpoint']:<20}{row['requests']:>9}{row['per_s']:>8.1f}{row['errors']:>8}"
            f"{row['p50']:>9.1f}{row['p95']:>9.1f}{row['p99']:>9.1f}"
        )
    requests, errors = sum(stats.requests.values()), sum(stats.errors.values())
    error_rate = errors / requests if requests else 0.0
    for reason, count in stats.errors.most_common(10):
        print(f"  error {reason}: {count}")
    live = latency(stats.live_delays_ms)
    late = sum(delay > TARGET_LIVE_P95_MS for delay in stats.live_delays_ms)
    print(
        f"\n  live update (device answer -> page shows it): {len(stats.live_delays_ms)} timed, "
        f"p50 {live['p50']:.0f} ms, p95 {live['p95']:.0f} ms, p99 {live['p99']:.0f} ms, "
        f"{late} over 1 s, {stats.live_missed} not within {LIVE_TIMEOUT_S:g} s"
    )
    print(
        f"  checkouts paid: {stats.checkouts}; confirmation emails all in {email_wait:.0f} s "
        f"after the run"
    )
    if outage is not None:
        print(
            f"  web node killed: {outage.service} at {outage.killed_at:.0f} s (pids "
            f"{' '.join(map(str, outage.killed_pids))}); back after "
            f"{outage.back_after or 0:.1f} s (pid {outage.back_pid}); requests it served "
            f"after: {outage.served_after}"
        )
    growth, stack_cpu = processes_print(samples, measured)
    audit_clean = not any(audit.values()) and not stats.problems
    print("\n  audit")
    for name, problems in [*audit.items(), ("answers", stats.problems)]:
        print(f"    {name:<8} {'clean' if not problems else f'{len(problems)} PROBLEMS'}")
        for problem in problems[:10]:
            print(f"      ! {problem}")
    p95 = {row["endpoint"]: row["p95"] for row in endpoints}
    app_growth = max(
        (g for label, g in growth.items() if not label.startswith(DATA_SERVICES)), default=0.0
    )
    checks = {
        "scan_code_p95": p95.get("scan code", 0.0) <= TARGET_P95_MS["scan code"],
        "scan_image_p95": p95.get("scan image", 0.0) <= TARGET_P95_MS["scan image"],
        "errors": error_rate < TARGET_ERROR_RATE,
        "live_p95": live["p95"] <= TARGET_LIVE_P95_MS and stats.live_missed == 0,
        "memory_growth": app_growth <= TARGET_MEMORY_GROWTH,
        "audit": audit_clean,
    }
    print("\n  targets")
    labels = {
        "scan_code_p95": f"code scans p95 {p95.get('scan code', 0):.0f} ms <= 200 ms",
        "scan_image_p95": f"image scans p95 {p95.get('scan image', 0):.0f} ms <= 400 ms",
        "errors": f"errors {100 * error_rate:.3f} % < 0.1 %",
        "live_p95": f"live update p95 {live['p95']:.0f} ms <= 1000 ms, none missed",
        "memory_growth": f"app memory growth after warm-up {100 * app_growth:.1f} % <= 10 %",
        "audit": "audit clean",
    }
    for key, met in checks.items():
        print(f"    {labels[key]:<58} {'met' if met else 'MISSED'}")
    summary = {
        "benchmark": "store_load",
        "minutes": args.minutes,
        "carts": args.carts,
        "watchers": args.watchers,
        "web_workers": args.web_workers,
        "worker_class": args.worker_class,
        "web_nodes": args.web_nodes,
        "node_outage": None
        if outage is None
        else {
            "service": outage.service,
            "killed_at_s": round(outage.killed_at, 1),
            "back_after_s": None if outage.back_after is None else round(outage.back_after, 1),
            "served_after": outage.served_after,
        },
        "requests": requests,
        "requests_per_s": round(requests / (args.minutes * 60), 1),
        "errors": errors,
        "error_rate": round(error_rate, 5),
        "endpoints": endpoints,
        "live_update_ms": {k: round(v, 1) for k, v in live.items()},
        "live_over_1s": late,
        "live_missed": stats.live_missed,
        "checkouts": stats.checkouts,
        "memory_growth": {label: round(g, 3) for label, g in growth.items()},
        "stack_cpu_percent": round(stack_cpu),
        "audit_problems": {name: len(problems) for name, problems in audit.items()}
        | {"answers": len(stats.problems)},
        "targets": checks,
    }
    print(json.dumps(summary))
    return audit_clean


def latency(values: list[float]) -> dict[str, float]:
    return {f"p{q}": percentile(values, q) for q in (50, 95, 99)}


def endpoint_rows(stats: Stats, measured: float) -> list[dict[str, Any]]:
    errors: Counter[str] = Counter()
    for reason, count in stats.errors.items():
        errors[reason.split(":")[0]] += count
    rows = []
    for endpoint in sorted(stats.requests):
        timed = stats.latencies_ms.get(endpoint, [])
        rows.append(
            {
                "endpoint": endpoint,
                "requests": stats.requests[endpoint],
                "per_s": len(timed) / measured if measured else 0.0,
                "errors": errors[endpoint],
                **{key: round(value, 1) for key, value in latency(timed).items()},
            }
        )
    return rows


def processes_print(
    samples: dict[str, dict[int, ProcessSample]], measured: float
) -> tuple[dict[str, float], float]:
    """The table of the stack's processes: memory at the start, after warm-up and at the end,
    and the CPU each used while measured. Returns the memory growth after warm-up by label, and
    the whole stack's CPU in percent of one core."""
    print(
        f"\n  {'process':<20}{'pid':>8}{'start MiB':>11}{'warm MiB':>10}{'end MiB':>9}"
        f"{'growth':>8}{'CPU %':>7}"
    )
    growth, cpu_total = {}, 0.0
    for pid, warm in samples["warm"].items():
        start, end = samples["start"].get(pid), samples["end"].get(pid)
        if end is None:
            print(f"  {warm.label:<20}{pid:>8}  ended during the run")
            continue
        change = (end.rss_kib - warm.rss_kib) / warm.rss_kib
        cpu = 100 * (end.cpu_s - warm.cpu_s) / measured
        growth[warm.label], cpu_total = change, cpu_total + cpu
        print(
            f"  {warm.label:<20}{pid:>8}{(start.rss_kib / 1024 if start else 0):>11.1f}"
            f"{warm.rss_kib / 1024:>10.1f}{end.rss_kib / 1024:>9.1f}{100 * change:>7.1f}%"
            f"{cpu:>7.0f}"
        )
    for pid, end in samples["end"].items():
        if pid not in samples["warm"]:  # a web node started again during the run
            cpu = 100 * end.cpu_s / measured
            cpu_total += cpu
            print(f"  {end.label:<20}{pid:>8}  started during the run{'':>26}{cpu:>7.0f}")
    print(f"  {'the whole stack':<66}{cpu_total:>7.0f}  (of {os.cpu_count()}00)")
    return growth, cpu_total


if __name__ == "__main__":
    sys.exit(main())
