"""The unit's yearly report for the Department of Home Affairs, as CSV and as XLSX."""

from __future__ import annotations

import io

from services.scoring.domain import BAND_LABELS
from shared.events import FACTORS
from shared.spreadsheets import append_row, csv_bytes
from shared.web import messages
from shared.web.messages import band_label

FACTOR_NAMES = messages.FACTORS["vi"]
OFFICIAL_COLUMNS = [
    ("STT", 6, None),
    ("Mã cán bộ", 12, None),
    ("Họ và tên", 28, None),
    ("Chức vụ", 28, None),
    ("Số lượt người dân đánh giá", 14, "0"),
    ("Điểm hài lòng trung bình (1-5)", 14, "0.00"),
    ("Tỷ lệ hài lòng (%)", 12, "0.00"),
    ("Chỉ số người dân (0-100)", 13, "0.00"),
    ("Số đồng nghiệp đánh giá", 13, "0"),
    ("Chỉ số đồng nghiệp (0-100)", 13, "0.00"),
    ("Chỉ số văn hóa công sở (0-100)", 14, "0.00"),
    ("Điểm tiêu chí chung (/30)", 12, "0.00"),
    ("Mức xếp loại (tham khảo)", 30, None),
    # last, so the columns before keep their places in the sheets that read them
    ("Số lượt tạm giữ, chờ xem xét (không tính điểm)", 16, "0"),
]
BAND_ORDER = ("xuat_sac", "tot", "hoan_thanh", "khong_hoan_thanh")


def title(view: dict) -> str:
    return f"BÁO CÁO KẾT QUẢ ĐÁNH GIÁ VĂN HÓA CÔNG SỞ NĂM {view['period']}"


def summary_rows(view: dict) -> list[tuple[str, object, str | None]]:
    c = view["citizen"]
    rows: list[tuple[str, object, str | None]] = [
        ("Đơn vị", f"{view.get('name') or ''} ({view['unit']})", None),
        ("Kỳ báo cáo", view["period"], None),
        ("Số lượt người dân đánh giá (gồm đơn vị trực thuộc)", c["count"], "0"),
        ("Số lượt tạm giữ, chờ xem xét (không tính điểm)", c.get("suspect", 0), "0"),
        ("Điểm hài lòng trung bình (1-5)", c["mean"], "0.00"),
        ("Tỷ lệ hài lòng (%)", c["satisfaction_rate"], "0.00"),
        ("Chỉ số hài lòng đã hiệu chỉnh (0-100)", c["index"], "0.00"),
    ]
    for key in FACTORS:
        rows.append((f"SIPAS - {FACTOR_NAMES[key]} (1-5)", c["factors"][key], "0.00"))
    return rows


def official_rows(view: dict) -> list[list]:
    out = []
    for n, o in enumerate(view["officials"], start=1):
        c, p = o["citizen"], o["peer"]
        out.append([n, o["official"], o.get("full_name") or "", o.get("position") or "",
                    c["count"], c["mean"], c["satisfaction_rate"], c["index"], p["count"],
                    p["index"], o["conduct_index"], o["general_points"],
                    band_label(o["band"]), c.get("suspect", 0)])
    return out


def band_rows(view: dict) -> list[tuple[str, object, object]]:
    b = view["bands"]
    rows = [(BAND_LABELS[k], b["counts"][k], b["shares"][k]) for k in BAND_ORDER]
    rows.append((band_label(None), b["counts"]["none"], b["shares"]["none"]))
    return rows


def flag_rows(view: dict) -> list[tuple[str, object]]:
    b = view["bands"]
    return [
        ("Tỷ lệ 'Hoàn thành xuất sắc' trên số đạt 'Tốt' trở lên (%)",
         b["xuat_sac_share_of_good"]),
        ("Vượt mức 20% (Nghị định 335/2025/NĐ-CP)", "Có" if b["xuat_sac_over_cap"] else "Không"),
    ]


NOTE = ("Mức xếp loại là kết quả tham khảo cho 30 điểm tiêu chí chung; không thay thế "
        "đánh giá, xếp loại của cấp có thẩm quyền.")


def to_csv(view: dict) -> bytes:
    """UTF-8 with a byte order mark, so spreadsheet programs read the Vietnamese right."""
    rows: list[list] = [[title(view)]]
    rows += [[label, value] for label, value, _ in summary_rows(view)]
    rows += [[], [name for name, _, _ in OFFICIAL_COLUMNS], *official_rows(view), []]
    rows.append(["Phân bố mức xếp loại", "Số cán bộ", "Tỷ lệ (%)"])
    rows += [[label, count, share] for label, count, share in band_rows(view)]
    rows += [[label, value] for label, value in flag_rows(view)]
    rows += [[], [NOTE]]
    return csv_bytes(rows)


def to_xlsx(view: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = f"Báo cáo {view['period']}"
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE7F0")
    thin = Side(style="thin", color="8A8A8A")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")

    append_row(sheet, [title(view)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(OFFICIAL_COLUMNS))
    sheet.append([])
    for label, value, fmt in summary_rows(view):
        row = append_row(sheet, [label, None, None, value])
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        sheet.cell(row, 1).font = bold
        if fmt:
            sheet.cell(row, 4).number_format = fmt
    sheet.append([])

    header_row = append_row(sheet, [name for name, _, _ in OFFICIAL_COLUMNS])
    for col, (_, width, _) in enumerate(OFFICIAL_COLUMNS, start=1):
        cell = sheet.cell(header_row, col)
        cell.font, cell.fill, cell.border, cell.alignment = bold, head_fill, box, wrap
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.row_dimensions[header_row].height = 45
    for values in official_rows(view):
        row = append_row(sheet, values)
        for col, (_, _, fmt) in enumerate(OFFICIAL_COLUMNS, start=1):
            cell = sheet.cell(row, col)
            cell.border = box
            if fmt:
                cell.number_format = fmt
    sheet.freeze_panes = sheet.cell(header_row + 1, 3)
    sheet.append([])

    start = append_row(sheet, ["Phân bố mức xếp loại", None, "Số cán bộ", "Tỷ lệ (%)"])
    for col in (1, 3, 4):
        sheet.cell(start, col).font = bold
        sheet.cell(start, col).fill = head_fill
    for label, count, share in band_rows(view):
        row = append_row(sheet, [label, None, count, share])
        sheet.cell(row, 4).number_format = "0.00"
    for label, value in flag_rows(view):
        row = append_row(sheet, [label, None, None, value])
        sheet.cell(row, 1).font = bold
        if isinstance(value, float):
            sheet.cell(row, 4).number_format = "0.00"
    sheet.append([])
    row = append_row(sheet, [NOTE])
    sheet.cell(row, 1).font = Font(italic=True)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
