"""Words of the dashboards (merged into `messages.TEXT`)."""

WORDS: dict[str, dict[str, str]] = {"vi": {"nav_dashboard": "Bảng điều khiển"},
                                    "en": {"nav_dashboard": "Dashboard"}}
