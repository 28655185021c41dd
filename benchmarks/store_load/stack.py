"""The production stack under test: ``deploy/prod-local.sh`` in a directory of the run's own,
its environment in this process, and the memory and CPU time of every process it runs."""

import contextlib
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.scan_load.server import BASE_DIR, free_port
from benchmarks.scan_load.store import BenchmarkError

PROD_LOCAL = BASE_DIR / "deploy" / "prod-local.sh"
# Stopped and started afresh for every run: the audit compares the whole store's orders,
# emails and stock with what this run did.
STATE_DIR = BASE_DIR / "var" / "store-load"
SERVICES = ("web", "worker", "beat", "mariadb", "redis")


@dataclass(frozen=True)
class Stack:
    port: int
    state_dir: Path
    env: dict[str, str]  # what prod-local.sh exports to its processes

    @property
    def mail_dir(self) -> Path:
        return Path(self.env["EMAIL_FILE_PATH"])


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
def stack_running(web_workers: int) -> Iterator[Stack]:
    """A fresh ``make prod-local`` stack on a free port, stopped by its pids when the block
    ends, however it ends."""
    env = {
        **os.environ,
        "PROD_LOCAL_DIR": str(STATE_DIR),
        "PORT": str(free_port()),
        "WEB_WORKERS": str(web_workers),
    }
    prod_local("stop", env, output=Path(os.devnull))  # a run interrupted before this one
    shutil.rmtree(STATE_DIR, ignore_errors=True)
    started = time.monotonic()
    print(f"stack: deploy/prod-local.sh start --background (state in {STATE_DIR})", flush=True)
    try:
        prod_local("start --background", env)
        print(f"stack: ready in {time.monotonic() - started:.0f} s", flush=True)
        yield Stack(int(env["PORT"]), STATE_DIR, stack_env(env))
    finally:
        print("stack: stopping", flush=True)
        prod_local("stop", env, output=STATE_DIR / "logs" / "stop.log")


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


# --- Memory and CPU -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessSample:
    label: str  # the service, or "<service> child N" for its processes
    pid: int
    rss_kib: int
    cpu_s: float  # user + system time so far


def stack_sample(state_dir: Path) -> dict[int, ProcessSample]:
    """Resident memory and CPU time of each process the stack runs (the services and their
    children), by pid."""
    parents = _process_parents()
    found: dict[int, ProcessSample] = {}
    for service in SERVICES:
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
