"""The printed QR sheet and the QR files as Debian's Chromium renders and prints them:
every code scans to its counter's kiosk URL with its quiet zone, labels stay inside their
cards, four cards fit an A4 page."""

from __future__ import annotations

import base64
import io
import re

import pytest
import zxingcpp
from PIL import Image

from devkit.apps import ADMIN

pytestmark = pytest.mark.slow

A4 = {"width": 794, "height": 1123}  # 210 x 297 mm at 96 px to the inch
LONG_LABEL = ("Quầy số 3 - Tiếp nhận và trả kết quả hồ sơ đất đai, xây dựng, tài nguyên môi "
              "trường, đăng ký kinh doanh hộ cá thể và chứng thực bản sao")
UNBROKEN_LABEL = "Q" * 150
QUIET_ZONE = 4  # modules


def add_counters(client, n: int) -> dict[str, str]:
    """Counters Q2..Qn beside the seeded Q1 (Q3 with a long label, Q4 with one unbroken
    word); return each counter's kiosk URL."""
    labels = {3: LONG_LABEL, 4: UNBROKEN_LABEL}
    for i in range(2, n + 1):
        r = client.put(f"/api/v1/counters/Q{i}", headers=ADMIN,
                       json={"unit": "U1", "label": labels.get(i, f"Quầy {i} - Đất đai")})
        assert r.status_code == 201
    counters = client.get("/api/v1/counters?unit=U1", headers=ADMIN).get_json()
    return {c["code"]: c["kiosk_url"] for c in counters}


def open_sheet(browser, served, media: str = "print"):
    page = browser.new_page(viewport=A4, extra_http_headers=ADMIN)
    page.emulate_media(media=media)
    page.goto(f"{served.base}/api/v1/units/U1/qr-sheet.html")
    return page


def decode(png: bytes) -> tuple[Image.Image, list]:
    image = Image.open(io.BytesIO(png)).convert("L")
    return image, zxingcpp.read_barcodes(image)


def corners(barcode) -> tuple[float, float, float, float]:
    p = barcode.position
    points = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
    return (min(q.x for q in points), min(q.y for q in points),
            max(q.x for q in points), max(q.y for q in points))


def test_every_code_on_the_printed_sheet_scans_with_its_quiet_zone(served, browser):
    urls = add_counters(served.running.client, 5)
    page = open_sheet(browser, served)
    image, found = decode(page.screenshot(full_page=True))
    assert sorted(b.text for b in found) == sorted(urls.values())
    boxes = page.eval_on_selector_all(".qr svg", """svgs => svgs.map(s => {
        const r = s.getBoundingClientRect();
        return {x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height,
                modules: s.viewBox.baseVal.width};
    })""")
    assert len(boxes) == len(urls)
    for barcode in found:
        left, top, right, bottom = corners(barcode)
        box = next(b for b in boxes if b["x"] <= left and right <= b["x"] + b["w"]
                   and b["y"] <= top and bottom <= b["y"] + b["h"])
        module = box["w"] / box["modules"]
        # the symbol sits whole inside its drawing, a quiet zone of 4 modules around it...
        margins = (left - box["x"], top - box["y"], box["x"] + box["w"] - right,
                   box["y"] + box["h"] - bottom)
        assert min(margins) >= (QUIET_ZONE - 0.5) * module, (margins, module)
        # ...and that zone is white on the rendered page: nothing drawn over it
        x0, y0 = round(box["x"]) + 1, round(box["y"]) + 1
        x1, y1 = round(box["x"] + box["w"]) - 1, round(box["y"] + box["h"]) - 1
        edge = int(module * (QUIET_ZONE - 1))
        for band in ((x0, y0, x1, y0 + edge), (x0, y1 - edge, x1, y1),
                     (x0, y0, x0 + edge, y1), (x1 - edge, y0, x1, y1)):
            assert image.crop(band).getextrema()[0] >= 200, band
    page.close()


def test_labels_stay_inside_their_cards(served, browser):
    add_counters(served.running.client, 5)
    page = open_sheet(browser, served)
    cards = page.eval_on_selector_all(".card", """cards => cards.map(card => {
        const box = e => { const r = e.getBoundingClientRect();
                           return [r.left, r.top, r.right, r.bottom]; };
        const label = card.querySelector(".label");
        return {card: box(card), parts: [...card.children].map(box),
                label: box(label), qr: box(card.querySelector(".qr")),
                text: label.textContent,
                // what does not fit the label's box is cut at its edge, not drawn outside
                clipped: getComputedStyle(label).overflow === "hidden"
                         || (label.scrollWidth <= label.clientWidth + 1
                             && label.scrollHeight <= label.clientHeight + 1)};
    })""")
    assert {c["text"] for c in cards} >= {LONG_LABEL, UNBROKEN_LABEL}
    for c in cards:
        left, top, right, bottom = c["card"]
        for part in c["parts"]:
            assert left <= part[0] and part[2] <= right, (c["text"], part, c["card"])
            assert top <= part[1] and part[3] <= bottom, (c["text"], part, c["card"])
        assert c["label"][3] <= c["qr"][1], c["text"]  # the label never runs over the code
        assert c["clipped"], c["text"]
    page.close()


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.mark.parametrize("counters, pages", [(4, 1), (5, 2), (8, 2), (9, 3)])
def test_four_cards_fit_an_a4_page(served, browser, counters, pages):
    add_counters(served.running.client, counters)
    page = open_sheet(browser, served)
    assert pdf_pages(page.pdf(format="A4")) == pages
    page.close()


@pytest.mark.parametrize("kind", ["svg", "png"])
def test_qr_files_scan_as_the_browser_shows_them(served, browser, kind):
    url = served.running.client.get("/api/v1/counters/Q1", headers=ADMIN).get_json()[
        "kiosk_url"]
    page = browser.new_page(viewport={"width": 600, "height": 600},
                            extra_http_headers=ADMIN)
    r = page.goto(f"{served.base}/api/v1/counters/Q1/qr.{kind}")
    assert r.ok
    _, found = decode(page.screenshot())
    assert [b.text for b in found] == [url]
    # placed at another size (a document, a poster), the code scales whole
    data = base64.b64encode(r.body()).decode()
    mime = "image/svg+xml" if kind == "svg" else "image/png"
    page.close()
    page = browser.new_page(viewport={"width": 300, "height": 300})
    page.set_content(f'<img src="data:{mime};base64,{data}" style="width:180px;height:180px">')
    _, found = decode(page.screenshot())
    assert [b.text for b in found] == [url]
    page.close()
