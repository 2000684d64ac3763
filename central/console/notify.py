"""How the console tells an affiliate something (a new kiosk NIP): by email over SMTP.

Settings come from the environment: ``ISSEG_SMTP_HOST`` (no host: email is off and a NIP
reset is refused), ``ISSEG_SMTP_PORT`` (25), ``ISSEG_SMTP_FROM``, ``ISSEG_SMTP_USER`` /
``ISSEG_SMTP_PASSWORD`` (optional) and ``ISSEG_SMTP_STARTTLS`` (1 to upgrade the link).
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol


class NotifyError(Exception):
    """The message could not be handed to the mail server."""


class Notifier(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmtpNotifier:
    host: str
    port: int = 25
    sender: str = "no-responder@isseg.gob.mx"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> SmtpNotifier | None:
        host = os.environ.get("ISSEG_SMTP_HOST", "")
        if not host:
            return None
        return cls(
            host=host,
            port=int(os.environ.get("ISSEG_SMTP_PORT", "25")),
            sender=os.environ.get("ISSEG_SMTP_FROM", cls.sender),
            username=os.environ.get("ISSEG_SMTP_USER", ""),
            password=os.environ.get("ISSEG_SMTP_PASSWORD", ""),
            starttls=os.environ.get("ISSEG_SMTP_STARTTLS", "") == "1",
        )

    def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotifyError(str(exc)) from exc
