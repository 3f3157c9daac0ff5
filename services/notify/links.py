"""A sign-in link exists in clear only in the email that carries it.

Survey's `auth.link_requested` carries a nonce, not the link: the link's secret is a keyed
MAC of the nonce (`shared.signin`) with the key survey and notify share. Notify stores the
notification with the link withheld from its subject, text and HTML; it keeps the nonce
only until the send is settled (sent, skipped or failed) and makes the real text in memory
at each delivery attempt, so a retry after a restart sends the same link and no log,
record or API answer ever holds it. Nothing in this module logs.
"""

from __future__ import annotations

from datetime import datetime

from services.notify.channels import NotConfigured
from services.notify.notices import LINK, LINKS
from services.notify.render import render
from shared import signin

WITHHELD = "[liên kết đã ẩn trong nhật ký / link withheld from the log]"


class Expired(NotConfigured):
    """The link expired before it could be sent: it is not sent (skipped)."""


def url(key: bytes, login_url: str, nonce: str) -> str:
    """The sign-in link: `{PUBLIC_BASE_URL}/login/` and the secret."""
    return login_url + signin.secret_for(key, nonce)


def is_link(doc: dict) -> bool:
    """A message carrying a sign-in link (on its own, or with a review invitation or
    reminder)."""
    return doc.get("kind") in LINKS


def content(doc: dict, key: bytes | None, now: datetime) -> tuple[str, str, str]:
    """The subject, text and HTML to send: those stored, or for a sign-in link those with
    the link in it (Expired when it is too late to send it)."""
    if not is_link(doc):
        return doc["subject"], doc["text"], doc["html"]
    expires_at = doc.get("expires_at")
    if expires_at is None or now >= expires_at:
        raise Expired("the sign-in link expired before it could be sent")
    if key is None or not doc.get("link_nonce"):
        raise NotConfigured("no sign-in link to send (no key or no nonce)")
    return render(doc["kind"], {**doc["context"], "link": url(key, doc["login_url"],
                                                              doc["link_nonce"])})


def console_line(doc: dict, key: bytes | None) -> str | None:
    """The demo's console line for an unsent link asked for on /login (None when it is
    not one to print: the review cycle's would fill the console with every official's)."""
    if doc.get("kind") != LINK or key is None or not doc.get("link_nonce"):
        return None
    return (f"[demo] sign-in link for {doc.get('recipient')}: "
            f"{url(key, doc['login_url'], doc['link_nonce'])}")
