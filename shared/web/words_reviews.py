"""Words of the reviews pages (merged into `messages.TEXT`)."""

WORDS: dict[str, dict[str, str]] = {"vi": {}, "en": {}}
