"""Words of the results pages (merged into `messages.TEXT`)."""

WORDS: dict[str, dict[str, str]] = {"vi": {}, "en": {}}
