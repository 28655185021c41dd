"""benchmarks/scan_cpu.py: a short run from a clean environment prints its figures.

The figures themselves are the benchmark's business (benchmarks/README.md, "Scan CPU").
"""

from tests.support import benchmark_run, own_database_env


def test_short_run_prints_cpu_and_statements_per_scan_of_each_kind():
    env = own_database_env()
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
