"""The two ways a unit is reached: email over SMTP and signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
from email.header import Header
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formataddr, make_msgid
from urllib.parse import unquote, urlsplit

import requests

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Congso-Signature"


class SendFailed(Exception):
    """This attempt failed; another may succeed."""


class NotConfigured(Exception):
    """The channel cannot be used at all (e.g. no SMTP_URL): the send is skipped."""


def signature(secret: str, body: bytes) -> str:
    """The value of X-Congso-Signature: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: recompute the HMAC of the raw body and compare in constant time."""
    return bool(header) and hmac.compare_digest(signature(secret, body).encode(),
                                                header.encode())


class _SubjectPolicy(EmailPolicy):
    """The default policy, but a non-ASCII subject is folded by `email.header.Header`:
    Python 3.11's folder drops the space between two encoded words when it splits a long
    Vietnamese subject there ("bị tạm giữ" arrives as "bịtạm giữ")."""

    def _subject(self, name: str, value) -> str | None:
        text = str(value)
        if name.lower() != "subject" or text.isascii():
            return None
        encoded = Header(text, "utf-8", header_name=name).encode(linesep=self.linesep)
        return f"{name}: {encoded}{self.linesep}"

    def fold(self, name, value):
        return self._subject(name, value) or super().fold(name, value)

    def fold_binary(self, name, value):
        folded = self._subject(name, value)
        return folded.encode("ascii") if folded else super().fold_binary(name, value)


_POLICY = _SubjectPolicy()


class EmailChannel:
    name = "email"

    def __init__(self, smtp_url: str | None, sender: str, timeout: float = 15.0):
        self.smtp_url = smtp_url
        self.sender = sender
        self.timeout = timeout

    def send(self, recipients: list[str], subject: str, text: str, html: str) -> None:
        if not self.smtp_url:
            raise NotConfigured("SMTP_URL is not set")
        msg = EmailMessage(policy=_POLICY)
        msg["Subject"] = subject
        msg["From"] = formataddr(("congso", self.sender))
        msg["To"] = ", ".join(recipients)
        msg["Message-ID"] = make_msgid(domain=self.sender.split("@")[-1] or "congso")
        msg.set_content(text, charset="utf-8")
        msg.add_alternative(html, subtype="html", charset="utf-8")
        parts = urlsplit(self.smtp_url)
        host, port = parts.hostname, parts.port
        try:
            if parts.scheme == "smtps":
                smtp = smtplib.SMTP_SSL(host, port or 465, timeout=self.timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(host, port or 25, timeout=self.timeout)
            with smtp:
                if parts.username:
                    smtp.login(unquote(parts.username), unquote(parts.password or ""))
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise SendFailed(f"SMTP {host}:{port}: {exc}") from exc


class WebhookChannel:
    name = "webhook"

    def __init__(self, secret: str, timeout: tuple[float, float] = (3.0, 10.0)):
        self.secret = secret
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, url: str, payload: dict) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json; charset=utf-8",
                   SIGNATURE_HEADER: signature(self.secret, body),
                   "User-Agent": "congso-notify"}
        try:
            r = requests.post(url, data=body, headers=headers, timeout=self.timeout,
                              allow_redirects=False)
        except requests.RequestException as exc:
            raise SendFailed(f"POST {url}: {exc}") from exc
        if not 200 <= r.status_code < 300:
            raise SendFailed(f"POST {url}: HTTP {r.status_code}")
