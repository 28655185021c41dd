"""Fixtures of the shopcart tests; mainly a small SMTP server on loopback for the outbox.

The cache is emptied around every test: allauth keeps its rate limits there (one
confirmation email per address every few minutes), and tests sign up the same addresses.

The SMTP server speaks just enough SMTP for Django's backend: greeting, EHLO/HELO, MAIL,
RCPT, DATA, RSET, NOOP, QUIT. ``refuse_connections`` makes the next N connections get "421 try
again later" (``SMTPConnectError``); ``reject_recipients`` answers RCPT with 550
(``SMTPRecipientsRefused``, whose message quotes the address); ``holding`` makes new connections
hang before the greeting until ``release`` is set. Accepted messages are kept in ``messages`` as
bytes.
"""

import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@dataclass
class SmtpScript:
    refuse_connections: int = 0
    reject_recipients: bool = False
    messages: list[bytes] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # While ``holding``, a new connection waits for ``release`` before the greeting, as a hung
    # server would: the client is stuck mid-send.
    holding: bool = False
    release: threading.Event = field(default_factory=threading.Event)


class SmtpHandler(socketserver.StreamRequestHandler):
    script: SmtpScript

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        with self.script.lock:
            self.script.connections += 1
            refuse = self.script.refuse_connections > 0
            if refuse:
                self.script.refuse_connections -= 1
        if refuse:
            self.reply("421 test server: try again later")
            return
        if self.script.holding:
            self.script.release.wait(timeout=60)
        self.reply("220 test server ready")
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.reply("250 test server")
            elif command.startswith("RCPT") and self.script.reject_recipients:
                self.reply("550 no such mailbox")
            elif command.startswith("DATA"):
                self.reply("354 go ahead")
                self.script.messages.append(self.read_data())
                self.reply("250 queued")
            elif command.startswith("QUIT"):
                self.reply("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")

    def read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line)
        return b"".join(lines)


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpScript]:
    """Django's SMTP backend pointed at a fresh loopback server; yields its script."""
    script = SmtpScript()
    handler = type("Handler", (SmtpHandler,), {"script": script})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.server_address[1]
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
