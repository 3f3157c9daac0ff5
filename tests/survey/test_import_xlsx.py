"""POST /api/v1/directory/import of XLSX workbooks: streamed, refused early when huge,
a broken one refused as unreadable."""

from __future__ import annotations

import io

import pytest

from tests.survey.test_import import XLSX, counts, post, xlsx


def huge_xlsx(rows: int) -> bytes:
    """A workbook of `rows` identical official rows, written as some tools write it: no
    stated sheet size (openpyxl's read-only sheet then scans it all first)."""
    import zipfile

    cell = '<c t="inlineStr"><is><t>{}</t></is></c>'
    header = "<row>" + "".join(cell.format(c) for c in ("kind", "code", "name", "unit")) + "</row>"
    row = "<row>" + "".join(cell.format(c) for c in ("official", "CB1", "Cán bộ", "U1")) + "</row>"
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
             'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             + header + row * rows + "</sheetData></worksheet>").encode()
    small = zipfile.ZipFile(io.BytesIO(xlsx([["kind"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in small.infolist():
            z.writestr(item.filename, sheet if item.filename == "xl/worksheets/sheet1.xml"
                       else small.read(item))
    return out.getvalue()


def test_a_huge_xlsx_is_refused_once_past_the_row_limit(client, monkeypatch):
    """300,000 rows: refused after reading MAX_ROWS + 1 of them, not after parsing all
    (13 s and 239 MB before)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    from services.survey import import_files as importer

    parsed = []
    parse = WorkSheetParser.parse

    def counting(self):
        for row in parse(self):
            parsed.append(row[0])
            yield row

    monkeypatch.setattr(WorkSheetParser, "parse", counting)
    r = post(client, huge_xlsx(300_000), XLSX)
    assert r.status_code == 400 and f"more than {importer.MAX_ROWS} rows" in r.get_json()["detail"]
    assert len(parsed) <= importer.MAX_ROWS + 2  # the header, the rows allowed, one more
    assert counts() == (0, 0)


def test_an_xlsx_of_exactly_the_row_limit_is_read(client, monkeypatch):
    from services.survey import import_files as importer

    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    r = post(client, huge_xlsx(3), XLSX)
    assert r.status_code == 422  # read: the rows' unit is unknown
    assert {(e["row"], e["field"]) for e in r.get_json()["errors"]} >= {(2, "unit")}
    assert post(client, huge_xlsx(4), XLSX).status_code == 400


@pytest.mark.parametrize("sheet", [
    b"<worksheet><sheetData><row><c t='inlineStr'><is><t>kind",  # cut short
    b"not xml at all",
])
def test_a_workbook_with_a_broken_sheet_is_400(client, sheet):
    import zipfile

    good = zipfile.ZipFile(io.BytesIO(xlsx([["kind", "code", "name"], ["unit", "A", "A"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in good.infolist():
            z.writestr(item.filename, sheet if item.filename.endswith("sheet1.xml")
                       else good.read(item))
    r = post(client, out.getvalue(), XLSX)
    assert r.status_code == 400 and r.mimetype == "application/problem+json"
    assert counts() == (0, 0)
