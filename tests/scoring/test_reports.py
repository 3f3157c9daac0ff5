"""The yearly report, checked cell by cell in CSV and XLSX."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from devkit.apps import ADMIN
from tests.scoring.helpers import closed_window, deliver, official, rating, review, unit


@pytest.fixture
def data(scoring):
    deliver(scoring, unit("U1", name="UBND phường Một"), official("A", name="Nguyễn Văn A"),
            official("B", name="Trần Thị B"), closed_window())
    deliver(scoring, *[rating("A", 5, factors={"access": 4}) for _ in range(10)],
            rating("B", 2, factors={"access": 2, "result": 3}),
            *[review("A", reviewer=r * 20) for r in "xyz"])
    return scoring


def test_csv_report(data):
    r = data.client.get("/api/v1/reports/units/U1.csv?period=2026", headers=ADMIN)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert rows[0] == ["BÁO CÁO KẾT QUẢ ĐÁNH GIÁ VĂN HÓA CÔNG SỞ NĂM 2026"]
    summary = {row[0]: row[1] for row in rows[1:13] if row}
    assert summary["Đơn vị"] == "UBND phường Một (U1)"
    assert summary["Số lượt người dân đánh giá (gồm đơn vị trực thuộc)"] == "11"
    assert summary["Tỷ lệ hài lòng (%)"] == "90.91"  # 10 of 11
    assert summary["SIPAS - Tiếp cận dịch vụ (1-5)"] == "3.82"  # (40 + 2) / 11
    assert summary["SIPAS - Thủ tục hành chính (1-5)"] == ""
    header = rows.index(next(r for r in rows if r and r[0] == "STT"))
    a = rows[header + 1]
    assert a[:4] == ["1", "A", "Nguyễn Văn A", ""]
    # citizen 100 × (10 + 8) / 20 = 90; peer 100; conduct 95 → 28.5 points
    assert a[4:] == ["10", "5.0", "100.0", "90.0", "3", "100.0", "95.0", "28.5",
                     "Hoàn thành xuất sắc nhiệm vụ", "0"]  # no rating held
    b = rows[header + 2]
    # one rating of 2: 100 × (0 + 8) / 11 = 72.73, no peers → tot
    assert b[1] == "B" and b[10] == "72.73" and b[-2] == "Hoàn thành tốt nhiệm vụ"
    bands = {row[0]: row[1:] for row in rows[header + 3:] if row}
    assert bands["Hoàn thành xuất sắc nhiệm vụ"] == ["1", "50.0"]
    assert bands["Hoàn thành tốt nhiệm vụ"] == ["1", "50.0"]
    # one xuat_sac of two at tot or better: 50% > 20%
    assert bands["Tỷ lệ 'Hoàn thành xuất sắc' trên số đạt 'Tốt' trở lên (%)"] == ["50.0"]
    assert bands["Vượt mức 20% (Nghị định 335/2025/NĐ-CP)"] == ["Có"]


def test_xlsx_report_has_numbers_formats_and_widths(data):
    r = data.client.get("/api/v1/reports/units/U1.xlsx?period=2026", headers=ADMIN)
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(r.data))
    sheet = book.active
    assert sheet.title == "Báo cáo 2026"
    assert sheet["A1"].value == "BÁO CÁO KẾT QUẢ ĐÁNH GIÁ VĂN HÓA CÔNG SỞ NĂM 2026"
    cells = {sheet.cell(row, 1).value: sheet.cell(row, 4) for row in range(3, 15)}
    count = cells["Số lượt người dân đánh giá (gồm đơn vị trực thuộc)"]
    assert count.value == 11 and isinstance(count.value, int)
    rate = cells["Tỷ lệ hài lòng (%)"]
    assert rate.value == pytest.approx(90.91) and rate.number_format == "0.00"
    header_row = next(row for row in range(1, sheet.max_row + 1)
                      if sheet.cell(row, 1).value == "STT")
    assert sheet.cell(header_row, 13).value == "Mức xếp loại (tham khảo)"
    a = [sheet.cell(header_row + 1, c).value for c in range(1, 14)]
    assert a[1:3] == ["A", "Nguyễn Văn A"] and a[10] == 95.0 and a[11] == 28.5
    assert sheet.cell(header_row + 1, 11).number_format == "0.00"
    assert sheet.column_dimensions["C"].width == 28
    assert sheet.freeze_panes == f"C{header_row + 1}"


def test_report_periods_are_years_and_units_must_exist(data):
    assert data.client.get("/api/v1/reports/units/U1.csv?period=2026-Q1",
                           headers=ADMIN).status_code == 422
    assert data.client.get("/api/v1/reports/units/NOPE.xlsx?period=2026",
                           headers=ADMIN).status_code == 404
    assert data.client.get("/api/v1/reports/units/U1.csv?period=2026").status_code == 401


# What Excel and LibreOffice would run: a name is data, never a formula.
FORMULAS = ["=1+1", "+SUM(1,2)", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x.example","Xem")',
            "\t=1+1", "\r=1+1"]


@pytest.fixture
def formula_names(scoring):
    deliver(scoring, unit("U1", name="=1+1"),
            *[official(f"F{i}", name=name, position=name) for i, name in enumerate(FORMULAS)])
    deliver(scoring, *[rating(f"F{i}", 5) for i in range(len(FORMULAS))])
    return scoring


def test_spreadsheet_text_neutralises_formula_leads_and_keeps_numbers():
    from shared.spreadsheets import safe_text

    for text in [*FORMULAS, "-", "@"]:
        assert safe_text(text) == "'" + text
    for kept in ["Nguyễn Văn A", "a=b", "1+1", "", " =1", -2, -2.5, 0, None]:
        assert safe_text(kept) == kept


def test_csv_report_writes_formula_names_as_text(formula_names):
    r = formula_names.client.get("/api/v1/reports/units/U1.csv?period=2026", headers=ADMIN)
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"), newline="")))
    summary = {row[0]: row[1] for row in rows[1:13] if row}
    assert summary["Đơn vị"] == "'=1+1 (U1)"
    header = rows.index(next(r for r in rows if r and r[0] == "STT"))
    by_code = {row[1]: row for row in rows[header + 1:header + 1 + len(FORMULAS)]}
    for i, name in enumerate(FORMULAS):
        row = by_code[f"F{i}"]
        assert row[2] == row[3] == "'" + name
        assert row[4] == "1" and row[5] == "5.0"  # numbers as numbers, no apostrophe
    leads = ("=", "+", "-", "@", "\t", "\r")
    assert not [cell for row in rows for cell in row if cell.startswith(leads)]


def test_xlsx_report_stores_formula_names_as_text(formula_names):
    r = formula_names.client.get("/api/v1/reports/units/U1.xlsx?period=2026", headers=ADMIN)
    with zipfile.ZipFile(io.BytesIO(r.data)) as xlsx:
        sheets = [n for n in xlsx.namelist() if n.startswith("xl/worksheets/")]
        assert sheets and not [n for n in sheets if b"<f>" in xlsx.read(n)]  # no formula
    sheet = load_workbook(io.BytesIO(r.data)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.coordinate for c in cells
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
    header_row = next(row for row in range(1, sheet.max_row + 1)
                      if sheet.cell(row, 1).value == "STT")
    by_code = {sheet.cell(row, 2).value: row
               for row in range(header_row + 1, header_row + 1 + len(FORMULAS))}
    for i, name in enumerate(FORMULAS):
        row = by_code[f"F{i}"]
        shown = ("'" + name).replace("\r", "\n")  # XML reads a carriage return as \n
        assert sheet.cell(row, 3).value == sheet.cell(row, 4).value == shown
        assert sheet.cell(row, 3).data_type == "s"
        assert sheet.cell(row, 5).value == 1 and sheet.cell(row, 6).value == 5.0
    unit_row = next(row for row in range(1, header_row)
                    if sheet.cell(row, 1).value == "Đơn vị")
    assert sheet.cell(unit_row, 4).value == "'=1+1 (U1)"
