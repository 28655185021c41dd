"""gunicorn for the run: started on a free loopback port, waited for, stopped by its pid."""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from benchmarks.scan_load.store import BenchmarkError

HOST = "127.0.0.1"
BASE_DIR = Path(__file__).resolve().parents[2]
RESERVED_PORT = 8000
WORKERS = 2
WORKER_CLASSES = {
    "gthread": ("gthread", "shopcart.wsgi:application"),
    "sync": ("sync", "shopcart.wsgi:application"),
    "uvicorn": ("uvicorn_worker.UvicornWorker", "shopcart.asgi:application"),
}
DEFAULT_WORKER_CLASS = "sync"
THROTTLE_RATE = "100000/min"
SERVER_START_TIMEOUT_S = 60.0


def free_port() -> int:
    """A free loopback port chosen by the system, never 8000 (``make run``'s)."""
    while True:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = probe.getsockname()[1]
        if port != RESERVED_PORT:
            return port


def server_start(worker_class: str, threads: int, port: int, log: Path) -> subprocess.Popen:
    """gunicorn with ``WORKERS`` workers on ``port``, its output in ``log``."""
    worker, app = WORKER_CLASSES[worker_class]
    command = [
        sys.executable, "-m", "gunicorn", app,
        "--workers", str(WORKERS),
        "--worker-class", worker,
        "--bind", f"{HOST}:{port}",
        "--log-level", "warning",
        "--graceful-timeout", "5",
        # Load the project before forking: both workers answer from the first request on, and
        # a slow start (a busy machine takes seconds to import Django) is not measured.
        "--preload",
        "--backlog", "256",
    ]  # fmt: skip
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    env = {
        **os.environ,
        "DEBUG": "false",
        "DEVICE_THROTTLE_RATE": THROTTLE_RATE,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as out:
        return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=out, stderr=out)


def server_stop(process: subprocess.Popen) -> None:
    """Stop gunicorn by its pid: TERM (graceful, it stops its workers), KILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def process_tree_cpu_s(pid: int) -> float | None:
    """CPU seconds used so far by ``pid`` and its children (gunicorn's workers); Linux only."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except FileNotFoundError:
        return None
    for entry in entries:
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
        if int(entry) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@contextmanager
def server_running(args: argparse.Namespace, directory: Path) -> Iterator[tuple[int, int]]:
    """(port, pid) of a started, listening gunicorn; stopped when the block ends, however."""
    port = free_port()
    log = directory / "gunicorn.log"
    process = server_start(args.worker_class, args.threads, port, log)
    print(f"server: gunicorn pid {process.pid}, {WORKERS} x {args.worker_class}, port {port}")
    try:
        server_wait(process, port)
        yield port, process.pid
    except Exception:
        print(f"--- {log.name} (last lines) ---\n{tail(log)}", file=sys.stderr)
        raise
    finally:
        server_stop(process)


def tail(path: Path, lines: int = 30) -> str:
    with suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def server_wait(process: subprocess.Popen, port: int) -> None:
    """Until gunicorn listens (with ``--preload`` it does once the project is loaded)."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchmarkError(f"gunicorn exited with {process.returncode}")
        with suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.1)
    raise BenchmarkError(f"gunicorn did not listen on port {port} within {SERVER_START_TIMEOUT_S}s")
