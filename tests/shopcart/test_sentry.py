"""Sentry: off without a DSN; with one, errors are reported without personal data."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
django.setup()
import sentry_sdk
client = sentry_sdk.get_client()
print(json.dumps({
    "active": client.is_active(),
    "send_default_pii": client.options.get("send_default_pii"),
    "environment": client.options.get("environment"),
}))
"""


def sentry_state(**environment: str) -> dict:
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "shopcart.settings"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed probe
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sentry_is_off_without_a_dsn():
    assert sentry_state()["active"] is False


def test_a_dsn_turns_sentry_on_without_personal_data():
    # A DSN on a closed loopback port: nothing is ever delivered anywhere.
    state = sentry_state(SENTRY_DSN="http://public@127.0.0.1:9/1")

    assert state == {"active": True, "send_default_pii": False, "environment": "embedded"}
