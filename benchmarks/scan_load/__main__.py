"""``python -m benchmarks.scan_load``: the run from start to end, and its report."""

import argparse
import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
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
    DEFAULT_WORKER_CLASS,
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


def report(args: argparse.Namespace, run: Run, outcome: Outcome, extra: dict[str, Any]) -> bool:
    """Print the table, the targets and the JSON line; True when every check passed."""
    table_print(args, run, outcome, extra)
    checks = targets_print(args, run, outcome)
    print(json.dumps(summary(args, run, outcome, extra, checks)))
    return checks["errors"] and checks["lines"] and not outcome.idempotency


def server_cpu_ms_per_scan(run: Run, outcome: Outcome) -> float | None:
    cpu, seconds = outcome.server_cpu_percent, run.window[1] - run.window[0]
    if cpu is None or not run.tally.scans:
        return None
    return cpu * 10 * seconds / run.tally.scans  # percent of a core x 10 = ms per second


def table_print(
    args: argparse.Namespace, run: Run, outcome: Outcome, extra: dict[str, Any]
) -> None:
    tally, cpu, per_scan = (
        run.tally,
        outcome.server_cpu_percent,
        server_cpu_ms_per_scan(run, outcome),
    )
    print(
        f"\nScan load: {args.carts} carts, --kind {args.kind}, {args.seconds:.1f} s measured, "
        f"gunicorn {WORKERS} x {args.worker_class}, {extra['database']}"
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
    checks = [
        (
            "scans_per_s",
            f"{outcome.scans_per_s:.0f} scans/s >= {rate:.0f}",
            outcome.scans_per_s >= rate,
        ),
        (
            "p95",
            f"p95 {outcome.p95:.1f} ms <= {TARGET_P95_MS:.0f} ms",
            outcome.p95 <= TARGET_P95_MS,
        ),
        ("errors", f"{errors} errors == 0", errors == 0),
        ("lines", f"{wrong} wrong lines or answers == 0", wrong == 0),
    ]
    print(f"\ntargets ({TARGET_CARTS} carts, 2-core machine; this run: {args.carts} carts)")
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
        "worker_class": args.worker_class,
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
        "client_cpu_percent": round(outcome.client_cpu_percent, 1),
        "targets": checks,
    }


async def measure(
    args: argparse.Namespace, port: int, pid: int, run_carts: list[Cart], run: Run
) -> Outcome:
    """Pair the carts, run the load, take the CPU readings, then check the carts."""
    await carts_pair(port, run_carts, args.kind)
    started = time.monotonic()
    run.window = (started + args.warmup, started + args.warmup + args.seconds)
    task = asyncio.create_task(load_run(run, run_carts, args.seed))
    await asyncio.sleep(args.warmup)
    server_before, client_before = process_tree_cpu_s(pid), time.process_time()
    await asyncio.sleep(args.seconds)
    server_after, client_after = process_tree_cpu_s(pid), time.process_time()
    await task
    seconds = run.window[1] - run.window[0]
    server_cpu = (
        100 * (server_after - server_before) / seconds
        if server_before is not None and server_after is not None
        else None
    )
    wrong_lines = await asyncio.to_thread(lines_check, run_carts)
    idempotency = await idempotency_check(port, run_carts)
    latencies = run.tally.latencies_ms
    return Outcome(
        scans_per_s=run.tally.scans / seconds,
        p50=percentile(latencies, 50),
        p95=percentile(latencies, 95),
        p99=percentile(latencies, 99),
        server_cpu_percent=server_cpu,
        client_cpu_percent=100 * (client_after - client_before) / seconds,
        wrong_lines=wrong_lines,
        idempotency=idempotency,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scan_load", description=DESCRIPTION)
    parser.add_argument("--carts", type=int, default=TARGET_CARTS)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--kind", choices=("code", "image"), default="code")
    parser.add_argument("--worker-class", choices=WORKER_CLASSES, default=DEFAULT_WORKER_CLASS)
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds not measured")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    # Like Ctrl-C: unwind, so that the server is stopped and the database dropped.
    signal.signal(signal.SIGTERM, _terminated)
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
    carts, catalog = store_create(args.carts, args.products)
    photos: dict[int, bytes] = {}
    extra: dict[str, Any] = {"database": database.vendor}
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
    from django.db import connections

    connections.close_all()  # the server's workers write; this process only reads from now on
    with server_running(args, directory) as (port, pid):
        run = Run(port=port, kind=args.kind, catalog=catalog, photos=photos, window=(0, 0))
        outcome = asyncio.run(measure(args, port, pid, carts, run))
    return 0 if report(args, run, outcome, extra) else 1


if __name__ == "__main__":
    sys.exit(main())
