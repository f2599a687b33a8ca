"""A loopback SMTP server that keeps what it receives: the demo's stand-in for carers' inboxes.

The dashboard sends its notifications through Apprise exactly as in production; only the
receiving mail server is this local one, so the demo shows real e-mail without the network.
"""

from __future__ import annotations

import email
import email.policy
import logging
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from dagritme.servers import free_port

logger = logging.getLogger(__name__)
# aiosmtpd logs every connection at INFO under "mail.log"; the demo wants only the mails.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class CaughtMail:
    recipients: tuple[str, ...]
    subject: str
    body: str


@dataclass
class Mailbox:
    """Thread-safe list of mails received (aiosmtpd runs its own thread)."""

    mails: list[CaughtMail] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = ""
        if isinstance(message, EmailMessage):
            part = message.get_body(preferencelist=("plain", "html"))
            body = part.get_content() if part is not None else ""
        mail = CaughtMail(tuple(envelope.rcpt_tos), str(message.get("Subject", "")), body)
        with self._lock:
            self.mails.append(mail)
        logger.info("mail for %s: %s", ", ".join(mail.recipients), mail.subject)
        return "250 Message accepted for delivery"

    def snapshot(self) -> list[CaughtMail]:
        with self._lock:
            return list(self.mails)


class MailCatcher:
    """`with MailCatcher() as catcher:` an SMTP server on a free loopback port."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def apprise_url(self, to: str) -> str:
        return f"mailto://127.0.0.1:{self.port}?to={to}&from=dagritme@demo.invalid"

    def __enter__(self) -> MailCatcher:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
