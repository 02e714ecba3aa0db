"""Real receivers for push tests: a webhook server that verifies every signature and can fail on
purpose, and an SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message

from aiohttp import web
from aiosmtpd.controller import Controller

from pipeline.core.delivery import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify_signature
from tests.helpers.threaded import ThreadedServer


@dataclass
class Received:
    body: dict
    key: str
    signature_ok: bool
    at: float


@dataclass
class Behaviour:
    #: Answer this status to the first ``fail_times`` requests (0: never fail).
    fail_times: int = 0
    fail_status: int = 500
    retry_after: str | None = None
    #: Seconds to wait before answering (a slow receiver).
    delay: float = 0.0


class WebhookReceiver(ThreadedServer):
    """Takes POSTs on any path; answers as ``behaviour`` says; keeps what it accepted."""

    def __init__(self, secret: str = "") -> None:
        super().__init__()
        self.secret = secret
        self.behaviour = Behaviour()
        self.received: list[Received] = []
        self.attempts = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def accepted_keys(self) -> list[str]:
        with self._lock:
            return [r.key for r in self.received]

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        with self._lock:
            self.attempts += 1
            attempt = self.attempts
        if self.behaviour.delay:
            await asyncio.sleep(self.behaviour.delay)
        if attempt <= self.behaviour.fail_times:
            headers = (
                {"Retry-After": self.behaviour.retry_after} if self.behaviour.retry_after else {}
            )
            return web.Response(status=self.behaviour.fail_status, headers=headers)
        signature = request.headers.get(SIGNATURE_HEADER, "")
        ok = verify_signature(self.secret, signature, raw) if self.secret else True
        if not ok:
            return web.Response(status=400, text="bad signature")
        with self._lock:
            self.received.append(
                Received(
                    json.loads(raw), request.headers.get(IDEMPOTENCY_HEADER, ""), ok, time.time()
                )
            )
        return web.Response(status=200, text="ok")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        return app


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = _Mailbox()
        with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it is up
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[Message]:
        return self.mailbox.messages

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
