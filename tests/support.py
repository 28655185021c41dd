"""Helpers shared across the test folders."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.test import Client, RequestFactory


def second_factor_given(client: Client, user) -> Client:
    """Record in ``client``'s session the code step that ``force_login`` skips, as allauth
    records it when a code is typed at sign-in; staff pages then let a manager in."""
    request = RequestFactory().get("/")
    request.session = client.session
    totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    record_authentication(request, user, "mfa", id=totp.pk, type=totp.type)
    request.session.save()
    return client


def process_stop(process: subprocess.Popen) -> None:
    """Stop a server a test started: terminate, then kill if it has not ended in 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


BASE_DIR = Path(__file__).resolve().parents[1]
# What would point a benchmark that makes its own SQLite database (or its server) elsewhere.
FOREIGN_TO_OWN_DATABASE = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEVICE_THROTTLE_RATE")


def own_database_env() -> dict[str, str]:
    """This process's environment without ``FOREIGN_TO_OWN_DATABASE``."""
    return {k: v for k, v in os.environ.items() if k not in FOREIGN_TO_OWN_DATABASE}


def benchmark_run(
    module: str,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    check: bool = True,
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """``python -m benchmarks.<module> args`` from the project's root: the finished run and its
    summary (the JSON on its last line of output). ``check``: the run must have succeeded
    (off for a benchmark that fails on a missed speed target, which a test does not judge)."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", f"benchmarks.{module}", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0 or not check, result.stdout[-3000:] + result.stderr[-3000:]
    return result, json.loads(result.stdout.strip().splitlines()[-1])
