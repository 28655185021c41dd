"""The hostile-uploads benchmark runs and judges every bad upload (a short run)."""

import json
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]


def test_every_bad_upload_is_refused_with_a_4xx():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.hostile_uploads", "--repeat", "2"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["benchmark"] == "hostile_uploads"
    assert len(summary["results"]) == 9
    for row in summary["results"]:
        assert all(400 <= status < 500 for status in row["statuses"]), row
