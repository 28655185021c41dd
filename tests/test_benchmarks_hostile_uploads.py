"""The hostile-uploads benchmark runs and judges every bad upload (a short run)."""

from tests.support import benchmark_run


def test_every_bad_upload_is_refused_with_a_4xx():
    # Its speed target is the benchmark's business: a busy machine may miss it.
    _, summary = benchmark_run("hostile_uploads", "--repeat", "2", check=False)

    assert summary["benchmark"] == "hostile_uploads"
    assert len(summary["results"]) == 9
    for row in summary["results"]:
        assert all(400 <= status < 500 for status in row["statuses"]), row
