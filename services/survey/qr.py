"""QR codes of kiosk URLs (segno): SVG and PNG files, and inline SVG for the A4 sheet.

Every SVG has a viewBox, so whatever shows it at another size (the sheet's CSS, a word
processor) scales the whole code instead of cropping it, and a white background, so the
quiet zone (the 4-module margin a reader needs) stays light on any paper or screen.
"""

from __future__ import annotations

import io

import segno

BORDER = 4  # modules of quiet zone, as ISO/IEC 18004 asks


def qr_svg(url: str, *, scale: int = 10, inline: bool = False) -> bytes:
    """The code as SVG; a file has its size in pixels (`scale` per module), an inline one
    (`inline`) only its viewBox, in modules, and is sized by the page's CSS."""
    code = segno.make(url, error="m")
    buf = io.BytesIO()
    code.save(buf, kind="svg", scale=1 if inline else scale, border=BORDER, omitsize=True,
              light="#fff", xmldecl=not inline, svgns=True, title=url)
    svg = buf.getvalue()
    if not inline:
        width, height = code.symbol_size(scale=scale, border=BORDER)
        svg = svg.replace(b"<svg ", f'<svg width="{width}" height="{height}" '.encode(), 1)
    return svg


def qr_png(url: str, *, scale: int = 10) -> bytes:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=BORDER)
    return buf.getvalue()
