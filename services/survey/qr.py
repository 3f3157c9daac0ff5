"""QR codes of kiosk URLs (segno): SVG and PNG files, and inline SVG for the A4 sheet."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, *, scale: int = 10, inline: bool = False) -> bytes:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=scale, border=4,
                                    xmldecl=not inline, svgns=True, title=url)
    return buf.getvalue()


def qr_png(url: str, *, scale: int = 10) -> bytes:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()
