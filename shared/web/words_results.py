"""Words of the results pages (merged into `messages.TEXT`)."""

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "results_title": "Kết quả đồng nghiệp đánh giá bạn năm {year}",
        "results_lead": "Đồng nghiệp trong đơn vị đánh giá bạn theo năm tiêu chí của Quyết "
                        "định 733/QĐ-TTg, mỗi tiêu chí từ 1 đến 5 điểm. Không ai, kể cả "
                        "lãnh đạo và quản trị viên, biết ai đã chấm điểm nào hay viết nhận "
                        "xét nào.",
        "results_open_title": "Kết quả chưa được công bố",
        "results_open_text": "Kết quả năm {year} được công bố khi đợt đánh giá kết thúc, "
                             "lúc {time}.",
        "results_open_why": "Đến lúc đó không ai xem được điểm đồng nghiệp chấm cho bạn, kể "
                            "cả chính bạn: kết quả được công bố một lần cho mọi người, nên "
                            "không ai suy ra được điểm của từng người đánh giá.",
        "results_closed_at": "Đợt đánh giá đã kết thúc lúc {time}.",
        "results_too_few_title": "Chưa đủ người đánh giá để công bố kết quả",
        "results_too_few_why": "Kết quả chỉ được công bố khi có ít nhất {minimum} người đánh "
                               "giá, để không ai đoán được ai đã chấm điểm nào.",
        "results_count": "Số đồng nghiệp đã đánh giá bạn: {count}.",
        "results_index": "Chỉ số đồng nghiệp (0-100)",
        "results_index_how": "Chỉ số = 100 × (điểm trung bình của mọi tiêu chí − 1) / 4: "
                             "5 điểm ở mọi tiêu chí là 100, 1 điểm là 0.",
        "results_criteria_title": "Điểm trung bình theo từng tiêu chí",
        "results_criteria_caption": "Điểm trung bình của các đồng nghiệp, thang 1-5 "
                                    "(5 là cao nhất)",
        "results_criterion": "Tiêu chí",
        "results_mean": "Điểm trung bình",
        "results_mean_of": "{mean} / 5",
        "results_comments_title": "Nhận xét của đồng nghiệp",
        "results_comments_note": "Nhận xét hiển thị không kèm tên hay ngày, theo một thứ tự "
                                 "không liên quan đến người viết hay thời điểm viết.",
        "results_no_comments": "Không có nhận xét nào.",
        "results_reference": "Kết quả này là một phần của chỉ số văn hóa công sở, dùng để "
                             "tham khảo cho 30 điểm tiêu chí chung; không thay thế đánh giá, "
                             "xếp loại của cấp có thẩm quyền.",
        "results_reviews_link": "Phiếu đánh giá đồng nghiệp của bạn năm {year}",
    },
    "en": {
        "results_title": "Your colleagues' review of you, {year}",
        "results_lead": "Colleagues in your unit review you on the five criteria of Decision "
                        "733/QĐ-TTg, from 1 to 5 each. Nobody, managers and administrators "
                        "included, knows who gave which score or wrote which comment.",
        "results_open_title": "The results are not published yet",
        "results_open_text": "The results of {year} are published when the review period "
                             "ends, at {time}.",
        "results_open_why": "Until then nobody can see the scores colleagues gave you, you "
                            "included: the results are published once, for everyone, so no "
                            "single reviewer's scores can be worked out.",
        "results_closed_at": "The review period ended at {time}.",
        "results_too_few_title": "Too few reviews to publish results",
        "results_too_few_why": "Results are published only from {minimum} reviewers on, so "
                               "nobody can guess who gave which scores.",
        "results_count": "Colleagues who reviewed you: {count}.",
        "results_index": "Peer index (0-100)",
        "results_index_how": "Index = 100 × (mean of every criterion's scores − 1) / 4: 5 on "
                             "every criterion is 100, 1 is 0.",
        "results_criteria_title": "Mean score of each criterion",
        "results_criteria_caption": "Your colleagues' mean scores, from 1 to 5 (5 is the "
                                    "highest)",
        "results_criterion": "Criterion",
        "results_mean": "Mean score",
        "results_mean_of": "{mean} / 5",
        "results_comments_title": "Your colleagues' comments",
        "results_comments_note": "Comments are shown without names or dates, in an order that "
                                 "has nothing to do with who wrote them or when.",
        "results_no_comments": "No comments.",
        "results_reference": "This is part of the office-culture index, a reference for the "
                             "30 general-criteria points; it never replaces the evaluation "
                             "by those in charge.",
        "results_reviews_link": "Your reviews of colleagues, {year}",
    },
}
