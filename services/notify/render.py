"""Subjects and bodies of notifications, from Jinja2 templates (Vietnamese, UTF-8)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _env(autoescape: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, trim_blocks=True,
        lstrip_blocks=True,
        autoescape=select_autoescape(["html"]) if autoescape else False,
    )


def render(kind: str, context: dict) -> tuple[str, str, str]:
    """(subject, plain text, html) of a notification of `kind`; a `link` in the context
    (a URL on a line of its own) becomes a button in the HTML, labelled by the context's
    `button` (else "Đăng nhập / Sign in")."""
    subject = " ".join(_env(False).get_template(f"{kind}.subject").render(context).split())
    text = _env(False).get_template(f"{kind}.txt").render(context).strip() + "\n"
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    html = _env(True).get_template("email.html").render(
        subject=subject, paragraphs=paragraphs, link=_url(context.get("link")),
        button=context.get("button") or "Đăng nhập / Sign in")
    return subject, text, html


def _url(value) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) \
        else None
