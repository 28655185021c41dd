"""A local fake of the few Stripe API endpoints the store calls, for tests.

A threaded ``http.server`` on 127.0.0.1 (a free port) answering like Stripe's API does:

* ``POST /v1/checkout/sessions``: a new open session;
* ``GET /v1/checkout/sessions/<id>``: that session;
* ``POST /v1/checkout/sessions/<id>/expire``: expires an open one, 400 otherwise;
* ``POST /v1/refunds``: refunds part of a completed session's PaymentIntent.

It honours ``Idempotency-Key`` as Stripe does (the same key and body get the stored answer,
the same key with another body a 400), requires a ``Bearer`` secret key, and records every
request (method, path, headers, form fields as Stripe's flat ``a[b][0]`` names) so tests can
assert what the store sent. ``fail_next`` makes the next request fail like Stripe or a network
would. Tests point ``STRIPE_API_BASE`` at ``base_url``: no stripe function is patched.
"""

import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class FakeStripe:
    """Start with ``with FakeStripe() as fake:``; ``fake.base_url`` is its address."""

    requests: list[RecordedRequest] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (status, body) answers for the next requests; status 0 drops the connection unanswered.
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _answers: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> "FakeStripe":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    # --- What tests do to the fake -----------------------------------------------------------

    def fail_next(self, status: int, message: str = "refused", error_type: str = "") -> None:
        """The next request gets ``status`` with Stripe's error body (0: no answer at all)."""
        kind = error_type or ("api_error" if status >= 500 else "invalid_request_error")
        self.failures.append((status, {"error": {"type": kind, "message": message}}))

    def session_pay(self, session_id: str) -> dict[str, Any]:
        """What Stripe does when the shopper pays: the session completes with a PaymentIntent."""
        session = self.sessions[session_id]
        session.update(
            status="complete", payment_status="paid", payment_intent=f"pi_fake_{next(self._ids)}"
        )
        return session

    def posted(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]

    # --- The API --------------------------------------------------------------------------------

    def handle(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._session_create(form)
        if path.startswith("/v1/checkout/sessions/"):
            session_id, _, action = path.removeprefix("/v1/checkout/sessions/").partition("/")
            session = self.sessions.get(session_id)
            if session is None:
                return _error(404, f"No such checkout.session: '{session_id}'")
            if method == "GET" and not action:
                return 200, session
            if method == "POST" and action == "expire":
                return self._session_expire(session)
        if method == "POST" and path == "/v1/refunds":
            return self._refund_create(form)
        return _error(404, f"Unrecognized request URL ({method}: {path}).")

    def _session_create(self, form: dict[str, str]) -> dict[str, Any]:
        session_id = f"cs_test_fake{next(self._ids)}"
        amount = int(form["line_items[0][price_data][unit_amount]"])
        session = {
            "id": session_id,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "mode": form.get("mode"),
            "amount_total": amount * int(form["line_items[0][quantity]"]),
            "currency": form["line_items[0][price_data][currency]"],
            "client_reference_id": form.get("client_reference_id"),
            "metadata": _nested(form, "metadata"),
            "payment_intent": None,
            "expires_at": int(form["expires_at"]),
        }
        self.sessions[session_id] = session
        return session

    def _session_expire(self, session: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if session["status"] != "open":
            return _error(400, 'Only Checkout Sessions with a status in ["open"] can be expired.')
        session["status"] = "expired"
        return 200, session

    def _refund_create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = form.get("payment_intent")
        session = next((s for s in self.sessions.values() if s["payment_intent"] == intent), None)
        if session is None or not intent:
            return _error(400, f"No such payment_intent: '{intent}'")
        amount = int(form.get("amount", session["amount_total"]))
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
        if amount > session["amount_total"] - refunded:
            return _error(400, "Refund amount is greater than unrefunded amount on charge.")
        refund = {
            "id": f"re_fake{next(self._ids)}",
            "object": "refund",
            "amount": amount,
            "currency": session["currency"],
            "payment_intent": intent,
            "status": "succeeded",
            "metadata": _nested(form, "metadata"),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund


def _nested(form: dict[str, str], name: str) -> dict[str, str]:
    prefix = f"{name}["
    return {k[len(prefix) : -1]: v for k, v in form.items() if k.startswith(prefix)}


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": "invalid_request_error", "message": message}}


def _handler_for(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            form = dict(parse_qsl(body, keep_blank_values=True))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with fake._lock:
                fake.requests.append(RecordedRequest(method, self.path, headers, form))
                status, answer = self._result(method, headers, body, form)
            if status == 0:
                self.close_connection = True
                return  # no answer: the client sees the connection close
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _result(
            self, method: str, headers: dict[str, str], body: str, form: dict[str, str]
        ) -> tuple[int, dict[str, Any]]:
            if not headers.get("authorization", "").startswith("Bearer sk_"):
                return _error(401, "Invalid API Key provided.")
            if fake.failures:
                return fake.failures.pop(0)
            key = headers.get("idempotency-key")
            if key and key in fake._answers:
                stored_body, status, answer = fake._answers[key]
                if stored_body != body:
                    return _error(400, "Keys for idempotent requests can only be used once.")
                return status, answer
            status, answer = fake.handle(method, self.path.split("?")[0], form)
            if key and method == "POST":
                fake._answers[key] = (body, status, answer)
            return status, answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

    return Handler
