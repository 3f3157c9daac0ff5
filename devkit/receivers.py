"""Real peers for notify's channels: an SMTP server (aiosmtpd) and an HTTP receiver."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from devkit.procs import free_port
from services.notify.channels import SIGNATURE_HEADER, verify_signature


class _Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
        return "250 OK"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 collecting what it receives."""

    def __init__(self):
        self.inbox = _Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self):
        with self.inbox.lock:
            return list(self.inbox.messages)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


class WebhookReceiver:
    """An HTTP receiver that checks the signature the way a unit's system would.

    `fail_first` answers 500 to that many requests before accepting; `always_fail` never
    accepts; `delay` makes each answer slow."""

    def __init__(self, secret: str, *, fail_first: int = 0, always_fail: bool = False,
                 delay: float = 0.0):
        self.secret = secret
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.delay = delay
        self.received: list[dict] = []
        self.attempts = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.attempts += 1
                    attempt = receiver.attempts
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                if not verify_signature(receiver.secret, body,
                                        self.headers.get(SIGNATURE_HEADER)):
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.send_response(401)
                elif receiver.always_fail or attempt <= receiver.fail_first:
                    self.send_response(500)
                else:
                    with receiver.lock:
                        receiver.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        # a short poll: stopping takes milliseconds, not serve_forever's default half second
        self.thread = threading.Thread(
            target=lambda: self.server.serve_forever(poll_interval=0.02), daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
