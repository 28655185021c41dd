"""``python -m benchmarks.scan_load``: the run from start to end, and its report.

Size: kept in one module: the run, its checks and its report, in the order they happen.
"""

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import benchmarks.scan_load
from benchmarks.scan_load.load import (
    Run,
    carts_pair,
    idempotency_check,
    lines_check,
    load_run,
)
from benchmarks.scan_load.server import (
    BASE_DIR,
    DEFAULT_WORKER_CLASS,
    THROTTLE_RATE,
    WORKER_CLASSES,
    WORKERS,
    process_tree_cpu_s,
    server_running,
)
from benchmarks.scan_load.store import (
    BenchmarkError,
    Cart,
    Database,
    database_create,
    django_setup,
    photos_render,
    store_create,
)

DESCRIPTION = (benchmarks.scan_load.__doc__ or "").splitlines()[0]
# The targets, for 32 carts on a 2-core machine.
TARGET_SCANS_PER_S = {"code": 400.0, "image": 200.0}
TARGET_P95_MS = 100.0
TARGET_CARTS = 32
# The CPU targets: server CPU per scan, every process of the stack counted.
TARGET_CPU_MS_PER_SCAN = {"code": 4.0, "image": 6.0}
# An attached stack keeps the throttle it was started with (a shopper's pace, by default).
HINT_THROTTLED = (
    "scan_load: the stack answered 429 (the device throttle): start it with "
    f"DEVICE_THROTTLE_RATE={THROTTLE_RATE} in the environment, as --stack prod-local does"
)
# --stack prod-local: a stack of its own here, wiped at each start.
PROD_LOCAL_DIR = BASE_DIR / "var" / "scan-load"


@dataclass(frozen=True)
class ServerCpu:
    """How the run reads the server's CPU: ``sample()`` now, and ``spent(before, after)``, the
    CPU seconds each part of the server (a service: nginx, web-1, mariadb, ...) used between
    two samples."""

    sample: Callable[[], Any]
    spent: Callable[[Any, Any], dict[str, float]]


# --- Report ---------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class Outcome:
    scans_per_s: float
    p50: float
    p95: float
    p99: float
    server_cpu_percent: float | None
    client_cpu_percent: float
    wrong_lines: list[str]
    idempotency: list[str]
    # percent of a core each part of the server used (one part, "gunicorn", without a stack)
    server_cpu_by_part: dict[str, float] = field(default_factory=dict)


def report(args: argparse.Namespace, run: Run, outcome: Outcome, extra: dict[str, Any]) -> bool:
    """Print the table, the targets and the JSON line; True when every check passed."""
    table_print(args, run, outcome, extra)
    checks = targets_print(args, run, outcome)
    print(json.dumps(summary(args, run, outcome, extra, checks)))
    return checks["errors"] and checks["lines"] and not outcome.idempotency


def server_cpu_ms_per_scan(run: Run, outcome: Outcome) -> float | None:
    return _ms_per_scan(run, outcome.server_cpu_percent)


def _ms_per_scan(run: Run, cpu_percent: float | None) -> float | None:
    seconds = run.window[1] - run.window[0]
    if cpu_percent is None or not run.tally.scans:
        return None
    return cpu_percent * 10 * seconds / run.tally.scans  # percent of a core x 10 = ms per s


def cpu_by_part_ms_per_scan(run: Run, outcome: Outcome) -> dict[str, float]:
    """Server CPU ms per scan of each part of the server, the largest first."""
    parts = {
        part: _ms_per_scan(run, cpu) or 0.0 for part, cpu in outcome.server_cpu_by_part.items()
    }
    return dict(sorted(parts.items(), key=lambda item: -item[1]))


def server_description(args: argparse.Namespace) -> str:
    if args.stack == "prod-local":
        threads = f" ({args.threads} threads)" if args.worker_class == "gthread" else ""
        return (
            f"prod-local: nginx (TLS) -> {args.web_nodes} web node(s) x {args.web_workers} "
            f"{args.worker_class}{threads} workers, MariaDB, Redis"
        )
    return f"gunicorn {WORKERS} x {args.worker_class}"


def table_print(
    args: argparse.Namespace, run: Run, outcome: Outcome, extra: dict[str, Any]
) -> None:
    tally, cpu, per_scan = (
        run.tally,
        outcome.server_cpu_percent,
        server_cpu_ms_per_scan(run, outcome),
    )
    pace = "closed loop" if args.rate is None else f"paced at {args.rate:g} scans/s in all"
    print(
        f"\nScan load: {args.carts} carts, --kind {args.kind}, {pace}, {args.seconds:.1f} s "
        f"measured, {server_description(args)}, {extra['database']}"
    )
    rows = [
        ("scans/s", f"{outcome.scans_per_s:.1f}"),
        ("scans measured", tally.scans),
        ("latency p50 ms", f"{outcome.p50:.1f}"),
        ("latency p95 ms", f"{outcome.p95:.1f}"),
        ("latency p99 ms", f"{outcome.p99:.1f}"),
        ("errors", ", ".join(f"{k}: {v}" for k, v in tally.errors.items()) or "0"),
        ("wrong answers", len(tally.wrong_answers)),
        ("wrong/missing lines", len(outcome.wrong_lines)),
        ("idempotent re-sends", "ok" if not outcome.idempotency else "FAILED"),
        ("server CPU %", "n/a" if cpu is None else f"{cpu:.0f} (of {os.cpu_count()}00)"),
        ("server CPU ms/scan", "n/a" if per_scan is None else f"{per_scan:.2f}"),
        *(
            (f"  {part}", f"{ms:.2f}")
            for part, ms in cpu_by_part_ms_per_scan(run, outcome).items()
            if len(outcome.server_cpu_by_part) > 1
        ),
        ("client CPU %", f"{outcome.client_cpu_percent:.0f}"),
    ]
    for label, value in rows:
        print(f"  {label:<22} {value}")
    for problem in (tally.wrong_answers + outcome.wrong_lines + outcome.idempotency)[:20]:
        print(f"  ! {problem}")


def targets_print(args: argparse.Namespace, run: Run, outcome: Outcome) -> dict[str, bool]:
    """The issue's targets as key -> met, printed with what was measured."""
    rate, errors = TARGET_SCANS_PER_S[args.kind], sum(run.tally.errors.values())
    wrong = len(outcome.wrong_lines) + len(run.tally.wrong_answers)
    checks = []
    # Paced, the run serves what it offers: how many scans the stack can serve is the closed
    # loop's figure, and what this run shows is the latency at the rate it offered.
    if args.rate is None:
        throughput = f"{outcome.scans_per_s:.0f} scans/s >= {rate:.0f}"
        checks.append(("scans_per_s", throughput, outcome.scans_per_s >= rate))
    checks += [
        (
            "p95",
            f"p95 {outcome.p95:.1f} ms <= {TARGET_P95_MS:.0f} ms",
            outcome.p95 <= TARGET_P95_MS,
        ),
        ("errors", f"{errors} errors == 0", errors == 0),
        ("lines", f"{wrong} wrong lines or answers == 0", wrong == 0),
    ]
    per_scan, cpu_target = server_cpu_ms_per_scan(run, outcome), TARGET_CPU_MS_PER_SCAN[args.kind]
    if args.stack == "prod-local" and per_scan is not None:
        checks.append(
            (
                "cpu_per_scan",
                f"server CPU {per_scan:.2f} ms/scan <= {cpu_target:.0f} ms (whole stack)",
                per_scan <= cpu_target,
            )
        )
    print(f"\ntargets ({TARGET_CARTS} carts, 2-core machine; this run: {args.carts} carts)")
    if args.rate is not None:
        print(
            f"  scans/s: not judged paced (offered {args.rate:g}, served {outcome.scans_per_s:.1f})"
        )
    for _, label, met in checks:
        print(f"  {label:<40} {'met' if met else 'MISSED'}")
    return {key: met for key, _, met in checks}


def summary(
    args: argparse.Namespace,
    run: Run,
    outcome: Outcome,
    extra: dict[str, Any],
    checks: dict[str, bool],
) -> dict[str, Any]:
    per_scan = server_cpu_ms_per_scan(run, outcome)
    return {
        "benchmark": "scan_load",
        "kind": args.kind,
        "carts": args.carts,
        "seconds": args.seconds,
        "rate": args.rate,
        "worker_class": args.worker_class,
        "stack": args.stack,
        **(
            {"web_nodes": args.web_nodes, "web_workers": args.web_workers}
            if args.stack == "prod-local"
            else {}
        ),
        **extra,
        "scans": run.tally.scans,
        "scans_per_s": round(outcome.scans_per_s, 1),
        "latency_ms": {
            "p50": round(outcome.p50, 2),
            "p95": round(outcome.p95, 2),
            "p99": round(outcome.p99, 2),
        },
        "errors": dict(run.tally.errors),
        "wrong_answers": len(run.tally.wrong_answers),
        "wrong_lines": len(outcome.wrong_lines),
        "idempotency_ok": not outcome.idempotency,
        "server_cpu_percent": None
        if outcome.server_cpu_percent is None
        else round(outcome.server_cpu_percent, 1),
        "server_cpu_ms_per_scan": None if per_scan is None else round(per_scan, 2),
        "server_cpu_ms_per_scan_by_part": {
            part: round(ms, 2) for part, ms in cpu_by_part_ms_per_scan(run, outcome).items()
        },
        "client_cpu_percent": round(outcome.client_cpu_percent, 1),
        "targets": checks,
    }


def gunicorn_cpu(pid: int) -> ServerCpu:
    """The CPU of gunicorn ``pid`` and its workers, as one part."""

    def spent(before: float | None, after: float | None) -> dict[str, float]:
        return {} if before is None or after is None else {"gunicorn": after - before}

    return ServerCpu(sample=lambda: process_tree_cpu_s(pid), spent=spent)


async def measure(
    args: argparse.Namespace, server_cpu: ServerCpu, run_carts: list[Cart], run: Run
) -> Outcome:
    """Pair the carts, run the load, take the CPU readings, then check the carts."""
    await carts_pair(run.port, run_carts, args.kind, run.tls)
    run.scan_period_s = None if args.rate is None else len(run_carts) / args.rate
    started = time.monotonic()
    run.window = (started + args.warmup, started + args.warmup + args.seconds)
    task = asyncio.create_task(load_run(run, run_carts, args.seed))
    await asyncio.sleep(args.warmup)
    server_before, client_before = server_cpu.sample(), time.process_time()
    await asyncio.sleep(args.seconds)
    server_after, client_after = server_cpu.sample(), time.process_time()
    await task
    seconds = run.window[1] - run.window[0]
    by_part = {
        part: 100 * cpu_s / seconds
        for part, cpu_s in server_cpu.spent(server_before, server_after).items()
    }
    wrong_lines = await asyncio.to_thread(lines_check, run_carts)
    idempotency = await idempotency_check(run.port, run_carts, run.tls)
    latencies = run.tally.latencies_ms
    return Outcome(
        scans_per_s=run.tally.scans / seconds,
        p50=percentile(latencies, 50),
        p95=percentile(latencies, 95),
        p99=percentile(latencies, 99),
        server_cpu_percent=sum(by_part.values()) if by_part else None,
        client_cpu_percent=100 * (client_after - client_before) / seconds,
        wrong_lines=wrong_lines,
        idempotency=idempotency,
        server_cpu_by_part=by_part,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scan_load", description=DESCRIPTION)
    parser.add_argument("--carts", type=int, default=TARGET_CARTS)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--kind", choices=("code", "image"), default="code")
    parser.add_argument(
        "--rate",
        type=float,
        help="scans/s the carts offer in all, each cart paced evenly (default: closed loop, "
        "each cart scanning again as soon as it is answered)",
    )
    parser.add_argument(
        "--worker-class",
        choices=WORKER_CLASSES,
        help=f"default {DEFAULT_WORKER_CLASS}; with --stack prod-local the stack's "
        "(deploy/gunicorn.conf.py)",
    )
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument(
        "--stack",
        choices=("gunicorn", "prod-local"),
        default="gunicorn",
        help="gunicorn alone on SQLite or DATABASE_URL (quick), or the production stack "
        "(make prod-local: nginx, WSGI web nodes, MariaDB, Redis) of its own",
    )
    parser.add_argument(
        "--stack-dir",
        type=Path,
        help="with --stack prod-local: use the stack already running with this PROD_LOCAL_DIR",
    )
    parser.add_argument("--web-nodes", type=int, default=1, help="--stack prod-local")
    parser.add_argument(
        "--web-workers",
        type=int,
        help="--stack prod-local: per web node (default: the stack's, 2 a CPU + 1)",
    )
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds not measured")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be above 0")
    if args.stack_dir is not None:
        args.stack = "prod-local"
    if args.worker_class is None and args.stack != "prod-local":
        args.worker_class = DEFAULT_WORKER_CLASS
    if args.stack == "prod-local" and args.worker_class == "uvicorn":
        parser.error("the prod-local stack's web nodes are WSGI: --worker-class sync|gthread")
    # Like Ctrl-C: unwind, so that the server is stopped and the database dropped.
    signal.signal(signal.SIGTERM, _terminated)
    if args.stack == "prod-local":
        return _main_prod_local(args)
    with tempfile.TemporaryDirectory(prefix="smartcart-scanload-") as name:
        directory = Path(name)
        try:
            database = database_create(directory)
        except BenchmarkError as exc:
            print(f"scan_load: {exc}", file=sys.stderr)
            return 2
        try:
            return _run(args, directory, database)
        except BenchmarkError as exc:
            print(f"scan_load: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("scan_load: interrupted; the server is stopped", file=sys.stderr)
            return 130
        finally:
            database.drop()


def _terminated(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _run(args: argparse.Namespace, directory: Path, database: Database) -> int:
    django_setup(database)
    carts, catalog, photos, extra = _store_setup(args)
    extra["database"] = database.vendor
    from django.db import connections

    connections.close_all()  # the server's workers write; this process only reads from now on
    with server_running(args, directory) as (port, pid):
        run = Run(port=port, kind=args.kind, catalog=catalog, photos=photos, window=(0, 0))
        outcome = asyncio.run(measure(args, gunicorn_cpu(pid), carts, run))
    return 0 if report(args, run, outcome, extra) else 1


def _store_setup(args: argparse.Namespace) -> tuple[list[Cart], dict[int, str], dict, dict]:
    """The run's shoppers, devices and catalog in the database settings point at (and, for
    image scans, the photos the decoder reads)."""
    carts, catalog = store_create(args.carts, args.products)
    photos: dict[int, bytes] = {}
    extra: dict[str, Any] = {}
    if args.kind == "image":
        photos = photos_render(catalog, args.seed)
        catalog = {product_id: catalog[product_id] for product_id in photos}
        sizes = [len(photo) for photo in photos.values()]
        print(
            f"photos: {len(photos)} of {args.products} rendered photos read by the decoder, "
            f"{statistics.fmean(sizes) / 1024:.1f} KiB on average"
        )
        extra["photos"] = len(photos)
        if not photos:
            raise BenchmarkError("the decoder read none of the rendered photos")
    return carts, catalog, photos, extra


@contextmanager
def _prod_local_stack(args: argparse.Namespace) -> Iterator[Any]:
    """The stack to run against: the one in ``--stack-dir`` (left running), or a fresh one
    under var/scan-load/ (stopped afterwards)."""
    from benchmarks.prod_local import stack_attach, stack_running

    if args.stack_dir is not None:
        yield stack_attach(args.stack_dir)
        return
    settings = {
        "WEB_NODES": str(args.web_nodes),
        "WEB_THREADS": str(args.threads),
        # Each cart here scans far faster than a shopper: see the module's docstring.
        "DEVICE_THROTTLE_RATE": THROTTLE_RATE,
    }
    # Unset: the stack's defaults (deploy/gunicorn.conf.py).
    if args.web_workers is not None:
        settings["WEB_WORKERS"] = str(args.web_workers)
    if args.worker_class is not None:
        settings["WEB_WORKER_CLASS"] = args.worker_class
    with stack_running(PROD_LOCAL_DIR, settings) as stack:
        yield stack


def _main_prod_local(args: argparse.Namespace) -> int:
    try:
        with _prod_local_stack(args) as stack:
            return _run_prod_local(args, stack)
    except BenchmarkError as exc:
        print(f"scan_load: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("scan_load: interrupted; the stack is stopped", file=sys.stderr)
        return 130


def _run_prod_local(args: argparse.Namespace, stack: Any) -> int:
    from benchmarks.prod_local import cpu_by_service, stack_sample

    # What the stack runs, asked for or its defaults (an attached stack: whatever it was given).
    args.web_workers = int(stack.env["WEB_WORKERS"])
    args.worker_class = stack.env["WEB_WORKER_CLASS"]
    args.threads = int(stack.env["WEB_THREADS"])
    os.environ.update(stack.env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopcart.settings")
    import django

    django.setup()
    carts, catalog, photos, extra = _store_setup(args)
    extra["database"] = "mysql"
    from django.db import connections

    connections.close_all()
    print(f"server: {server_description(args)}, https://127.0.0.1:{stack.port}/")
    server_cpu = ServerCpu(sample=lambda: stack_sample(stack.state_dir), spent=cpu_by_service)
    run = Run(
        port=stack.port,
        kind=args.kind,
        catalog=catalog,
        photos=photos,
        window=(0, 0),
        tls=stack.tls(),
    )
    outcome = asyncio.run(measure(args, server_cpu, carts, run))
    passed = report(args, run, outcome, extra)
    hint = throttle_hint(args, run.tally.errors)
    if hint:
        print(hint, file=sys.stderr)
    return 0 if passed else 1


def throttle_hint(args: argparse.Namespace, errors: Mapping[str, int]) -> str | None:
    """How to start a stack that lets the carts through, when an attached one throttled them."""
    return HINT_THROTTLED if args.stack_dir is not None and errors.get("429") else None


if __name__ == "__main__":
    sys.exit(main())
