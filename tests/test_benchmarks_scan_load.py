"""benchmarks/scan_load.py: a short real run (server, carts, checks) and its photo maker.

The speed figures are the benchmark's business (benchmarks/README.md); these tests only prove
that it runs from a clean environment, checks every cart and leaves no server behind.
"""

import argparse
import os
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.scan_load.__main__ import HINT_THROTTLED, throttle_hint
from benchmarks.scan_load.store import (
    ERROR_STORE_EXISTS,
    BenchmarkError,
    ean13,
    photos_render,
    store_create,
)
from devices.decoding import decode_image
from tests.support import benchmark_run, own_database_env


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_short_run_checks_every_cart_answers_retries_and_stops_its_server():
    pytest.importorskip("gunicorn", reason="gunicorn is not installed")
    env = own_database_env()
    args = ("--carts", "2", "--seconds", "2", "--warmup", "0.5", "--kind", "code")
    result, summary = benchmark_run("scan_load", *args, env=env, timeout=120)

    assert summary["benchmark"] == "scan_load"
    assert (summary["kind"], summary["carts"], summary["database"]) == ("code", 2, "sqlite")
    assert summary["scans"] > 0 and summary["scans_per_s"] > 0
    assert set(summary["latency_ms"]) == {"p50", "p95", "p99"}
    assert set(summary["targets"]) == {"scans_per_s", "p95", "errors", "lines"}
    assert (summary["errors"], summary["wrong_answers"], summary["wrong_lines"]) == ({}, 0, 0)
    assert summary["idempotency_ok"] is True
    [server_line] = [line for line in result.stdout.splitlines() if line.startswith("server:")]
    server_pid = int(server_line.split("pid ")[1].split(",")[0])
    assert not pid_alive(server_pid)


def test_paced_carts_offer_the_rate_asked_for_and_their_latency_is_judged_not_their_speed():
    pytest.importorskip("gunicorn", reason="gunicorn is not installed")
    env = own_database_env()
    args = ("--carts", "2", "--seconds", "3", "--warmup", "0.5", "--kind", "code", "--rate", "20")
    result, summary = benchmark_run("scan_load", *args, env=env, timeout=120)

    # Closed loop, two carts scan far faster than 20 a second (the test above); paced, 20.
    assert summary["rate"] == 20
    assert 15 <= summary["scans_per_s"] <= 21
    assert set(summary["targets"]) == {"p95", "errors", "lines"}
    assert (summary["errors"], summary["wrong_answers"], summary["wrong_lines"]) == ({}, 0, 0)
    assert "paced at 20 scans/s in all" in result.stdout


def test_rendered_photos_are_kept_only_when_the_decoder_reads_their_product():
    catalog = {1: ean13(1), 2: ean13(2), 3: ean13(3)}

    photos = photos_render(catalog, seed=7)

    assert photos, "the decoder read none of the rendered photos"
    for product_id, photo in photos.items():
        assert photo.startswith(b"\xff\xd8\xff")  # JPEG
        assert [code.text for code in decode_image(photo)] == [catalog[product_id]]


@pytest.mark.django_db
def test_a_second_store_in_the_same_database_is_refused_with_what_to_do():
    carts, catalog = store_create(carts=1, products=2)
    assert (len(carts), len(catalog)) == (1, 2)

    with pytest.raises(BenchmarkError, match="earlier run") as caught:
        store_create(carts=1, products=2)

    assert str(caught.value) == ERROR_STORE_EXISTS


@pytest.mark.parametrize(
    ("stack_dir", "errors", "hint"),
    [
        (Path("var/pl"), Counter({"429": 3}), HINT_THROTTLED),
        (Path("var/pl"), Counter({"502": 1}), None),
        (None, Counter({"429": 3}), None),  # a stack of its own has the throttle raised
    ],
)
def test_an_attached_stack_that_throttled_the_carts_says_how_to_start_one(stack_dir, errors, hint):
    args = argparse.Namespace(stack_dir=stack_dir)

    assert throttle_hint(args, errors) == hint
