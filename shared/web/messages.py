"""Every word congso shows people, by language (Vietnamese first, English): the kiosk,
the pages, the printed sheet, the reports and the emails take their words from here, so
one rating scale, one set of SIPAS factors, peer criteria and bands is used everywhere.
Templates hold no text of their own.
"""

from __future__ import annotations

import importlib

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"

SCALE = {
    "vi": {5: "Rất hài lòng", 4: "Hài lòng", 3: "Bình thường", 2: "Không hài lòng",
           1: "Rất không hài lòng"},
    "en": {5: "Very satisfied", 4: "Satisfied", 3: "Neutral", 2: "Dissatisfied",
           1: "Very dissatisfied"},
}

FACTORS = {
    "vi": {
        "access": "Tiếp cận dịch vụ",
        "procedure": "Thủ tục hành chính",
        "official": "Công chức trực tiếp giải quyết công việc",
        "result": "Kết quả giải quyết",
        "feedback": "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị",
    },
    "en": {
        "access": "Access to the service",
        "procedure": "The administrative procedure",
        "official": "The official who handled your case",
        "result": "The result",
        "feedback": "Handling of comments and complaints",
    },
}

# The individual criteria of Decision 733/QĐ-TTg ("Kỷ cương, trách nhiệm, tận tụy, chuyên
# nghiệp"), which colleagues score 1-5 each.
CRITERIA = {
    "vi": {
        "discipline": "Tinh thần, thái độ làm việc tận tụy, gương mẫu, trách nhiệm; chấp hành "
                      "kỷ cương, kỷ luật hành chính",
        "conduct": "Chuẩn mực trong giao tiếp, ứng xử",
        "ethics": "Chuẩn mực về đạo đức, lối sống",
        "dress": "Trang phục gọn gàng, lịch sự, phù hợp tính chất công việc",
        "participation": "Tích cực tham gia các phong trào thi đua",
    },
    "en": {
        "discipline": "Dedicated, exemplary and responsible work; administrative discipline",
        "conduct": "Standards of communication and behaviour",
        "ethics": "Standards of ethics and lifestyle",
        "dress": "Neat, proper dress suited to the work",
        "participation": "Active part in emulation movements",
    },
}

# The reference bands of Decree 335/2025/NĐ-CP for the conduct index ("tham khảo").
BANDS = {
    "vi": {
        "xuat_sac": "Hoàn thành xuất sắc nhiệm vụ",
        "tot": "Hoàn thành tốt nhiệm vụ",
        "hoan_thanh": "Hoàn thành nhiệm vụ",
        "khong_hoan_thanh": "Không hoàn thành nhiệm vụ",
        None: "Chưa đủ dữ liệu",
    },
    "en": {
        "xuat_sac": "Excellent",
        "tot": "Good",
        "hoan_thanh": "Completed",
        "khong_hoan_thanh": "Not completed",
        None: "Not enough data",
    },
}
REFERENCE = {"vi": "tham khảo", "en": "reference"}

TEXT = {
    "vi": {
        "page_title": "Đánh giá sự hài lòng",
        "intro": "Ý kiến của bạn giúp cơ quan phục vụ người dân tốt hơn. "
                 "Đánh giá được gửi ẩn danh.",
        "official_legend": "Cán bộ đã tiếp nhận, giải quyết hồ sơ cho bạn",
        "official_unknown": "Tôi không rõ",
        "overall_legend": "Bạn có hài lòng với việc giải quyết thủ tục hành chính không?",
        "required": "(bắt buộc)",
        "factors_summary": "Đánh giá chi tiết (không bắt buộc)",
        "factor_hint": "1 = Rất không hài lòng, 5 = Rất hài lòng",
        "factor_skip": "Bỏ qua",
        "comment_label": "Góp ý của bạn (không bắt buộc)",
        "receipt_label": "Mã hồ sơ (nếu có, in trên giấy biên nhận)",
        "submit": "Gửi đánh giá",
        "sending": "Đang gửi…",
        "thanks_title": "Cảm ơn bạn đã đánh giá!",
        "thanks_text": "Ý kiến của bạn đã được ghi nhận.",
        "thanks_queued": "Đánh giá đã được lưu trên máy và sẽ tự động gửi khi có mạng.",
        "next_citizen": "Mời người tiếp theo",
        "again": "Đánh giá lần khác",
        "pending": "đánh giá đang chờ gửi",
        "offline": "Mất kết nối mạng. Đánh giá sẽ được lưu và gửi sau.",
        "error_title": "Chưa gửi được đánh giá",
        "error_overall": "Vui lòng chọn mức độ hài lòng.",
        "error_fields": "Vui lòng kiểm tra lại các mục được đánh dấu.",
        "error_receipt_used": "Mã hồ sơ này đã được đánh giá.",
        "error_rate_limited": "Bạn đã gửi quá nhiều đánh giá. Vui lòng thử lại sau ít phút.",
        "unknown_counter_title": "Không tìm thấy quầy",
        "unknown_counter_text": "Mã QR này không còn hiệu lực. Vui lòng quét mã QR mới tại quầy "
                                "hoặc hỏi cán bộ tiếp nhận.",
        "language_other": "English",
        "sheet_instruction": "Quét mã QR để đánh giá mức độ hài lòng của bạn về việc giải "
                             "quyết thủ tục hành chính",
        "sheet_title": "Mã QR đánh giá tại các quầy",
    },
    "en": {
        "page_title": "Rate our service",
        "intro": "Your opinion helps us serve citizens better. Ratings are anonymous.",
        "official_legend": "The official who handled your case",
        "official_unknown": "I don't know",
        "overall_legend": "How satisfied are you with how your case was handled?",
        "required": "(required)",
        "factors_summary": "More detail (optional)",
        "factor_hint": "1 = Very dissatisfied, 5 = Very satisfied",
        "factor_skip": "Skip",
        "comment_label": "Your comment (optional)",
        "receipt_label": "Case number (if any, printed on your receipt)",
        "submit": "Send rating",
        "sending": "Sending…",
        "thanks_title": "Thank you for your rating!",
        "thanks_text": "Your opinion has been recorded.",
        "thanks_queued": "Your rating is saved on this device and will be sent when the "
                         "network is back.",
        "next_citizen": "Next citizen",
        "again": "Rate another visit",
        "pending": "ratings waiting to be sent",
        "offline": "No network connection. Ratings are saved and sent later.",
        "error_title": "Your rating was not sent",
        "error_overall": "Please choose how satisfied you are.",
        "error_fields": "Please check the marked fields.",
        "error_receipt_used": "This case number has already been rated.",
        "error_rate_limited": "Too many ratings were sent. Please try again in a few minutes.",
        "unknown_counter_title": "Counter not found",
        "unknown_counter_text": "This QR code is no longer valid. Please scan the new code at "
                                "the counter or ask the official.",
        "language_other": "Tiếng Việt",
        "sheet_instruction": "Scan the QR code to rate how satisfied you are with the service",
        "sheet_title": "Rating QR codes of the counters",
    },
}


# the pages' words, one module per area (each area's pages own theirs), merged here
_AREAS = ("layout", "account", "reviews", "results", "dashboards", "held")
for _area in _AREAS:
    _module = importlib.import_module(f"shared.web.words_{_area}")
    for _lang in LANGUAGES:
        _clash = set(TEXT[_lang]) & set(_module.WORDS[_lang])
        if _clash:
            raise ValueError(f"words defined twice: {sorted(_clash)}")
        TEXT[_lang].update(_module.WORDS[_lang])


def language(requested: str | None) -> str:
    return requested if requested in LANGUAGES else DEFAULT_LANGUAGE


def band_label(band: str | None, lang: str = DEFAULT_LANGUAGE) -> str:
    return BANDS[language(lang)].get(band, BANDS[language(lang)][None])


def catalogue(lang: str) -> dict:
    """Everything a template needs to speak `lang`."""
    lang = language(lang)
    return {"t": TEXT[lang], "scale": SCALE[lang], "factors": FACTORS[lang],
            "criteria": CRITERIA[lang], "bands": BANDS[lang], "lang": lang}
