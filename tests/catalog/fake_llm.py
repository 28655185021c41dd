"""A small fake of an OpenAI-compatible chat-completions API, on loopback, for the tip tests.

``FakeLlm().start()`` listens on 127.0.0.1 on a free port (``base_url``) and answers
``POST /v1/chat/completions`` as ``mode`` says:

- ``ok``: a completion whose content is ``{"tip": <tip>}``;
- ``slow``: the same, after ``delay`` seconds (longer than the client's timeout);
- ``429``: Too Many Requests with ``Retry-After: 30``;
- ``500``: an internal error;
- ``malformed``: 200 with a body that is not JSON;
- ``not_json_content``: a completion whose content is prose, not the asked-for JSON;
- ``too_long``: a completion whose tip is 1,000 characters long;
- ``redirect``: 302 to another path of this server.

``modes_by_name`` overrides ``mode`` for the products of those names (the ``name`` in the
request's facts), so one product can fail while the others get tips.

Every request is recorded in ``requests`` (path, headers, parsed body).
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


class FakeLlm:
    def __init__(self) -> None:
        self.mode = "ok"
        self.modes_by_name: dict[str, str] = {}
        self.tip = "Keep it in a cool, dry place and use within a week of opening."
        self.delay = 2.0
        self.requests: list[Recorded] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "FakeLlm":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def completion(self, content: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": "fake-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
        }


def _product_name(body: Any) -> str:
    try:
        return str(json.loads(body["messages"][1]["content"])["name"])
    except (TypeError, KeyError, IndexError, ValueError):
        return ""


def _handler_for(fake: FakeLlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
            fake.requests.append(Recorded(self.path, dict(self.headers.items()), body))
            self._answer(fake.modes_by_name.get(_product_name(body), fake.mode))

        def _answer(self, mode: str) -> None:
            if mode == "slow":
                time.sleep(fake.delay)
                mode = "ok"
            if mode == "ok":
                self._send(200, fake.completion(json.dumps({"tip": fake.tip})))
            elif mode == "too_long":
                self._send(200, fake.completion(json.dumps({"tip": "x" * 1000})))
            elif mode == "not_json_content":
                self._send(200, fake.completion("Here is a tip: keep it cool!"))
            elif mode == "malformed":
                self._send_raw(200, b'{"choices": [{"message": ')
            elif mode == "429":
                self._send(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "30"})
            elif mode == "500":
                self._send(500, {"error": {"message": "The server had an error"}})
            elif mode == "redirect":
                self._send(302, {}, {"Location": "/elsewhere"})

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            self._send_raw(status, json.dumps(payload).encode(), headers)

        def _send_raw(
            self, status: int, data: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
