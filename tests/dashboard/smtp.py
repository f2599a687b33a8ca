"""A real SMTP server (aiosmtpd) on a free loopback port that keeps every mail it receives."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from dagritme.servers import free_port


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    recipients: tuple[str, ...]
    subject: str
    body: str
    raw: str


@dataclass
class Inbox:
    port: int
    _mails: list[ReceivedMail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = bytes(envelope.content)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = ""
        if isinstance(message, EmailMessage):
            part = message.get_body(preferencelist=("plain", "html"))
            body = part.get_content() if part is not None else ""
        mail = ReceivedMail(
            tuple(envelope.rcpt_tos),
            str(message.get("Subject", "")),
            body,
            raw.decode("utf-8", "replace"),
        )
        with self._lock:
            self._mails.append(mail)
        return "250 Message accepted for delivery"

    def mails(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._mails)

    def to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.mails() if address in m.recipients]

    def apprise_url(self, to: str) -> str:
        """How a carer's e-mail contact is written: plain SMTP to this server."""
        return f"mailto://127.0.0.1:{self.port}?to={to}&from=alerts@dagritme.invalid"


def running_inbox() -> Iterator[Inbox]:
    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
