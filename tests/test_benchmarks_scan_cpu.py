"""benchmarks/scan_cpu.py: a short run from a clean environment prints its figures.

The figures themselves are the benchmark's business (benchmarks/README.md, "Scan CPU").
"""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# The run makes its own SQLite database; these would point it elsewhere.
FOREIGN = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEVICE_THROTTLE_RATE")


def test_short_run_prints_cpu_and_statements_per_scan_of_each_kind():
    env = {name: value for name, value in os.environ.items() if name not in FOREIGN}
    command = [sys.executable, "-m", "benchmarks.scan_cpu", "--scans", "20", "--warmup", "5"]
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [*command, "--lines", "3", "--kind", "both"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["benchmark"], summary["database"], summary["lines"]) == (
        "scan_cpu",
        "sqlite",
        3,
    )
    assert [row["kind"] for row in summary["results"]] == ["code", "image"]
    for row in summary["results"]:
        assert row["scans"] == 20 and row["cpu_ms"] > 0
        # 8 a scan (tests/devices/test_scan_api.py), and the device now and then (key cache)
        assert 8 <= row["queries"] < 8.5
