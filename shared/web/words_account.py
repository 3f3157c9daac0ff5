"""Words of signing in, the home page and the account's pages (merged into
`messages.TEXT`)."""

WORDS: dict[str, dict[str, str]] = {"vi": {}, "en": {}}
