"""The production stack under test: ``deploy/prod-local.sh`` in a directory of the run's own,
its environment in this process, the TLS context its clients use, and the memory and CPU time
of every process it runs (nginx, the web nodes, the stream pool, Celery, MariaDB, Redis)."""

import contextlib
import os
import shlex
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.scan_load.server import BASE_DIR, free_port
from benchmarks.scan_load.store import BenchmarkError

PROD_LOCAL = BASE_DIR / "deploy" / "prod-local.sh"
# What prod-local.sh starts with one web node, in its order; a running stack lists its own in
# run/services (web-1, web-2, ... with WEB_NODES).
DEFAULT_SERVICES = ("mariadb", "redis", "web-1", "stream", "worker", "beat", "nginx")


@dataclass(frozen=True)
class Stack:
    port: int  # nginx's HTTPS port
    state_dir: Path
    env: dict[str, str]  # what prod-local.sh exports to its processes

    @property
    def mail_dir(self) -> Path:
        return Path(self.env["EMAIL_FILE_PATH"])

    def tls(self) -> ssl.SSLContext:
        """A client context that trusts the stack's self-signed certificate, and only it."""
        return ssl.create_default_context(cafile=self.env["PROD_LOCAL_CA_FILE"])

    def pid(self, service: str) -> int | None:
        try:
            return int((self.state_dir / "pids" / f"{service}.pid").read_text())
        except (OSError, ValueError):
            return None


def prod_local(command: str, env: dict[str, str], *, output: Path | None = None) -> None:
    """``deploy/prod-local.sh COMMAND``; its output appended to ``output`` (else inherited)."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(output.open("a")) if output else None
        result = subprocess.run(
            [str(PROD_LOCAL), *command.split()],
            env=env,
            cwd=BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            check=False,
        )
    if result.returncode != 0:
        raise BenchmarkError(f"deploy/prod-local.sh {command} exited with {result.returncode}")


@contextmanager
def stack_running(state_dir: Path, settings: dict[str, str]) -> Iterator[Stack]:
    """A fresh ``make prod-local`` stack in ``state_dir`` (wiped first) on a free port, with
    ``settings`` added to its environment (WEB_NODES, WEB_WORKERS, ...); stopped by its pids
    when the block ends, however it ends."""
    env = {**os.environ, "PROD_LOCAL_DIR": str(state_dir), "PORT": str(free_port()), **settings}
    prod_local("stop", env, output=Path(os.devnull))  # a run interrupted before this one
    shutil.rmtree(state_dir, ignore_errors=True)
    started = time.monotonic()
    print(f"stack: deploy/prod-local.sh start --background (state in {state_dir})", flush=True)
    try:
        prod_local("start --background", env)
        print(f"stack: ready in {time.monotonic() - started:.0f} s", flush=True)
        yield stack_attach(state_dir)
    finally:
        print("stack: stopping", flush=True)
        prod_local("stop", env, output=state_dir / "logs" / "stop.log")


def stack_attach(state_dir: Path) -> Stack:
    """The stack already running in ``state_dir`` (left running afterwards)."""
    env = stack_env({"PATH": os.environ.get("PATH", ""), "PROD_LOCAL_DIR": str(state_dir)})
    if not env.get("PROD_LOCAL_URL"):
        raise BenchmarkError(f"no prod-local stack has run in {state_dir}")
    port = int(env["PROD_LOCAL_URL"].rstrip("/").rsplit(":", 1)[1])
    return Stack(port, state_dir, env)


def stack_env(env: dict[str, str]) -> dict[str, str]:
    """The running stack's environment: the ``export NAME=value`` lines of ``prod-local.sh env``."""
    listing = subprocess.run(
        [str(PROD_LOCAL), "env"], env=env, cwd=BASE_DIR, capture_output=True, text=True, check=True
    ).stdout
    exported = {}
    for line in listing.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export":
            name, _, value = words[1].partition("=")
            exported[name] = value
    return exported


# --- Killing a web node ---------------------------------------------------------------------


def node_kill(stack: Stack, service: str) -> list[int]:
    """Kill ``service`` (a web node: its gunicorn master and workers) at once, by their pids, as
    a crash would; the pids killed."""
    root = stack.pid(service)
    if root is None:
        raise BenchmarkError(f"{service} is not running")
    pids = [root, *sorted(_descendants(root, _process_parents()))]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


def node_wait_back(stack: Stack, service: str, dead: int, timeout: float) -> int:
    """Wait until prod-local's supervisor has started ``service`` again (a new pid, not
    ``dead``) and it listens; its new pid."""
    node = int(service.removeprefix("web-"))
    bind = stack.env["PROD_LOCAL_WEB_BINDS"].split()[node - 1]
    host, port = bind.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = stack.pid(service)
        if pid not in (None, dead) and _listening(host, int(port)):
            return pid  # type: ignore[return-value]
        time.sleep(0.2)
    raise BenchmarkError(f"{service} did not come back within {timeout:.0f} s")


def _listening(host: str, port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


# --- Memory and CPU -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessSample:
    label: str  # the service, or "<service> child N" for its processes
    pid: int
    rss_kib: int
    cpu_s: float  # user + system time so far

    @property
    def service(self) -> str:
        return self.label.split(" child ")[0]


def stack_services(state_dir: Path) -> tuple[str, ...]:
    """The services of the stack in ``state_dir``, as prod-local.sh recorded them."""
    with contextlib.suppress(OSError):
        recorded = (state_dir / "run" / "services").read_text().split()
        if recorded:
            return tuple(recorded)
    return DEFAULT_SERVICES


def stack_sample(state_dir: Path) -> dict[int, ProcessSample]:
    """Resident memory and CPU time of each process the stack runs (the services and their
    children), by pid."""
    parents = _process_parents()
    found: dict[int, ProcessSample] = {}
    for service in stack_services(state_dir):
        try:
            root = int((state_dir / "pids" / f"{service}.pid").read_text())
        except (OSError, ValueError):
            continue
        family = [root, *sorted(_descendants(root, parents))]
        for number, pid in enumerate(family):
            rss, cpu = _rss_kib(pid), _cpu_s(pid)
            if rss is not None and cpu is not None:
                label = service if number == 0 else f"{service} child {number}"
                found[pid] = ProcessSample(label, pid, rss, cpu)
    return found


def cpu_by_service(
    before: dict[int, ProcessSample], after: dict[int, ProcessSample]
) -> dict[str, float]:
    """CPU seconds each service's processes used between two samples. A process started in
    between (a web node started again) counts from zero; one that ended in between counts
    until ``before`` only, which is what is known of it."""
    used: dict[str, float] = {}
    for pid, end in after.items():
        start = before.get(pid)
        spent = end.cpu_s - (start.cpu_s if start and start.label == end.label else 0.0)
        used[end.service] = used.get(end.service, 0.0) + max(spent, 0.0)
    return used


def _process_parents() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def _descendants(root: int, parents: dict[int, int]) -> set[int]:
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _cpu_s(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
