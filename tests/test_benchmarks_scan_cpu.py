"""benchmarks/scan_cpu.py: a short run from a clean environment prints its figures.

The figures themselves are the benchmark's business (benchmarks/README.md, "Scan CPU").
"""

import os

from tests.support import benchmark_run

# The run makes its own SQLite database; these would point it elsewhere.
FOREIGN = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEVICE_THROTTLE_RATE")


def test_short_run_prints_cpu_and_statements_per_scan_of_each_kind():
    env = {name: value for name, value in os.environ.items() if name not in FOREIGN}
    args = ("--scans", "20", "--warmup", "5", "--lines", "3", "--kind", "both")
    _, summary = benchmark_run("scan_cpu", *args, env=env)

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
