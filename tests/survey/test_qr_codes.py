"""QR codes of the kiosk URL, decoded back by a real QR reader."""

import io
from xml.etree import ElementTree

import zxingcpp
from PIL import Image

from devkit.apps import ADMIN


def kiosk_url(client):
    return client.get("/api/v1/counters/Q1", headers=ADMIN).get_json()["kiosk_url"]


def test_png_decodes_to_the_kiosk_url(client, token):
    r = client.get("/api/v1/counters/Q1/qr.png", headers=ADMIN)
    assert r.status_code == 200 and r.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(r.data)))
    assert [d.text for d in decoded] == [kiosk_url(client)]
    assert kiosk_url(client) == f"http://kiosk.test/k/{token}"


def test_svg_is_an_svg_of_the_kiosk_url(client, token):
    r = client.get("/api/v1/counters/Q1/qr.svg", headers=ADMIN)
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(r.data)
    assert root.tag.endswith("svg")
    assert kiosk_url(client) in r.get_data(as_text=True)


def test_qr_codes_need_the_admin_and_a_known_counter(client, token):
    assert client.get("/api/v1/counters/Q1/qr.png").status_code == 401
    assert client.get("/api/v1/counters/NOPE/qr.svg", headers=ADMIN).status_code == 404


def test_a4_sheet_lists_every_counter_of_the_unit(client, token):
    client.put("/api/v1/counters/Q2", json={"unit": "U1", "label": "Quầy 2 - Đất đai"},
               headers=ADMIN)
    r = client.get("/api/v1/units/U1/qr-sheet.html", headers=ADMIN)
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "Quầy 1" in html and "Quầy 2 - Đất đai" in html
    assert html.count("<svg") == 2
    assert "size:A4" in html
    assert "Quét mã QR để đánh giá" in html
    assert client.get("/api/v1/units/NOPE/qr-sheet.html", headers=ADMIN).status_code == 404
