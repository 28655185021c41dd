"""The simulator retries exactly as the firmware does: both run one scripted sequence.

tests/fixtures/devices/cart/retry_script.json lists, for one scan, the answers the server gives
and the decision expected after each. firmware/test/test_retry.cpp runs it through the cart's
core; here it runs through ``devices.simulator`` (the policy alone, then the whole ``Cart``).
"""

import copy
import json
from typing import Any

import pytest

from devices.simulator import (
    RETRY_AFTER_MAX,
    Cart,
    HttpAnswer,
    RetryPolicy,
    SimulatorError,
    TransportError,
    code_request,
    is_retryable,
    retry_delay,
)
from tests.devices.golden import FIXTURES, golden
from tests.devices.support import EAN13, ScriptedTransport

SCRIPT_PATH = FIXTURES / "cart" / "retry_script.json"
NO_ANSWER = "no_answer"


def script() -> dict[str, Any]:
    return json.loads(SCRIPT_PATH.read_text())


def case_ids() -> list[str]:
    return [case["name"] for case in script()["cases"]]


def status_of(step: dict[str, Any]) -> int | None:
    return None if step["answer"] == NO_ANSWER else step["answer"]


def decision_of(step: dict[str, Any], attempt: int, jitter: float) -> tuple[str, int | None]:
    """What the simulator's policy decides after attempt got step's answer, wait in ms."""
    status = status_of(step)
    if not is_retryable(status):
        assert status is not None
        return ("done" if 200 <= status < 300 or status == 409 else "stop"), None
    delay = retry_delay(
        attempt=attempt, status=status, retry_after=step.get("retry_after"), jitter=jitter
    )
    return ("give_up", None) if delay is None else ("retry", round(delay * 1000))


def assert_policy_follows(case: dict[str, Any]) -> None:
    for attempt, step in enumerate(case["steps"], start=1):
        decision, delay = decision_of(step, attempt, step.get("jitter", 0.0))
        assert decision == step["decision"], (case["name"], attempt)
        if decision == "retry":
            assert delay == step["delay_ms"], (case["name"], attempt)
            low, high = step["bounds_ms"]
            assert decision_of(step, attempt, 0.0)[1] == low
            assert decision_of(step, attempt, 1.0)[1] == high
    assert case["steps"][-1]["decision"] == case["outcome"]
    assert len(case["steps"]) == case["attempts"]


def scripted_answer(step: dict[str, Any]) -> HttpAnswer | Exception:
    if step["answer"] == NO_ANSWER:
        return TransportError("connection reset")
    status = step["answer"]
    headers = {"Retry-After": step["retry_after"]} if "retry_after" in step else {}
    body = golden("response_added") if 200 <= status < 300 else {"detail": "scripted"}
    return HttpAnswer(status, headers, json.dumps(body).encode())


def assert_cart_follows(case: dict[str, Any]) -> None:
    """Runs the simulator's Cart against the case's answers: same waits, bytes and outcome."""
    steps = case["steps"]
    transport = ScriptedTransport(*[scripted_answer(step) for step in steps])
    dice = iter([step["jitter"] for step in steps if is_retryable(status_of(step))])
    sleeps: list[float] = []
    cart = Cart(
        server="http://cart.test",
        key="scd_test_key",
        transport=transport,
        sleep=sleeps.append,
        jitter=lambda: next(dice),
        out=lambda line: None,
    )
    request = code_request(code=EAN13, symbology="EAN13")
    try:
        outcome = cart.scan(request)
        ended = "done" if outcome.status < 300 or outcome.status == 409 else "?"
    except SimulatorError as exc:
        ended = "give_up" if str(exc).startswith("Gave up") else "stop"

    assert ended == case["outcome"], case["name"]
    assert len(transport.sent) == case["attempts"], case["name"]
    waits = [step["delay_ms"] for step in steps if step["decision"] == "retry"]
    assert [round(s * 1000) for s in sleeps] == waits, case["name"]
    assert {body for _, _, body in transport.sent} == {request.body}  # the scan_id included


def test_the_script_states_the_simulators_policy():
    policy, default = script()["policy"], RetryPolicy()

    assert policy == {
        "base_ms": round(default.base * 1000),
        "factor": default.factor,
        "cap_ms": round(default.cap * 1000),
        "attempts": default.attempts,
        "retry_after_max_ms": round(RETRY_AFTER_MAX * 1000),
    }


@pytest.mark.parametrize("index", range(len(case_ids())), ids=case_ids())
def test_the_simulators_policy_decides_as_the_script_says(index):
    assert_policy_follows(script()["cases"][index])


@pytest.mark.parametrize("index", range(len(case_ids())), ids=case_ids())
def test_the_simulated_cart_waits_and_resends_as_the_script_says(index):
    assert_cart_follows(script()["cases"][index])


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda c: c["steps"][1].update(delay_ms=700), id="another wait"),
        pytest.param(lambda c: c["steps"][0].update(decision="stop"), id="another decision"),
        pytest.param(lambda c: c.update(attempts=5), id="another count"),
    ],
)
def test_a_changed_script_fails_the_simulator(mutate):
    case = copy.deepcopy(script()["cases"][0])
    mutate(case)

    with pytest.raises(AssertionError):
        assert_policy_follows(case)
    with pytest.raises(AssertionError):
        assert_cart_follows(case)
